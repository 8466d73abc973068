/*
 * bench/bench.h - shared by the files of rundown-bench (private).
 *
 * A variant is one design measured by the same driver: T pinned threads
 * loop "acquire; hold; release" on one shared object for a fixed time
 * (bench/run.c).  Each variants_*.c file contributes a group of variants;
 * main.c parses the options and prints; stats.c reduces repetitions;
 * wait.c measures Wait latency, Wait cost against the slot count and
 * memory per object.
 */
#ifndef RUNDOWN_BENCH_H
#define RUNDOWN_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <rundown/rundown.h>

#include "conformance/backend.h"

struct bench_thread;

struct bench_variant {
	const char *name;
	/* How one Acquire/Release is reached: "fnptr" (out-of-line, through a
	 * function pointer, as a backend is), "libcall" (a shared-library
	 * call), "inline" (the peer's header inlines it, as it is meant to be
	 * used). */
	const char *call;
	const struct rundown_backend *backend; /* ref-* and backend-* only */
	void *(*setup)(const struct bench_variant *v);
	void (*thread_init)(struct bench_thread *t); /* optional; before timing */
	uint64_t (*loop)(struct bench_thread *t);    /* returns pairs done */
	void (*thread_fini)(struct bench_thread *t); /* optional; after timing */
	void (*teardown)(const struct bench_variant *v, void *obj);
};

struct bench_thread {
	pthread_t tid;
	const struct bench_variant *v;
	void *obj;          /* the shared object from setup() */
	void *local;        /* per-thread state from thread_init() */
	unsigned index;     /* 0..T-1 */
	unsigned cpu;       /* pinned to this processor */
	uint64_t hold_iters; /* busy-loop iterations inside the protection */
	unsigned batch;     /* pairs between two looks at *stop */
	pthread_barrier_t *start;
	_Atomic bool *stop; /* set by the main thread at the end of the run */
	uint64_t pairs;
	uint64_t ns;
};

/* The calibrated hold: n iterations of an empty loop the compiler keeps. */
static inline void bench_hold(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("" : : "r"(i));
}

/*
 * The body of every loop(): BATCH pairs between looks at the stop flag
 * (relaxed: it is only a hint to stop; the counts are read after join).
 * hold == 0 gets its own loop so the hold costs nothing when absent.
 */
#define BENCH_LOOP(t, ACQUIRE, RELEASE)                                              \
	do {                                                                         \
		_Atomic bool *stop_ = (t)->stop;                                     \
		const uint64_t hold_ = (t)->hold_iters;                              \
		const unsigned batch_ = (t)->batch;                                  \
		uint64_t n_ = 0;                                                     \
		if (hold_ == 0) {                                                    \
			while (!atomic_load_explicit(stop_, memory_order_relaxed)) { \
				for (unsigned i_ = 0; i_ < batch_; i_++) {           \
					if (!(ACQUIRE))                              \
						abort();                             \
					RELEASE;                                     \
				}                                                    \
				n_ += batch_;                                        \
			}                                                            \
		} else {                                                             \
			while (!atomic_load_explicit(stop_, memory_order_relaxed)) { \
				for (unsigned i_ = 0; i_ < batch_; i_++) {           \
					if (!(ACQUIRE))                              \
						abort();                             \
					bench_hold(hold_);                           \
					RELEASE;                                     \
				}                                                    \
				n_ += batch_;                                        \
			}                                                            \
		}                                                                    \
		return n_;                                                           \
	} while (0)

/* A 64-byte line of its own. */
struct bench_line {
	_Alignas(64) _Atomic uintptr_t v;
	char pad[64 - sizeof(uintptr_t)];
};

#define BENCH_MAX_VARIANTS 16
#define BENCH_MAX_THREADS 256

/* Variant groups: each appends to v[*n]. */
void bench_variants_ref(struct bench_variant *v, unsigned *n, const struct rundown_backend *b,
			const char *plain_name, const char *ca_name);
void bench_variants_peers(struct bench_variant *v, unsigned *n);
void bench_variants_ck(struct bench_variant *v, unsigned *n);
void bench_variants_urcu(struct bench_variant *v, unsigned *n);

/* run.c */
struct bench_sample {
	double ns_per_pair;  /* thread time per pair, averaged over threads */
	double mpairs_total; /* all threads together, million pairs per second */
};
uint64_t bench_now_ns(void);
unsigned bench_cpus(unsigned *cpus, unsigned max); /* allowed processors */
void bench_pin(unsigned cpu);
uint64_t bench_hold_calibrate(uint64_t hold_ns, double *iters_per_ns);
struct bench_sample bench_run(const struct bench_variant *v, unsigned nthreads,
			      const unsigned *cpus, unsigned ncpus, double seconds,
			      uint64_t hold_iters, unsigned batch);

/* stats.c */
struct bench_stats {
	double median, min, max, p10, p90;
};
struct bench_stats bench_stats(double *x, unsigned n); /* sorts x */

/* wait.c: the reference and the backend, each family it exports. */
struct bench_wait_target {
	const char *name; /* ref or backend */
	const struct rundown_backend *b;
};
void bench_wait_latency(const struct bench_wait_target *t, unsigned nt, unsigned trials,
			const unsigned *cpus, unsigned ncpus, bool tsv);
void bench_wait_cost(const struct bench_wait_target *t, unsigned nt, unsigned trials,
		     unsigned max_slots, bool tsv);
void bench_memory(const struct bench_wait_target *t, unsigned nt, bool tsv);

#endif /* RUNDOWN_BENCH_H */
