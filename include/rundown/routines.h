/*
 * rundown/routines.h - the 19 routines of the contract as one X-macro list.
 *
 * RUNDOWN_ROUTINES(X) expands X(ret, name, params, args, family) once per
 * routine, in the order of INDEX.md.  The prototypes in ex_rundown_ref.h and
 * ex_rundown_ref_cache_aware.h, the dlopen loader of the conformance runner,
 * the fuzzer and the benchmark all expand this one list, so a routine cannot
 * be missing from one of them.  family is PLAIN or CA.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_ROUTINES_H
#define RUNDOWN_ROUTINES_H

#include <rundown/types.h>

#define RUNDOWN_PLAIN_ROUTINES(X)                                                     \
	X(VOID, ExInitializeRundownProtection, (PEX_RUNDOWN_REF RunRef), (RunRef), PLAIN)     \
	X(VOID, ExReInitializeRundownProtection, (PEX_RUNDOWN_REF RunRef), (RunRef), PLAIN)   \
	X(BOOLEAN, ExAcquireRundownProtection, (PEX_RUNDOWN_REF RunRef), (RunRef), PLAIN)     \
	X(BOOLEAN, ExAcquireRundownProtectionEx, (PEX_RUNDOWN_REF RunRef, ULONG Count),       \
	  (RunRef, Count), PLAIN)                                                             \
	X(VOID, ExReleaseRundownProtection, (PEX_RUNDOWN_REF RunRef), (RunRef), PLAIN)        \
	X(VOID, ExReleaseRundownProtectionEx, (PEX_RUNDOWN_REF RunRef, ULONG Count),          \
	  (RunRef, Count), PLAIN)                                                             \
	X(VOID, ExWaitForRundownProtectionRelease, (PEX_RUNDOWN_REF RunRef), (RunRef), PLAIN) \
	X(VOID, ExRundownCompleted, (PEX_RUNDOWN_REF RunRef), (RunRef), PLAIN)

#define RUNDOWN_CA_ROUTINES(X)                                                         \
	X(PEX_RUNDOWN_REF_CACHE_AWARE, ExAllocateCacheAwareRundownProtection,                 \
	  (POOL_TYPE PoolType, ULONG PoolTag), (PoolType, PoolTag), CA)                        \
	X(SIZE_T, ExSizeOfRundownProtectionCacheAware, (void), (), CA)                        \
	X(VOID, ExInitializeRundownProtectionCacheAware,                                      \
	  (PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware, SIZE_T RunRefSize),                   \
	  (RunRefCacheAware, RunRefSize), CA)                                                  \
	X(BOOLEAN, ExAcquireRundownProtectionCacheAware,                                      \
	  (PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware), (RunRefCacheAware), CA)              \
	X(BOOLEAN, ExAcquireRundownProtectionCacheAwareEx,                                    \
	  (PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware, ULONG Count), (RunRefCacheAware, Count), CA) \
	X(VOID, ExReleaseRundownProtectionCacheAware,                                         \
	  (PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware), (RunRefCacheAware), CA)              \
	X(VOID, ExReleaseRundownProtectionCacheAwareEx,                                       \
	  (PEX_RUNDOWN_REF_CACHE_AWARE RunRef, ULONG Count), (RunRef, Count), CA)              \
	X(VOID, ExWaitForRundownProtectionReleaseCacheAware,                                  \
	  (PEX_RUNDOWN_REF_CACHE_AWARE RunRef), (RunRef), CA)                                  \
	X(VOID, ExRundownCompletedCacheAware,                                                 \
	  (PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware), (RunRefCacheAware), CA)              \
	X(VOID, ExReInitializeRundownProtectionCacheAware,                                    \
	  (PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware), (RunRefCacheAware), CA)              \
	X(VOID, ExFreeCacheAwareRundownProtection,                                            \
	  (PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware), (RunRefCacheAware), CA)

#define RUNDOWN_ROUTINES(X) RUNDOWN_PLAIN_ROUTINES(X) RUNDOWN_CA_ROUTINES(X)

/* Number of routines in the contract. */
#define RUNDOWN_NR_ROUTINES 19

#endif /* RUNDOWN_ROUTINES_H */
