/*
 * conformance/results.h - outcomes and the results.tsv writer of
 * rundown-conform (format: HACKING.md, "Runner results").
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_RESULTS_H
#define RUNDOWN_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

enum rundown_outcome {
	RUNDOWN_PASS,
	RUNDOWN_FAIL,
	RUNDOWN_UNRESOLVED,
	RUNDOWN_UNSUPPORTED,
	RUNDOWN_UNTESTED,
	RUNDOWN_HUNG,
	RUNDOWN_SIGNALED,
	RUNDOWN_XFAIL,
	RUNDOWN_XPASS,
	RUNDOWN_NR_OUTCOMES
};

const char *rundown_outcome_name(enum rundown_outcome o);
/*
 * Severity for "worst over the tests of a clause", higher is worse:
 * FAIL > SIGNALED > HUNG > UNRESOLVED > XPASS > XFAIL > PASS > UNSUPPORTED
 * > UNTESTED.  (The last two never meet a run test: they are outcomes of
 * clauses no test ran for.)
 */
int rundown_outcome_rank(enum rundown_outcome o);
/* Counts against the exit status: FAIL HUNG SIGNALED XPASS. */
bool rundown_outcome_is_failure(enum rundown_outcome o);
/* The test did not pass: FAIL HUNG SIGNALED (what --expect-fail expects). */
bool rundown_outcome_is_bad(enum rundown_outcome o);

struct rundown_result_row {
	const char *clause;
	const char *test; /* NULL: no test ran ("-") */
	enum rundown_outcome outcome;
	uint64_t duration_ms;
	bool has_seed;
	uint64_t seed;
	const char *message;   /* NULL: "-" */
	const char *reproduce; /* NULL: "-" */
};

struct rundown_results_meta {
	const char *backend, *profile, *family, *inject, *build, *command;
	const char *inject_spec; /* canonical RUNDOWN_INJECT (seed included), or NULL */
	uint64_t seed;
	time_t started;
	uint64_t duration_ms;
};

/* mkdir -p; 0 or -1 with err. */
int rundown_mkdir_p(const char *dir, char *err, size_t errlen);
/* Write DIR/results.tsv; 0 or -1 with err. */
int rundown_results_write(const char *dir, const struct rundown_results_meta *m,
			  const struct rundown_result_row *rows, size_t n, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_RESULTS_H */
