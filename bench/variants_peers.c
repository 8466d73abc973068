/*
 * bench/variants_peers.c - peers implemented here, always built.
 *
 *	single-cas   the Windows plain design: one shared word, 2 * count | CLOSED;
 *	             Acquire is a CAS loop that fails on CLOSED, Release a
 *	             fetch_sub that checks CLOSED afterwards.
 *	percpu-cas   the Windows cache-aware design: one 64-byte slot per
 *	             configured processor, slot = sched_getcpu() (libc's, which
 *	             glibc 2.35+ reads from the rseq area) modulo the slot count,
 *	             then the single-cas operations on that slot.
 *	faa-private  fetch_add + fetch_sub on a line owned by the thread: the floor
 *	             for two LOCK-prefixed RMWs with no sharing at all.
 *	rwlock       pthread_rwlock_tryrdlock / pthread_rwlock_unlock on one lock.
 *
 * The first three (and call-floor) are out-of-line functions called through
 * function pointers, the way the backends are called, so that the
 * comparison is between designs and not between call sequences; each
 * starts a 64-byte line, as librundown's Acquire and Release do
 * (impl/hot.h): where a callee starts changes the cost of a call here.
 *
 * Nobody runs these objects down in the benchmark, so Release's CLOSED
 * branch (where the Windows design wakes the waiter) is present, to cost
 * what it costs, but never taken.
 */
#include "config.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench/bench.h"

#define BENCH_CALLEE __attribute__((noinline, aligned(64)))

#define BENCH_CLOSED ((uintptr_t)1)
#define BENCH_UNIT ((uintptr_t)2)

__attribute__((noinline, cold)) static void bench_closed_release(void)
{
	fprintf(stderr, "rundown-bench: a peer object was run down (cannot happen)\n");
	abort();
}

/* CAS acquire: acquire on success (pairs with a release store that opens
 * the word); relaxed on failure, as the loop reloads. */
static inline BOOLEAN bench_cas_acquire(_Atomic uintptr_t *w)
{
	uintptr_t old = atomic_load_explicit(w, memory_order_relaxed);

	do {
		if (old & BENCH_CLOSED)
			return FALSE;
	} while (!atomic_compare_exchange_weak_explicit(w, &old, old + BENCH_UNIT,
						       memory_order_acquire,
						       memory_order_relaxed));
	return TRUE;
}

/* Release: release RMW, pairs with the waiter's RMW that sets CLOSED. */
static inline void bench_cas_release(_Atomic uintptr_t *w)
{
	if (atomic_fetch_sub_explicit(w, BENCH_UNIT, memory_order_release) & BENCH_CLOSED)
		bench_closed_release();
}

/* ---- single-cas ---- */

BENCH_CALLEE static BOOLEAN bench_single_acquire(void *p)
{
	return bench_cas_acquire(&((struct bench_line *)p)->v);
}

BENCH_CALLEE static void bench_single_release(void *p)
{
	bench_cas_release(&((struct bench_line *)p)->v);
}

/* ---- percpu-cas ---- */

struct bench_percpu {
	unsigned nslots;
	struct bench_line slot[];
};

static inline _Atomic uintptr_t *bench_percpu_slot(struct bench_percpu *o)
{
	int cpu = sched_getcpu();

	return &o->slot[(unsigned)(cpu < 0 ? 0 : cpu) % o->nslots].v;
}

BENCH_CALLEE static BOOLEAN bench_percpu_acquire(void *p)
{
	return bench_cas_acquire(bench_percpu_slot(p));
}

BENCH_CALLEE static void bench_percpu_release(void *p)
{
	bench_cas_release(bench_percpu_slot(p));
}

/* ---- faa-private ---- */

BENCH_CALLEE static BOOLEAN bench_faa_acquire(void *p)
{
	/* Acquire, like a successful Acquire; no release store pairs with it. */
	atomic_fetch_add_explicit(&((struct bench_line *)p)->v, BENCH_UNIT, memory_order_acquire);
	return TRUE;
}

BENCH_CALLEE static void bench_faa_release(void *p)
{
	/* Release, like a Release; the thread's own next RMW reads it. */
	atomic_fetch_sub_explicit(&((struct bench_line *)p)->v, BENCH_UNIT, memory_order_release);
}

/* ---- call-floor: what calling any backend costs ---- */

/* Two out-of-line calls through function pointers that do nothing but
 * return: the floor of a pair "called through the exported functions". */
BENCH_CALLEE static BOOLEAN bench_call_acquire(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
	return TRUE;
}

BENCH_CALLEE static void bench_call_release(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* volatile: the compiler cannot see through them and inline the calls. */
static BOOLEAN (*volatile bench_single_acquire_fn)(void *) = bench_single_acquire;
static void (*volatile bench_single_release_fn)(void *) = bench_single_release;
static BOOLEAN (*volatile bench_percpu_acquire_fn)(void *) = bench_percpu_acquire;
static void (*volatile bench_percpu_release_fn)(void *) = bench_percpu_release;
static BOOLEAN (*volatile bench_faa_acquire_fn)(void *) = bench_faa_acquire;
static void (*volatile bench_faa_release_fn)(void *) = bench_faa_release;
static BOOLEAN (*volatile bench_call_acquire_fn)(void *) = bench_call_acquire;
static void (*volatile bench_call_release_fn)(void *) = bench_call_release;

static void *bench_line_new(void)
{
	struct bench_line *l = aligned_alloc(64, sizeof(*l));

	if (l == NULL)
		abort();
	atomic_init(&l->v, 0);
	return l;
}

static void *bench_single_setup(const struct bench_variant *v)
{
	(void)v;
	return bench_line_new();
}

static uint64_t bench_single_loop(struct bench_thread *t)
{
	BOOLEAN (*acquire)(void *) = bench_single_acquire_fn;
	void (*release)(void *) = bench_single_release_fn;
	void *obj = t->obj;

	BENCH_LOOP(t, acquire(obj), release(obj));
}

static void bench_free_teardown(const struct bench_variant *v, void *obj)
{
	(void)v;
	free(obj);
}

static void *bench_percpu_setup(const struct bench_variant *v)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	unsigned n = conf < 1 ? 1u : conf > 4096 ? 4096u : (unsigned)conf;
	struct bench_percpu *o =
		aligned_alloc(64, sizeof(*o) + (size_t)n * sizeof(struct bench_line));

	(void)v;
	if (o == NULL)
		abort();
	o->nslots = n;
	for (unsigned i = 0; i < n; i++)
		atomic_init(&o->slot[i].v, 0);
	return o;
}

static uint64_t bench_percpu_loop(struct bench_thread *t)
{
	BOOLEAN (*acquire)(void *) = bench_percpu_acquire_fn;
	void (*release)(void *) = bench_percpu_release_fn;
	void *obj = t->obj;

	BENCH_LOOP(t, acquire(obj), release(obj));
}

static void *bench_none_setup(const struct bench_variant *v)
{
	(void)v;
	return NULL;
}

static void bench_faa_thread_init(struct bench_thread *t)
{
	t->local = bench_line_new(); /* allocated by the pinned thread: local */
}

static uint64_t bench_faa_loop(struct bench_thread *t)
{
	BOOLEAN (*acquire)(void *) = bench_faa_acquire_fn;
	void (*release)(void *) = bench_faa_release_fn;
	void *line = t->local;

	BENCH_LOOP(t, acquire(line), release(line));
}

static uint64_t bench_call_loop(struct bench_thread *t)
{
	BOOLEAN (*acquire)(void *) = bench_call_acquire_fn;
	void (*release)(void *) = bench_call_release_fn;
	void *line = t->local;

	BENCH_LOOP(t, acquire(line), release(line));
}

static void bench_local_free(struct bench_thread *t)
{
	free(t->local);
	t->local = NULL;
}

/* ---- rwlock ---- */

struct bench_rwlock {
	_Alignas(64) pthread_rwlock_t lock;
};

static void *bench_rwlock_setup(const struct bench_variant *v)
{
	struct bench_rwlock *o = aligned_alloc(64, sizeof(*o));

	(void)v;
	if (o == NULL || pthread_rwlock_init(&o->lock, NULL) != 0)
		abort();
	return o;
}

static uint64_t bench_rwlock_loop(struct bench_thread *t)
{
	pthread_rwlock_t *lock = &((struct bench_rwlock *)t->obj)->lock;

	/* No writer ever: tryrdlock fails only past the reader limit. */
	BENCH_LOOP(t, pthread_rwlock_tryrdlock(lock) == 0, pthread_rwlock_unlock(lock));
}

static void bench_rwlock_teardown(const struct bench_variant *v, void *obj)
{
	(void)v;
	pthread_rwlock_destroy(&((struct bench_rwlock *)obj)->lock);
	free(obj);
}

void bench_variants_peers(struct bench_variant *v, unsigned *n)
{
	v[(*n)++] = (struct bench_variant){.name = "single-cas", .call = "fnptr",
					   .setup = bench_single_setup, .loop = bench_single_loop,
					   .teardown = bench_free_teardown};
	v[(*n)++] = (struct bench_variant){.name = "percpu-cas", .call = "fnptr",
					   .setup = bench_percpu_setup, .loop = bench_percpu_loop,
					   .teardown = bench_free_teardown};
	v[(*n)++] = (struct bench_variant){.name = "faa-private", .call = "fnptr",
					   .setup = bench_none_setup,
					   .thread_init = bench_faa_thread_init,
					   .loop = bench_faa_loop, .thread_fini = bench_local_free,
					   .teardown = bench_free_teardown};
	v[(*n)++] = (struct bench_variant){.name = "call-floor", .call = "fnptr",
					   .setup = bench_none_setup,
					   .thread_init = bench_faa_thread_init,
					   .loop = bench_call_loop, .thread_fini = bench_local_free,
					   .teardown = bench_free_teardown};
	v[(*n)++] = (struct bench_variant){.name = "rwlock", .call = "libcall",
					   .setup = bench_rwlock_setup, .loop = bench_rwlock_loop,
					   .teardown = bench_rwlock_teardown};
}
