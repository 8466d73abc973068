/*
 * rundown/ex_rundown_ref_cache_aware.h - cache-aware run-down protection.
 *
 * Same contract as the plain family (see ex_rundown_ref.h), with storage
 * that spreads the count over cache lines.  An object is made either by
 *   ExAllocateCacheAwareRundownProtection(PoolType, PoolTag)  (NULL on
 *   failure; released with ExFreeCacheAwareRundownProtection), or by
 *   ExSizeOfRundownProtectionCacheAware() -> a caller buffer of that many
 *   bytes, any alignment -> ExInitializeRundownProtectionCacheAware(buf, size).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_EX_RUNDOWN_REF_CACHE_AWARE_H
#define RUNDOWN_EX_RUNDOWN_REF_CACHE_AWARE_H

#include <rundown/routines.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUNDOWN_DECLARE(ret, name, params, args, family) ret name params;
RUNDOWN_CA_ROUTINES(RUNDOWN_DECLARE)
#undef RUNDOWN_DECLARE

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_EX_RUNDOWN_REF_CACHE_AWARE_H */
