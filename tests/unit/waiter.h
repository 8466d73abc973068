/*
 * tests/unit/waiter.h - an owner thread that calls Wait, and the
 * handshakes the blocking tests use with it.
 *
 * rd_waiter_start() starts a thread that calls f->wait(ref) and then sets
 * `returned`.  rd_test_wait_started() learns that the Wait has started the
 * only way the documents allow: Acquire returns FALSE.  The caller must be
 * pinned to one processor (rd_test_pin_here()) so that its Acquires hit
 * one cache-aware slot: a Wait marks the slots one after another, so on
 * another processor an Acquire may still succeed for a moment.
 */
#ifndef RUNDOWN_TESTS_WAITER_H
#define RUNDOWN_TESTS_WAITER_H

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "tests/unit/family.h"
#include "tests/unit/unit.h"

/* The affinity the test process started with; threads return to it. */
static cpu_set_t rd_test_cpus_all;
static bool rd_test_cpus_saved;

/* A helper thread runs on any processor, not on the pinned test thread's. */
static inline void rd_test_unpin_self(void)
{
	(void)sched_setaffinity(0, sizeof rd_test_cpus_all, &rd_test_cpus_all);
}

struct rd_waiter {
	const struct rd_family *f;
	void *ref;
	pthread_t thread;
	atomic_bool returned; /* store release after Wait; tests load acquire */
};

static void *rd_waiter_main(void *arg)
{
	struct rd_waiter *w = arg;

	rd_test_unpin_self();
	w->f->wait(w->ref);
	/* Release: pairs with the tests' acquire loads in unit.h. */
	atomic_store_explicit(&w->returned, true, memory_order_release);
	return NULL;
}

static inline void rd_waiter_start(struct rd_waiter *w, const struct rd_family *f, void *ref)
{
	w->f = f;
	w->ref = ref;
	atomic_init(&w->returned, false);
	ck_assert_int_eq(pthread_create(&w->thread, NULL, rd_waiter_main, w), 0);
}

static inline void rd_waiter_join(struct rd_waiter *w)
{
	ck_assert_msg(rd_test_await(&w->returned), "Wait did not return after the last release");
	ck_assert_int_eq(pthread_join(w->thread, NULL), 0);
}

/*
 * Poll Acquire until it fails, i.e. the Wait has started.  A successful
 * probe is released at once; the caller holds other units, so the probe
 * cannot let the Wait finish.
 */
static inline void rd_test_wait_started(const struct rd_family *f, void *ref)
{
	uint64_t end = rd_test_now_ns() + RD_TEST_DEADLINE_NS;

	while (f->acquire(ref)) {
		f->release(ref);
		ck_assert_msg(rd_test_now_ns() < end, "%s: Acquire kept succeeding: Wait never started",
			      f->name);
		sched_yield();
	}
}

/* Pin the calling thread to the processor it runs on; returns it. */
static inline int rd_test_pin_here(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	ck_assert_int_ge(cpu, 0);
	if (!rd_test_cpus_saved) /* CK_FORK=no runs every test in one process */
		ck_assert_int_eq(sched_getaffinity(0, sizeof rd_test_cpus_all, &rd_test_cpus_all), 0);
	rd_test_cpus_saved = true;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ck_assert_int_eq(sched_setaffinity(0, sizeof set, &set), 0);
	return cpu;
}

#endif /* RUNDOWN_TESTS_WAITER_H */
