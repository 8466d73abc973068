/*
 * tests/unit/cache_aware_test.c - the cache-aware family's storage and
 * processors: Size, Initialize in caller buffers of every misalignment
 * (ending at a PROT_NONE guard page, canaries in front), adjacent objects,
 * Allocate/Free, and releases on another processor than their acquire.
 *
 * Hot-added processors (a processor number beyond the slots) need the
 * inject/ shims that fake sched_getcpu(); they are tested there.
 */
#include "config.h"

#include <check.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rundown/ex_rundown_ref_cache_aware.h>

#include "tests/unit/family.h"
#include "tests/unit/unit.h"
#include "tests/unit/waiter.h"

#define CANARY 0xa5

static cpu_set_t allowed; /* the processors this process may run on */
static int cpus[CPU_SETSIZE], nr_cpus;

static void setup(void)
{
	ck_assert_int_eq(sched_getaffinity(0, sizeof allowed, &allowed), 0);
	nr_cpus = 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed))
			cpus[nr_cpus++] = c;
	ck_assert_int_ge(nr_cpus, 1);
	rd_test_cpus_all = allowed; /* where waiter.h's threads run */
	rd_test_cpus_saved = true;
}

static void teardown(void)
{
	sched_setaffinity(0, sizeof allowed, &allowed);
}

/* Move the calling thread to processor `cpu` and check it is there. */
static void run_on(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ck_assert_int_eq(sched_setaffinity(0, sizeof set, &set), 0);
	ck_assert_int_eq(sched_getcpu(), cpu);
}

/*
 * A lifecycle that writes every slot a processor of this machine can
 * reach: acquire on each processor, release on the next one, Wait,
 * Completed, ReInitialize, again.
 */
static void exercise(PEX_RUNDOWN_REF_CACHE_AWARE ref)
{
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < nr_cpus; k++) {
			run_on(cpus[k]);
			ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ref), TRUE);
			ck_assert_uint_eq(ExAcquireRundownProtectionCacheAwareEx(ref, 2), TRUE);
		}
		for (int k = 0; k < nr_cpus; k++) {
			run_on(cpus[(k + 1) % nr_cpus]);
			ExReleaseRundownProtectionCacheAware(ref);
			ExReleaseRundownProtectionCacheAwareEx(ref, 2);
		}
		ExWaitForRundownProtectionReleaseCacheAware(ref);
		for (int k = 0; k < nr_cpus; k++) {
			run_on(cpus[k]);
			ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ref), FALSE);
		}
		ExRundownCompletedCacheAware(ref);
		ExWaitForRundownProtectionReleaseCacheAware(ref);
		ExReInitializeRundownProtectionCacheAware(ref);
	}
	sched_setaffinity(0, sizeof allowed, &allowed);
}

static void assert_bytes(const unsigned char *p, size_t n, unsigned char v, const char *what,
			 unsigned mis)
{
	for (size_t k = 0; k < n; k++)
		ck_assert_msg(p[k] == v, "misalignment %u: %s byte %zu overwritten (0x%02x)", mis,
			      what, k, p[k]);
}

/* ------------------------------------------------------------------- size */

START_TEST(size_is_stable)
{
	SIZE_T size = ExSizeOfRundownProtectionCacheAware();
	long conf = sysconf(_SC_NPROCESSORS_CONF);

	ck_assert_uint_gt(size, 0);
	for (int k = 0; k < 10; k++)
		ck_assert_uint_eq(ExSizeOfRundownProtectionCacheAware(), size);
	/* librundown: a 64-byte line per configured processor, plus slack. */
	ck_assert_uint_ge(size, 64u * (SIZE_T)(conf > 0 ? conf : 1));
	printf("cache_aware_test: Size=%zu bytes for %ld configured processors\n", (size_t)size,
	       conf);
}
END_TEST

/* --------------------------------------------------------------- buffers */

/*
 * The buffer ends exactly at a PROT_NONE page and starts `mis` bytes past
 * a 64-byte boundary: RunRefSize is Size plus the 0..63 bytes that put the
 * start there.  A write past RunRefSize faults; a write before the buffer
 * hits the canaries.
 */
START_TEST(initialize_before_guard_page)
{
	SIZE_T size = ExSizeOfRundownProtectionCacheAware();
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = ((size + 64 + 64 + page - 1) / page + 1) * page;
	unsigned char *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				  -1, 0);
	unsigned char *guard = map + len - page;

	ck_assert_ptr_ne(map, MAP_FAILED);
	ck_assert_int_eq(mprotect(guard, page, PROT_NONE), 0);
	for (unsigned mis = 0; mis < 64; mis++) {
		SIZE_T extra = (SIZE_T)((64u * 64u - size - mis) % 64u);
		SIZE_T run_size = size + extra;
		unsigned char *buf = guard - run_size;

		ck_assert_uint_eq((uintptr_t)buf % 64, mis);
		memset(map, CANARY, (size_t)(buf - map));
		memset(buf, 0x5a, run_size); /* Initialize must not rely on zeroes */
		ExInitializeRundownProtectionCacheAware((PEX_RUNDOWN_REF_CACHE_AWARE)buf, run_size);
		exercise((PEX_RUNDOWN_REF_CACHE_AWARE)buf);
		assert_bytes(map, (size_t)(buf - map), CANARY, "canary before the buffer", mis);
	}
	ck_assert_int_eq(munmap(map, len), 0);
}
END_TEST

/*
 * RunRefSize exactly Size at every misalignment, canaries on both sides,
 * and one more object right after it (adjacent buffers stay independent).
 */
START_TEST(initialize_exact_size_adjacent)
{
	SIZE_T size = ExSizeOfRundownProtectionCacheAware();
	size_t len = 64 + 63 + 2 * size + 64;
	unsigned char *mem = aligned_alloc(64, (len + 63) / 64 * 64);

	ck_assert_ptr_nonnull(mem);
	for (unsigned mis = 0; mis < 64; mis++) {
		unsigned char *a = mem + 64 + mis, *b = a + size, *end = b + size;
		PEX_RUNDOWN_REF_CACHE_AWARE ra = (PEX_RUNDOWN_REF_CACHE_AWARE)a;
		PEX_RUNDOWN_REF_CACHE_AWARE rb = (PEX_RUNDOWN_REF_CACHE_AWARE)b;

		memset(mem, CANARY, len);
		ExInitializeRundownProtectionCacheAware(ra, size);
		assert_bytes(mem, (size_t)(a - mem), CANARY, "before A", mis);
		assert_bytes(b, size + 64, CANARY, "after A", mis);
		ExInitializeRundownProtectionCacheAware(rb, size);
		assert_bytes(mem, (size_t)(a - mem), CANARY, "before A", mis);
		assert_bytes(end, 64, CANARY, "after B", mis);

		/* Independent: B runs down while A is held and stays usable. */
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAwareEx(ra, 3), TRUE);
		ExWaitForRundownProtectionReleaseCacheAware(rb); /* B holds nothing */
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(rb), FALSE);
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ra), TRUE);
		ExReleaseRundownProtectionCacheAwareEx(ra, 4);
		ExReInitializeRundownProtectionCacheAware(rb);
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(rb), TRUE);
		ExWaitForRundownProtectionReleaseCacheAware(ra);
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ra), FALSE);
		ExReleaseRundownProtectionCacheAware(rb);
		ExReInitializeRundownProtectionCacheAware(ra);

		exercise(ra);
		exercise(rb);
		assert_bytes(mem, (size_t)(a - mem), CANARY, "before A", mis);
		assert_bytes(end, 64, CANARY, "after B", mis);
	}
	free(mem);
}
END_TEST

/* ---------------------------------------------------------- Allocate/Free */

START_TEST(allocate_free)
{
	static const POOL_TYPE pools[] = { NonPagedPool, PagedPool, NonPagedPoolNx,
					   NonPagedPoolCacheAligned, NonPagedPoolNxCacheAligned };
	PEX_RUNDOWN_REF_CACHE_AWARE refs[16];

	for (size_t k = 0; k < 16; k++) {
		refs[k] = ExAllocateCacheAwareRundownProtection(pools[k % 5], 0x41414141u + (ULONG)k);
		ck_assert_ptr_nonnull(refs[k]);
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(refs[k]), TRUE);
	}
	for (size_t k = 0; k < 16; k++) {
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(refs[k]), TRUE);
		ExReleaseRundownProtectionCacheAwareEx(refs[k], 2);
		exercise(refs[k]);
		ExWaitForRundownProtectionReleaseCacheAware(refs[k]);
		ExFreeCacheAwareRundownProtection(refs[k]);
	}
	/* librundown: Free(NULL) does nothing (undefined by the documents). */
	ExFreeCacheAwareRundownProtection(NULL);
}
END_TEST

/* ------------------------------------------------------ across processors */

START_TEST(release_on_other_cpu)
{
	/* The acquiring processor's share goes up, the releasing one's down:
	 * only the sum is zero, and Wait must see it. */
	PEX_RUNDOWN_REF_CACHE_AWARE ref = ExAllocateCacheAwareRundownProtection(NonPagedPool, 1);

	ck_assert_ptr_nonnull(ref);
	for (int round = 0; round < 100; round++) {
		run_on(cpus[0]);
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ref), TRUE);
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAwareEx(ref, 4), TRUE);
		run_on(cpus[1]);
		ExReleaseRundownProtectionCacheAwareEx(ref, 3);
		ExReleaseRundownProtectionCacheAware(ref);
		ExReleaseRundownProtectionCacheAware(ref);
		ExWaitForRundownProtectionReleaseCacheAware(ref); /* sum 0: returns */
		run_on(cpus[round % 2]);
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ref), FALSE);
		ExRundownCompletedCacheAware(ref);
		ExReInitializeRundownProtectionCacheAware(ref);
	}
	ExFreeCacheAwareRundownProtection(ref);
}
END_TEST

#define UNITS 16

START_TEST(wait_blocks_for_releases_on_other_cpu)
{
	PEX_RUNDOWN_REF_CACHE_AWARE ref = ExAllocateCacheAwareRundownProtection(NonPagedPool, 2);
	const struct rd_family *f = &rd_families[1]; /* ca-alloc */
	struct rd_waiter w;

	ck_assert_ptr_nonnull(ref);
	/*
	 * UNITS - 1 units on cpus[0] and 1 on cpus[1]; all but the last
	 * release on cpus[1] (its share goes negative), the last on cpus[0]:
	 * the shares only sum to zero after the last release.
	 */
	run_on(cpus[0]);
	ck_assert_uint_eq(ExAcquireRundownProtectionCacheAwareEx(ref, UNITS - 2), TRUE);
	ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ref), TRUE);
	run_on(cpus[1]);
	ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ref), TRUE);

	rd_waiter_start(&w, f, ref);
	rd_test_wait_started(f, ref); /* on cpus[1] */
	run_on(cpus[0]);
	rd_test_wait_started(f, ref); /* and cpus[0]: both slots marked */

	for (int k = 0; k < UNITS; k++) {
		run_on(cpus[k < UNITS - 1 ? 1 : 0]);
		ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ref), FALSE);
		ck_assert_msg(!atomic_load_explicit(&w.returned, memory_order_acquire),
			      "Wait returned with %d units held", UNITS - k);
		if (k == 0 || k == UNITS - 1)
			ck_assert_msg(rd_test_stays_clear(&w.returned, RD_TEST_WINDOW_NS),
				      "Wait returned with %d units held", UNITS - k);
		ExReleaseRundownProtectionCacheAware(ref);
	}
	rd_waiter_join(&w);
	ExFreeCacheAwareRundownProtection(ref);
}
END_TEST

static Suite *cache_aware_suite(void)
{
	Suite *s = suite_create("cache_aware");
	cpu_set_t set;
	TCase *tc;

	tc = tcase_create("size");
	tcase_add_test(tc, size_is_stable);
	suite_add_tcase(s, tc);

	tc = tcase_create("buffers");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, initialize_before_guard_page);
	tcase_add_test(tc, initialize_exact_size_adjacent);
	suite_add_tcase(s, tc);

	tc = tcase_create("allocate");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, allocate_free);
	suite_add_tcase(s, tc);

	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 2) {
		tc = tcase_create("cross_cpu");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, release_on_other_cpu);
		tcase_add_test(tc, wait_blocks_for_releases_on_other_cpu);
		suite_add_tcase(s, tc);
	} else {
		printf("cache_aware_test: SKIP cross_cpu: fewer than 2 processors available\n");
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cache_aware_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
