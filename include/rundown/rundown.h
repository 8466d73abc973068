/*
 * rundown/rundown.h - the backend contract of rundown-cts.
 *
 * A *backend* is any shared object that exports the 19 routines below with
 * C linkage and exactly these signatures (wdm.h names, LP64 Linux types from
 * rundown/types.h).  The conformance runner (rundown-conform), the fuzzer
 * (rundown-fuzz) and the benchmark (rundown-bench) dlopen a backend and
 * resolve these names; librundown, the reference implementation, is one.
 *
 *   Plain:        ExInitializeRundownProtection  ExReInitializeRundownProtection
 *                 ExAcquireRundownProtection[Ex] ExReleaseRundownProtection[Ex]
 *                 ExWaitForRundownProtectionRelease  ExRundownCompleted
 *   Cache-aware:  ExAllocateCacheAwareRundownProtection
 *                 ExSizeOfRundownProtectionCacheAware
 *                 ExInitializeRundownProtectionCacheAware
 *                 ExAcquireRundownProtectionCacheAware[Ex]
 *                 ExReleaseRundownProtectionCacheAware[Ex]
 *                 ExWaitForRundownProtectionReleaseCacheAware
 *                 ExRundownCompletedCacheAware
 *                 ExReInitializeRundownProtectionCacheAware
 *                 ExFreeCacheAwareRundownProtection
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_RUNDOWN_H
#define RUNDOWN_RUNDOWN_H

#include <rundown/types.h>
#include <rundown/routines.h>
#include <rundown/ex_rundown_ref.h>
#include <rundown/ex_rundown_ref_cache_aware.h>

#endif /* RUNDOWN_RUNDOWN_H */
