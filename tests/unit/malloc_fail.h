/*
 * tests/unit/malloc_fail.h - the countdown of malloc_fail.c.
 */
#ifndef RUNDOWN_TESTS_MALLOC_FAIL_H
#define RUNDOWN_TESTS_MALLOC_FAIL_H

#include <stdbool.h>

/* From now on, fail allocation number `at` (0-based), or if `all` every
 * allocation from it on; forget earlier counts and records. */
void rd_mf_arm(long at, bool all);
/* Stop failing and recording. */
void rd_mf_disarm(void);
/* Allocations attempted, and failed, since the last arming. */
long rd_mf_calls(void);
long rd_mf_injected(void);
/* Blocks handed out while armed and not freed yet. */
int rd_mf_live(void);

#endif /* RUNDOWN_TESTS_MALLOC_FAIL_H */
