/*
 * bench/stats.c - reduction of repetitions: median (the mean of the two
 * middle values for an even count), min, max and the 10th/90th percentiles
 * (nearest rank).
 */
#include "config.h"

#include <stdlib.h>

#include "bench/bench.h"

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double bench_rank(const double *x, unsigned n, double q)
{
	unsigned i = (unsigned)(q * (double)(n - 1) + 0.5);

	return x[i < n ? i : n - 1];
}

struct bench_stats bench_stats(double *x, unsigned n)
{
	struct bench_stats s = {0, 0, 0, 0, 0};

	if (n == 0)
		return s;
	qsort(x, n, sizeof(*x), bench_cmp_double);
	s.median = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
	s.min = x[0];
	s.max = x[n - 1];
	s.p10 = bench_rank(x, n, 0.10);
	s.p90 = bench_rank(x, n, 0.90);
	return s;
}
