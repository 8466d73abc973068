/*
 * examples/backend/tiny_backend.c - the smallest complete backend: both
 * families on one atomic word each, Wait yielding until the count drains.
 *
 * Build it with one command and run the suite on it:
 *
 *	cc -shared -fPIC -O2 -I include -o tiny_backend.so examples/backend/tiny_backend.c
 *	rundown-conform --backend ./tiny_backend.so
 *
 * Word: bit 63 = run-down started, bits 0..62 = units held.  A successful
 * Acquire is an acquire CAS, a Release a release fetch_sub, Wait's loads
 * acquire: what a holder did before its Release happens-before Wait returns.
 * The cache-aware object is the same word placed at the first 8-aligned
 * byte of the caller's buffer (no per-processor slots: the structure is
 * opaque and its size only "recommended", so this is conforming, just not
 * cache-aware).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <rundown/rundown.h>

#define CLOSED (UINT64_C(1) << 63)

static _Atomic uint64_t *word(void *p)
{
	return (_Atomic uint64_t *)(((uintptr_t)p + 7) & ~(uintptr_t)7);
}

static BOOLEAN acquire(void *p, ULONG n)
{
	_Atomic uint64_t *w = word(p);
	uint64_t old = atomic_load_explicit(w, memory_order_relaxed);

	do {
		if (old & CLOSED)
			return FALSE;
	} while (!atomic_compare_exchange_weak_explicit(w, &old, old + n, memory_order_acquire,
						       memory_order_relaxed));
	return TRUE;
}

static void release(void *p, ULONG n)
{
	atomic_fetch_sub_explicit(word(p), n, memory_order_release);
}

static void wait_drained(void *p)
{
	_Atomic uint64_t *w = word(p);

	struct timespec nap = {0, 20000}; /* let holders run, even on our CPU */

	atomic_fetch_or_explicit(w, CLOSED, memory_order_acq_rel);
	while (atomic_load_explicit(w, memory_order_acquire) != CLOSED)
		nanosleep(&nap, NULL);
}

static void set(void *p, uint64_t v)
{
	atomic_store_explicit(word(p), v, memory_order_release);
}

VOID ExInitializeRundownProtection(PEX_RUNDOWN_REF r) { set(r, 0); }
VOID ExReInitializeRundownProtection(PEX_RUNDOWN_REF r) { set(r, 0); }
BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF r) { return acquire(r, 1); }
BOOLEAN ExAcquireRundownProtectionEx(PEX_RUNDOWN_REF r, ULONG n) { return acquire(r, n); }
VOID ExReleaseRundownProtection(PEX_RUNDOWN_REF r) { release(r, 1); }
VOID ExReleaseRundownProtectionEx(PEX_RUNDOWN_REF r, ULONG n) { release(r, n); }
VOID ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF r) { wait_drained(r); }
VOID ExRundownCompleted(PEX_RUNDOWN_REF r) { set(r, CLOSED); }

SIZE_T ExSizeOfRundownProtectionCacheAware(void) { return 16; }
VOID ExInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE r, SIZE_T size)
{
	(void)size;
	set(r, 0);
}
PEX_RUNDOWN_REF_CACHE_AWARE ExAllocateCacheAwareRundownProtection(POOL_TYPE type, ULONG tag)
{
	void *p = malloc(16);

	(void)type;
	(void)tag;
	if (p != NULL)
		set(p, 0);
	return p;
}
VOID ExFreeCacheAwareRundownProtection(PEX_RUNDOWN_REF_CACHE_AWARE r) { free(r); }
BOOLEAN ExAcquireRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE r) { return acquire(r, 1); }
BOOLEAN ExAcquireRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE r, ULONG n) { return acquire(r, n); }
VOID ExReleaseRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE r) { release(r, 1); }
VOID ExReleaseRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE r, ULONG n) { release(r, n); }
VOID ExWaitForRundownProtectionReleaseCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE r) { wait_drained(r); }
VOID ExRundownCompletedCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE r) { set(r, CLOSED); }
VOID ExReInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE r) { set(r, 0); }
