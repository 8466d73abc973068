/*
 * tests/unit/unit.h - helpers shared by the unit tests of librundown:
 * clocks, the seed, a small PRNG, and the checks that replace sleeps.
 *
 * No helper sleeps to "let a thread get there".  A test learns that
 * another thread reached a point through an atomic or a barrier; the only
 * timed wait is rd_test_stays_clear(), which checks that something does
 * NOT happen during an observation window (it cannot be made exact).
 */
#ifndef RUNDOWN_TESTS_UNIT_H
#define RUNDOWN_TESTS_UNIT_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* How long a test waits for something that must happen (generous: TSan). */
#define RD_TEST_DEADLINE_NS (20ull * 1000 * 1000 * 1000)
/* Observation window for "Wait has not returned". */
#define RD_TEST_WINDOW_NS (3ull * 1000 * 1000)

static inline uint64_t rd_test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The seed of a randomised test: $RUNDOWN_SEED, or one from the clock.
 * Printed so that a failure can be repeated.
 */
static inline unsigned rd_test_seed(const char *who)
{
	const char *env = getenv("RUNDOWN_SEED");
	unsigned seed;

	if (env != NULL && *env != '\0')
		seed = (unsigned)strtoul(env, NULL, 0);
	else
		seed = (unsigned)(rd_test_now_ns() ^ ((uint64_t)getpid() << 16));
	if (seed == 0)
		seed = 1;
	printf("%s: seed=%u (repeat with RUNDOWN_SEED=%u)\n", who, seed, seed);
	fflush(stdout);
	return seed;
}

/* xorshift32: per-thread state, never 0. */
static inline uint32_t rd_test_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/*
 * True if *flag stays false for the whole window.  Used only to check
 * that a Wait has NOT returned; the flag is set by the waiting thread
 * right after Wait returns (release; this acquire load pairs with it).
 */
static inline bool rd_test_stays_clear(atomic_bool *flag, uint64_t window_ns)
{
	uint64_t end = rd_test_now_ns() + window_ns;

	do {
		if (atomic_load_explicit(flag, memory_order_acquire))
			return false;
		sched_yield();
	} while (rd_test_now_ns() < end);
	return !atomic_load_explicit(flag, memory_order_acquire);
}

/* Spin (yielding) until *flag is true; false on deadline. */
static inline bool rd_test_await(atomic_bool *flag)
{
	uint64_t end = rd_test_now_ns() + RD_TEST_DEADLINE_NS;

	while (!atomic_load_explicit(flag, memory_order_acquire)) {
		if (rd_test_now_ns() > end)
			return false;
		sched_yield();
	}
	return true;
}

#endif /* RUNDOWN_TESTS_UNIT_H */
