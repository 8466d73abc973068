/*
 * conformance/tests/specific_ca_alloc.c - ExAllocateCacheAwareRundownProtection
 * and ExFreeCacheAwareRundownProtection (CA-ALLOC-*, CA-FREE-001).
 *
 * Allocation failure (CA-ALLOC-002) needs the inject shim
 * (librundown-inject.so, LD_PRELOADed by --inject alloc-fail): its control
 * functions are looked up with dlsym(RTLD_DEFAULT, ...) and are absent
 * otherwise (inject/inject.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inject/inject.h"

#include "conformance/tests/specific_util.h"

#define NEEDS_ALLOC_LIFE                                                              \
	(CONFORM_NEEDS_CA | RUNDOWN_BIT(ExAcquireRundownProtectionCacheAwareEx) |        \
	 RUNDOWN_BIT(ExReleaseRundownProtectionCacheAwareEx) |                           \
	 RUNDOWN_BIT(ExRundownCompletedCacheAware) |                                     \
	 RUNDOWN_BIT(ExReInitializeRundownProtectionCacheAware))

#define RD_TAG 0x74636443u /* 'Cdct' */

static void *rd_alloc(const char *clause, POOL_TYPE pool, ULONG tag)
{
	void *o = B->ExAllocateCacheAwareRundownProtection(pool, tag);

	if (o == NULL)
		conform_fail(clause, "ExAllocateCacheAwareRundownProtection(%d, 0x%08x) returned NULL with no "
			     "allocation failure injected; required an object", (int)pool, (unsigned)tag);
	return o;
}

/* Allocate alone makes a ready object: Acquire works, nothing is held. */
CONFORM_TEST(ca_alloc_001_returns_initialized, "CA-ALLOC-001", CONFORM_NEEDS_CA, 0)
{
	for (unsigned k = 0; k < 4; k++) {
		void *o = rd_alloc("CA-ALLOC-001", NonPagedPoolNx, RD_TAG);
		struct conform_waiter w;

		conform_assert(B->ExAcquireRundownProtectionCacheAware(o), "CA-ALLOC-001",
			       "Acquire on a just-allocated object (no Initialize) returned FALSE; required TRUE");
		B->ExReleaseRundownProtectionCacheAware(o);
		conform_waiter_start(&w, &conform_ca, o);
		conform_assert(conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS), "CA-ALLOC-001",
			       "Wait on a just-allocated object with every unit released did not return within "
			       "2 s; required no protection outstanding");
		B->ExFreeCacheAwareRundownProtection(o);
	}
}
END_TEST

/* ---- allocation failure ---- */

struct rd_inject {
	rundown_inject_void_fn arm, disarm;
	rundown_inject_alloc_configure_fn configure;
	rundown_inject_stats_fn stats;
};

static bool rd_inject_find(struct rd_inject *in)
{
	*(void **)&in->arm = dlsym(RTLD_DEFAULT, "rundown_inject_alloc_arm");
	*(void **)&in->disarm = dlsym(RTLD_DEFAULT, "rundown_inject_alloc_disarm");
	*(void **)&in->configure = dlsym(RTLD_DEFAULT, "rundown_inject_alloc_configure");
	*(void **)&in->stats = dlsym(RTLD_DEFAULT, "rundown_inject_stats");
	return in->arm && in->disarm && in->configure && in->stats;
}

static struct rundown_inject_stats rd_stats(const struct rd_inject *in)
{
	struct rundown_inject_stats s;

	memset(&s, 0, sizeof(s));
	in->stats(&s, sizeof(s));
	return s;
}

/* Fail the n-th allocation Allocate makes, for n = 1, 2, ... until one
 * Allocate makes fewer than n: each failing Allocate must return NULL and
 * keep nothing it allocated; the one that succeeds must be usable and Free
 * must give back everything. */
CONFORM_TEST(ca_alloc_002_null_on_failure, "CA-ALLOC-002", CONFORM_NEEDS_CA, CONFORM_NEEDS_FAULTS)
{
	struct rd_inject in;
	char spec[64];
	unsigned nth;

	if (!rd_inject_find(&in))
		conform_unresolved("needs allocation-failure injection: run with --inject alloc-fail");
	if (rd_stats(&in).alloc_bypassed)
		conform_unresolved("the inject shim cannot fail allocations in this build (sanitizer allocator)");
	for (nth = 1; nth <= 64; nth++) {
		struct rundown_inject_stats s;
		void *o;

		snprintf(spec, sizeof(spec), "nth:%u,scope=armed", nth);
		if (in.configure(spec) != 0)
			conform_unresolved("the inject shim rejected alloc=%s", spec);
		in.arm();
		o = B->ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, RD_TAG);
		in.disarm();
		s = rd_stats(&in);
		if (o == NULL) {
			conform_assert(s.alloc_faults > 0, "CA-ALLOC-002",
				       "Allocate returned NULL although no allocation failed (%llu allocations); "
				       "required an object", (unsigned long long)s.alloc_calls);
			conform_assert(s.alloc_live == 0, "CA-ALLOC-002",
				       "Allocate returned NULL when allocation %u failed but kept %lld block(s) it "
				       "had allocated; required to release them", nth, (long long)s.alloc_live);
			continue;
		}
		/* Either no allocation failed, or the backend recovered. */
		conform_assert(B->ExAcquireRundownProtectionCacheAware(o), "CA-ALLOC-002",
			       "Allocate returned an object (allocation %u failed: %s) on which Acquire returned "
			       "FALSE; required NULL or a working object", nth, s.alloc_faults ? "yes" : "no");
		B->ExReleaseRundownProtectionCacheAware(o);
		B->ExWaitForRundownProtectionReleaseCacheAware(o);
		in.arm();
		B->ExFreeCacheAwareRundownProtection(o);
		in.disarm();
		s = rd_stats(&in);
		conform_assert(s.alloc_live == 0, "CA-ALLOC-002",
			       "after Allocate (allocation %u made to fail) and Free, %lld block(s) that Allocate "
			       "made are still allocated", nth, (long long)s.alloc_live);
		if (s.alloc_faults == 0)
			break; /* Allocate makes fewer than nth allocations: all cases done */
	}
	in.configure("off");
	if (nth == 1)
		conform_unresolved("Allocate made no allocation the shim could fail: nothing to check");
}
END_TEST

/* The documented pool types and any tag. */
CONFORM_TEST(ca_alloc_003_pool_types_and_tags, "CA-ALLOC-003", NEEDS_ALLOC_LIFE, 0)
{
	static const struct {
		POOL_TYPE pool;
		const char *name;
	} pools[] = {{NonPagedPoolNx, "NonPagedPoolNx"}, {NonPagedPool, "NonPagedPool"}, {PagedPool, "PagedPool"}};
	static const ULONG tags[] = {0, 0xFFFFFFFFu, RD_TAG};

	for (unsigned p = 0; p < 3; p++) {
		for (unsigned t = 0; t < 3; t++) {
			void *o = rd_alloc("CA-ALLOC-003", pools[p].pool, tags[t]);
			struct conform_waiter w;

			conform_assert(B->ExAcquireRundownProtectionCacheAware(o) &&
					       B->ExAcquireRundownProtectionCacheAwareEx(o, 2),
				       "CA-ALLOC-003", "object from Allocate(%s, 0x%08x): Acquire returned FALSE; "
				       "required TRUE", pools[p].name, (unsigned)tags[t]);
			B->ExReleaseRundownProtectionCacheAware(o);
			conform_waiter_start(&w, &conform_ca, o);
			if (!conform_rundown_visible(&conform_ca, o, CONFORM_RETURN_TIMEOUT_NS))
				conform_fail("CA-ALLOC-003", "object from Allocate(%s, 0x%08x): Acquire still TRUE 2 s "
					     "after Wait", pools[p].name, (unsigned)tags[t]);
			B->ExReleaseRundownProtectionCacheAwareEx(o, 2);
			conform_assert(conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS), "CA-ALLOC-003",
				       "object from Allocate(%s, 0x%08x): Wait did not return within 2 s of the last "
				       "release", pools[p].name, (unsigned)tags[t]);
			B->ExFreeCacheAwareRundownProtection(o);
		}
	}
}
END_TEST

/* The same script on an Allocate'd object and a Size+Initialize'd buffer:
 * every result must be the documented one for both. */
static void rd_script(void *o, const char *path)
{
	struct conform_waiter w;

#define RD_EXPECT(call, want, step)                                                           \
	conform_assert((call) == (want), "CA-ALLOC-005", "%s object: %s returned %s; required %s", \
		       path, step, (want) ? "FALSE" : "TRUE", (want) ? "TRUE" : "FALSE")
	RD_EXPECT(B->ExAcquireRundownProtectionCacheAware(o), TRUE, "Acquire on a new object");
	RD_EXPECT(B->ExAcquireRundownProtectionCacheAwareEx(o, 4), TRUE, "AcquireEx(4) on a new object");
	B->ExReleaseRundownProtectionCacheAware(o);
	conform_waiter_start(&w, &conform_ca, o);
	if (!conform_waiter_still_blocked(&w, conform_window_ns()))
		conform_fail("CA-ALLOC-005", "%s object: Wait returned while 4 units were held; required to block",
			     path);
	RD_EXPECT(B->ExAcquireRundownProtectionCacheAware(o), FALSE, "Acquire during a blocked Wait");
	RD_EXPECT(B->ExAcquireRundownProtectionCacheAwareEx(o, 2), FALSE, "AcquireEx(2) during a blocked Wait");
	B->ExReleaseRundownProtectionCacheAwareEx(o, 4);
	if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail("CA-ALLOC-005", "%s object: Wait did not return within 2 s of the last release", path);
	RD_EXPECT(B->ExAcquireRundownProtectionCacheAware(o), FALSE, "Acquire after Wait");
	B->ExRundownCompletedCacheAware(o);
	RD_EXPECT(B->ExAcquireRundownProtectionCacheAware(o), FALSE, "Acquire after Completed");
	B->ExReInitializeRundownProtectionCacheAware(o);
	RD_EXPECT(B->ExAcquireRundownProtectionCacheAware(o), TRUE, "Acquire after ReInitialize");
	B->ExReleaseRundownProtectionCacheAware(o);
	conform_waiter_start(&w, &conform_ca, o);
	if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail("CA-ALLOC-005", "%s object: Wait with nothing held did not return within 2 s", path);
#undef RD_EXPECT
}

CONFORM_TEST(ca_alloc_005_both_paths_behave_alike, "CA-ALLOC-005",
	     NEEDS_ALLOC_LIFE | CONFORM_NEEDS_CA_BUFFER, CONFORM_CONCURRENT)
{
	void *a = rd_alloc("CA-ALLOC-005", NonPagedPoolNx, RD_TAG);
	void *b = conform_ca.create(CONFORM_MAKE_BUFFER);

	rd_script(a, "Allocate'd");
	rd_script(b, "Size+Initialize'd");
	/* and both through the multi-CPU lifecycle */
	B->ExReInitializeRundownProtectionCacheAware(a);
	B->ExReInitializeRundownProtectionCacheAware(b);
	conform_ca_lifecycle(a, "CA-ALLOC-005", "Allocate'd object");
	conform_ca_lifecycle(b, "CA-ALLOC-005", "Size+Initialize'd object");
	B->ExFreeCacheAwareRundownProtection(a);
	conform_ca.destroy(b);
}
END_TEST

/* Several live objects from Allocate, distinct and independent. */
CONFORM_TEST(ca_alloc_006_distinct_independent_objects, "CA-ALLOC-006", NEEDS_ALLOC_LIFE, CONFORM_CONCURRENT)
{
	enum { N = 8 };
	void *objs[N];

	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < N; i++) {
			objs[i] = rd_alloc("CA-ALLOC-006", NonPagedPoolNx, RD_TAG + i);
			for (unsigned j = 0; j < i; j++)
				conform_assert(objs[i] != objs[j], "CA-ALLOC-006",
					       "Allocate returned %p twice while the first object was live; "
					       "required distinct objects", objs[i]);
		}
		conform_independent(&conform_ca, objs, N, round, "CA-ALLOC-006", "Allocate'd");
		for (unsigned i = 0; i < N; i++)
			B->ExFreeCacheAwareRundownProtection(objs[i]);
	}
}
END_TEST

/* ---- Free ---- */

static void rd_free_cycle(unsigned variant)
{
	void *o = rd_alloc("CA-FREE-001", NonPagedPoolNx, RD_TAG);
	struct conform_waiter w;

	if (!B->ExAcquireRundownProtectionCacheAware(o))
		conform_fail("CA-FREE-001", "Acquire on a new object returned FALSE; required TRUE");
	if (variant == 3) { /* contended Wait */
		conform_waiter_start(&w, &conform_ca, o);
		if (!conform_rundown_visible(&conform_ca, o, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail("CA-FREE-001", "Acquire still TRUE 2 s after Wait");
		B->ExReleaseRundownProtectionCacheAware(o);
		if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail("CA-FREE-001", "Wait did not return within 2 s of the last release");
	} else {
		B->ExReleaseRundownProtectionCacheAware(o);
		B->ExWaitForRundownProtectionReleaseCacheAware(o);
	}
	if (variant == 1)
		B->ExRundownCompletedCacheAware(o);
	if (variant == 2) { /* reuse cycles */
		for (unsigned k = 0; k < 3; k++) {
			B->ExRundownCompletedCacheAware(o);
			B->ExReInitializeRundownProtectionCacheAware(o);
			if (!B->ExAcquireRundownProtectionCacheAware(o))
				conform_fail("CA-FREE-001", "Acquire after ReInitialize returned FALSE; required TRUE");
			B->ExReleaseRundownProtectionCacheAware(o);
			B->ExWaitForRundownProtectionReleaseCacheAware(o);
		}
	}
	B->ExFreeCacheAwareRundownProtection(o);
}

/* Free gives back everything Allocate took: LeakSanitizer when the build
 * has it, else bounded growth of the resident set over many cycles (a Free
 * that keeps even one 32-byte chunk per object grows it by 1.8 MiB in
 * 60000 cycles; a correct backend: under 100 KiB). */
CONFORM_TEST(ca_free_001_frees_everything, "CA-FREE-001", NEEDS_ALLOC_LIFE, CONFORM_CONCURRENT)
{
	unsigned long n = CONFORM_LEAK_CYCLES(conform_iterations(60000) > 200000 ? 200000 : conform_iterations(60000));
	long before, after;
	int leak = conform_leak_check();

	if (leak == 1)
		conform_unresolved("LeakSanitizer reports leaks before the test: cannot attribute new ones");
	if (leak == 0) {
		for (unsigned k = 0; k < 64; k++)
			rd_free_cycle(k % 4);
		conform_assert(conform_leak_check() == 0, "CA-FREE-001",
			       "LeakSanitizer found leaks after 64 Allocate/use/Wait/Free cycles; required Free to "
			       "release everything Allocate took");
		return;
	}
	for (unsigned k = 0; k < 256; k++)
		rd_free_cycle(k % 4);
	before = conform_rss_kb();
	for (unsigned long k = 0; k < n; k++)
		rd_free_cycle((k % 4096) == 0 ? 3 : (unsigned)(k % 3));
	after = conform_rss_kb();
	if (before < 0 || after < 0)
		conform_unresolved("cannot read /proc/self/statm");
	conform_assert(after - before < CONFORM_LEAK_LIMIT_KB, "CA-FREE-001",
		       "memory in use (resident set; heap under TSan) grew by %ld KiB over %lu Allocate/use/Wait/Free cycles; required Free "
		       "to release everything Allocate took", after - before, n);
}
END_TEST
