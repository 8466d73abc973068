/*
 * conformance/tests/specific_util.c - helpers of the specific_*.c tests
 * (see specific_util.h).
 */
#include "config.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conformance/tests/specific_util.h"

#if defined(__SANITIZE_ADDRESS__)
#define RD_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RD_HAVE_LSAN 1
#endif
#endif
#ifdef RD_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

unsigned conform_cpu_ids(unsigned *ids, unsigned max)
{
	cpu_set_t set;
	unsigned n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0) {
		if (max > 0)
			ids[0] = 0;
		return max > 0 ? 1u : 0u;
	}
	for (unsigned c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			ids[n++] = c;
	return n;
}

void conform_thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	if (pthread_create(t, NULL, fn, arg) != 0)
		conform_unresolved("pthread_create failed");
}

void conform_thread_join(pthread_t t)
{
	pthread_join(t, NULL);
}

void conform_spin(unsigned n)
{
	volatile unsigned sink = 0;

	for (unsigned i = 0; i < n; i++)
		sink += i;
	(void)sink;
}

#if defined(__SANITIZE_THREAD__)
/* Exported by every sanitizer runtime (sanitizer/allocator_interface.h,
 * which GCC does not install). */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

long conform_rss_kb(void)
{
#if defined(__SANITIZE_THREAD__)
	/* TSan maps shadow for each address its allocator hands out, which
	 * grows the resident set with a correct backend too (1.4 MiB seen
	 * over 50000 lifecycles of 1024-slot buffers): measure the heap in
	 * use instead, which is what a leak grows. */
	return (long)(__sanitizer_get_current_allocated_bytes() / 1024u);
#else
	FILE *f = fopen("/proc/self/statm", "r");
	long size, resident;
	int got;

	if (f == NULL)
		return -1;
	got = fscanf(f, "%ld %ld", &size, &resident);
	fclose(f);
	if (got != 2)
		return -1;
	return resident * (sysconf(_SC_PAGESIZE) / 1024);
#endif
}

int conform_leak_check(void)
{
#ifdef RD_HAVE_LSAN
	return __lsan_do_recoverable_leak_check() != 0 ? 1 : 0;
#else
	return -1;
#endif
}

/* ---- the CA lifecycle on several CPUs ---- */

enum { LC_LOAD_AND_HOLD, LC_RELEASE_HELD, LC_ACQUIRE_RELEASE };

struct lc_arg {
	pthread_t tid;
	void *obj;
	unsigned cpu;
	unsigned iters;
	int mode;
	int bad; /* written by the thread, read after join */
};

#define LC_HELD 3u /* units a LC_LOAD_AND_HOLD thread keeps: 1 + Ex(2) */

static void *lc_main(void *p)
{
	struct lc_arg *a = p;
	void *o = a->obj;

	(void)conform_pin(a->cpu); /* best effort: the cross-CPU part is a bonus here */
	switch (a->mode) {
	case LC_LOAD_AND_HOLD:
	case LC_ACQUIRE_RELEASE:
		for (unsigned i = 0; i < a->iters; i++) {
			if (!B->ExAcquireRundownProtectionCacheAware(o)) {
				a->bad = 1;
				return NULL;
			}
			B->ExReleaseRundownProtectionCacheAware(o);
			if (!B->ExAcquireRundownProtectionCacheAwareEx(o, 3)) {
				a->bad = 2;
				return NULL;
			}
			B->ExReleaseRundownProtectionCacheAwareEx(o, 3);
		}
		if (a->mode == LC_LOAD_AND_HOLD) {
			if (!B->ExAcquireRundownProtectionCacheAware(o))
				a->bad = 1;
			else if (!B->ExAcquireRundownProtectionCacheAwareEx(o, LC_HELD - 1))
				a->bad = 2;
		}
		break;
	case LC_RELEASE_HELD:
		B->ExReleaseRundownProtectionCacheAware(o);
		B->ExReleaseRundownProtectionCacheAwareEx(o, LC_HELD - 1);
		break;
	}
	return NULL;
}

static void lc_run(struct lc_arg *a, unsigned n, const unsigned *cpus, unsigned shift, void *obj,
		   int mode, unsigned iters)
{
	for (unsigned i = 0; i < n; i++) {
		a[i] = (struct lc_arg){.obj = obj, .cpu = cpus[(i + shift) % n], .iters = iters, .mode = mode};
		conform_thread_start(&a[i].tid, lc_main, &a[i]);
	}
	for (unsigned i = 0; i < n; i++)
		conform_thread_join(a[i].tid);
}

static void lc_check(struct lc_arg *a, unsigned n, const char *clause, const char *what, const char *when)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i].bad)
			conform_fail(clause, "%s: %s returned FALSE on CPU %u %s; required TRUE (no Wait pending)",
				     what, a[i].bad == 1 ? "Acquire" : "AcquireEx", a[i].cpu, when);
}

void conform_ca_lifecycle(void *obj, const char *clause, const char *what)
{
	unsigned cpus[8];
	unsigned n = conform_cpu_ids(cpus, 8);
	struct lc_arg a[8];
	struct conform_waiter w;

	lc_run(a, n, cpus, 0, obj, LC_LOAD_AND_HOLD, 16);
	lc_check(a, n, clause, what, "after Initialize");

	conform_waiter_start(&w, &conform_ca, obj);
	if (!conform_rundown_visible(&conform_ca, obj, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail(clause, "%s: Acquire still returned TRUE 2 s after Wait was called; required FALSE",
			     what);
	if (conform_waiter_returned(&w))
		conform_fail(clause, "%s: Wait returned while %u units were held; required to block",
			     what, n * LC_HELD);
	lc_run(a, n, cpus, 1, obj, LC_RELEASE_HELD, 0); /* released on another CPU than acquired */
	if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail(clause, "%s: Wait did not return within 2 s after all %u units were released",
			     what, n * LC_HELD);
	if (B->ExAcquireRundownProtectionCacheAware(obj))
		conform_fail(clause, "%s: Acquire returned TRUE after Wait returned; required FALSE", what);
	B->ExRundownCompletedCacheAware(obj);
	if (B->ExAcquireRundownProtectionCacheAware(obj))
		conform_fail(clause, "%s: Acquire returned TRUE after Completed; required FALSE", what);
	B->ExReInitializeRundownProtectionCacheAware(obj);
	lc_run(a, n, cpus, 0, obj, LC_ACQUIRE_RELEASE, 4);
	lc_check(a, n, clause, what, "after ReInitialize");
	conform_waiter_start(&w, &conform_ca, obj);
	if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail(clause, "%s: Wait with nothing held after ReInitialize did not return within 2 s",
			     what);
}

/* ---- independent objects ---- */

enum { IND_OPEN, IND_DRAIN, IND_DOWN, IND_REOPEN, IND_KINDS };
static const char *const ind_name[IND_KINDS] = {"open, 2 units held", "Wait blocked, 1 unit held",
						 "run down", "completed and reinitialized"};

static void ind_check_one(const struct conform_family *f, void *o, unsigned i, unsigned n, int kind,
			  struct conform_waiter *w, const char *clause, const char *what, const char *when)
{
	BOOLEAN got;

	if (kind == IND_DRAIN && conform_waiter_returned(w))
		conform_fail(clause, "%s object %u of %u (%s) %s: its Wait returned while its unit was held; "
			     "required to block", what, i, n, ind_name[kind], when);
	got = f->acquire(o);
	if (got)
		f->release(o);
	if ((kind == IND_OPEN || kind == IND_REOPEN) != (got != 0))
		conform_fail(clause, "%s object %u of %u (%s) %s: Acquire returned %s; required %s",
			     what, i, n, ind_name[kind], when, got ? "TRUE" : "FALSE", got ? "FALSE" : "TRUE");
}

void conform_independent(const struct conform_family *f, void **objs, unsigned n,
			 unsigned kind_offset, const char *clause, const char *what)
{
	struct conform_waiter *w = calloc(n, sizeof(*w));
	int *kind = calloc(n, sizeof(*kind));
	int first_drain = -1;
	char when[96];

	if (w == NULL || kind == NULL)
		conform_unresolved("out of memory");
	for (unsigned i = 0; i < n; i++) {
		void *o = objs[i];

		kind[i] = (int)((i + kind_offset) % IND_KINDS);
		switch (kind[i]) {
		case IND_OPEN:
			if (!f->acquire(o) || !f->acquire(o))
				conform_fail(clause, "%s object %u of %u: Acquire on a fresh object returned FALSE",
					     what, i, n);
			break;
		case IND_DRAIN:
			if (!f->acquire(o))
				conform_fail(clause, "%s object %u of %u: Acquire on a fresh object returned FALSE",
					     what, i, n);
			conform_waiter_start(&w[i], f, o);
			if (!conform_rundown_visible(f, o, CONFORM_RETURN_TIMEOUT_NS))
				conform_fail(clause, "%s object %u of %u: Acquire still TRUE 2 s after Wait was "
					     "called", what, i, n);
			if (first_drain < 0)
				first_drain = (int)i;
			break;
		case IND_DOWN:
		case IND_REOPEN:
			conform_waiter_start(&w[i], f, o);
			if (!conform_waiter_join(&w[i], CONFORM_RETURN_TIMEOUT_NS))
				conform_fail(clause, "%s object %u of %u: Wait with nothing held did not return "
					     "within 2 s", what, i, n);
			if (kind[i] == IND_REOPEN) {
				f->completed(o);
				f->reinit(o);
			}
			break;
		}
	}
	if (first_drain >= 0 &&
	    !conform_waiter_still_blocked(&w[first_drain], conform_window_ns()))
		conform_fail(clause, "%s object %d of %u (%s): Wait returned while a unit was held, with "
			     "the other objects in other states", what, first_drain, n, ind_name[IND_DRAIN]);
	for (unsigned i = 0; i < n; i++)
		ind_check_one(f, objs[i], i, n, kind[i], &w[i], clause, what, "with all states set");

	/* End the run-downs one by one; each must end only its own Wait. */
	for (unsigned i = 0; i < n; i++) {
		if (kind[i] != IND_DRAIN)
			continue;
		f->release(objs[i]);
		if (!conform_waiter_join(&w[i], CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(clause, "%s object %u of %u: Wait did not return within 2 s after its last "
				     "unit was released", what, i, n);
		kind[i] = IND_DOWN;
		snprintf(when, sizeof(when), "after object %u's run-down completed", i);
		for (unsigned j = 0; j < n; j++)
			ind_check_one(f, objs[j], j, n, kind[j], &w[j], clause, what, when);
	}

	for (unsigned i = 0; i < n; i++) {
		if (kind[i] == IND_OPEN) {
			f->release(objs[i]);
			f->release(objs[i]);
		}
		if (kind[i] == IND_OPEN || kind[i] == IND_REOPEN) {
			conform_waiter_start(&w[i], f, objs[i]);
			if (!conform_waiter_join(&w[i], CONFORM_RETURN_TIMEOUT_NS))
				conform_fail(clause, "%s object %u of %u: Wait with nothing held did not return "
					     "within 2 s", what, i, n);
		}
	}
	free(w);
	free(kind);
}
