/*
 * tests/unit/plain_test.c - the plain routines one by one, single-threaded:
 * results, exact counts, the lifecycle, and librundown's word encoding
 * (Windows' de facto one: word = 2 * count | ACTIVE; see impl/plain.c).
 *
 * The multi-threaded cases (a Wait that blocks) are in blocking_test.c.
 */
#include "config.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

#include <rundown/ex_rundown_ref.h>

static EX_RUNDOWN_REF ref;

/* The word, read as the encoding documents it (single-threaded here). */
#define WORD() (ref.Count)

static void setup(void)
{
	memset(&ref, 0xa5, sizeof ref); /* Initialize must not rely on zeroes */
	ExInitializeRundownProtection(&ref);
}

/* ---------------------------------------------------------------- routines */

START_TEST(init_gives_open_zero)
{
	ck_assert_uint_eq(WORD(), 0);
	ck_assert_uint_eq(ExAcquireRundownProtection(&ref), TRUE);
	ExReleaseRundownProtection(&ref);
	ck_assert_uint_eq(WORD(), 0);
}
END_TEST

START_TEST(acquire_release_count)
{
	for (unsigned i = 1; i <= 10; i++) {
		ck_assert_uint_eq(ExAcquireRundownProtection(&ref), TRUE);
		ck_assert_uint_eq(WORD(), 2u * i);
	}
	for (unsigned i = 10; i-- > 0;) {
		ExReleaseRundownProtection(&ref);
		ck_assert_uint_eq(WORD(), 2u * i);
	}
}
END_TEST

START_TEST(acquire_ex_release_ex_count)
{
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, 5), TRUE);
	ck_assert_uint_eq(WORD(), 10);
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, 1000), TRUE);
	ck_assert_uint_eq(WORD(), 2010);
	ExReleaseRundownProtectionEx(&ref, 1000);
	ck_assert_uint_eq(WORD(), 10);
	ExReleaseRundownProtectionEx(&ref, 5);
	ck_assert_uint_eq(WORD(), 0);
}
END_TEST

START_TEST(acquire_ex_max_count)
{
	/* ULONG is 32 bits: the largest Count a Windows caller can pass. */
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, UINT32_MAX), TRUE);
	ck_assert_uint_eq(WORD(), 2ull * UINT32_MAX);
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, UINT32_MAX), TRUE);
	ck_assert_uint_eq(WORD(), 4ull * UINT32_MAX);
	ExReleaseRundownProtectionEx(&ref, UINT32_MAX);
	ExReleaseRundownProtectionEx(&ref, UINT32_MAX);
	ck_assert_uint_eq(WORD(), 0);
	ExWaitForRundownProtectionRelease(&ref);
	ck_assert_uint_eq(WORD(), 1);
}
END_TEST

START_TEST(mix_ex_and_single)
{
	/* Units are units: acquired by one form, released by the other. */
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, 3), TRUE);
	ck_assert_uint_eq(ExAcquireRundownProtection(&ref), TRUE);
	ck_assert_uint_eq(WORD(), 8);
	ExReleaseRundownProtection(&ref);
	ExReleaseRundownProtection(&ref);
	ExReleaseRundownProtection(&ref);
	ck_assert_uint_eq(WORD(), 2);
	ExReleaseRundownProtectionEx(&ref, 1);
	ck_assert_uint_eq(WORD(), 0);
	ExWaitForRundownProtectionRelease(&ref); /* nothing held: returns */
	ck_assert_uint_eq(WORD(), 1);
}
END_TEST

START_TEST(acquire_ex_zero_answers_state)
{
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, 2), TRUE);
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, 0), TRUE);
	ck_assert_uint_eq(WORD(), 4);
	ExReleaseRundownProtectionEx(&ref, 0); /* no-op */
	ck_assert_uint_eq(WORD(), 4);
	ExReleaseRundownProtectionEx(&ref, 2);
	ExWaitForRundownProtectionRelease(&ref);
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, 0), FALSE);
	ck_assert_uint_eq(WORD(), 1);
}
END_TEST

START_TEST(wait_uncontended_runs_down)
{
	ExWaitForRundownProtectionRelease(&ref);
	ck_assert_uint_eq(WORD(), 1);
	ck_assert_uint_eq(ExAcquireRundownProtection(&ref), FALSE);
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, 7), FALSE);
	ck_assert_uint_eq(WORD(), 1); /* a failed Acquire leaves no trace */
	ExWaitForRundownProtectionRelease(&ref); /* no-op when run down */
	ck_assert_uint_eq(WORD(), 1);
}
END_TEST

START_TEST(acquire_ex_after_wait_is_all_or_nothing)
{
	ExWaitForRundownProtectionRelease(&ref);
	for (ULONG n = 1; n < 100; n += 7)
		ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, n), FALSE);
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, UINT32_MAX), FALSE);
	ck_assert_uint_eq(WORD(), 1);
	/* Nothing to release: a Wait returns at once. */
	ExWaitForRundownProtectionRelease(&ref);
}
END_TEST

START_TEST(completed_keeps_run_down)
{
	ExWaitForRundownProtectionRelease(&ref);
	ExRundownCompleted(&ref);
	ck_assert_uint_eq(WORD(), 1);
	ck_assert_uint_eq(ExAcquireRundownProtection(&ref), FALSE);
	ExWaitForRundownProtectionRelease(&ref); /* returns at once */
	ck_assert_uint_eq(WORD(), 1);
}
END_TEST

START_TEST(reinitialize_reopens)
{
	ExWaitForRundownProtectionRelease(&ref);
	ExRundownCompleted(&ref);
	ExReInitializeRundownProtection(&ref);
	ck_assert_uint_eq(WORD(), 0);
	ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, 3), TRUE);
	ck_assert_uint_eq(WORD(), 6);
	ExReleaseRundownProtectionEx(&ref, 3);
}
END_TEST

START_TEST(reinitialize_without_completed)
{
	/* ReInitialize's page: the driver "might" call Completed first. */
	ExWaitForRundownProtectionRelease(&ref);
	ExReInitializeRundownProtection(&ref);
	ck_assert_uint_eq(WORD(), 0);
	ck_assert_uint_eq(ExAcquireRundownProtection(&ref), TRUE);
	ExReleaseRundownProtection(&ref);
}
END_TEST

START_TEST(zero_filled_ref_is_initialized)
{
	/* Windows' encoding makes an all-zero word a fresh ref. */
	EX_RUNDOWN_REF z;

	memset(&z, 0, sizeof z);
	ck_assert_uint_eq(ExAcquireRundownProtection(&z), TRUE);
	ck_assert_uint_eq(z.Count, 2);
	ExReleaseRundownProtection(&z);
	ExWaitForRundownProtectionRelease(&z);
	ck_assert_uint_eq(z.Count, 1);
}
END_TEST

START_TEST(refs_are_independent)
{
	EX_RUNDOWN_REF other[2];

	ExInitializeRundownProtection(&other[0]);
	ExInitializeRundownProtection(&other[1]);
	ck_assert_uint_eq(ExAcquireRundownProtection(&other[0]), TRUE);
	ExWaitForRundownProtectionRelease(&other[1]);
	ck_assert_uint_eq(ExAcquireRundownProtection(&other[0]), TRUE);
	ck_assert_uint_eq(other[0].Count, 4);
	ck_assert_uint_eq(other[1].Count, 1);
	ExReleaseRundownProtectionEx(&other[0], 2);
	ck_assert_uint_eq(ExAcquireRundownProtection(&ref), TRUE);
	ExReleaseRundownProtection(&ref);
}
END_TEST

/* --------------------------------------------------------------- lifecycle */

START_TEST(lifecycle_repeated)
{
	for (unsigned round = 0; round < 1000; round++) {
		unsigned held = round % 17;

		for (unsigned i = 0; i < held; i++)
			ck_assert_uint_eq(ExAcquireRundownProtection(&ref), TRUE);
		ck_assert_uint_eq(ExAcquireRundownProtectionEx(&ref, round), TRUE);
		ck_assert_uint_eq(WORD(), 2ull * (held + round));
		ExReleaseRundownProtectionEx(&ref, round);
		for (unsigned i = 0; i < held; i++)
			ExReleaseRundownProtection(&ref);
		ck_assert_uint_eq(WORD(), 0);
		ExWaitForRundownProtectionRelease(&ref);
		ck_assert_uint_eq(WORD(), 1);
		ck_assert_uint_eq(ExAcquireRundownProtection(&ref), FALSE);
		ExRundownCompleted(&ref);
		ck_assert_uint_eq(WORD(), 1);
		ExReInitializeRundownProtection(&ref);
		ck_assert_uint_eq(WORD(), 0);
	}
}
END_TEST

static Suite *plain_suite(void)
{
	Suite *s = suite_create("plain");
	TCase *tc;

	tc = tcase_create("routines");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, init_gives_open_zero);
	tcase_add_test(tc, acquire_release_count);
	tcase_add_test(tc, acquire_ex_release_ex_count);
	tcase_add_test(tc, acquire_ex_max_count);
	tcase_add_test(tc, mix_ex_and_single);
	tcase_add_test(tc, acquire_ex_zero_answers_state);
	tcase_add_test(tc, wait_uncontended_runs_down);
	tcase_add_test(tc, acquire_ex_after_wait_is_all_or_nothing);
	tcase_add_test(tc, completed_keeps_run_down);
	tcase_add_test(tc, reinitialize_reopens);
	tcase_add_test(tc, reinitialize_without_completed);
	tcase_add_test(tc, zero_filled_ref_is_initialized);
	tcase_add_test(tc, refs_are_independent);
	suite_add_tcase(s, tc);

	tc = tcase_create("lifecycle");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, lifecycle_repeated);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(plain_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
