/*
 * tests/unit/dlopen_test.c - librundown as a consumer sees it: dlopen the
 * built shared object ($top_builddir/impl/.libs/librundown.so), resolve
 * the 19 documented names, run the documented lifecycles.
 *
 * Written against the documents only: the function types below are
 * spelled from the syntax blocks of the routine pages (INDEX.md), with the
 * scalar types of rundown/types.h; nothing else of librundown is used, so
 * a mismatch with rundown/routines.h shows up as a wrong result here.
 */
#include "config.h"

#include <check.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rundown/types.h>

#include "tests/unit/unit.h" /* clock and deadline only */

typedef VOID (*init_fn)(PEX_RUNDOWN_REF RunRef);
typedef BOOLEAN (*acquire_fn)(PEX_RUNDOWN_REF RunRef);
typedef BOOLEAN (*acquire_ex_fn)(PEX_RUNDOWN_REF RunRef, ULONG Count);
typedef VOID (*release_ex_fn)(PEX_RUNDOWN_REF RunRef, ULONG Count);
typedef PEX_RUNDOWN_REF_CACHE_AWARE (*ca_allocate_fn)(POOL_TYPE PoolType, ULONG PoolTag);
typedef SIZE_T (*ca_size_fn)(void);
typedef VOID (*ca_init_fn)(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware, SIZE_T RunRefSize);
typedef BOOLEAN (*ca_acquire_fn)(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware);
typedef BOOLEAN (*ca_acquire_ex_fn)(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware, ULONG Count);
typedef VOID (*ca_op_fn)(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware);
typedef VOID (*ca_release_ex_fn)(PEX_RUNDOWN_REF_CACHE_AWARE RunRef, ULONG Count);

static struct {
	/* plain (Initialize, ReInitialize, Release, Wait, Completed share init_fn's type) */
	init_fn ExInitializeRundownProtection, ExReInitializeRundownProtection;
	acquire_fn ExAcquireRundownProtection;
	acquire_ex_fn ExAcquireRundownProtectionEx;
	init_fn ExReleaseRundownProtection;
	release_ex_fn ExReleaseRundownProtectionEx;
	init_fn ExWaitForRundownProtectionRelease, ExRundownCompleted;
	/* cache-aware */
	ca_allocate_fn ExAllocateCacheAwareRundownProtection;
	ca_size_fn ExSizeOfRundownProtectionCacheAware;
	ca_init_fn ExInitializeRundownProtectionCacheAware;
	ca_acquire_fn ExAcquireRundownProtectionCacheAware;
	ca_acquire_ex_fn ExAcquireRundownProtectionCacheAwareEx;
	ca_op_fn ExReleaseRundownProtectionCacheAware;
	ca_release_ex_fn ExReleaseRundownProtectionCacheAwareEx;
	ca_op_fn ExWaitForRundownProtectionReleaseCacheAware, ExRundownCompletedCacheAware,
		ExReInitializeRundownProtectionCacheAware, ExFreeCacheAwareRundownProtection;
} rd;

/* The 19 names of INDEX.md and where each goes. */
#define NAME(n) { #n, (void **)&rd.n }
static const struct {
	const char *name;
	void **slot;
} names[] = {
	NAME(ExInitializeRundownProtection),
	NAME(ExReInitializeRundownProtection),
	NAME(ExAcquireRundownProtection),
	NAME(ExAcquireRundownProtectionEx),
	NAME(ExReleaseRundownProtection),
	NAME(ExReleaseRundownProtectionEx),
	NAME(ExWaitForRundownProtectionRelease),
	NAME(ExRundownCompleted),
	NAME(ExAllocateCacheAwareRundownProtection),
	NAME(ExSizeOfRundownProtectionCacheAware),
	NAME(ExInitializeRundownProtectionCacheAware),
	NAME(ExAcquireRundownProtectionCacheAware),
	NAME(ExAcquireRundownProtectionCacheAwareEx),
	NAME(ExReleaseRundownProtectionCacheAware),
	NAME(ExReleaseRundownProtectionCacheAwareEx),
	NAME(ExWaitForRundownProtectionReleaseCacheAware),
	NAME(ExRundownCompletedCacheAware),
	NAME(ExReInitializeRundownProtectionCacheAware),
	NAME(ExFreeCacheAwareRundownProtection),
};
#define NR_NAMES (sizeof names / sizeof names[0])
_Static_assert(NR_NAMES == 19, "the documents name 19 routines");

static void *handle;
static char path[4096];
static int nr_resolved;

/* ------------------------------------------------------------------ plain */

START_TEST(all_names_resolve)
{
	for (size_t k = 0; k < NR_NAMES; k++)
		ck_assert_msg(*names[k].slot != NULL, "%s: %s not exported", path, names[k].name);
	ck_assert_int_eq(nr_resolved, 19);
	/* The one routine the documents reserve is not part of the contract. */
	printf("dlopen_test: ExInitializeRundownProtectionCacheAwareEx is %s\n",
	       dlsym(handle, "ExInitializeRundownProtectionCacheAwareEx") ? "exported" : "absent");
}
END_TEST

START_TEST(plain_lifecycle)
{
	EX_RUNDOWN_REF ref;

	rd.ExInitializeRundownProtection(&ref);
	for (int round = 0; round < 3; round++) {
		ck_assert_uint_eq(rd.ExAcquireRundownProtection(&ref), TRUE);
		ck_assert_uint_eq(rd.ExAcquireRundownProtectionEx(&ref, 4), TRUE);
		rd.ExReleaseRundownProtectionEx(&ref, 4);
		rd.ExReleaseRundownProtection(&ref);
		rd.ExWaitForRundownProtectionRelease(&ref);
		ck_assert_uint_eq(rd.ExAcquireRundownProtection(&ref), FALSE);
		ck_assert_uint_eq(rd.ExAcquireRundownProtectionEx(&ref, 4), FALSE);
		rd.ExWaitForRundownProtectionRelease(&ref); /* no-op */
		rd.ExRundownCompleted(&ref);
		rd.ExReInitializeRundownProtection(&ref);
	}
}
END_TEST

START_TEST(cache_aware_lifecycles)
{
	SIZE_T size = rd.ExSizeOfRundownProtectionCacheAware();
	void *buf = malloc(size);
	PEX_RUNDOWN_REF_CACHE_AWARE refs[2];

	ck_assert_uint_gt(size, 0);
	ck_assert_ptr_nonnull(buf);
	refs[0] = rd.ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 0x6e65706fu);
	ck_assert_ptr_nonnull(refs[0]);
	refs[1] = buf;
	rd.ExInitializeRundownProtectionCacheAware(refs[1], size);
	for (int k = 0; k < 2; k++) {
		PEX_RUNDOWN_REF_CACHE_AWARE ref = refs[k];

		for (int round = 0; round < 3; round++) {
			ck_assert_uint_eq(rd.ExAcquireRundownProtectionCacheAware(ref), TRUE);
			ck_assert_uint_eq(rd.ExAcquireRundownProtectionCacheAwareEx(ref, 3), TRUE);
			rd.ExReleaseRundownProtectionCacheAwareEx(ref, 3);
			rd.ExReleaseRundownProtectionCacheAware(ref);
			rd.ExWaitForRundownProtectionReleaseCacheAware(ref);
			ck_assert_uint_eq(rd.ExAcquireRundownProtectionCacheAware(ref), FALSE);
			rd.ExRundownCompletedCacheAware(ref);
			rd.ExReInitializeRundownProtectionCacheAware(ref);
		}
	}
	rd.ExWaitForRundownProtectionReleaseCacheAware(refs[0]);
	rd.ExFreeCacheAwareRundownProtection(refs[0]);
	free(buf);
}
END_TEST

/* --------------------------------------------- two threads: Wait/Release */

struct pair {
	bool ca;
	EX_RUNDOWN_REF plain;
	PEX_RUNDOWN_REF_CACHE_AWARE cache_aware;
	atomic_bool returned; /* release store after Wait; acquire loads */
};

static BOOLEAN pair_acquire(struct pair *p)
{
	return p->ca ? rd.ExAcquireRundownProtectionCacheAware(p->cache_aware)
		     : rd.ExAcquireRundownProtection(&p->plain);
}

static void pair_release(struct pair *p)
{
	if (p->ca)
		rd.ExReleaseRundownProtectionCacheAware(p->cache_aware);
	else
		rd.ExReleaseRundownProtection(&p->plain);
}

static void *owner_main(void *arg)
{
	struct pair *p = arg;

	if (p->ca)
		rd.ExWaitForRundownProtectionReleaseCacheAware(p->cache_aware);
	else
		rd.ExWaitForRundownProtectionRelease(&p->plain);
	atomic_store_explicit(&p->returned, true, memory_order_release);
	return NULL;
}

START_TEST(two_thread_wait_release)
{
	struct pair p = { .ca = _i == 1 };
	pthread_t owner;
	cpu_set_t one;
	uint64_t end = rd_test_now_ns() + RD_TEST_DEADLINE_NS;

	/* One processor for this thread: its Acquires see one cache-aware share. */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);
	if (p.ca)
		p.cache_aware = rd.ExAllocateCacheAwareRundownProtection(NonPagedPool, 0);
	else
		rd.ExInitializeRundownProtection(&p.plain);
	atomic_init(&p.returned, false);
	ck_assert_uint_eq(pair_acquire(&p), TRUE);
	ck_assert_int_eq(pthread_create(&owner, NULL, owner_main, &p), 0);
	/* The Wait has started when an Acquire fails. */
	while (pair_acquire(&p)) {
		pair_release(&p);
		ck_assert_msg(rd_test_now_ns() < end, "Wait never started");
		sched_yield();
	}
	ck_assert(!atomic_load_explicit(&p.returned, memory_order_acquire));
	pair_release(&p);
	ck_assert_int_eq(pthread_join(owner, NULL), 0);
	ck_assert(atomic_load_explicit(&p.returned, memory_order_acquire));
	if (p.ca)
		rd.ExFreeCacheAwareRundownProtection(p.cache_aware);
}
END_TEST

static Suite *dlopen_suite(void)
{
	Suite *s = suite_create("dlopen");
	TCase *tc = tcase_create("documented");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, all_names_resolve);
	tcase_add_test(tc, plain_lifecycle);
	tcase_add_test(tc, cache_aware_lifecycles);
	tcase_add_loop_test(tc, two_thread_wait_release, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	const char *top = getenv("top_builddir");
	SRunner *sr;
	int failed;

	if (top == NULL || *top == '\0') {
		fprintf(stderr, "dlopen_test: SKIP: top_builddir is not set (run through make check)\n");
		return 77;
	}
	snprintf(path, sizeof path, "%s/impl/.libs/librundown.so", top);
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "dlopen_test: SKIP: %s not built (--disable-shared?)\n", path);
		return 77;
	}
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		fprintf(stderr, "dlopen_test: %s\n", dlerror());
		return 1;
	}
	for (size_t k = 0; k < NR_NAMES; k++) {
		*names[k].slot = dlsym(handle, names[k].name);
		nr_resolved += *names[k].slot != NULL;
	}
	sr = srunner_create(dlopen_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	dlclose(handle);
	return failed == 0 ? 0 : 1;
}
