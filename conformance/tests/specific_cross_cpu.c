/*
 * conformance/tests/specific_cross_cpu.c - a cache-aware object is one
 * count, however it is spread over processors (CA-REL-003, CA-LIFE-004).
 *
 * Threads are pinned with conform_pin; a backend without per-CPU state
 * passes trivially.  Every check holds for any correct design: they only
 * compare what Wait and Acquire do with the units actually outstanding.
 */
#include "config.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "conformance/tests/specific_util.h"

#define NEEDS_XC                                                                       \
	(CONFORM_NEEDS_CA | CONFORM_NEEDS_CA_BUFFER |                                    \
	 RUNDOWN_BIT(ExAcquireRundownProtectionCacheAwareEx) |                           \
	 RUNDOWN_BIT(ExReleaseRundownProtectionCacheAwareEx))

/* ---- CA-REL-003 ---- */

enum { XC_ACQUIRE, XC_RELEASE };

struct xc_job {
	pthread_t tid;
	void *obj;
	unsigned cpu;
	int op;
	unsigned n;   /* calls */
	ULONG ex;     /* 0: single routines; else the Ex routines with this Count */
	struct conform_waiter *w; /* release: report a Wait that returns early */
	bool pinned;
	unsigned false_at; /* acquire: 1 + index of a FALSE, 0 if none */
	unsigned early_at; /* release: 1 + index after which Wait had returned */
};

static void *xc_main(void *p)
{
	struct xc_job *j = p;

	j->pinned = conform_pin(j->cpu);
	if (!j->pinned)
		return NULL;
	for (unsigned i = 0; i < j->n; i++) {
		if (j->op == XC_ACQUIRE) {
			BOOLEAN ok = j->ex ? B->ExAcquireRundownProtectionCacheAwareEx(j->obj, j->ex)
					   : B->ExAcquireRundownProtectionCacheAware(j->obj);
			if (!ok && j->false_at == 0)
				j->false_at = i + 1;
		} else {
			if (j->ex)
				B->ExReleaseRundownProtectionCacheAwareEx(j->obj, j->ex);
			else
				B->ExReleaseRundownProtectionCacheAware(j->obj);
			if (j->w && j->early_at == 0 && i + 1 < j->n && conform_waiter_returned(j->w))
				j->early_at = i + 1;
		}
	}
	return NULL;
}

static struct xc_job xc_run(void *obj, unsigned cpu, int op, unsigned n, ULONG ex, struct conform_waiter *w)
{
	struct xc_job j = {.obj = obj, .cpu = cpu, .op = op, .n = n, .ex = ex, .w = w};

	conform_thread_start(&j.tid, xc_main, &j);
	conform_thread_join(j.tid);
	if (!j.pinned)
		conform_unresolved("cannot pin a thread to CPU %u", cpu);
	return j;
}

static void xc_acquire(void *obj, unsigned cpu, unsigned n, ULONG ex, const char *what)
{
	struct xc_job j = xc_run(obj, cpu, XC_ACQUIRE, n, ex, NULL);

	if (j.false_at)
		conform_fail("CA-REL-003", "%s: %s #%u on CPU %u returned FALSE with no Wait called; required TRUE",
			     what, ex ? "AcquireEx" : "Acquire", j.false_at, cpu);
}

static void xc_pair(unsigned ci, unsigned cj, enum conform_make how, ULONG ex, unsigned n)
{
	const char *path = how == CONFORM_MAKE_DEFAULT ? "Allocate'd" : "Size+Initialize'd";
	ULONG per = ex ? ex : 1;
	struct conform_waiter w;
	struct xc_job j;
	char what[160];
	void *o;

	snprintf(what, sizeof(what), "%s object, %u units taken by %s on CPU %u and given back by %s on CPU %u",
		 path, n * per, ex ? "AcquireEx" : "Acquire", ci, ex ? "ReleaseEx" : "Release", cj);

	/* Wait first, then the releases on the other CPU: Wait blocks until
	 * the very last one. */
	o = conform_ca.create(how);
	xc_acquire(o, ci, n, ex, what);
	conform_waiter_start(&w, &conform_ca, o);
	if (!conform_rundown_visible(&conform_ca, o, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail("CA-REL-003", "%s: Acquire still TRUE 2 s after Wait was called", what);
	j = xc_run(o, cj, XC_RELEASE, n - 1, ex, &w);
	if (j.early_at)
		conform_fail("CA-REL-003", "%s: Wait returned after only %u of %u releases; required to block until "
			     "the last", what, j.early_at, n);
	if (!conform_waiter_still_blocked(&w, conform_window_ns()))
		conform_fail("CA-REL-003", "%s: Wait returned with %u unit(s) still held after %u of %u releases; "
			     "required to block until the last", what, per, n - 1, n);
	xc_run(o, cj, XC_RELEASE, 1, ex, NULL);
	if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail("CA-REL-003", "%s (Wait called first): Wait did not return within 2 s after the last "
			     "release; required to return", what);
	conform_ca.destroy(o);

	/* Releases before the Wait: the total is zero, so Wait returns at once
	 * (a per-CPU share that cannot go below zero loses them). */
	o = conform_ca.create(how);
	xc_acquire(o, ci, n, ex, what);
	xc_run(o, cj, XC_RELEASE, n, ex, NULL);
	conform_waiter_start(&w, &conform_ca, o);
	if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail("CA-REL-003", "%s (all released before Wait): Wait did not return within 2 s; "
			     "required to return at once with nothing held", what);
	if (B->ExAcquireRundownProtectionCacheAware(o))
		conform_fail("CA-REL-003", "%s: Acquire returned TRUE after Wait returned; required FALSE", what);
	conform_ca.destroy(o);
}

CONFORM_TEST(ca_rel_003_release_on_other_cpu, "CA-REL-003", NEEDS_XC, CONFORM_CONCURRENT)
{
	unsigned cpus[4];
	unsigned n = conform_cpu_ids(cpus, 4);
	unsigned units = (unsigned)conform_iterations(96);

	if (n < 2)
		conform_unresolved("needs 2 CPUs to acquire on one and release on another; this process may use %u",
				   n);
	for (unsigned i = 0; i < n; i++) {
		for (unsigned jj = 0; jj < n; jj++) {
			if (i == jj)
				continue;
			for (int how = 0; how < 2; how++) {
				xc_pair(cpus[i], cpus[jj], how ? CONFORM_MAKE_BUFFER : CONFORM_MAKE_DEFAULT, 0, units);
				xc_pair(cpus[i], cpus[jj], how ? CONFORM_MAKE_BUFFER : CONFORM_MAKE_DEFAULT, 3,
					units / 3 + 1);
			}
		}
	}
}
END_TEST

/* ---- CA-LIFE-004 ---- */

struct lf_shared {
	void *obj;
	_Atomic long inside;         /* units held by workers, moved inside the bracket */
	_Atomic unsigned long ops;   /* completed acquire/release pairs */
	_Atomic int users;           /* workers inside an Acquire call */
	_Atomic int closing;         /* no new Acquire calls: the object goes away */
	_Atomic int wait_called;     /* set just before the owner calls Wait */
	_Atomic int running;         /* workers not finished */
	_Atomic int owner_done;
	long inside_at_return;       /* owner: inside, read right after Wait returned */
	bool free_after;             /* owner frees the object right after Wait */
	enum conform_make how;
};

struct lf_worker {
	pthread_t tid;
	struct lf_shared *s;
	unsigned cpu;
	bool pin;
	uint64_t rng;
	unsigned long max_ops;
	const unsigned *cpus; /* where a holder may migrate to before releasing */
	unsigned ncpu;
	int bad;      /* 1: FALSE before any Wait; 2: TRUE after a FALSE */
};

static void *lf_worker_main(void *p)
{
	struct lf_worker *wk = p;
	struct lf_shared *s = wk->s;
	unsigned falses = 0;

	if (wk->pin)
		(void)conform_pin(wk->cpu);
	for (unsigned long i = 0; i < wk->max_ops && falses < 16; i++) {
		uint64_t r = conform_rand(&wk->rng);
		ULONG k = (r & 3) == 0 ? (ULONG)(1 + (r >> 2) % 4) : 0;
		ULONG units = k ? k : 1;
		BOOLEAN ok;

		/* seq_cst pairs with the owner's closing store / users load:
		 * either the owner sees this call or the call sees closing. */
		atomic_fetch_add(&s->users, 1);
		if (atomic_load(&s->closing)) {
			atomic_fetch_sub(&s->users, 1);
			break;
		}
		ok = k ? B->ExAcquireRundownProtectionCacheAwareEx(s->obj, k)
		       : B->ExAcquireRundownProtectionCacheAware(s->obj);
		atomic_fetch_sub(&s->users, 1);
		if (!ok) {
			/* A FALSE means a Wait was called before it returned. */
			if (!atomic_load(&s->wait_called) && wk->bad == 0)
				wk->bad = 1;
			falses++;
			continue;
		}
		if (falses > 0 && wk->bad == 0)
			wk->bad = 2;
		atomic_fetch_add_explicit(&s->inside, (long)units, memory_order_relaxed);
		/* Mostly short holds, a quarter long ones (a run-down that ends
		 * early finds them); a sixteenth released on another CPU. */
		conform_spin((r >> 8) % 4 == 0 ? (unsigned)(1024 + (r >> 12) % 16384) : (unsigned)((r >> 12) % 256));
		if (wk->pin && wk->ncpu > 1 && (r >> 40) % 16 == 0) {
			wk->cpu = wk->cpus[(r >> 44) % wk->ncpu];
			(void)conform_pin(wk->cpu);
		}
		/* Relaxed: the Release below orders it before Wait's return. */
		atomic_fetch_sub_explicit(&s->inside, (long)units, memory_order_relaxed);
		if (k)
			B->ExReleaseRundownProtectionCacheAwareEx(s->obj, k);
		else
			B->ExReleaseRundownProtectionCacheAware(s->obj);
		atomic_fetch_add_explicit(&s->ops, 1, memory_order_relaxed);
	}
	atomic_fetch_sub(&s->running, 1);
	return NULL;
}

static void *lf_owner_main(void *p)
{
	struct lf_shared *s = p;

	atomic_store(&s->wait_called, 1);
	B->ExWaitForRundownProtectionReleaseCacheAware(s->obj);
	s->inside_at_return = atomic_load_explicit(&s->inside, memory_order_relaxed);
	if (s->free_after) {
		atomic_store(&s->closing, 1);
		while (atomic_load(&s->users) != 0) /* Acquire calls still running */
			conform_spin(64);
		conform_ca.destroy(s->obj);
		s->obj = NULL;
	}
	atomic_store_explicit(&s->owner_done, 1, memory_order_release);
	return NULL;
}

/* One load phase with a run-down at a random moment. */
static void lf_phase(struct lf_shared *s, struct lf_worker *wk, unsigned nw, uint64_t *rng,
		     unsigned long max_ops, const char *what)
{
	unsigned long target = max_ops * nw / 8 + conform_rand(rng) % (max_ops * nw / 2 + 1);
	uint64_t end;
	pthread_t owner;

	atomic_store(&s->wait_called, 0);
	atomic_store(&s->closing, 0);
	atomic_store(&s->owner_done, 0);
	atomic_store(&s->ops, 0);
	atomic_store(&s->running, (int)nw);
	for (unsigned i = 0; i < nw; i++) {
		wk[i].s = s;
		wk[i].rng = conform_rand(rng) | 1;
		wk[i].max_ops = max_ops;
		wk[i].bad = 0;
		conform_thread_start(&wk[i].tid, lf_worker_main, &wk[i]);
	}
	while (atomic_load_explicit(&s->ops, memory_order_relaxed) < target && atomic_load(&s->running) > 0)
		sched_yield();
	conform_thread_start(&owner, lf_owner_main, s);
	end = conform_now_ns() + CONFORM_RETURN_TIMEOUT_NS;
	while (!atomic_load_explicit(&s->owner_done, memory_order_acquire)) {
		if (conform_now_ns() > end && atomic_load(&s->running) == 0)
			conform_fail("CA-LIFE-004", "%s: Wait did not return within 2 s after every worker had "
				     "released its units", what);
		sched_yield();
	}
	conform_thread_join(owner);
	for (unsigned i = 0; i < nw; i++)
		conform_thread_join(wk[i].tid);
	if (s->inside_at_return != 0)
		conform_fail("CA-LIFE-004", "%s: Wait returned while %ld unit(s) were held (counted inside the "
			     "bracket); required 0", what, s->inside_at_return);
	for (unsigned i = 0; i < nw; i++) {
		if (wk[i].bad == 1)
			conform_fail("CA-LIFE-004", "%s: Acquire on %s%u returned FALSE before any Wait was called; "
				     "required TRUE", what, wk[i].pin ? "CPU " : "unpinned thread ", wk[i].cpu);
		if (wk[i].bad == 2)
			conform_fail("CA-LIFE-004", "%s: Acquire on %s%u returned TRUE after one had returned FALSE "
				     "(run-down started); required FALSE", what, wk[i].pin ? "CPU " : "unpinned thread ",
				     wk[i].cpu);
	}
}

CONFORM_TEST(ca_life_004_one_count_under_load, "CA-LIFE-004",
	     NEEDS_XC | RUNDOWN_BIT(ExRundownCompletedCacheAware) |
		     RUNDOWN_BIT(ExReInitializeRundownProtectionCacheAware),
	     CONFORM_CONCURRENT)
{
	unsigned cpus[8];
	unsigned ncpu = conform_cpu_ids(cpus, 8);
	struct lf_worker wk[9];
	unsigned nw = ncpu + 1;
	uint64_t rng = conform_seed() | 1;
	unsigned long rounds = conform_iterations(8);
	unsigned long max_ops = 2000;
	char what[128];

	for (unsigned i = 0; i < nw; i++)
		wk[i] = (struct lf_worker){.cpu = i < ncpu ? cpus[i] : 0, .pin = i < ncpu, .cpus = cpus, .ncpu = ncpu};
	for (unsigned long r = 0; r < rounds; r++) {
		struct lf_shared s = {.how = (r & 1) ? CONFORM_MAKE_BUFFER : CONFORM_MAKE_DEFAULT};
		bool reuse = (r & 2) != 0;

		s.obj = conform_ca.create(s.how);
		snprintf(what, sizeof(what), "round %lu, %s object, %u threads on %u CPUs", r,
			 s.how == CONFORM_MAKE_DEFAULT ? "Allocate'd" : "Size+Initialize'd", nw, ncpu);
		s.free_after = !reuse;
		lf_phase(&s, wk, nw, &rng, max_ops, what);
		if (reuse) {
			B->ExRundownCompletedCacheAware(s.obj);
			B->ExReInitializeRundownProtectionCacheAware(s.obj);
			snprintf(what, sizeof(what), "round %lu, %s object after Completed and ReInitialize, %u threads "
				 "on %u CPUs", r, s.how == CONFORM_MAKE_DEFAULT ? "Allocate'd" : "Size+Initialize'd",
				 nw, ncpu);
			s.free_after = true;
			lf_phase(&s, wk, nw, &rng, max_ops, what);
		}
	}
}
END_TEST
