/*
 * tests/unit/blocking_test.c - Wait blocks while units are held and
 * returns after the last release; Acquire fails while it blocks.  Every
 * test runs on each family of family.h (libcheck loop index).
 *
 * The test thread is pinned to one processor (see waiter.h); the owner
 * thread that calls Wait and the holder threads run anywhere.  "Wait has
 * started" is learnt from a failing Acquire, "Wait has returned" from the
 * owner's flag; "Wait has not returned" is checked over a short window.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "tests/unit/family.h"
#include "tests/unit/unit.h"
#include "tests/unit/waiter.h"

static const struct rd_family *f;
static void *ref;

static void setup(void)
{
	rd_test_pin_here();
}

static void teardown(void)
{
	if (ref != NULL)
		f->destroy(ref);
	ref = NULL;
}

static void make(int i)
{
	f = &rd_families[i];
	ref = f->make();
	ck_assert_ptr_nonnull(ref);
}

static void assert_still_blocked(struct rd_waiter *w, const char *after)
{
	ck_assert_msg(rd_test_stays_clear(&w->returned, RD_TEST_WINDOW_NS),
		      "%s: Wait returned early, after %s", f->name, after);
}

START_TEST(wait_blocks_until_last_release)
{
	struct rd_waiter w;

	make(_i);
	ck_assert_uint_eq(f->acquire(ref), TRUE);
	ck_assert_uint_eq(f->acquire_ex(ref, 2), TRUE);
	rd_waiter_start(&w, f, ref);
	rd_test_wait_started(f, ref);
	assert_still_blocked(&w, "Wait started, 3 units held");
	f->release(ref);
	assert_still_blocked(&w, "1 of 3 units released");
	f->release_ex(ref, 2);
	rd_waiter_join(&w);
}
END_TEST

START_TEST(acquire_fails_while_wait_blocks)
{
	struct rd_waiter w;

	make(_i);
	ck_assert_uint_eq(f->acquire(ref), TRUE);
	rd_waiter_start(&w, f, ref);
	rd_test_wait_started(f, ref);
	for (int k = 0; k < 100; k++) {
		ck_assert_uint_eq(f->acquire(ref), FALSE);
		ck_assert_uint_eq(f->acquire_ex(ref, 1 + (ULONG)k), FALSE);
		ck_assert_uint_eq(f->acquire_ex(ref, 0), FALSE);
	}
	assert_still_blocked(&w, "failed Acquires");
	f->release(ref);
	/* Had a failed AcquireEx added units, this Wait would never return. */
	rd_waiter_join(&w);
	ck_assert_uint_eq(f->acquire(ref), FALSE);
}
END_TEST

START_TEST(exact_counts_ex)
{
	struct rd_waiter w;

	make(_i);
	ck_assert_uint_eq(f->acquire_ex(ref, 5), TRUE);
	rd_waiter_start(&w, f, ref);
	rd_test_wait_started(f, ref);
	for (int k = 1; k <= 4; k++) {
		f->release(ref);
		assert_still_blocked(&w, "a release of AcquireEx(5) (not the 5th)");
	}
	f->release(ref);
	rd_waiter_join(&w);
}
END_TEST

START_TEST(mixed_forms_count_units)
{
	struct rd_waiter w;

	make(_i);
	ck_assert_uint_eq(f->acquire(ref), TRUE);
	ck_assert_uint_eq(f->acquire(ref), TRUE);
	ck_assert_uint_eq(f->acquire_ex(ref, 3), TRUE);
	rd_waiter_start(&w, f, ref);
	rd_test_wait_started(f, ref);
	f->release_ex(ref, 4); /* two single units and two of the Ex three */
	assert_still_blocked(&w, "4 of 5 units released");
	f->release(ref);
	rd_waiter_join(&w);
}
END_TEST

START_TEST(count_multiple_of_2_31)
{
	/* plain.c: a count that is a multiple of 2^31 leaves the futex word
	 * (low 32 bits) looking run down; the waiter must not miss the end. */
	struct rd_waiter w;

	make(_i);
	ck_assert_uint_eq(f->acquire_ex(ref, 0x80000000u), TRUE);
	rd_waiter_start(&w, f, ref);
	rd_test_wait_started(f, ref);
	assert_still_blocked(&w, "nothing released (2^31 units held)");
	f->release_ex(ref, 0x7fffffffu);
	assert_still_blocked(&w, "2^31 - 1 of 2^31 units released");
	f->release(ref);
	rd_waiter_join(&w);
}
END_TEST

START_TEST(second_wait_after_contended_wait)
{
	struct rd_waiter w;

	make(_i);
	ck_assert_uint_eq(f->acquire(ref), TRUE);
	rd_waiter_start(&w, f, ref);
	rd_test_wait_started(f, ref);
	f->release(ref);
	rd_waiter_join(&w);
	/* Run down: a second Wait returns at once (a hang is a timeout). */
	f->wait(ref);
	f->completed(ref);
	f->wait(ref);
	ck_assert_uint_eq(f->acquire(ref), FALSE);
	f->reinit(ref);
	/* And the ref works again, contended Wait included. */
	ck_assert_uint_eq(f->acquire(ref), TRUE);
	rd_waiter_start(&w, f, ref);
	rd_test_wait_started(f, ref);
	assert_still_blocked(&w, "reinitialized, 1 unit held");
	f->release(ref);
	rd_waiter_join(&w);
}
END_TEST

/* ------------------------------------------------ holders on other threads */

#define NR_HOLDERS 4

struct holder {
	pthread_t thread;
	int id;
	pthread_barrier_t *acquired; /* every holder has its units */
	atomic_int *turn;            /* holder `turn` releases next */
	atomic_bool released;        /* set (release) after its Release */
};

static void *holder_main(void *arg)
{
	struct holder *h = arg;

	rd_test_unpin_self();
	ck_assert_uint_eq(f->acquire_ex(ref, (ULONG)h->id + 1), TRUE);
	pthread_barrier_wait(h->acquired);
	/* Acquire: pairs with the test thread's release store of turn. */
	while (atomic_load_explicit(h->turn, memory_order_acquire) != h->id)
		sched_yield();
	if (h->id % 2)
		f->release_ex(ref, (ULONG)h->id + 1);
	else
		for (int k = 0; k <= h->id; k++)
			f->release(ref);
	atomic_store_explicit(&h->released, true, memory_order_release);
	return NULL;
}

START_TEST(wait_for_holders_on_other_threads)
{
	struct holder h[NR_HOLDERS];
	pthread_barrier_t acquired;
	atomic_int turn = -1;
	struct rd_waiter w;

	make(_i);
	ck_assert_int_eq(pthread_barrier_init(&acquired, NULL, NR_HOLDERS + 1), 0);
	for (int k = 0; k < NR_HOLDERS; k++) {
		h[k].id = k;
		h[k].acquired = &acquired;
		h[k].turn = &turn;
		atomic_init(&h[k].released, false);
		ck_assert_int_eq(pthread_create(&h[k].thread, NULL, holder_main, &h[k]), 0);
	}
	pthread_barrier_wait(&acquired);
	rd_waiter_start(&w, f, ref);
	rd_test_wait_started(f, ref);
	for (int k = 0; k < NR_HOLDERS; k++) {
		/* Release: pairs with holder_main's acquire load. */
		atomic_store_explicit(&turn, k, memory_order_release);
		ck_assert(rd_test_await(&h[k].released));
		if (k < NR_HOLDERS - 1)
			assert_still_blocked(&w, "a holder released, others still hold");
	}
	rd_waiter_join(&w);
	for (int k = 0; k < NR_HOLDERS; k++)
		ck_assert_int_eq(pthread_join(h[k].thread, NULL), 0);
	pthread_barrier_destroy(&acquired);
}
END_TEST

START_TEST(two_concurrent_waits)
{
	/* Undefined by the documents; librundown lets both sleep until the
	 * last release (impl/plain.c, impl/cache_aware.c). */
	struct rd_waiter w1, w2;

	make(_i);
	ck_assert_uint_eq(f->acquire(ref), TRUE);
	rd_waiter_start(&w1, f, ref);
	rd_test_wait_started(f, ref);
	rd_waiter_start(&w2, f, ref);
	assert_still_blocked(&w1, "two Waits, 1 unit held");
	assert_still_blocked(&w2, "two Waits, 1 unit held");
	f->release(ref);
	rd_waiter_join(&w1);
	rd_waiter_join(&w2);
}
END_TEST

static Suite *blocking_suite(void)
{
	Suite *s = suite_create("blocking");
	TCase *tc;

	tc = tcase_create("wait");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, wait_blocks_until_last_release, 0, RD_NR_FAMILIES);
	tcase_add_loop_test(tc, acquire_fails_while_wait_blocks, 0, RD_NR_FAMILIES);
	tcase_add_loop_test(tc, exact_counts_ex, 0, RD_NR_FAMILIES);
	tcase_add_loop_test(tc, mixed_forms_count_units, 0, RD_NR_FAMILIES);
	tcase_add_loop_test(tc, count_multiple_of_2_31, 0, RD_NR_FAMILIES);
	tcase_add_loop_test(tc, second_wait_after_contended_wait, 0, RD_NR_FAMILIES);
	suite_add_tcase(s, tc);

	tc = tcase_create("threads");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, wait_for_holders_on_other_threads, 0, RD_NR_FAMILIES);
	tcase_add_loop_test(tc, two_concurrent_waits, 0, RD_NR_FAMILIES);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(blocking_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
