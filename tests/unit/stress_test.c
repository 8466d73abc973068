/*
 * tests/unit/stress_test.c - readers against an owner that runs the object
 * down, frees it and replaces it, over and over, on each family.
 *
 * Readers: Acquire[Ex] -> inside++ -> read the current object (a plain
 * read of its magic, an atomic hit count) -> inside-- -> Release[Ex].
 * Owner: Wait -> inside must be 0 -> check and free the object (ASan:
 * a reader still in it is a use-after-free; TSan: the plain accesses race
 * unless Release/Wait order them) -> a new object -> [Completed] ->
 * ReInitialize.  At the end, the hits counted in the objects must equal
 * the accesses the readers made: no access was lost or made unprotected.
 *
 * The object pointer is published with a relaxed store on purpose: the
 * only ordering between the owner's setup of an object and a reader's use
 * is ReInitialize (release) -> the reader's successful Acquire (acquire),
 * which is what is under test.
 *
 * Bounded by time: $RUNDOWN_STRESS_MS per family (default 1000).  The seed
 * is printed; $RUNDOWN_SEED repeats a run's random choices (not its
 * interleaving).
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/family.h"
#include "tests/unit/unit.h"

#define NR_READERS 4
#define MAGIC 0x6f626a656374ull /* "object" */
#define PACE_HITS 16
#define PACE_NS 200000

struct object {
	uint64_t magic;     /* plain: written by the owner only while run down */
	atomic_ulong hits;  /* relaxed: counted, ordered by the run-down */
};

static unsigned seed;
static const struct rd_family *f;
static void *ref;
static _Atomic(struct object *) cur; /* relaxed: see the header comment */
static atomic_bool stop;              /* relaxed: a hint to the readers */
static atomic_int inside;             /* readers between Acquire and Release */
static cpu_set_t allowed;

struct reader {
	pthread_t thread;
	uint32_t rng;
	unsigned long touches, empty, failures, migrations;
};

static struct object *object_new(void)
{
	struct object *o = malloc(sizeof *o);

	ck_assert_ptr_nonnull(o);
	o->magic = MAGIC;
	atomic_init(&o->hits, 0);
	return o;
}

/* Move to a random allowed processor (cache-aware: a release elsewhere). */
static void migrate(struct reader *r)
{
	int n = CPU_COUNT(&allowed), pick = (int)(rd_test_rand(&r->rng) % (uint32_t)n);
	cpu_set_t one;

	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed) && pick-- == 0) {
			CPU_ZERO(&one);
			CPU_SET(c, &one);
			if (sched_setaffinity(0, sizeof one, &one) == 0)
				r->migrations++;
			return;
		}
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t x = rd_test_rand(&r->rng);
		ULONG n = (x & 1) ? 1 : (x >> 1) % 4; /* 0..3 units */
		bool ok = (n == 1 && (x & 2)) ? f->acquire(ref) : f->acquire_ex(ref, n);
		struct object *o;

		if (!ok) {
			r->failures++;
			sched_yield(); /* run-down in progress: let the owner run */
			continue;
		}
		if (n == 0) { /* AcquireEx(0): TRUE, nothing to release or use */
			r->empty++;
			continue;
		}
		atomic_fetch_add_explicit(&inside, 1, memory_order_relaxed);
		o = atomic_load_explicit(&cur, memory_order_relaxed);
		ck_assert_uint_eq(o->magic, MAGIC);
		atomic_fetch_add_explicit(&o->hits, 1, memory_order_relaxed);
		r->touches++;
		atomic_fetch_sub_explicit(&inside, 1, memory_order_relaxed);
		if (x % 128 == 5)
			migrate(r);
		if (x & 4)
			f->release_ex(ref, n);
		else
			for (ULONG k = 0; k < n; k++)
				f->release(ref);
	}
	return NULL;
}

static unsigned long budget_ms(void)
{
	const char *env = getenv("RUNDOWN_STRESS_MS");

	return env != NULL && *env != '\0' ? strtoul(env, NULL, 0) : 1000;
}

START_TEST(readers_vs_owner)
{
	struct reader r[NR_READERS];
	uint64_t end = rd_test_now_ns() + budget_ms() * 1000000ull;
	unsigned long cycles = 0, hits = 0, touches = 0, empty = 0, failures = 0, migrations = 0;
	uint32_t rng = seed + (uint32_t)_i;
	struct object *o;

	f = &rd_families[_i];
	ref = f->make();
	ck_assert_ptr_nonnull(ref);
	ck_assert_int_eq(sched_getaffinity(0, sizeof allowed, &allowed), 0);
	atomic_store_explicit(&cur, object_new(), memory_order_relaxed);
	atomic_init(&stop, false);
	atomic_init(&inside, 0);
	for (int k = 0; k < NR_READERS; k++) {
		r[k] = (struct reader){ .rng = seed * 2654435761u + (uint32_t)k * 40503u + 1u };
		ck_assert_int_eq(pthread_create(&r[k].thread, NULL, reader_main, &r[k]), 0);
	}
	do {
		f->wait(ref);
		ck_assert_int_eq(atomic_load_explicit(&inside, memory_order_relaxed), 0);
		o = atomic_load_explicit(&cur, memory_order_relaxed);
		ck_assert_uint_eq(o->magic, MAGIC);
		hits += atomic_load_explicit(&o->hits, memory_order_relaxed);
		o->magic = 0; /* a reader still inside would see it (and TSan) */
		free(o);      /* ... and ASan */
		o = object_new();
		atomic_store_explicit(&cur, o, memory_order_relaxed);
		if (rd_test_rand(&rng) & 1)
			f->completed(ref);
		f->reinit(ref);
		cycles++;
		/* Pacing, not synchronisation: mostly let the readers in before
		 * the next Wait (up to PACE_HITS accesses or PACE_NS), sometimes
		 * run down again at once. */
		if (rd_test_rand(&rng) % 4 != 0) {
			uint64_t until = rd_test_now_ns() + PACE_NS;

			while (atomic_load_explicit(&o->hits, memory_order_relaxed) < PACE_HITS &&
			       rd_test_now_ns() < until)
				sched_yield();
		}
	} while (rd_test_now_ns() < end);
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	for (int k = 0; k < NR_READERS; k++) {
		ck_assert_int_eq(pthread_join(r[k].thread, NULL), 0);
		touches += r[k].touches;
		empty += r[k].empty;
		failures += r[k].failures;
		migrations += r[k].migrations;
	}
	f->wait(ref);
	ck_assert_int_eq(atomic_load_explicit(&inside, memory_order_relaxed), 0);
	o = atomic_load_explicit(&cur, memory_order_relaxed);
	hits += atomic_load_explicit(&o->hits, memory_order_relaxed);
	free(o);
	f->destroy(ref);

	printf("stress_test: %s: %lu cycles, %lu accesses, %lu AcquireEx(0), %lu failed "
	       "acquires, %lu migrations\n",
	       f->name, cycles, touches, empty, failures, migrations);
	ck_assert_uint_eq(hits, touches);
	ck_assert_uint_gt(cycles, 0);
}
END_TEST

static Suite *stress_suite(void)
{
	Suite *s = suite_create("stress");
	TCase *tc = tcase_create("readers_vs_owner");

	tcase_set_timeout(tc, 30 + (double)budget_ms() / 1000.0);
	tcase_add_loop_test(tc, readers_vs_owner, 0, RD_NR_FAMILIES);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	seed = rd_test_seed("stress_test");
	sr = srunner_create(stress_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
