/*
 * conformance/irql_wrap.h - the DISPATCH_LEVEL brackets of --inject irql.
 *
 * When the inject shim runs with irql=record (or abort), the runner swaps
 * the eight routines the documents allow at DISPATCH_LEVEL (Acquire,
 * AcquireEx, Release, ReleaseEx of both families) in its backend table for
 * wrappers: rundown_inject_irql_enter(name), the real routine,
 * rundown_inject_irql_leave().  Every test and the torture mode then call
 * them bracketed, without knowing it.  A wrapper that sees the shim's
 * violation counter grow during its call records the first such call;
 * the runner fails the test with IRQL-001 (plain) or IRQL-004 (CA).
 *
 * The wrappers are async-signal-safe (the shim's brackets and stats are):
 * tests call the routines from signal handlers.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_IRQL_WRAP_H
#define RUNDOWN_IRQL_WRAP_H

#include <stddef.h>
#include <stdint.h>

#include "conformance/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Swap b's Acquire/Release(+Ex) pointers (both families) for wrappers.
 * 0, or -1 when the shim's control API is not loaded (b unchanged). */
int conform_irql_wrap(struct rundown_backend *b);

/* Blocking calls seen inside wrapped calls so far (0: none, or not
 * wrapped).  When nonzero, *clause is "IRQL-001" or "IRQL-004" (the family
 * of the first one) and what holds "<call> inside <routine>" (the shim's
 * first report) or the routine alone. */
uint64_t conform_irql_violations(const char **clause, char *what, size_t whatlen);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_IRQL_WRAP_H */
