/*
 * impl/plain.c - plain run-down protection (EX_RUNDOWN_REF), one word.
 *
 * Encoding (Windows' de facto one, so the word is ABI-compatible):
 *
 *	word = 2 * count | ACTIVE          ACTIVE = bit 0 = run-down started
 *
 * State machine of the word w (count = w >> 1):
 *
 *	              Acquire[Ex] (+2n)             Wait, count == 0
 *	   OPEN ------------------------> OPEN ------------------------> DOWN
 *	  w = 2c  <------------------------ w = 2c                        w = 1
 *	   ^          Release[Ex] (-2n)      |                             ^ |
 *	   |                                 | Wait, count > 0             | |
 *	   |                                 v                             | |
 *	   |                              DRAINING -- last Release --------+ |
 *	   |                              w = 2c|1   (w becomes 1, wake)     |
 *	   |                                                                 |
 *	   +--------- ReInitialize (w = 0) <---- Completed (w = 1) <---------+
 *
 *	Acquire fails in DRAINING and DOWN (bit 0 set); it never changes w then.
 *	Wait in DOWN is a no-op (w == 1 already), also after a contended Wait:
 *	nothing in the word points to a waiter, so there is no stale pointer.
 *	Two concurrent Waits both sleep until w == 1 (the documents leave this
 *	undefined; it costs nothing to allow).
 *
 * Invariants:
 *	- count == units granted and not yet released (mod 2^63).
 *	- once ACTIVE is set, count only decreases, and w == 1 exactly when
 *	  every unit granted before the Wait has been released.
 *
 * Ordering:
 *	- A successful Acquire is an acquire RMW (the CAS); every Release is a
 *	  release RMW (the fetch_sub).  The waiter's acquire load that reads 1
 *	  reads the last RMW of the release sequence that every earlier
 *	  Release heads, so each holder's accesses happen-before Wait returns.
 *	- Wait's fetch_or is acq_rel: after it, no Acquire can succeed (their
 *	  CAS would have to read a value without bit 0).
 *
 * Blocking: the waiter sleeps on the futex at the word's low 32 bits (x86-64
 * and every LP64 Linux target we build for is little-endian; the check
 * below says so).  The Release that moves w to exactly 1 wakes it.  That
 * fetch_sub is the releaser's last memory access to the ref; the wake
 * syscall after it may target freed memory, which is harmless (futex.h).
 * A waiter that read w != 1 and sleeps on its low 32 bits cannot miss the
 * change to 1: FUTEX_WAIT re-reads the low 32 bits atomically, and they
 * differ from 1 unless the count is a nonzero multiple of 2^31; in that
 * case the waiter yields instead of sleeping.
 *
 * All of Acquire/Release(Ex) are lock-free, never allocate and are
 * async-signal-safe (a CAS loop or one fetch_sub, plus a futex wake).
 */
#include "config.h"

#include <stdatomic.h>
#include <sched.h>
#include <stdint.h>

#include <rundown/ex_rundown_ref.h>

#include "impl/futex.h"
#include "impl/hot.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the futex on the low half of the word assumes little-endian"
#endif

#define RD_ACTIVE ((uintptr_t)1)
#define RD_UNIT ((uintptr_t)2)

_Static_assert(sizeof(_Atomic uintptr_t) == sizeof(EX_RUNDOWN_REF),
	       "the word fills EX_RUNDOWN_REF");

static inline _Atomic uintptr_t *rd_word(PEX_RUNDOWN_REF ref)
{
	return (_Atomic uintptr_t *)(void *)&ref->Count;
}

static inline const void *rd_futex_addr(PEX_RUNDOWN_REF ref)
{
	return (const void *)&ref->Count; /* low 32 bits on little-endian */
}

void ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	/* Before publication: no ordering needed. */
	atomic_store_explicit(rd_word(RunRef), 0, memory_order_relaxed);
}

void ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	/*
	 * Release: the owner's teardown of the old object and setup of the new
	 * one happen-before an Acquire that reads 0 (its CAS is acquire).
	 */
	atomic_store_explicit(rd_word(RunRef), 0, memory_order_release);
}

/* Each exported form has its own copy (always_inline), not a tail jump
 * into the Ex form: the jump is measurable next to a CAS. */
static inline __attribute__((always_inline)) BOOLEAN rd_acquire(PEX_RUNDOWN_REF RunRef,
								ULONG Count)
{
	_Atomic uintptr_t *w = rd_word(RunRef);
	uintptr_t add = (uintptr_t)Count * RD_UNIT;
	uintptr_t old = atomic_load_explicit(w, memory_order_relaxed);

	do {
		if (old & RD_ACTIVE)
			return FALSE;
		if (old > UINTPTR_MAX - add) /* would wrap the count: refuse */
			return FALSE;
		/* Acquire on success: pairs with the release of ReInitialize and
		 * with Wait's acq_rel fetch_or (a CAS after it reads bit 0). */
	} while (!atomic_compare_exchange_weak_explicit(w, &old, old + add,
						       memory_order_acquire,
						       memory_order_relaxed));
	return TRUE;
}

static inline __attribute__((always_inline)) void rd_release(PEX_RUNDOWN_REF RunRef,
							     ULONG Count)
{
	uintptr_t sub = (uintptr_t)Count * RD_UNIT;
	/* Release: pairs with the waiter's acquire load of w == 1. */
	uintptr_t old = atomic_fetch_sub_explicit(rd_word(RunRef), sub, memory_order_release);

	if (old - sub == RD_ACTIVE)
		rd_futex_wake_all(rd_futex_addr(RunRef)); /* no memory access */
}

RD_HOT BOOLEAN ExAcquireRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
	return rd_acquire(RunRef, Count);
}

RD_HOT BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	return rd_acquire(RunRef, 1);
}

RD_HOT void ExReleaseRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
	if (Count == 0)
		return;
	rd_release(RunRef, Count);
}

RD_HOT void ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	rd_release(RunRef, 1);
}

void ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef)
{
	_Atomic uintptr_t *w = rd_word(RunRef);
	uintptr_t cur;

	/* acq_rel: stops every later Acquire; acquires the releases so far. */
	cur = atomic_fetch_or_explicit(w, RD_ACTIVE, memory_order_acq_rel) | RD_ACTIVE;
	while (cur != RD_ACTIVE) {
		if ((uint32_t)cur != (uint32_t)RD_ACTIVE)
			rd_futex_wait(rd_futex_addr(RunRef), (uint32_t)cur);
		else
			sched_yield(); /* count is a multiple of 2^31: see above */
		/* Acquire: pairs with the last Release's fetch_sub. */
		cur = atomic_load_explicit(w, memory_order_acquire);
	}
}

void ExRundownCompleted(PEX_RUNDOWN_REF RunRef)
{
	/* The ref is run down (w == 1) on entry; keep it so (documented state). */
	atomic_store_explicit(rd_word(RunRef), RD_ACTIVE, memory_order_release);
}
