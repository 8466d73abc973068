/*
 * bench/rundown_bench.c - cost of one Acquire+Release pair, refscale-style.
 *
 * Each variant runs T pinned threads that loop "acquire; release" on one
 * shared object for a fixed time; a run reports ns per pair per thread and
 * the total throughput.  Every variant is measured R times, interleaved
 * (variant A rep 1, B rep 1, ..., A rep 2, ...) so machine noise hits them
 * alike, and the median and min-max are printed next to the ratio to the
 * thread-private fetch_add/fetch_sub floor measured in the same run.
 *
 * Variants:
 *	faa-private      fetch_add + fetch_sub on a cache line owned by the
 *	                 thread: the floor for two LOCK-prefixed RMWs
 *	ref-plain        librundown ExAcquire/ReleaseRundownProtection
 *	ref-cache-aware  librundown ...CacheAware on an Allocate'd object
 *	backend-plain, backend-cache-aware   the same through --backend PATH.so
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rundown/rundown.h>

#include "conformance/backend.h"

struct bench_variant {
	const char *name;
	void *(*setup)(const struct rundown_backend *b);
	void (*loop)(const struct rundown_backend *b, void *obj, _Atomic bool *stop,
		     uint64_t *pairs);
	void (*teardown)(const struct rundown_backend *b, void *obj);
	const struct rundown_backend *backend;
};

/* ---- faa-private: the floor ---- */

struct bench_line {
	_Alignas(64) _Atomic uint64_t v;
	char pad[64 - sizeof(uint64_t)];
};

static void *bench_faa_setup(const struct rundown_backend *b)
{
	(void)b;
	return NULL;
}

/*
 * The floor is called the way a backend is: through function pointers to
 * out-of-line functions, so the comparison measures the two RMWs and not
 * the call overhead the backends cannot avoid.
 */
__attribute__((noinline)) static BOOLEAN bench_faa_acquire(void *p)
{
	atomic_fetch_add_explicit(&((struct bench_line *)p)->v, 2, memory_order_acquire);
	return TRUE;
}

__attribute__((noinline)) static void bench_faa_release(void *p)
{
	atomic_fetch_sub_explicit(&((struct bench_line *)p)->v, 2, memory_order_release);
}

static BOOLEAN (*volatile bench_faa_acquire_fn)(void *) = bench_faa_acquire;
static void (*volatile bench_faa_release_fn)(void *) = bench_faa_release;

static void bench_faa_loop(const struct rundown_backend *b, void *obj, _Atomic bool *stop,
			   uint64_t *pairs)
{
	struct bench_line *line = aligned_alloc(64, sizeof(*line));
	BOOLEAN (*acquire)(void *) = bench_faa_acquire_fn;
	void (*release)(void *) = bench_faa_release_fn;
	uint64_t n = 0;

	(void)b;
	(void)obj;
	if (line == NULL)
		abort();
	atomic_init(&line->v, 0);
	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		for (int i = 0; i < 1024; i++) {
			if (!acquire(line))
				abort();
			release(line);
		}
		n += 1024;
	}
	free(line);
	*pairs = n;
}

static void bench_none_teardown(const struct rundown_backend *b, void *obj)
{
	(void)b;
	free(obj);
}

/* ---- plain ---- */

static void *bench_plain_setup(const struct rundown_backend *b)
{
	PEX_RUNDOWN_REF ref = aligned_alloc(64, 64);

	if (ref == NULL)
		abort();
	b->ExInitializeRundownProtection(ref);
	return ref;
}

static void bench_plain_loop(const struct rundown_backend *b, void *obj, _Atomic bool *stop,
			     uint64_t *pairs)
{
	BOOLEAN (*acquire)(PEX_RUNDOWN_REF) = b->ExAcquireRundownProtection;
	void (*release)(PEX_RUNDOWN_REF) = b->ExReleaseRundownProtection;
	uint64_t n = 0;

	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		for (int i = 0; i < 1024; i++) {
			if (!acquire(obj))
				abort();
			release(obj);
		}
		n += 1024;
	}
	*pairs = n;
}

static void bench_plain_teardown(const struct rundown_backend *b, void *obj)
{
	b->ExWaitForRundownProtectionRelease(obj);
	free(obj);
}

/* ---- cache-aware ---- */

static void *bench_ca_setup(const struct rundown_backend *b)
{
	void *ref = b->ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 0x68636e42);

	if (ref == NULL)
		abort();
	return ref;
}

static void bench_ca_loop(const struct rundown_backend *b, void *obj, _Atomic bool *stop,
			  uint64_t *pairs)
{
	BOOLEAN (*acquire)(PEX_RUNDOWN_REF_CACHE_AWARE) = b->ExAcquireRundownProtectionCacheAware;
	void (*release)(PEX_RUNDOWN_REF_CACHE_AWARE) = b->ExReleaseRundownProtectionCacheAware;
	uint64_t n = 0;

	while (!atomic_load_explicit(stop, memory_order_relaxed)) {
		for (int i = 0; i < 1024; i++) {
			if (!acquire(obj))
				abort();
			release(obj);
		}
		n += 1024;
	}
	*pairs = n;
}

static void bench_ca_teardown(const struct rundown_backend *b, void *obj)
{
	b->ExWaitForRundownProtectionReleaseCacheAware(obj);
	b->ExFreeCacheAwareRundownProtection(obj);
}

/* ---- driver ---- */

struct bench_thread {
	pthread_t tid;
	const struct bench_variant *v;
	void *obj;
	unsigned cpu;
	pthread_barrier_t *start;
	_Atomic bool *stop;
	uint64_t pairs;
	uint64_t ns;
};

static uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *bench_thread_main(void *arg)
{
	struct bench_thread *t = arg;
	cpu_set_t set;
	uint64_t t0;

	CPU_ZERO(&set);
	CPU_SET(t->cpu, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	pthread_barrier_wait(t->start);
	t0 = bench_now_ns();
	t->v->loop(t->v->backend, t->obj, t->stop, &t->pairs);
	t->ns = bench_now_ns() - t0;
	return NULL;
}

struct bench_sample {
	double ns_per_pair;  /* per thread */
	double mpairs_total; /* all threads */
};

static struct bench_sample bench_run(const struct bench_variant *v, unsigned nthreads,
				     unsigned ncpu, double seconds)
{
	struct bench_thread t[64];
	pthread_barrier_t start;
	_Atomic bool stop = false;
	struct timespec ts = {(time_t)seconds,
			      (long)((seconds - (double)(time_t)seconds) * 1e9)};
	void *obj = v->setup(v->backend);
	double ns = 0, pairs = 0, mpairs = 0;

	pthread_barrier_init(&start, NULL, nthreads + 1);
	for (unsigned i = 0; i < nthreads; i++) {
		t[i] = (struct bench_thread){.v = v, .obj = obj, .cpu = i % ncpu,
					     .start = &start, .stop = &stop};
		if (pthread_create(&t[i].tid, NULL, bench_thread_main, &t[i]) != 0)
			abort();
	}
	pthread_barrier_wait(&start);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	atomic_store(&stop, true);
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(t[i].tid, NULL);
		ns += (double)t[i].ns;
		pairs += (double)t[i].pairs;
		mpairs += (double)t[i].pairs / ((double)t[i].ns / 1e9) / 1e6;
	}
	pthread_barrier_destroy(&start);
	v->teardown(v->backend, obj);
	return (struct bench_sample){ns / pairs, mpairs};
}

static int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double bench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void bench_usage(FILE *f)
{
	fprintf(f,
		"usage: rundown-bench [--threads LIST] [--reps N] [--seconds S] [--backend PATH.so]\n"
		"                     [--format table|tsv]\n"
		"  Cost of one Acquire+Release pair: medians of N interleaved runs of S seconds,\n"
		"  pinned threads, next to a thread-private fetch_add/fetch_sub pair.\n"
		"  --threads 1,2   thread counts (default 1,2)\n"
		"  --reps 5        repetitions per variant and thread count (default 5)\n"
		"  --seconds 0.5   length of one repetition (default 0.5)\n"
		"  --backend P.so  also measure a backend (same contract as rundown-conform)\n"
		"  --format tsv    header + one row per (variant, threads):\n"
		"                  variant threads ns_per_pair mpairs_total\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"threads", required_argument, NULL, 't'}, {"reps", required_argument, NULL, 'r'},
		{"seconds", required_argument, NULL, 's'}, {"backend", required_argument, NULL, 'b'},
		{"format", required_argument, NULL, 'f'},  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	static struct rundown_backend ref, other;
	struct bench_variant v[8];
	unsigned nv = 0, threads[16], nthreads = 0, reps = 5;
	double seconds = 0.5;
	const char *backend = NULL, *format = "table";
	char *list = NULL, err[512];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int c;

	while ((c = getopt_long(argc, argv, "t:r:s:b:f:h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 't':
			list = optarg;
			break;
		case 'r':
			reps = (unsigned)strtoul(optarg, &end, 10);
			if (*end || reps < 1 || reps > 101) {
				fprintf(stderr, "rundown-bench: --reps: expected 1..101, got '%s'\n", optarg);
				return RUNDOWN_EXIT_USAGE;
			}
			break;
		case 's':
			seconds = strtod(optarg, &end);
			if (*end || !(seconds > 0 && seconds <= 60)) {
				fprintf(stderr, "rundown-bench: --seconds: expected (0, 60], got '%s'\n", optarg);
				return RUNDOWN_EXIT_USAGE;
			}
			break;
		case 'b':
			backend = optarg;
			break;
		case 'f':
			format = optarg;
			if (strcmp(format, "table") && strcmp(format, "tsv")) {
				fprintf(stderr, "rundown-bench: --format: expected table or tsv\n");
				return RUNDOWN_EXIT_USAGE;
			}
			break;
		case 'h':
			bench_usage(stdout);
			return 0;
		default:
			bench_usage(stderr);
			return RUNDOWN_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rundown-bench: unexpected argument '%s'\n", argv[optind]);
		return RUNDOWN_EXIT_USAGE;
	}
	if (ncpu < 1)
		ncpu = 1;
	for (char *tok = list ? strtok(list, ",") : NULL; tok; tok = strtok(NULL, ",")) {
		char *end;
		unsigned long n = strtoul(tok, &end, 10);

		if (*end || n < 1 || n > 64 || nthreads == 16) {
			fprintf(stderr, "rundown-bench: --threads: bad entry '%s' (1..64)\n", tok);
			return RUNDOWN_EXIT_USAGE;
		}
		threads[nthreads++] = (unsigned)n;
	}
	if (nthreads == 0) {
		threads[nthreads++] = 1;
		threads[nthreads++] = 2;
	}

	rundown_backend_linked(&ref);
	v[nv++] = (struct bench_variant){"faa-private", bench_faa_setup, bench_faa_loop,
					 bench_none_teardown, &ref};
	v[nv++] = (struct bench_variant){"ref-plain", bench_plain_setup, bench_plain_loop,
					 bench_plain_teardown, &ref};
	v[nv++] = (struct bench_variant){"ref-cache-aware", bench_ca_setup, bench_ca_loop,
					 bench_ca_teardown, &ref};
	if (backend) {
		if (rundown_backend_open(&other, backend, NULL, err, sizeof(err)) != 0) {
			fprintf(stderr, "rundown-bench: %s\n", err);
			return RUNDOWN_EXIT_USAGE;
		}
		if (other.ExInitializeRundownProtection && other.ExAcquireRundownProtection &&
		    other.ExReleaseRundownProtection && other.ExWaitForRundownProtectionRelease)
			v[nv++] = (struct bench_variant){"backend-plain", bench_plain_setup,
							 bench_plain_loop, bench_plain_teardown, &other};
		if (other.ExAllocateCacheAwareRundownProtection &&
		    other.ExAcquireRundownProtectionCacheAware &&
		    other.ExReleaseRundownProtectionCacheAware &&
		    other.ExWaitForRundownProtectionReleaseCacheAware &&
		    other.ExFreeCacheAwareRundownProtection)
			v[nv++] = (struct bench_variant){"backend-cache-aware", bench_ca_setup,
							 bench_ca_loop, bench_ca_teardown, &other};
	}

	if (!strcmp(format, "tsv"))
		printf("variant\tthreads\tns_per_pair\tmpairs_total\n");
	else
		printf("# %u reps x %.2fs, pinned threads, %ld online CPUs; medians [min-max]\n",
		       reps, seconds, ncpu);
	for (unsigned ti = 0; ti < nthreads; ti++) {
		double ns[8][101], mp[8][101], floor_ns;

		for (unsigned r = 0; r < reps; r++)
			for (unsigned i = 0; i < nv; i++) {
				struct bench_sample s = bench_run(&v[i], threads[ti],
								  (unsigned)ncpu, seconds);

				ns[i][r] = s.ns_per_pair;
				mp[i][r] = s.mpairs_total;
			}
		if (!strcmp(format, "table"))
			printf("\n%-20s %7s %10s %17s %12s %12s\n", "variant", "threads",
			       "ns/pair", "[min-max]", "Mpairs/s", "vs floor");
		floor_ns = 0;
		for (unsigned i = 0; i < nv; i++) {
			double mn, mx, med, mpm;

			med = bench_median(ns[i], reps);
			mn = ns[i][0];
			mx = ns[i][reps - 1];
			mpm = bench_median(mp[i], reps);
			if (i == 0)
				floor_ns = med;
			if (!strcmp(format, "tsv"))
				printf("%s\t%u\t%.2f\t%.2f\n", v[i].name, threads[ti], med, mpm);
			else
				printf("%-20s %7u %10.2f   [%6.2f-%6.2f] %12.1f %11.2fx\n", v[i].name,
				       threads[ti], med, mn, mx, mpm, med / floor_ns);
		}
	}
	return 0;
}
