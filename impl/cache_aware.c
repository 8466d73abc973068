/*
 * impl/cache_aware.c - cache-aware run-down protection: one counter per
 * processor, each on its own cache line.
 *
 * Each slot word is 4 * count | REOPEN | ACTIVE (ACTIVE: marked by a Wait;
 * REOPEN: closed while ReInitialize reopens the slots; Acquire fails on
 * either).  A slot's count is only a *share* of the total: an Acquire
 * adds to the slot of the processor it runs on (processor number modulo nslots, so hot-added
 * processors beyond the slot count are safe), a Release subtracts from the
 * slot of the processor *it* runs on, which may be another one.  Slot counts
 * may therefore go "negative"; they wrap, and only the sum means anything
 * (the same argument as Linux's percpu_ref: modular arithmetic on the
 * shares gives the exact total).
 *
 * State machine (hdr->state, slots' ACTIVE bits, hdr->drain):
 *
 *	OPEN ---- Wait: state OPEN->DRAINING, set ACTIVE on every slot,
 *	  ^       publish drain += sum of the shares read while marking ------+
 *	  |                                                                   |
 *	  |       drain == 0 (at publication, or at the last Release) -------+
 *	  |                                                                   v
 *	  +-- ReInitialize (two passes, below) <------ Completed <------- DOWN
 *
 *	- Acquire fails once state is not OPEN or its slot has ACTIVE; Wait
 *	  moves state to DRAINING, then sets ACTIVE on every slot before it
 *	  publishes (and before it can block).  The slot check closes the
 *	  race with an Acquire that read OPEN just before the state change.
 *	- A Release whose fetch_sub sees ACTIVE was not counted in the share
 *	  the marking read: it also subtracts from hdr->drain.  A Release that
 *	  does not see ACTIVE was counted (the mark reads the slot after it).
 *	  drain starts at 0, only Releases lower it and only the waiter's
 *	  publication raises it, so it reaches zero exactly once: at the
 *	  publication (nothing outstanding) or at the last Release.
 *	- Wait on DOWN returns at once; a second concurrent Wait (undefined by
 *	  the documents) sleeps until the first one has finished.
 *
 * Ordering:
 *	- Acquire's successful CAS is an acquire RMW; it pairs with the
 *	  release of ReInitialize's slot stores.
 *	- A Release's fetch_sub on its slot is a release RMW.  If it precedes
 *	  the mark, the mark's acq_rel fetch_or reads it (or a later RMW of the
 *	  same release sequence) and synchronizes with it.  If it follows the
 *	  mark, the Release's acq_rel fetch_sub on hdr->drain is in the release
 *	  sequence that the waiter acquires: either through its own acq_rel
 *	  fetch_add that reads zero, or through the acquire load of
 *	  hdr->drained, which the last Release sets with a release store after
 *	  its fetch_sub on drain.
 *	- That store to hdr->drained is the last Release's last memory access
 *	  to the object; the futex wake after it touches no memory (futex.h),
 *	  so the owner may free the object as soon as Wait returns.
 */
#include "config.h"

#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rundown/ex_rundown_ref_cache_aware.h>

#include "impl/cache_aware.h"
#include "impl/cpu.h"
#include "impl/futex.h"

#define RD_ACTIVE ((uintptr_t)1)  /* marked by a Wait: releases go to the drain */
#define RD_REOPEN ((uintptr_t)2)  /* closed while ReInitialize reopens the slots */
#define RD_CLOSED (RD_ACTIVE | RD_REOPEN)
#define RD_UNIT ((uintptr_t)4)

SIZE_T rd_ca_size(void)
{
	/* header + its alignment slack (7) + slot alignment slack (63) */
	return sizeof(struct rd_ca_hdr) + 7u + (RD_CA_LINE - 1u) +
	       (SIZE_T)rd_cpu_count() * RD_CA_LINE;
}

SIZE_T ExSizeOfRundownProtectionCacheAware(void)
{
	return rd_ca_size();
}

static void rd_ca_reset(struct rd_ca_hdr *h)
{
	for (unsigned i = 0; i < h->nslots; i++)
		atomic_store_explicit(rd_ca_slot(h, i), 0, memory_order_relaxed);
	atomic_store_explicit(&h->drain, 0, memory_order_relaxed);
	atomic_store_explicit(&h->drained, 0, memory_order_relaxed);
	/* Release: the resets above are visible to whoever sees OPEN. */
	atomic_store_explicit(&h->state, RD_CA_OPEN, memory_order_release);
}

void ExInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware,
					     SIZE_T RunRefSize)
{
	uintptr_t buf = (uintptr_t)(void *)RunRefCacheAware;
	uintptr_t end = buf + RunRefSize;
	struct rd_ca_hdr *h = rd_ca_hdr(RunRefCacheAware);
	uintptr_t first = (uintptr_t)(h + 1);
	uintptr_t slots = (first + RD_CA_LINE - 1u) & ~(uintptr_t)(RD_CA_LINE - 1u);
	uintptr_t stride = RD_CA_LINE;

	if (RunRefSize > SIZE_MAX / 2 || first + sizeof(uintptr_t) > end) {
		/* Undefined by the documents; refuse loudly rather than write
		 * outside the caller's buffer. */
		fprintf(stderr,
			"librundown: ExInitializeRundownProtectionCacheAware: RunRefSize %zu is "
			"too small (minimum %zu)\n",
			(size_t)RunRefSize, sizeof(struct rd_ca_hdr) + 7u + sizeof(uintptr_t));
		abort();
	}
	if (slots + RD_CA_LINE > end) { /* compact: correct, not cache-aware */
		slots = first;
		stride = sizeof(uintptr_t);
	}
	h->magic = RD_CA_MAGIC;
	h->stride = (uint32_t)stride;
	h->slots_off = (uint32_t)(slots - (uintptr_t)h);
	h->nslots = (uint32_t)((end - slots) / stride);
	if (h->nslots > RD_CPU_MAX)
		h->nslots = RD_CPU_MAX;
	h->alloc_magic = 0;
	h->pool_tag = 0;
	h->pool_type = 0;
	atomic_store_explicit(&h->xwaiters, 0, memory_order_relaxed);
	rd_ca_reset(h);
}

static inline _Atomic uintptr_t *rd_ca_my_slot(struct rd_ca_hdr *h)
{
	unsigned i = rd_cpu_current();

	if (i >= h->nslots)
		i %= h->nslots;
	return rd_ca_slot(h, i);
}

BOOLEAN ExAcquireRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware,
					       ULONG Count)
{
	struct rd_ca_hdr *h = rd_ca_hdr(RunRefCacheAware);
	_Atomic uintptr_t *slot = rd_ca_my_slot(h);
	uintptr_t add = (uintptr_t)Count * RD_UNIT;
	uintptr_t old;

	/*
	 * Wait moves state to DRAINING before it marks any slot, and marks the
	 * slots one by one.  Checking state first makes run-down visible to an
	 * Acquire as soon as any Acquire has seen it: a FALSE from a marked
	 * slot (the failed CAS below is an acquire, pairing with the mark's
	 * acq_rel fetch_or, which follows the state CAS in Wait) happens-before
	 * every later Acquire's state load, which then reads DRAINING, even if
	 * that Acquire's own slot is not marked yet.  The state word shares the
	 * header line that every Acquire reads anyway.
	 */
	if (atomic_load_explicit(&h->state, memory_order_acquire) != RD_CA_OPEN)
		return FALSE;
	old = atomic_load_explicit(slot, memory_order_acquire);
	do {
		if (old & RD_CLOSED)
			return FALSE;
		/* Acquire on success: pairs with ReInitialize's release. */
	} while (!atomic_compare_exchange_weak_explicit(slot, &old, old + add,
						       memory_order_acquire,
						       memory_order_acquire));
	return TRUE;
}

BOOLEAN ExAcquireRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	return ExAcquireRundownProtectionCacheAwareEx(RunRefCacheAware, 1);
}

/* A Release that landed after the mark: account it in the drain. */
__attribute__((noinline, cold)) static void rd_ca_drain_put(struct rd_ca_hdr *h, ULONG Count)
{
	/* acq_rel: in the release sequence the waiter acquires; and acquires
	 * the other releasers' decrements for the final store below. */
	int64_t left = atomic_fetch_sub_explicit(&h->drain, (int64_t)Count,
						 memory_order_acq_rel) - (int64_t)Count;

	if (left == 0) {
		/* Release: pairs with the waiter's acquire load of drained.
		 * Last memory access to the object by this thread. */
		atomic_store_explicit(&h->drained, 1, memory_order_release);
		rd_futex_wake_all(&h->drained);
	}
}

void ExReleaseRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE RunRef, ULONG Count)
{
	struct rd_ca_hdr *h = rd_ca_hdr(RunRef);
	uintptr_t old;

	if (Count == 0)
		return;
	/* Release: pairs with the mark's acq_rel fetch_or in Wait. */
	old = atomic_fetch_sub_explicit(rd_ca_my_slot(h), (uintptr_t)Count * RD_UNIT,
					memory_order_release);
	if (old & RD_ACTIVE)
		rd_ca_drain_put(h, Count);
}

void ExReleaseRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	ExReleaseRundownProtectionCacheAwareEx(RunRefCacheAware, 1);
}

/* The waiter that moved OPEN -> DRAINING: mark, publish, sleep. */
static void rd_ca_drain(struct rd_ca_hdr *h)
{
	int64_t sum = 0;

	for (unsigned i = 0; i < h->nslots; i++) {
		/* acq_rel: after this no Acquire on slot i succeeds, and every
		 * Release on slot i before it happens-before us. */
		uintptr_t old = atomic_fetch_or_explicit(rd_ca_slot(h, i), RD_ACTIVE,
							 memory_order_acq_rel);
		sum += (int64_t)(intptr_t)(old & ~RD_CLOSED) / (int64_t)RD_UNIT;
	}
	/* Publish the complete sum; acq_rel pairs with rd_ca_drain_put. */
	if (atomic_fetch_add_explicit(&h->drain, sum, memory_order_acq_rel) + sum == 0)
		return;
	/* Acquire: pairs with the last Release's store in rd_ca_drain_put. */
	while (atomic_load_explicit(&h->drained, memory_order_acquire) == 0)
		rd_futex_wait(&h->drained, 0);
}

void ExWaitForRundownProtectionReleaseCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRef)
{
	struct rd_ca_hdr *h = rd_ca_hdr(RunRef);
	uint32_t s = RD_CA_OPEN;

	if (atomic_compare_exchange_strong_explicit(&h->state, &s, RD_CA_DRAINING,
						    memory_order_acq_rel,
						    memory_order_acquire)) {
		rd_ca_drain(h);
		/*
		 * seq_cst store then seq_cst load, against the extra Wait's
		 * seq_cst increment then seq_cst load below (Dekker): either we
		 * see its xwaiters and wake it, or it sees DOWN and never sleeps.
		 * The common single Wait makes no futex call here.
		 */
		atomic_store_explicit(&h->state, RD_CA_DOWN, memory_order_seq_cst);
		if (atomic_load_explicit(&h->xwaiters, memory_order_seq_cst) != 0)
			rd_futex_wake_all(&h->state);
		return;
	}
	if (s == RD_CA_DOWN)
		return; /* already run down: no-op */
	/* Another Wait is draining (undefined by the documents): wait for it. */
	atomic_fetch_add_explicit(&h->xwaiters, 1, memory_order_seq_cst);
	while (atomic_load_explicit(&h->state, memory_order_seq_cst) == RD_CA_DRAINING)
		rd_futex_wait(&h->state, RD_CA_DRAINING);
	atomic_fetch_sub_explicit(&h->xwaiters, 1, memory_order_relaxed);
}

void ExRundownCompletedCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	/* Run down on entry (documented precondition): the slots keep ACTIVE,
	 * so Acquires keep failing and Waits return at once until ReInitialize. */
	atomic_store_explicit(&rd_ca_hdr(RunRefCacheAware)->state, RD_CA_DOWN,
			      memory_order_release);
}

void ExReInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	struct rd_ca_hdr *h = rd_ca_hdr(RunRefCacheAware);

	/*
	 * On entry the object is run down: every slot has ACTIVE, no unit is
	 * outstanding, and no Acquire can succeed.  Accessors may call Acquire
	 * (and then Release) while we reopen the slots one by one, so a unit
	 * of the new cycle can be acquired on a reopened slot and released on
	 * one not reopened yet.  Two passes keep that exact:
	 *
	 * 1. Every slot := REOPEN (count 0): drops the old cycle's leftovers
	 *    (post-mark releases, already accounted in the old drain) while
	 *    still refusing Acquires.  Nothing of the new cycle exists yet.
	 * 2. Reset the drain, then clear REOPEN slot by slot with fetch_and,
	 *    which keeps any new-cycle release that landed on the slot in
	 *    between.  A Release that sees REOPEN (not ACTIVE) leaves its
	 *    count in the slot and does not touch the drain: the value its own
	 *    RMW read decides, so no state load can be stale.
	 */
	for (unsigned i = 0; i < h->nslots; i++)
		atomic_store_explicit(rd_ca_slot(h, i), RD_REOPEN, memory_order_relaxed);
	atomic_store_explicit(&h->drain, 0, memory_order_relaxed);
	atomic_store_explicit(&h->drained, 0, memory_order_relaxed);
	atomic_store_explicit(&h->state, RD_CA_OPEN, memory_order_release);
	for (unsigned i = 0; i < h->nslots; i++)
		/* Release: pairs with the acquire CAS of the next Acquire, which
		 * then also sees the stores above. */
		atomic_fetch_and_explicit(rd_ca_slot(h, i), ~RD_REOPEN, memory_order_release);
}
