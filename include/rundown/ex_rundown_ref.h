/*
 * rundown/ex_rundown_ref.h - plain run-down protection (EX_RUNDOWN_REF).
 *
 * Contract (from Microsoft's pages, see ../shared/spec/docs):
 *   - The owner calls ExInitializeRundownProtection before any other routine.
 *   - Accessors bracket each access with Acquire (TRUE: the object may be
 *     used; FALSE: run-down has started, treat it as invalid) and Release.
 *     The Ex forms move the count by Count units, and only on TRUE.
 *   - The owner calls ExWaitForRundownProtectionRelease: every later Acquire
 *     fails; it blocks until every granted unit is released.  It returns at
 *     once when none is held, and is a no-op on a ref already run down.
 *   - ExRundownCompleted after Wait; ExReInitializeRundownProtection makes the
 *     ref usable for a new object.
 * What may sleep: Wait (and the owner-side routines, <= APC_LEVEL).  What
 * must not: Acquire/Release and their Ex forms (<= DISPATCH_LEVEL), which in
 * user mode means lock-free and async-signal-safe.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_EX_RUNDOWN_REF_H
#define RUNDOWN_EX_RUNDOWN_REF_H

#include <rundown/routines.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUNDOWN_DECLARE(ret, name, params, args, family) ret name params;
RUNDOWN_PLAIN_ROUTINES(RUNDOWN_DECLARE)
#undef RUNDOWN_DECLARE

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_EX_RUNDOWN_REF_H */
