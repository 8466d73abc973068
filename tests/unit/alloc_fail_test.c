/*
 * tests/unit/alloc_fail_test.c - ExAllocateCacheAwareRundownProtection
 * when the allocator fails: it returns NULL and leaves nothing allocated.
 * The failures come from malloc_fail.c, linked into this executable.
 *
 * Each test arms a countdown (malloc_fail.h) around one Allocate call and
 * disarms it before any check: libcheck allocates too.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>

#include <rundown/ex_rundown_ref_cache_aware.h>

#include "tests/unit/malloc_fail.h"

static void use_and_free(PEX_RUNDOWN_REF_CACHE_AWARE ref)
{
	ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ref), TRUE);
	ExReleaseRundownProtectionCacheAware(ref);
	ExWaitForRundownProtectionReleaseCacheAware(ref);
	ck_assert_uint_eq(ExAcquireRundownProtectionCacheAware(ref), FALSE);
	ExFreeCacheAwareRundownProtection(ref);
}

START_TEST(interposition_reaches_librundown)
{
	/* Unless Allocate's allocation goes through this file's functions,
	 * every other test here would pass vacuously. */
	PEX_RUNDOWN_REF_CACHE_AWARE ref;

	rd_mf_arm(1L << 30, false);
	ref = ExAllocateCacheAwareRundownProtection(NonPagedPool, 0x6c6c6146u);
	rd_mf_disarm();
	ck_assert_ptr_nonnull(ref);
	ck_assert_int_ge(rd_mf_calls(), 1);
	ck_assert_int_ge(rd_mf_live(), 1);
	use_and_free(ref);
	ck_assert_int_eq(rd_mf_live(), 0); /* Free gave back what Allocate took */
}
END_TEST

START_TEST(every_allocation_fails)
{
	PEX_RUNDOWN_REF_CACHE_AWARE ref;

	rd_mf_arm(0, true);
	ref = ExAllocateCacheAwareRundownProtection(NonPagedPool, 0x6c6c6146u);
	rd_mf_disarm();
	ck_assert_ptr_null(ref);
	ck_assert_int_ge(rd_mf_injected(), 1);
	ck_assert_int_eq(rd_mf_live(), 0);
}
END_TEST

/*
 * Fail the first, second, ... allocation of one Allocate call (once, or
 * from there on) until a call runs without reaching the failure.  When a
 * failure reached the object's allocation the result is NULL; a failure
 * inside libc that libc absorbed may still give a working object.  Either
 * way nothing is left behind.
 */
static void countdown(bool all)
{
	int nulls = 0;
	long at;

	for (at = 0; at < 64; at++) {
		PEX_RUNDOWN_REF_CACHE_AWARE ref;

		rd_mf_arm(at, all);
		ref = ExAllocateCacheAwareRundownProtection(PagedPool, (ULONG)at);
		rd_mf_disarm();
		if (rd_mf_injected() == 0) {
			ck_assert_ptr_nonnull(ref);
			use_and_free(ref);
			ck_assert_int_eq(rd_mf_live(), 0);
			break;
		}
		if (ref == NULL) {
			nulls++;
			ck_assert_msg(rd_mf_live() == 0,
				      "failure at allocation %ld: Allocate returned NULL and leaked %d "
				      "block(s)", at, rd_mf_live());
		} else {
			use_and_free(ref);
			ck_assert_int_eq(rd_mf_live(), 0);
		}
	}
	ck_assert_int_lt(at, 64);
	ck_assert_int_ge(nulls, 1);
	printf("alloc_fail_test: %s: %ld allocation(s) per Allocate, %d failure(s) gave NULL\n",
	       all ? "fail from N on" : "fail the Nth", at, nulls);
}

START_TEST(countdown_once)
{
	countdown(false);
}
END_TEST

START_TEST(countdown_from_then_on)
{
	countdown(true);
}
END_TEST

START_TEST(failure_then_success)
{
	/* A failed Allocate leaves no state behind that a later one trips on. */
	for (int k = 0; k < 100; k++) {
		PEX_RUNDOWN_REF_CACHE_AWARE ref;

		rd_mf_arm(0, true);
		ref = ExAllocateCacheAwareRundownProtection(NonPagedPool, 1);
		rd_mf_disarm(); /* before any check: libcheck allocates too */
		ck_assert_ptr_null(ref);
		ref = ExAllocateCacheAwareRundownProtection(NonPagedPool, 2);
		ck_assert_ptr_nonnull(ref);
		use_and_free(ref);
	}
	ck_assert_int_eq(rd_mf_live(), 0);
}
END_TEST

static Suite *alloc_fail_suite(void)
{
	Suite *s = suite_create("alloc_fail");
	TCase *tc = tcase_create("allocate");

	tcase_add_test(tc, interposition_reaches_librundown);
	tcase_add_test(tc, every_allocation_fails);
	tcase_add_test(tc, countdown_once);
	tcase_add_test(tc, countdown_from_then_on);
	tcase_add_test(tc, failure_then_success);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(alloc_fail_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
