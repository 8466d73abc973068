/*
 * conformance/torture.c - rundown-conform --torture (torture.h).
 *
 * Threads: per family one owner and N readers; the main thread is the
 * monitor (statistics, stutter, watchdog, the end).  Shared state is
 * atomics only; the protected object's fields are plain accesses (so that
 * ThreadSanitizer checks the happens-before the backend must give between
 * a holder's accesses and the owner's after Wait), except in a TSan build
 * with an uninstrumented backend, where TSan cannot see that edge: then
 * they are relaxed atomics.  Sleeps here pace the load; they never order
 * anything.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "inject/inject.h"

#include "conformance/inject_ctl.h"
#include "conformance/torture.h"

#define RD_MAGIC_LIVE UINT64_C(0x4c4956452d4f424a) /* "LIVE-OBJ" */
#define RD_MAGIC_DEAD UINT64_C(0x444541442d4f424a) /* "DEAD-OBJ" */
#define RD_QUARANTINE 16                          /* freed objects kept poisoned before free() */
#define RD_MAX_READERS 1024

/* ---- durations ---- */

int conform_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {{"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000}, {"m", UINT64_C(60000000000)},
		     {"", 1000000000}};
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || v < 0 || v > 1e7)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			*ns = (uint64_t)(v * (double)units[i].mul);
			return 0;
		}
	}
	return -1;
}

/* ---- small helpers ---- */

static uint64_t rd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static void rd_nap(uint64_t ns)
{
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static uint64_t rd_mix(uint64_t z)
{
	z += UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rd_rand(uint64_t *s)
{
	*s += UINT64_C(0x9e3779b97f4a7c15);
	return rd_mix(*s);
}

static void rd_spin(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		atomic_signal_fence(memory_order_seq_cst); /* keeps the loop */
}

static const char *rd_fmt_ns(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 1000000000u)
		snprintf(buf, len, "%.3gs", (double)ns / 1e9);
	else if (ns >= 1000000u)
		snprintf(buf, len, "%.3gms", (double)ns / 1e6);
	else if (ns >= 1000u)
		snprintf(buf, len, "%.3gus", (double)ns / 1e3);
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}

/* ---- the protected object ---- */

static bool rd_atomic_fields; /* TSan cannot see the backend's edges: relaxed atomics */

static uint64_t rd_ld(const uint64_t *p)
{
	return rd_atomic_fields ? __atomic_load_n(p, __ATOMIC_RELAXED) : *(const volatile uint64_t *)p;
}

static void rd_st(uint64_t *p, uint64_t v)
{
	if (rd_atomic_fields)
		__atomic_store_n(p, v, __ATOMIC_RELAXED);
	else
		*(volatile uint64_t *)p = v;
}

struct rd_obj {
	uint64_t magic;  /* RD_MAGIC_LIVE while published, RD_MAGIC_DEAD once replaced */
	uint64_t gen;    /* the generation it was made for */
	uint64_t slot[]; /* one per reader: written by its reader while holding, read by the owner after Wait */
};

/* ---- shared state ---- */

struct rd_arena;

struct rd_worker {
	struct rd_arena *a;
	unsigned idx;
	pthread_t tid;
	bool started;
	uint64_t rng;
	_Atomic uint64_t acquires, failed, heartbeat; /* relaxed counters, read by the monitor */
	char pad[64];
};

struct rd_arena {
	const char *name; /* "plain", "cache-aware" */
	bool ca;
	void *ref;
	bool ref_allocated;         /* CA: from Allocate (Free it), else a heap buffer */
	SIZE_T ref_size;
	struct rd_obj *_Atomic obj; /* store-release by the owner, load-acquire by readers */
	_Atomic uint64_t gen;       /* store-release by the owner after Wait, load-acquire by readers */
	_Atomic long inside;        /* readers between a TRUE Acquire and their Release (seq_cst) */
	struct rd_obj *quarantine[RD_QUARANTINE];
	unsigned nq;
	unsigned nreaders;
	struct rd_worker *readers;
	pthread_t owner;
	bool owner_started;
	uint64_t owner_rng;
	_Atomic uint64_t cycles, with_completed, max_wait_ns, owner_heartbeat;
	_Atomic uint64_t wait_start_ns; /* 0: not in Wait */
	_Atomic uint64_t violations;
	_Atomic unsigned exited;     /* threads of this arena that returned (release; the monitor acquires) */
	_Atomic(const char *) first; /* the first violation's message (heap, kept) */
	uint64_t slot_sum;           /* owner only */
	uint64_t alloc_retries;
};

static const struct rundown_backend *rd_b;
static _Atomic int rd_stop;   /* the monitor ends the run */
static _Atomic int rd_paused; /* stutter: the load pauses */
static cpu_set_t rd_allowed;  /* the processors the run may use */
static int rd_ncpus_allowed;
static uint64_t rd_shuffle_ns;
static bool rd_stop_on_violation = true;

__attribute__((format(printf, 2, 3))) static void rd_violation(struct rd_arena *a, const char *fmt, ...)
{
	char *msg = NULL;
	const char *none = NULL;
	va_list ap;

	atomic_fetch_add_explicit(&a->violations, 1, memory_order_relaxed);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg)
		return;
	/* pairs with the monitor's acquire load */
	if (!atomic_compare_exchange_strong_explicit(&a->first, &none, msg, memory_order_release, memory_order_relaxed))
		free(msg);
	if (rd_stop_on_violation)
		atomic_store_explicit(&rd_stop, 1, memory_order_relaxed);
}

/* ---- the two families ---- */

static BOOLEAN rd_acq(const struct rd_arena *a, ULONG n)
{
	if (a->ca)
		return n == 1 ? rd_b->ExAcquireRundownProtectionCacheAware(a->ref)
			      : rd_b->ExAcquireRundownProtectionCacheAwareEx(a->ref, n);
	return n == 1 ? rd_b->ExAcquireRundownProtection(a->ref) : rd_b->ExAcquireRundownProtectionEx(a->ref, n);
}

static void rd_rel(const struct rd_arena *a, ULONG n, bool ex)
{
	if (ex) {
		if (a->ca)
			rd_b->ExReleaseRundownProtectionCacheAwareEx(a->ref, n);
		else
			rd_b->ExReleaseRundownProtectionEx(a->ref, n);
		return;
	}
	for (ULONG i = 0; i < n; i++) {
		if (a->ca)
			rd_b->ExReleaseRundownProtectionCacheAware(a->ref);
		else
			rd_b->ExReleaseRundownProtection(a->ref);
	}
}

static void rd_wait(const struct rd_arena *a)
{
	if (a->ca)
		rd_b->ExWaitForRundownProtectionReleaseCacheAware(a->ref);
	else
		rd_b->ExWaitForRundownProtectionRelease(a->ref);
}

static bool rd_has_completed(const struct rd_arena *a)
{
	return a->ca ? rd_b->ExRundownCompletedCacheAware != NULL : rd_b->ExRundownCompleted != NULL;
}

static bool rd_has_ex(const struct rd_arena *a)
{
	return a->ca ? rd_b->ExAcquireRundownProtectionCacheAwareEx && rd_b->ExReleaseRundownProtectionCacheAwareEx
		     : rd_b->ExAcquireRundownProtectionEx && rd_b->ExReleaseRundownProtectionEx;
}

static void rd_completed(const struct rd_arena *a)
{
	if (a->ca)
		rd_b->ExRundownCompletedCacheAware(a->ref);
	else
		rd_b->ExRundownCompleted(a->ref);
}

static void rd_reinit(const struct rd_arena *a)
{
	if (a->ca)
		rd_b->ExReInitializeRundownProtectionCacheAware(a->ref);
	else
		rd_b->ExReInitializeRundownProtection(a->ref);
}

/* What a family needs, or NULL. */
static const char *rd_lacks(const struct rundown_backend *b, bool ca)
{
	if (!ca) {
		if (!b->ExInitializeRundownProtection || !b->ExAcquireRundownProtection ||
		    !b->ExReleaseRundownProtection || !b->ExWaitForRundownProtectionRelease ||
		    !b->ExReInitializeRundownProtection)
			return "Initialize, Acquire, Release, Wait and ReInitialize (plain)";
		return NULL;
	}
	if (!b->ExAcquireRundownProtectionCacheAware || !b->ExReleaseRundownProtectionCacheAware ||
	    !b->ExWaitForRundownProtectionReleaseCacheAware || !b->ExReInitializeRundownProtectionCacheAware)
		return "Acquire, Release, Wait and ReInitialize (cache-aware)";
	if (!b->ExAllocateCacheAwareRundownProtection &&
	    !(b->ExSizeOfRundownProtectionCacheAware && b->ExInitializeRundownProtectionCacheAware))
		return "Allocate, or Size and Initialize (cache-aware)";
	return NULL;
}

static struct rd_obj *rd_obj_new(unsigned nreaders, uint64_t gen)
{
	struct rd_obj *o = calloc(1, sizeof(*o) + nreaders * sizeof(o->slot[0]));

	if (!o) {
		fputs("rundown-conform: --torture: out of memory\n", stderr);
		exit(RUNDOWN_EXIT_USAGE);
	}
	o->magic = RD_MAGIC_LIVE;
	o->gen = gen;
	return o;
}

static int rd_arena_init(struct rd_arena *a, bool ca, unsigned nreaders, uint64_t seed, bool alloc_faults)
{
	memset(a, 0, sizeof(*a));
	a->ca = ca;
	a->name = ca ? "cache-aware" : "plain";
	a->nreaders = nreaders;
	a->owner_rng = rd_mix(seed ^ (ca ? 0xca : 0x91));
	if (!ca) {
		a->ref = aligned_alloc(64, 64);
		if (!a->ref)
			return -1;
		memset(a->ref, 0xa5, 64);
		rd_b->ExInitializeRundownProtection(a->ref);
	} else if (rd_b->ExAllocateCacheAwareRundownProtection) {
		/* Under alloc-fail the window is armed: a NULL is legal, retry. */
		for (unsigned i = 0; i < 1000 && !a->ref; i++) {
			if (alloc_faults)
				conform_inject_alloc_arm();
			a->ref = rd_b->ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 0x74726f54u /* 'Tort' */);
			if (alloc_faults)
				conform_inject_alloc_disarm();
			if (!a->ref)
				a->alloc_retries++;
		}
		if (!a->ref)
			return -1;
		a->ref_allocated = true;
	} else {
		a->ref_size = rd_b->ExSizeOfRundownProtectionCacheAware();
		a->ref = aligned_alloc(64, (a->ref_size + 63) / 64 * 64);
		if (!a->ref)
			return -1;
		rd_b->ExInitializeRundownProtectionCacheAware(a->ref, a->ref_size);
	}
	atomic_init(&a->gen, 1);
	atomic_init(&a->obj, rd_obj_new(nreaders, 1));
	a->readers = calloc(nreaders, sizeof(*a->readers));
	if (!a->readers)
		return -1;
	for (unsigned i = 0; i < nreaders; i++) {
		a->readers[i].a = a;
		a->readers[i].idx = i;
		a->readers[i].rng = rd_mix(seed ^ rd_mix((uint64_t)i + (ca ? 1000 : 0)));
	}
	return 0;
}

static void rd_arena_free(struct rd_arena *a)
{
	for (unsigned i = 0; i < a->nq; i++)
		free(a->quarantine[i]);
	free(atomic_load(&a->obj));
	if (a->ref_allocated)
		rd_b->ExFreeCacheAwareRundownProtection ? rd_b->ExFreeCacheAwareRundownProtection(a->ref) : (void)0;
	else
		free(a->ref);
	free(a->readers);
	free((void *)atomic_load(&a->first));
}

/* ---- processor shuffling ---- */

static void rd_shuffle(uint64_t *rng)
{
	cpu_set_t set;
	int pick, seen = 0;

	if (rd_ncpus_allowed < 2)
		return;
	if (rd_rand(rng) % 4 == 0) {
		set = rd_allowed; /* back to all of them */
	} else {
		pick = (int)(rd_rand(rng) % (uint64_t)rd_ncpus_allowed);
		CPU_ZERO(&set);
		for (int c = 0; c < CPU_SETSIZE; c++) {
			if (CPU_ISSET(c, &rd_allowed) && seen++ == pick) {
				CPU_SET(c, &set);
				break;
			}
		}
	}
	(void)sched_setaffinity(0, sizeof(set), &set); /* 0: the calling thread */
}

/* ---- readers ---- */

static void rd_check(struct rd_worker *w, struct rd_obj *o, uint64_t g0, const char *when)
{
	struct rd_arena *a = w->a;
	uint64_t magic = rd_ld(&o->magic), ogen = rd_ld(&o->gen);
	uint64_t cur = atomic_load_explicit(&a->gen, memory_order_acquire);
	struct rd_obj *co = atomic_load_explicit(&a->obj, memory_order_acquire);

	if (magic != RD_MAGIC_LIVE || ogen != g0 || cur != g0 || co != o)
		rd_violation(a, "%s reader %u, %s: the object of generation %llu now has magic %s, generation "
			     "%llu; current generation %llu%s: a run-down completed while this reference was held",
			     a->name, w->idx, when, (unsigned long long)g0,
			     magic == RD_MAGIC_LIVE ? "LIVE" : magic == RD_MAGIC_DEAD ? "DEAD (freed)" : "garbage",
			     (unsigned long long)ogen, (unsigned long long)cur, co != o ? ", object replaced" : "");
}

static void *rd_reader_main(void *p)
{
	struct rd_worker *w = p;
	struct rd_arena *a = w->a;
	bool ex = rd_has_ex(a);
	uint64_t next_shuffle = rd_now() + rd_shuffle_ns;
	unsigned long iter = 0;

	while (!atomic_load_explicit(&rd_stop, memory_order_relaxed)) {
		uint64_t r = rd_rand(&w->rng);
		ULONG n = ex && (r & 7) == 0 ? (ULONG)(2 + (r >> 3) % 3) : 1;
		struct rd_obj *o;
		uint64_t g0, h;

		atomic_fetch_add_explicit(&w->heartbeat, 1, memory_order_relaxed);
		if (atomic_load_explicit(&rd_paused, memory_order_relaxed)) {
			rd_nap(1000000);
			continue;
		}
		if ((++iter & 127) == 0) {
			if (rd_shuffle_ns && rd_now() >= next_shuffle) {
				rd_shuffle(&w->rng);
				next_shuffle = rd_now() + rd_shuffle_ns;
			}
			sched_yield(); /* an interposed call in every loop (PCT, one-CPU runs) */
		}
		if (!rd_acq(a, n)) {
			atomic_fetch_add_explicit(&w->failed, 1, memory_order_relaxed);
			if ((r >> 8) % 4 == 0)
				sched_yield();
			continue;
		}
		atomic_fetch_add_explicit(&a->inside, 1, memory_order_seq_cst); /* the owner loads it after Wait */
		g0 = atomic_load_explicit(&a->gen, memory_order_acquire);     /* pairs with the owner's release */
		o = atomic_load_explicit(&a->obj, memory_order_acquire);      /* pairs with the owner's release */
		rd_check(w, o, g0, "after Acquire");
		rd_st(&o->slot[w->idx], rd_ld(&o->slot[w->idx]) + n); /* only this reader writes its slot */
		h = (r >> 16) % 100;
		if (h < 50)
			;
		else if (h < 85)
			rd_spin(1 + (unsigned)((r >> 24) % 500));
		else if (h < 95)
			sched_yield();
		else
			rd_nap(1000 + (r >> 24) % 49000);
		rd_check(w, o, g0, "before Release");
		atomic_fetch_sub_explicit(&a->inside, 1, memory_order_seq_cst);
		rd_rel(a, n, n > 1 && ((r >> 40) & 1));
		atomic_fetch_add_explicit(&w->acquires, 1, memory_order_relaxed);
	}
	atomic_fetch_add_explicit(&a->exited, 1, memory_order_release);
	return NULL;
}

/* ---- the owner ---- */

static void rd_max(_Atomic uint64_t *m, uint64_t v)
{
	uint64_t cur = atomic_load_explicit(m, memory_order_relaxed);

	while (v > cur && !atomic_compare_exchange_weak_explicit(m, &cur, v, memory_order_relaxed,
								  memory_order_relaxed))
		;
}

/* Wait, check, replace the object.  The ref is run down on return. */
static void rd_rundown(struct rd_arena *a)
{
	uint64_t t0 = rd_now(), t1, g;
	long in;
	struct rd_obj *old, *nw;

	atomic_store_explicit(&a->wait_start_ns, t0, memory_order_relaxed);
	rd_wait(a);
	t1 = rd_now();
	atomic_store_explicit(&a->wait_start_ns, 0, memory_order_relaxed);
	rd_max(&a->max_wait_ns, t1 - t0);
	in = atomic_load_explicit(&a->inside, memory_order_seq_cst); /* pairs with the readers' seq_cst RMWs */
	if (in != 0)
		rd_violation(a, "%s owner: Wait returned while %ld reader(s) held a reference (generation %llu)",
			     a->name, in, (unsigned long long)atomic_load(&a->gen));
	if (rd_acq(a, 1)) {
		rd_violation(a, "%s owner: Acquire returned TRUE after Wait returned (generation %llu)", a->name,
			     (unsigned long long)atomic_load(&a->gen));
		rd_rel(a, 1, false);
	}
	old = atomic_load_explicit(&a->obj, memory_order_relaxed);
	for (unsigned i = 0; i < a->nreaders; i++)
		a->slot_sum += rd_ld(&old->slot[i]); /* the holders' writes: visible after Wait */
	g = atomic_load_explicit(&a->gen, memory_order_relaxed) + 1;
	nw = rd_obj_new(a->nreaders, g);
	rd_st(&old->magic, RD_MAGIC_DEAD);
	rd_st(&old->gen, UINT64_MAX);
	atomic_store_explicit(&a->obj, nw, memory_order_release); /* pairs with the readers' acquire */
	atomic_store_explicit(&a->gen, g, memory_order_release);  /* pairs with the readers' acquire */
	if (a->nq == RD_QUARANTINE) {
		free(a->quarantine[0]);
		memmove(a->quarantine, a->quarantine + 1, (RD_QUARANTINE - 1) * sizeof(a->quarantine[0]));
		a->nq--;
	}
	a->quarantine[a->nq++] = old;
}

static void *rd_owner_main(void *p)
{
	struct rd_arena *a = p;
	uint64_t next_shuffle = rd_now() + rd_shuffle_ns;

	while (!atomic_load_explicit(&rd_stop, memory_order_relaxed)) {
		uint64_t r = rd_rand(&a->owner_rng), cycle;

		atomic_fetch_add_explicit(&a->owner_heartbeat, 1, memory_order_relaxed);
		if (atomic_load_explicit(&rd_paused, memory_order_relaxed)) {
			rd_nap(1000000);
			continue;
		}
		if (rd_shuffle_ns && rd_now() >= next_shuffle) {
			rd_shuffle(&a->owner_rng);
			next_shuffle = rd_now() + rd_shuffle_ns;
		}
		/* let the readers work for a while: 0 to 2 ms */
		if (r % 8)
			rd_nap(r % 2000000);
		rd_rundown(a);
		cycle = atomic_fetch_add_explicit(&a->cycles, 1, memory_order_relaxed) + 1;
		if ((cycle & 1) && rd_has_completed(a)) {
			rd_completed(a);
			atomic_fetch_add_explicit(&a->with_completed, 1, memory_order_relaxed);
		}
		rd_reinit(a);
	}
	atomic_fetch_add_explicit(&a->exited, 1, memory_order_release);
	return NULL;
}

/* ---- the monitor ---- */

static void *rd_final_main(void *p)
{
	struct rd_arena *a = p;

	rd_rundown(a);
	atomic_store_explicit(&a->owner_heartbeat, UINT64_MAX, memory_order_release); /* pairs with rd_final_rundown */
	return NULL;
}

/* rd_rundown on a helper thread; false if it does not return in time. */
static bool rd_final_rundown(struct rd_arena *a, uint64_t limit_ns)
{
	pthread_t tid;
	uint64_t end = rd_now() + limit_ns;

	atomic_store(&a->owner_heartbeat, 0);
	if (pthread_create(&tid, NULL, rd_final_main, a) != 0) {
		rd_rundown(a);
		return true;
	}
	while (atomic_load_explicit(&a->owner_heartbeat, memory_order_acquire) != UINT64_MAX) {
		if (rd_now() > end) {
			pthread_detach(tid); /* stuck in Wait: never joined */
			return false;
		}
		rd_nap(1000000);
	}
	pthread_join(tid, NULL);
	return true;
}

struct rd_tot {
	uint64_t acquires, failed;
};

static struct rd_tot rd_totals(const struct rd_arena *a)
{
	struct rd_tot t = {0, 0};

	for (unsigned i = 0; i < a->nreaders; i++) {
		t.acquires += atomic_load_explicit(&a->readers[i].acquires, memory_order_relaxed);
		t.failed += atomic_load_explicit(&a->readers[i].failed, memory_order_relaxed);
	}
	return t;
}

static void rd_stats_line(const struct rd_arena *a, uint64_t elapsed, const char *tag)
{
	struct rd_tot t = rd_totals(a);
	char w[32];

	printf("[%7.1fs] %-11s %s acquires %llu, failed acquires %llu, rundown cycles %llu (%llu with Completed), "
	       "max Wait latency %s, violations %llu\n",
	       (double)elapsed / 1e9, a->name, tag, (unsigned long long)t.acquires, (unsigned long long)t.failed,
	       (unsigned long long)atomic_load(&a->cycles), (unsigned long long)atomic_load(&a->with_completed),
	       rd_fmt_ns(w, sizeof(w), atomic_load(&a->max_wait_ns)), (unsigned long long)atomic_load(&a->violations));
	fflush(stdout);
}

static void rd_start(pthread_t *tid, void *(*fn)(void *), void *arg, bool *started)
{
	int e = pthread_create(tid, NULL, fn, arg);

	if (e != 0) {
		fprintf(stderr, "rundown-conform: --torture: pthread_create: %s\n", strerror(e));
		exit(RUNDOWN_EXIT_USAGE);
	}
	*started = true;
}

int conform_torture_run(const struct rundown_backend *b, struct conform_torture_opts *o)
{
	struct rd_arena arenas[2];
	unsigned narenas = 0;
	struct rundown_inject_stats is0, is1;
	bool have_shim, pct = false, alloc_faults = false, sched_inj = false, failed = false, hung = false;
	uint64_t t0, end, next_stats, next_toggle, watchdog_ns, pause_ns = 0, stats_ns;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char b1[32], b2[32], b3[32], b4[32];
	const char *hang_msg = NULL;

	rd_b = b;
	atomic_store(&rd_stop, 0);
	atomic_store(&rd_paused, 0);
	have_shim = conform_inject_stats(&is0);
	if (have_shim) {
		pct = (is0.features & RUNDOWN_INJECT_F_PCT) != 0;
		alloc_faults = (is0.features & RUNDOWN_INJECT_F_ALLOC) != 0;
		sched_inj = (is0.features & (RUNDOWN_INJECT_F_YIELD | RUNDOWN_INJECT_F_DELAY | RUNDOWN_INJECT_F_CHAOS |
					      RUNDOWN_INJECT_F_PCT)) != 0;
	}
	if (!o->duration_ns)
		o->duration_ns = UINT64_C(30000000000);
	if (!o->readers)
		o->readers = ncpu < 2 ? 2 : ncpu > 16 ? 16 : (unsigned)ncpu;
	if (o->readers > RD_MAX_READERS)
		o->readers = RD_MAX_READERS;
	if (!o->stutter_set) {
		o->stutter_ns = o->duration_ns / 4;
		if (o->stutter_ns > UINT64_C(3000000000))
			o->stutter_ns = UINT64_C(3000000000);
	}
	if (o->stutter_ns)
		pause_ns = o->stutter_ns / 4;
	if (!o->shuffle_set)
		o->shuffle_ns = 100000000u;
	stats_ns = o->stats_ns ? o->stats_ns : o->duration_ns > UINT64_C(30000000000) ? UINT64_C(5000000000)
										   : UINT64_C(1000000000);
	watchdog_ns = (uint64_t)(10e9 * (o->tmult > 0 ? o->tmult : 1.0) * (sched_inj ? 3.0 : 1.0));
	rd_atomic_fields = !o->tsan_plain_ok;
	if (sched_getaffinity(0, sizeof(rd_allowed), &rd_allowed) != 0) {
		CPU_ZERO(&rd_allowed);
		CPU_SET(0, &rd_allowed);
	}
	rd_ncpus_allowed = CPU_COUNT(&rd_allowed);
	rd_shuffle_ns = pct ? 0 : o->shuffle_ns; /* PCT confines every thread to one CPU: leave it */

	for (int ca = 0; ca < 2; ca++) {
		const char *fam = ca ? "cache-aware" : "plain";
		const char *lack = rd_lacks(b, ca);

		if (o->family && strcmp(o->family, fam) != 0)
			continue;
		if (lack) {
			if (o->family) {
				fprintf(stderr, "rundown-conform: --torture: the backend lacks %s\n", lack);
				return RUNDOWN_EXIT_USAGE;
			}
			printf("rundown-conform --torture: %s family skipped: the backend lacks %s\n", fam, lack);
			continue;
		}
		if (rd_arena_init(&arenas[narenas], ca, o->readers, o->seed, alloc_faults) != 0) {
			fprintf(stderr, "rundown-conform: --torture: cannot create the %s object%s\n", fam,
				alloc_faults ? " (1000 allocation failures in a row)" : "");
			return RUNDOWN_EXIT_USAGE;
		}
		narenas++;
	}
	if (narenas == 0) {
		fprintf(stderr, "rundown-conform: --torture: the backend supports neither family\n");
		return RUNDOWN_EXIT_USAGE;
	}

	/* Parameters first. */
	printf("rundown-conform --torture: backend %s\n", o->backend_path ? o->backend_path : "?");
	printf("rundown-conform --torture: families %s%s%s (%s); %u reader(s) and 1 owner per family; duration %s; "
	       "seed %llu\n",
	       arenas[0].name, narenas > 1 ? ", " : "", narenas > 1 ? arenas[1].name : "",
	       arenas[narenas - 1].ca ? (arenas[narenas - 1].ref_allocated ? "CA object from Allocate"
									    : "CA object in a Size+Initialize buffer")
				      : "plain ref",
	       o->readers, rd_fmt_ns(b1, sizeof(b1), o->duration_ns), (unsigned long long)o->seed);
	if (o->stutter_ns)
		printf("rundown-conform --torture: stutter: run %s, pause %s; ",
		       rd_fmt_ns(b2, sizeof(b2), o->stutter_ns), rd_fmt_ns(b3, sizeof(b3), pause_ns));
	else
		printf("rundown-conform --torture: no stutter; ");
	if (rd_shuffle_ns)
		printf("shuffle every %s over %d processor(s); ", rd_fmt_ns(b4, sizeof(b4), rd_shuffle_ns),
		       rd_ncpus_allowed);
	else
		printf("no shuffle%s; ", pct ? " (PCT pins the threads)" : "");
	printf("statistics every %s; watchdog %s%s\n", rd_fmt_ns(b1, sizeof(b1), stats_ns),
	       rd_fmt_ns(b2, sizeof(b2), watchdog_ns),
	       rd_atomic_fields ? "; object fields are relaxed atomics (TSan runner, uninstrumented backend)" : "");
	if (o->inject)
		printf("rundown-conform --torture: inject %s: RUNDOWN_INJECT='%s'\n", o->inject->label, o->inject->spec);
	fflush(stdout);

	for (unsigned i = 0; i < narenas; i++) {
		struct rd_arena *a = &arenas[i];

		for (unsigned r = 0; r < a->nreaders; r++)
			rd_start(&a->readers[r].tid, rd_reader_main, &a->readers[r], &a->readers[r].started);
		rd_start(&a->owner, rd_owner_main, a, &a->owner_started);
	}

	/* Monitor. */
	t0 = rd_now();
	end = t0 + o->duration_ns;
	next_stats = t0 + stats_ns;
	next_toggle = o->stutter_ns ? t0 + o->stutter_ns : UINT64_MAX;
	{
		uint64_t hb_time = t0;
		uint64_t *hb = calloc((size_t)narenas * (o->readers + 1), sizeof(*hb));

		if (!hb) {
			fputs("rundown-conform: --torture: out of memory\n", stderr);
			exit(RUNDOWN_EXIT_USAGE);
		}
		for (;;) {
			uint64_t now = rd_now();

			if (now >= end || atomic_load_explicit(&rd_stop, memory_order_relaxed))
				break;
			if (now >= next_toggle) {
				int p = !atomic_load_explicit(&rd_paused, memory_order_relaxed);

				atomic_store_explicit(&rd_paused, p, memory_order_relaxed);
				next_toggle = now + (p ? pause_ns : o->stutter_ns);
			}
			if (now >= next_stats) {
				for (unsigned i = 0; i < narenas; i++)
					rd_stats_line(&arenas[i], now - t0, atomic_load(&rd_paused) ? "(paused)" : "");
				next_stats += stats_ns;
			}
			/* Watchdog: a Wait that lasts, a thread stuck in the backend. */
			for (unsigned i = 0; i < narenas && !hang_msg; i++) {
				uint64_t ws = atomic_load_explicit(&arenas[i].wait_start_ns, memory_order_relaxed);

				if (ws && now > ws && now - ws > watchdog_ns)
					hang_msg = arenas[i].ca ? "cache-aware Wait did not return" : "plain Wait did not return";
			}
			if (!hang_msg && now - hb_time > watchdog_ns) {
				for (unsigned i = 0; i < narenas && !hang_msg; i++) {
					for (unsigned r = 0; r <= arenas[i].nreaders; r++) {
						uint64_t v = r < arenas[i].nreaders
								     ? atomic_load(&arenas[i].readers[r].heartbeat)
								     : atomic_load(&arenas[i].owner_heartbeat);
						uint64_t *slot = &hb[i * (o->readers + 1) + r];

						if (v == *slot && !(r == arenas[i].nreaders &&
								    atomic_load(&arenas[i].wait_start_ns)))
							hang_msg = r < arenas[i].nreaders
									   ? "a reader made no progress (blocked in Acquire or Release?)"
									   : "the owner made no progress (blocked in Completed or "
									     "ReInitialize?)";
						*slot = v;
					}
				}
				hb_time = now;
			}
			if (hang_msg)
				break;
			rd_nap(10000000);
		}
		free(hb);
	}
	atomic_store(&rd_paused, 0);
	atomic_store(&rd_stop, 1);
	/* Every thread returns within the watchdog period, or one is stuck in
	 * the backend (a Wait that lost count, a blocking Acquire). */
	for (uint64_t limit = rd_now() + watchdog_ns; !hang_msg;) {
		bool all = true;

		for (unsigned i = 0; i < narenas; i++)
			all &= atomic_load_explicit(&arenas[i].exited, memory_order_acquire) == arenas[i].nreaders + 1;
		if (all)
			break;
		if (rd_now() > limit) {
			for (unsigned i = 0; i < narenas && !hang_msg; i++)
				if (atomic_load(&arenas[i].wait_start_ns))
					hang_msg = arenas[i].ca ? "cache-aware Wait did not return"
								: "plain Wait did not return";
			if (!hang_msg)
				hang_msg = "a thread did not return from the backend at the end of the run";
			break;
		}
		rd_nap(1000000);
	}
	if (hang_msg) {
		for (unsigned i = 0; i < narenas; i++) {
			rd_stats_line(&arenas[i], rd_now() - t0, "(hung)");
			/* never joined: not a thread leak for the sanitizers */
			for (unsigned r = 0; r < arenas[i].nreaders; r++)
				pthread_detach(arenas[i].readers[r].tid);
			pthread_detach(arenas[i].owner);
		}
		printf("rundown-conform --torture: %s within the watchdog period (%s)\n", hang_msg,
		       rd_fmt_ns(b1, sizeof(b1), watchdog_ns));
		if (o->reproduce)
			printf("reproduce: %s\n", o->reproduce);
		puts("FAILURE");
		fflush(stdout);
		fflush(stderr);
		_exit(1); /* a thread is stuck inside the backend: it cannot be joined */
	}
	for (unsigned i = 0; i < narenas; i++) {
		struct rd_arena *a = &arenas[i];

		for (unsigned r = 0; r < a->nreaders; r++)
			pthread_join(a->readers[r].tid, NULL);
		pthread_join(a->owner, NULL);
	}
	/* Last rundown with no reader left (under the watchdog: a backend that
	 * lost count hangs here), then the totals. */
	for (unsigned i = 0; i < narenas; i++) {
		struct rd_arena *a = &arenas[i];

		if (atomic_load(&a->violations) == 0 && !rd_final_rundown(a, watchdog_ns)) {
			rd_stats_line(a, rd_now() - t0, "(hung)");
			printf("rundown-conform --torture: %s: the last Wait, with every reader gone, did not return "
			       "within the watchdog period (%s): a unit was lost\n", a->name,
			       rd_fmt_ns(b1, sizeof(b1), watchdog_ns));
			if (o->reproduce)
				printf("reproduce: %s\n", o->reproduce);
			puts("FAILURE");
			fflush(stdout);
			fflush(stderr);
			_exit(1);
		}
		rd_stats_line(a, rd_now() - t0, "final:");
	}
	for (unsigned i = 0; i < narenas; i++) {
		struct rd_arena *a = &arenas[i];
		const char *first = atomic_load_explicit(&a->first, memory_order_acquire);

		if (atomic_load(&a->violations)) {
			failed = true;
			printf("rundown-conform --torture: %s: %llu violation(s) of the generation invariant; first: %s\n",
			       a->name, (unsigned long long)atomic_load(&a->violations), first ? first : "?");
		} else if (atomic_load(&a->cycles) == 0) {
			failed = true;
			printf("rundown-conform --torture: %s: no rundown cycle completed\n", a->name);
		}
		if (a->alloc_retries)
			printf("rundown-conform --torture: %s: Allocate returned NULL %llu time(s) under injected "
			       "allocation failures (retried)\n", a->name, (unsigned long long)a->alloc_retries);
	}
	if (have_shim && conform_inject_stats(&is1)) {
		printf("rundown-conform --torture: inject: %llu sched_getcpu, %llu yields, %llu delays, %llu "
		       "starvations, %llu futex/cond early returns, %llu EINTR, %llu allocation faults, %llu IRQL "
		       "violations\n",
		       (unsigned long long)(is1.sched_getcpu_calls - is0.sched_getcpu_calls),
		       (unsigned long long)(is1.yields - is0.yields), (unsigned long long)(is1.delays - is0.delays),
		       (unsigned long long)(is1.starvations - is0.starvations),
		       (unsigned long long)(is1.futex_spurious + is1.cond_spurious - is0.futex_spurious -
					    is0.cond_spurious),
		       (unsigned long long)(is1.futex_eintr + is1.sem_eintr - is0.futex_eintr - is0.sem_eintr),
		       (unsigned long long)(is1.alloc_faults - is0.alloc_faults),
		       (unsigned long long)(is1.irql_violations - is0.irql_violations));
		if (is1.irql_violations != is0.irql_violations) {
			char what[256] = "";
			size_t (*first)(char *, size_t);

			*(void **)&first = dlsym(RTLD_DEFAULT, "rundown_inject_irql_first");
			if (first)
				first(what, sizeof(what));
			failed = true;
			printf("rundown-conform --torture: IRQL violation: %s at DISPATCH_LEVEL (a blocking call inside "
			       "Acquire/Release; backtrace on stderr)\n", what[0] ? what : "a blocking call");
		}
		if (o->inject && o->inject->cpu && (o->cpu_bypass || is1.sched_getcpu_calls == is0.sched_getcpu_calls)) {
			for (unsigned i = 0; i < narenas; i++)
				if (arenas[i].ca)
					printf("rundown-conform --torture: warning: the backend reads the processor without "
					       "sched_getcpu (rseq?): %s cannot perturb it\n", o->inject->label);
		}
	}
	for (unsigned i = 0; i < narenas; i++)
		rd_arena_free(&arenas[i]);
	(void)hung;
	if (failed && o->reproduce)
		printf("reproduce: %s\n", o->reproduce);
	puts(failed ? "FAILURE" : "SUCCESS");
	fflush(stdout);
	return failed ? 1 : 0;
}
