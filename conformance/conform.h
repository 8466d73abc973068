/*
 * conformance/conform.h - how a conformance test is written.
 *
 * A test checks one or more clauses of conformance/clauses.tsv against the
 * loaded backend B (never against librundown directly):
 *
 *	CONFORM_TEST(plain_wait_blocks_while_held,
 *		     "PLAIN-WAIT-002 PLAIN-WAIT-003",       clause ids, space-separated
 *		     RUNDOWN_BIT(ExInitializeRundownProtection) |
 *		     RUNDOWN_BIT(ExAcquireRundownProtection) | ...,   routines it calls
 *		     CONFORM_CONCURRENT)                     flags
 *	{
 *		...
 *		conform_assert(ok, "PLAIN-WAIT-002", "Wait returned while a unit was held");
 *	}
 *	END_TEST
 *
 * The macro registers the test in the `conform_tests` linker section, so no
 * list of tests is kept by hand: the runner enumerates the section, and a
 * check in `make check` compares the clause ids named here with the catalog
 * (a testable clause without a test, or a test naming an unknown clause,
 * fails the build's tests).
 *
 * Outcomes: a test passes by returning; conform_assert()/conform_fail() make
 * it FAIL, with a message that starts with the clause id and quotes the
 * clause; conform_unresolved() marks it UNRESOLVED (the test could not set
 * up its conditions: no verdict).  A crash is SIGNALED and a timeout HUNG:
 * every test runs in its own process (libcheck fork mode).
 */
#ifndef RUNDOWN_CONFORM_H
#define RUNDOWN_CONFORM_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include <rundown/rundown.h>

#include "conformance/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Test flags. */
#define CONFORM_CONCURRENT 0x01u /* multi-threaded: repeat count scales with --repeat/profile */
#define CONFORM_ABI 0x02u        /* Windows de facto encoding: only in --profile abi */
#define CONFORM_NEEDS_TSAN 0x04u /* exact only if backend is TSan-instrumented, else UNRESOLVED */
#define CONFORM_SLOW 0x08u       /* skipped by --profile quick */
#define CONFORM_NEEDS_FAULTS 0x10u /* needs allocation-failure injection (inject/ shim or interposed malloc) */

struct conform_test {
	const TTest *ttest;   /* libcheck test */
	const char *name;     /* C identifier of the test */
	const char *clauses;  /* space-separated clause ids */
	uint32_t needs;       /* RUNDOWN_BIT mask of routines called */
	unsigned flags;       /* CONFORM_* */
	unsigned timeout_s;   /* base timeout before --timeout-multiplier; 0 = default */
};

#define CONFORM_TEST_T(name_, clauses_, needs_, flags_, timeout_)                     \
	static void name_##_fn(int _i CK_ATTRIBUTE_UNUSED);                               \
	static const TTest name_##_ttest = {#name_, name_##_fn, __FILE__, __LINE__};       \
	static const struct conform_test name_##_reg                                      \
		__attribute__((used, section("conform_tests"), aligned(sizeof(void *)))) = { \
			&name_##_ttest, #name_, clauses_, needs_, flags_, timeout_};          \
	static void name_##_fn(int _i CK_ATTRIBUTE_UNUSED)

#define CONFORM_TEST(name_, clauses_, needs_, flags_) CONFORM_TEST_T(name_, clauses_, needs_, flags_, 0)

/* Section bounds (provided by the linker). */
extern const struct conform_test __start_conform_tests[];
extern const struct conform_test __stop_conform_tests[];

/* ---- context, valid inside a test (set by the runner before fork) ---- */

/* The backend under test. */
extern const struct rundown_backend *B;

/* Seed of this test: the runner's --seed mixed with the test's name;
 * printed in every failure message so the run can be reproduced. */
uint64_t conform_seed(void);
/* Iterations for a concurrent test: base scaled by profile and --repeat. */
unsigned long conform_iterations(unsigned long base);
/* Observation window, in ns, for "must still be blocked" checks (scaled by
 * --timeout-multiplier). */
uint64_t conform_window_ns(void);
/* Profile name: "quick", "full" or "abi". */
const char *conform_profile(void);

/* Per-thread xorshift PRNG seeded from conform_seed(). */
uint64_t conform_rand(uint64_t *state);

/* Monotonic clock in ns. */
uint64_t conform_now_ns(void);

/* ---- verdicts ---- */

/* FAIL with "<clause>: <message> (seed N)" unless cond. */
#define conform_assert(cond, clause, ...)                                              \
	do {                                                                           \
		if (!(cond))                                                           \
			conform_fail_at(__FILE__, __LINE__, clause, __VA_ARGS__);      \
	} while (0)
#define conform_fail(clause, ...) conform_fail_at(__FILE__, __LINE__, clause, __VA_ARGS__)
void conform_fail_at(const char *file, int line, const char *clause, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));
/* UNRESOLVED: the test could not establish its preconditions. */
void conform_unresolved(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* The requirement text of a clause from the catalog (for messages). */
const char *conform_clause_text(const char *id);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_CONFORM_H */
