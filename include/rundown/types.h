/*
 * rundown/types.h - the Windows scalar and structure types of the run-down
 * protection contract, spelled for LP64 Linux.
 *
 * The widths matter: a backend that takes ULONG as `unsigned long` (64 bits
 * here) would silently accept Count values a Windows caller can never pass,
 * and truncation bugs would hide.  So ULONG is exactly 32 bits.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_TYPES_H
#define RUNDOWN_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void VOID;
typedef unsigned char BOOLEAN;   /* TRUE 1, FALSE 0 */
typedef uint32_t ULONG;          /* 32 bits, as on Windows (LLP64) */
typedef size_t SIZE_T;
typedef uintptr_t ULONG_PTR;

#ifndef TRUE
#define TRUE ((BOOLEAN)1)
#endif
#ifndef FALSE
#define FALSE ((BOOLEAN)0)
#endif

/*
 * EX_RUNDOWN_REF: caller-allocated, one pointer-sized word, 8-byte aligned
 * (ExInitializeRundownProtection: "8-byte aligned on 64-bit platforms").
 * Its content is opaque to callers; the union only fixes size and alignment.
 */
typedef struct _EX_RUNDOWN_REF {
	union {
		ULONG_PTR Count;
		void *Ptr;
	};
} EX_RUNDOWN_REF, *PEX_RUNDOWN_REF;

#ifdef __cplusplus
static_assert(sizeof(EX_RUNDOWN_REF) == 8, "EX_RUNDOWN_REF is one 8-byte word");
static_assert(alignof(EX_RUNDOWN_REF) == 8, "EX_RUNDOWN_REF is 8-byte aligned");
#else
_Static_assert(sizeof(EX_RUNDOWN_REF) == 8, "EX_RUNDOWN_REF is one 8-byte word");
_Static_assert(_Alignof(EX_RUNDOWN_REF) == 8, "EX_RUNDOWN_REF is 8-byte aligned");
#endif

/*
 * EX_RUNDOWN_REF_CACHE_AWARE: opaque, never declared complete.  Callers only
 * hold pointers: to storage from ExAllocateCacheAwareRundownProtection, or to
 * a caller buffer of ExSizeOfRundownProtectionCacheAware() bytes.
 */
typedef struct _EX_RUNDOWN_REF_CACHE_AWARE EX_RUNDOWN_REF_CACHE_AWARE,
	*PEX_RUNDOWN_REF_CACHE_AWARE;

/* The pool types ExAllocateCacheAwareRundownProtection accepts (subset). */
typedef enum _POOL_TYPE {
	NonPagedPool = 0,
	NonPagedPoolExecute = 0,
	PagedPool = 1,
	NonPagedPoolMustSucceed = 2,
	DontUseThisType = 3,
	NonPagedPoolCacheAligned = 4,
	PagedPoolCacheAligned = 5,
	NonPagedPoolCacheAlignedMustS = 6,
	NonPagedPoolNx = 512,
	NonPagedPoolNxCacheAligned = 516,
} POOL_TYPE;

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_TYPES_H */
