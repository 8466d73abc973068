/*
 * conformance/backends/spinwait.c - librundown-spinwait: a correct backend
 * whose Wait never sleeps.  It busy-waits (sched_yield between looks)
 * until the count drains, which the documents allow: they say Wait blocks
 * the caller until protection is released, not how.  A harness that can
 * only tell a blocking Wait from a returned one by seeing the caller
 * asleep (rundown-fuzz's partner thread, the runner's blocking tests)
 * would report this backend's Waits as returned, or hang on them; it is
 * here to show that neither does.
 *
 * Other points where it differs from librundown and librundown-alt, all
 * allowed by the documents:
 *   - No futex, no parking: nothing to wake.  A Release is one fetch_sub.
 *   - A cache-aware ref is one word alone on a 64-byte line inside the
 *     caller's buffer, wherever the buffer starts:
 *     ExSizeOfRundownProtectionCacheAware() is 128 (a line and the slack to
 *     reach one); Allocate uses aligned_alloc.
 *
 * The word w (64 bits; one per ref of either family):
 *
 *	bit 0       CLOSED  set by Wait, cleared by ReInitialize
 *	bits 1..63  count   units granted and not yet released
 *
 * A zero-filled word is an open ref with nothing held.  State machine:
 *
 *	         Acquire[Ex] (+n)              Wait: set CLOSED
 *	  OPEN c ----------------> OPEN c ---------------------> CLOSED c
 *	    ^    <----------------                                 |
 *	    |      Release[Ex] (-n)                 Release (-n) ... until
 *	    |                                                      | c == 0,
 *	    |                                                      v Wait returns
 *	    +---- ReInitialize (w = 0) <---- Completed <---- CLOSED 0 (DOWN)
 *
 *	- Acquire fails whenever CLOSED is set.
 *	- Wait on DOWN sees count 0 and returns at once; several Waits may
 *	  spin at the same time.
 *
 * Ordering:
 *	[A] A successful Acquire's CAS is an acquire RMW; ReInitialize's store
 *	    is a release: the owner's re-setup happens-before the next use.
 *	[R] Every Release is a release RMW; the waiter's acquire load that
 *	    reads count 0 reads the end of a release sequence that every
 *	    earlier Release heads, so every holder's accesses happen-before
 *	    Wait returns (the owner may then free the object).
 *	[W] Wait's fetch_or is acq_rel: an Acquire after it in w's
 *	    modification order sees CLOSED and fails.
 *
 * Acquire and Release are lock-free, allocate nothing and touch the ref
 * only: a releaser's fetch_sub is its last access, so the owner may free
 * the ref as soon as Wait returns.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include <rundown/rundown.h>

#define SW_CLOSED UINT64_C(1)
#define SW_UNIT UINT64_C(2)
#define SW_LINE 64u

_Static_assert(sizeof(_Atomic uint64_t) == sizeof(EX_RUNDOWN_REF), "the word fills EX_RUNDOWN_REF");

static BOOLEAN sw_acquire(_Atomic uint64_t *w, ULONG n)
{
	uint64_t old = atomic_load_explicit(w, memory_order_relaxed);

	do {
		if (old & SW_CLOSED)
			return FALSE;
		if ((old >> 1) + n >= (UINT64_C(1) << 62)) /* refuse to overflow */
			return FALSE;
		/* [A] acquire on success: pairs with ReInitialize's release store. */
	} while (!atomic_compare_exchange_weak_explicit(w, &old, old + n * SW_UNIT, memory_order_acquire,
						       memory_order_relaxed));
	return TRUE;
}

static void sw_release(_Atomic uint64_t *w, ULONG n)
{
	/* [R] release: pairs with the waiter's acquire load of count 0. */
	atomic_fetch_sub_explicit(w, n * SW_UNIT, memory_order_release);
}

static void sw_wait(_Atomic uint64_t *w)
{
	/* [W] acq_rel: no later Acquire sees the ref open. */
	uint64_t v = atomic_fetch_or_explicit(w, SW_CLOSED, memory_order_acq_rel);

	while (v >> 1 != 0) {
		sched_yield();
		/* [R] acquire: pairs with every Release's fetch_sub. */
		v = atomic_load_explicit(w, memory_order_acquire);
	}
}

static void sw_reinit(_Atomic uint64_t *w)
{
	/* [A] release: pairs with the acquire CAS of the next Acquire. */
	atomic_store_explicit(w, 0, memory_order_release);
}

/* ---- plain family: the word is the EX_RUNDOWN_REF ---- */

static _Atomic uint64_t *sw_plain(PEX_RUNDOWN_REF RunRef)
{
	return (_Atomic uint64_t *)(void *)&RunRef->Count;
}

void ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	/* Before publication: the caller's hand-off orders it. */
	atomic_store_explicit(sw_plain(RunRef), 0, memory_order_relaxed);
}

void ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	sw_reinit(sw_plain(RunRef));
}

BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	return sw_acquire(sw_plain(RunRef), 1);
}

BOOLEAN ExAcquireRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
	return sw_acquire(sw_plain(RunRef), Count);
}

void ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	sw_release(sw_plain(RunRef), 1);
}

void ExReleaseRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
	sw_release(sw_plain(RunRef), Count);
}

void ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef)
{
	sw_wait(sw_plain(RunRef));
}

void ExRundownCompleted(PEX_RUNDOWN_REF RunRef)
{
	/* DOWN already: the word stays CLOSED with count 0. */
	(void)RunRef;
}

/* ---- cache-aware family: the word on the buffer's first whole line ---- */

static _Atomic uint64_t *sw_ca(PEX_RUNDOWN_REF_CACHE_AWARE ref)
{
	uintptr_t p = (uintptr_t)(void *)ref;

	return (_Atomic uint64_t *)(void *)((p + SW_LINE - 1u) & ~(uintptr_t)(SW_LINE - 1u));
}

SIZE_T ExSizeOfRundownProtectionCacheAware(void)
{
	return 2u * SW_LINE; /* the slack to reach a line, and the line */
}

void ExInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware,
					     SIZE_T RunRefSize)
{
	(void)RunRefSize; /* at least ExSizeOfRundownProtectionCacheAware() */
	atomic_store_explicit(sw_ca(RunRefCacheAware), 0, memory_order_relaxed); /* unpublished */
}

PEX_RUNDOWN_REF_CACHE_AWARE ExAllocateCacheAwareRundownProtection(POOL_TYPE PoolType,
								  ULONG PoolTag)
{
	void *p = aligned_alloc(SW_LINE, SW_LINE);

	(void)PoolType;
	(void)PoolTag;
	if (p == NULL)
		return NULL;
	ExInitializeRundownProtectionCacheAware(p, SW_LINE);
	return p;
}

void ExFreeCacheAwareRundownProtection(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	free(RunRefCacheAware);
}

BOOLEAN ExAcquireRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	return sw_acquire(sw_ca(RunRefCacheAware), 1);
}

BOOLEAN ExAcquireRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware,
					       ULONG Count)
{
	return sw_acquire(sw_ca(RunRefCacheAware), Count);
}

void ExReleaseRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	sw_release(sw_ca(RunRefCacheAware), 1);
}

void ExReleaseRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE RunRef, ULONG Count)
{
	sw_release(sw_ca(RunRef), Count);
}

void ExWaitForRundownProtectionReleaseCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRef)
{
	sw_wait(sw_ca(RunRef));
}

void ExRundownCompletedCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	(void)RunRefCacheAware;
}

void ExReInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	sw_reinit(sw_ca(RunRefCacheAware));
}
