/*
 * bench/run.c - one timed run of a variant: T threads, each pinned to its
 * own allowed processor (round-robin when T exceeds them), released
 * together by a barrier, stopped together by a flag after S seconds; and
 * the calibration of the hold loop.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench/bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

unsigned bench_cpus(unsigned *cpus, unsigned max)
{
	cpu_set_t set;
	unsigned n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		cpus[0] = 0;
		return 1;
	}
	for (unsigned c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	if (n == 0)
		cpus[n++] = 0;
	return n;
}

void bench_pin(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* Best effort: a failed pin shows up as noise, not as a wrong count. */
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

uint64_t bench_hold_calibrate(uint64_t hold_ns, double *iters_per_ns)
{
	const uint64_t n = 2000000;
	uint64_t best = UINT64_MAX;

	/* Fastest of 7 (the least disturbed); about 1 ms each. */
	for (int r = 0; r < 7; r++) {
		uint64_t t0 = bench_now_ns(), dt;

		bench_hold(n);
		dt = bench_now_ns() - t0;
		if (dt < best)
			best = dt;
	}
	if (best == 0)
		best = 1;
	*iters_per_ns = (double)n / (double)best;
	return (uint64_t)((double)hold_ns * *iters_per_ns + 0.5);
}

static void *bench_thread_main(void *arg)
{
	struct bench_thread *t = arg;
	uint64_t t0;

	bench_pin(t->cpu);
	if (t->v->thread_init)
		t->v->thread_init(t);
	pthread_barrier_wait(t->start);
	t0 = bench_now_ns();
	t->pairs = t->v->loop(t);
	t->ns = bench_now_ns() - t0;
	if (t->v->thread_fini)
		t->v->thread_fini(t);
	return NULL;
}

struct bench_sample bench_run(const struct bench_variant *v, unsigned nthreads,
			      const unsigned *cpus, unsigned ncpus, double seconds,
			      uint64_t hold_iters, unsigned batch)
{
	static struct bench_thread t[BENCH_MAX_THREADS];
	pthread_barrier_t start;
	_Atomic bool stop = false;
	struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
	void *obj = v->setup(v);
	double ns = 0, pairs = 0, mpairs = 0;

	pthread_barrier_init(&start, NULL, nthreads + 1);
	for (unsigned i = 0; i < nthreads; i++) {
		t[i] = (struct bench_thread){.v = v, .obj = obj, .index = i,
					     .cpu = cpus[i % ncpus], .hold_iters = hold_iters,
					     .batch = batch, .start = &start, .stop = &stop};
		if (pthread_create(&t[i].tid, NULL, bench_thread_main, &t[i]) != 0) {
			fprintf(stderr, "rundown-bench: pthread_create failed\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&start);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	/* Relaxed: a hint; the results are read after pthread_join. */
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(t[i].tid, NULL);
		ns += (double)t[i].ns;
		pairs += (double)t[i].pairs;
		mpairs += (double)t[i].pairs / ((double)t[i].ns / 1e9) / 1e6;
	}
	pthread_barrier_destroy(&start);
	v->teardown(v, obj);
	return (struct bench_sample){pairs > 0 ? ns / pairs : 0, mpairs};
}
