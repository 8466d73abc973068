/*
 * conformance/mutants/mutant.c - the mutant base: a small, correct backend,
 * compiled once as the control (librundown-mutant-base) and once per mutant
 * with -DMUTANT_<NAME>, which plants one realistic bug (MUTANTS.tsv lists
 * them).  Written for readability of the hooks, not for speed; independent
 * of librundown's source.
 *
 * Plain family: Windows' encoding, one word w = 2 * count | ACTIVE.
 *
 *	OPEN (w = 2c) --Wait--> DRAINING (w = 2c|1) --last Release--> DOWN (w = 1)
 *	DOWN --Completed--> DOWN --ReInitialize--> OPEN (w = 0)
 *
 *	Acquire fails when ACTIVE is set.  Waiters sleep on a generation
 *	counter in a static table hashed by the ref's address; the Release
 *	that makes w == 1 bumps it and wakes.  Pairings:
 *	[PA] Acquire's CAS (acquire) <- ReInitialize's store (release).
 *	[PR] Release's fetch_sub (release) -> Wait's load of w == 1 (acquire).
 *	[PG] the last Release's bump of gen (release) -> Wait's load of gen
 *	     (acquire), which Wait does *before* it loads w: seeing the new
 *	     generation implies seeing w == 1; seeing the old one, FUTEX_WAIT
 *	     compares it and cannot miss the wake.
 *
 * Cache-aware family: per-processor slots.
 *
 *	buffer [buf, buf + size), any alignment:
 *	  hdr   = align_up(buf, 8)                 struct mt_hdr
 *	  slots = align_up(hdr + sizeof *hdr, 64)  nslots words, 64 bytes apart
 *	Size = sizeof hdr + 7 + 63 + ncpu * 64 (both alignment slacks).
 *
 *	A slot word has the plain encoding but holds a *share*: Acquire adds to
 *	the slot of the processor it runs on (cpu % nslots), Release subtracts
 *	from its own processor's slot, so shares wrap below zero and only their
 *	sum means anything.  Wait (state OPEN -> DRAINING, by CAS) sets ACTIVE
 *	on every slot with fetch_or, summing the shares it replaced, then
 *	publishes pending += sum.  A Release whose fetch_sub sees ACTIVE was not
 *	in the sum: it subtracts from pending instead.  pending starts at 0,
 *	only Releases lower it and only the publication raises it, so it is 0
 *	exactly once: at publication (nothing held) or at the last Release,
 *	which sets hdr->done and wakes.  Wait then sets DOWN; a concurrent
 *	Wait sleeps on state until then.  Pairings:
 *	[CA] Acquire's CAS (acquire) <- ReInitialize's slot stores (release).
 *	[CM] a Release's slot fetch_sub (release) -> the mark's fetch_or
 *	     (acq_rel), or, after the mark, its pending fetch_sub (acq_rel) ->
 *	     the publication's fetch_add (acq_rel) or done (release/acquire).
 *
 * Acquire/Release allocate nothing and take no lock (async-signal-safe).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rundown/rundown.h>

/* Memory orders: the relaxed-ordering mutant weakens the pairing ones. */
#ifdef MUTANT_RELAXED_ORDERING
#define MO_ACQ memory_order_relaxed
#define MO_REL memory_order_relaxed
#define MO_AR memory_order_relaxed
#else
#define MO_ACQ memory_order_acquire
#define MO_REL memory_order_release
#define MO_AR memory_order_acq_rel
#endif


#define MT_ACTIVE ((uintptr_t)1)
#define MT_UNIT ((uintptr_t)2)
/* A cache-aware slot word: 4 * count | REOPEN | ACTIVE. */
#define MT_CA_REOPEN ((uintptr_t)2)
#define MT_CA_UNIT ((uintptr_t)4)
#define MT_CA_CLOSED (MT_ACTIVE | MT_CA_REOPEN)

/* ------------------------------------------------------------------ */
/* futex and the parking lot                                           */
/* ------------------------------------------------------------------ */

static void mt_futex_wait(_Atomic uint32_t *addr, uint32_t expected)
{
	syscall(SYS_futex, (void *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void mt_futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, (void *)addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

static struct {
	_Alignas(64) _Atomic uint32_t gen;
} mt_lot[32];

static _Atomic uint32_t *mt_gen(const void *ref)
{
	return &mt_lot[((uintptr_t)ref >> 3) % 32u].gen;
}

/* ------------------------------------------------------------------ */
/* plain family                                                        */
/* ------------------------------------------------------------------ */

static _Atomic uintptr_t *mt_w(PEX_RUNDOWN_REF r)
{
	return (_Atomic uintptr_t *)(void *)&r->Count;
}

/* A lock around Acquire (acquire-mutex): blocking where it must not. */
#ifdef MUTANT_ACQUIRE_MUTEX
static pthread_mutex_t mt_mutex = PTHREAD_MUTEX_INITIALIZER;
#define MT_LOCK() pthread_mutex_lock(&mt_mutex)
#define MT_UNLOCK() pthread_mutex_unlock(&mt_mutex)
#else
#define MT_LOCK() ((void)0)
#define MT_UNLOCK() ((void)0)
#endif

/* Whether Acquire refuses a word (acquire-after-wait: only when drained). */
#ifdef MUTANT_ACQUIRE_AFTER_WAIT
#define MT_REFUSES(w) ((w) == MT_ACTIVE)
#else
#define MT_REFUSES(w) ((w) & MT_ACTIVE)
#endif

void ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	atomic_store_explicit(mt_w(RunRef), 0, memory_order_relaxed);
#ifdef MUTANT_PLAIN_INIT_OVERRUN
	/* "The ref and its waiter word": the word after the caller's ref. */
	memset((char *)RunRef + sizeof(*RunRef), 0, sizeof(ULONG_PTR));
#endif
}

void ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
#ifndef MUTANT_REINIT_NOOP
	atomic_store_explicit(mt_w(RunRef), 0, MO_REL); /* [PA] */
#else
	(void)RunRef; /* "already initialized once": nothing to do */
#endif
}

BOOLEAN ExAcquireRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
	_Atomic uintptr_t *w = mt_w(RunRef);
	uintptr_t add = (uintptr_t)Count * MT_UNIT;
	uintptr_t old;

#ifdef MUTANT_ACQUIREEX_IGNORES_COUNT
	add = MT_UNIT;
#endif
#ifdef MUTANT_PLAIN_COUNT_WRAP
	add = (uintptr_t)(uint16_t)Count * MT_UNIT; /* a USHORT count field */
#endif
#ifdef MUTANT_ACQUIREEX_PARTIAL
	/* Optimistic add, then look: the failure path forgets to take it back. */
	return (atomic_fetch_add_explicit(w, add, MO_ACQ) & MT_ACTIVE) ? FALSE : TRUE;
#endif
	MT_LOCK();
	old = atomic_load_explicit(w, memory_order_relaxed);
	do {
		if (MT_REFUSES(old))
			break;
	} while (!atomic_compare_exchange_weak_explicit(w, &old, old + add, MO_ACQ, /* [PA] */
						       memory_order_relaxed));
	MT_UNLOCK();
	return MT_REFUSES(old) ? FALSE : TRUE;
}

BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	return ExAcquireRundownProtectionEx(RunRef, 1);
}

static void mt_release(PEX_RUNDOWN_REF RunRef, uintptr_t units, int may_wake)
{
	_Atomic uint32_t *gen = mt_gen(RunRef);
	uintptr_t now;

	if (units == 0)
		return;
	now = atomic_fetch_sub_explicit(mt_w(RunRef), units * MT_UNIT, MO_REL) - /* [PR] */
	      units * MT_UNIT;
#ifdef MUTANT_EARLY_WAKEUP
	if (now & MT_ACTIVE) { /* "something changed": wake on every release */
#else
	if (now == MT_ACTIVE) {
#endif
		if (!may_wake)
			return;
		atomic_fetch_add_explicit(gen, 1, MO_REL); /* [PG] */
		mt_futex_wake(gen);
	}
}

void ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	mt_release(RunRef, 1, 1);
}

void ExReleaseRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
#ifdef MUTANT_RELEASEEX_IGNORES_COUNT
	(void)Count;
	mt_release(RunRef, 1, 1);
#elif defined(MUTANT_RELEASE_WAKES_NOBODY_EX)
	mt_release(RunRef, Count, 0);
#else
	mt_release(RunRef, Count, 1);
#endif
}

void ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef)
{
	_Atomic uintptr_t *w = mt_w(RunRef);
	_Atomic uint32_t *gen = mt_gen(RunRef);
	uintptr_t old;
	uint32_t g;

#ifdef MUTANT_WAIT_NO_RUNDOWN_FLAG_ON_EMPTY
	if (atomic_load_explicit(w, MO_ACQ) == 0)
		return; /* "nothing held: nothing to do" */
#endif
	old = atomic_fetch_or_explicit(w, MT_ACTIVE, MO_AR);
#ifdef MUTANT_WAIT_NO_BLOCK
	return;
#endif
#ifdef MUTANT_DOUBLE_WAIT_HANG
	if (old & MT_ACTIVE) { /* "another Wait ran: wait for its wakeup" */
		g = atomic_load_explicit(gen, memory_order_acquire);
		while (atomic_load_explicit(gen, memory_order_acquire) == g)
			mt_futex_wait(gen, g);
		return;
	}
#endif
	(void)old;
	for (;;) {
#ifndef MUTANT_LOST_WAKEUP
		g = atomic_load_explicit(gen, MO_ACQ); /* [PG] before the check */
#endif
		if (atomic_load_explicit(w, MO_ACQ) == MT_ACTIVE) /* [PR] */
			break;
		sched_yield(); /* give the holders a chance before sleeping */
#ifdef MUTANT_LOST_WAKEUP
		g = atomic_load_explicit(gen, MO_ACQ); /* after the check: too late */
#endif
		mt_futex_wait(gen, g);
#if defined(MUTANT_WAIT_SPURIOUS) || defined(MUTANT_EARLY_WAKEUP)
		break; /* "woken, so done" */
#endif
	}
#ifdef MUTANT_ACQUIRE_AFTER_RUNDOWN
	atomic_store_explicit(w, 0, memory_order_release); /* "drained: tidy up" */
#endif
}

void ExRundownCompleted(PEX_RUNDOWN_REF RunRef)
{
#ifdef MUTANT_COMPLETED_REENABLES
	atomic_store_explicit(mt_w(RunRef), 0, memory_order_release);
#else
	atomic_store_explicit(mt_w(RunRef), MT_ACTIVE, memory_order_release);
#endif
}

/* ------------------------------------------------------------------ */
/* cache-aware family                                                  */
/* ------------------------------------------------------------------ */

#define MT_LINE 64u
#define MT_MAGIC 0x4d55544eu /* "MUTN" */

enum { MT_OPEN, MT_DRAINING, MT_DOWN };

struct mt_owner { /* Allocate's bookkeeping, a second allocation */
	POOL_TYPE pool_type;
	ULONG pool_tag;
	void *block;
};

struct mt_hdr {
	uint32_t magic;
	uint32_t nslots;
	_Atomic uint32_t state; /* futex for concurrent Waits */
	_Atomic uint32_t done;  /* 0 -> 1 at the last Release; futex */
	_Atomic int64_t pending;
	struct mt_owner *owner; /* non-NULL if Allocate made it */
};

static struct mt_hdr *mt_hdr(PEX_RUNDOWN_REF_CACHE_AWARE r)
{
	return (struct mt_hdr *)(((uintptr_t)(void *)r + 7u) & ~(uintptr_t)7u);
}

static uintptr_t mt_slots(struct mt_hdr *h)
{
	return ((uintptr_t)(h + 1) + MT_LINE - 1u) & ~(uintptr_t)(MT_LINE - 1u);
}

static _Atomic uintptr_t *mt_slot(struct mt_hdr *h, unsigned i)
{
	return (_Atomic uintptr_t *)(mt_slots(h) + (uintptr_t)i * MT_LINE);
}

static unsigned mt_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n < 1 ? 1u : n > 4096 ? 4096u : (unsigned)n;
}

static unsigned mt_cpu(struct mt_hdr *h)
{
	int cpu = sched_getcpu();

	if (cpu < 0)
		cpu = 0;
#ifdef MUTANT_CA_SLOT_NO_MODULO
	(void)h;
	return (unsigned)cpu; /* "cpu < ncpu == nslots" */
#else
	return (unsigned)cpu % h->nslots;
#endif
}

SIZE_T ExSizeOfRundownProtectionCacheAware(void)
{
#ifdef MUTANT_SIZE_NO_SLACK
	return sizeof(struct mt_hdr) + (SIZE_T)mt_ncpu() * MT_LINE;
#else
	return sizeof(struct mt_hdr) + 7u + (MT_LINE - 1u) + (SIZE_T)mt_ncpu() * MT_LINE;
#endif
}

/*
 * Two passes, as the reference: every slot := REOPEN (closed, count 0)
 * first, then reset the drain and reopen the slots one by one.  An
 * Acquire succeeds only on a reopened slot, so the Release of a unit of
 * the new cycle finds its slot (maybe another one: migration) REOPEN or
 * open, never still ACTIVE from the old cycle, where it would go to the
 * old drain and be lost when the slot is reset.
 */
static void mt_reset(struct mt_hdr *h, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		atomic_store_explicit(mt_slot(h, i), MT_CA_REOPEN, memory_order_relaxed);
	atomic_store_explicit(&h->pending, 0, memory_order_relaxed);
#ifndef MUTANT_CA_REINIT_STALE_DONE
	atomic_store_explicit(&h->done, 0, memory_order_relaxed);
#endif
	atomic_store_explicit(&h->state, MT_OPEN, MO_REL);
	for (unsigned i = 0; i < n; i++)
		atomic_fetch_and_explicit(mt_slot(h, i), ~MT_CA_REOPEN, MO_REL); /* [CA] */
}

void ExInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware,
					     SIZE_T RunRefSize)
{
	struct mt_hdr *h = mt_hdr(RunRefCacheAware);
	uintptr_t end = (uintptr_t)(void *)RunRefCacheAware + RunRefSize;
	uintptr_t fit = mt_slots(h) < end ? (end - mt_slots(h)) / MT_LINE : 0;

	if (fit == 0) {
		fprintf(stderr, "mutant: ExInitializeRundownProtectionCacheAware: RunRefSize %zu "
				"too small\n", (size_t)RunRefSize);
		abort();
	}
	h->magic = MT_MAGIC;
	h->owner = NULL;
#ifdef MUTANT_SIZE_NO_SLACK
	h->nslots = mt_ncpu(); /* "RunRefSize came from our Size" */
#else
	h->nslots = fit < mt_ncpu() ? (uint32_t)fit : mt_ncpu();
#endif
	atomic_store_explicit(&h->done, 0, memory_order_relaxed);
#ifdef MUTANT_INIT_OVERRUN
	memset((void *)mt_slots(h), 0, ((size_t)h->nslots + 1u) * MT_LINE);
#endif
	mt_reset(h, h->nslots);
}

PEX_RUNDOWN_REF_CACHE_AWARE ExAllocateCacheAwareRundownProtection(POOL_TYPE PoolType,
								  ULONG PoolTag)
{
	SIZE_T size = ExSizeOfRundownProtectionCacheAware();
	struct mt_owner *o = malloc(sizeof(*o));
	void *block;

#ifndef MUTANT_ALLOC_NO_NULL_CHECK
	if (o == NULL)
		return NULL;
#endif
	block = malloc(size);
#ifndef MUTANT_ALLOC_NO_NULL_CHECK
	if (block == NULL) {
#ifndef MUTANT_ALLOC_LEAK
		free(o);
#endif
		return NULL;
	}
#endif
	ExInitializeRundownProtectionCacheAware(block, size);
	o->pool_type = PoolType;
	o->pool_tag = PoolTag;
	o->block = block;
	mt_hdr(block)->owner = o;
	return block;
}

void ExFreeCacheAwareRundownProtection(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
#ifdef MUTANT_FREE_LEAK
	(void)RunRefCacheAware; /* "the pool is torn down with the driver" */
#else
	struct mt_hdr *h;

	if (RunRefCacheAware == NULL)
		return;
	h = mt_hdr(RunRefCacheAware);
	if (h->magic != MT_MAGIC || h->owner == NULL || h->owner->block != RunRefCacheAware)
		return; /* not from Allocate: undefined, leave it alone */
	h->magic = 0;
	free(h->owner);
	free(RunRefCacheAware);
#endif
}

BOOLEAN ExAcquireRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware,
					       ULONG Count)
{
	struct mt_hdr *h = mt_hdr(RunRefCacheAware);
	_Atomic uintptr_t *s = mt_slot(h, mt_cpu(h));
	uintptr_t add = (uintptr_t)Count * MT_CA_UNIT;
	uintptr_t old;

#ifdef MUTANT_ACQUIREEX_IGNORES_COUNT
	add = MT_CA_UNIT;
#endif
	old = atomic_load_explicit(s, memory_order_relaxed);
	do {
		if (old & MT_CA_CLOSED)
			return FALSE;
	} while (!atomic_compare_exchange_weak_explicit(s, &old, old + add, MO_ACQ, /* [CA] */
						       memory_order_relaxed));
	return TRUE;
}

BOOLEAN ExAcquireRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	return ExAcquireRundownProtectionCacheAwareEx(RunRefCacheAware, 1);
}

void ExReleaseRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE RunRef, ULONG Count)
{
	struct mt_hdr *h = mt_hdr(RunRef);
	_Atomic uintptr_t *s = mt_slot(h, mt_cpu(h));
#ifdef MUTANT_RELEASEEX_IGNORES_COUNT
	uintptr_t sub = MT_CA_UNIT;
#else
	uintptr_t sub = (uintptr_t)Count * MT_CA_UNIT;
#endif
	uintptr_t old;

	if (Count == 0)
		return;
#ifdef MUTANT_CA_RELEASE_CLAMP
	/* "never let a slot go negative" */
	old = atomic_load_explicit(s, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(
		s, &old, old < sub ? (old & MT_CA_CLOSED) : old - sub, MO_REL, memory_order_relaxed))
		;
#else
	old = atomic_fetch_sub_explicit(s, sub, MO_REL); /* [CM] */
#endif
	if (!(old & MT_ACTIVE))
		return;
	/* After the mark: account in pending.  [CM] */
#ifdef MUTANT_RELEASEEX_IGNORES_COUNT
	if (atomic_fetch_sub_explicit(&h->pending, 1, MO_AR) == 1) {
#else
	if (atomic_fetch_sub_explicit(&h->pending, (int64_t)Count, MO_AR) == (int64_t)Count) {
#endif
		atomic_store_explicit(&h->done, 1, MO_REL); /* last access to *h */
		mt_futex_wake(&h->done);
	}
}

void ExReleaseRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	ExReleaseRundownProtectionCacheAwareEx(RunRefCacheAware, 1);
}

/* The Wait that moved OPEN -> DRAINING: mark every slot, publish, sleep. */
static void mt_drain(struct mt_hdr *h)
{
	int64_t sum = 0;
#ifdef MUTANT_CA_WAIT_ONE_SLOT
	unsigned me = mt_cpu(h);
#endif

	for (unsigned i = 0; i < h->nslots; i++) {
		uintptr_t old = atomic_fetch_or_explicit(mt_slot(h, i), MT_ACTIVE, MO_AR);
		int64_t share = (int64_t)(old & ~MT_CA_CLOSED) / (int64_t)MT_CA_UNIT;

#ifdef MUTANT_CA_WAIT_ONE_SLOT
		if (i != me) /* "the others are someone else's business" */
			continue;
#endif
#ifdef MUTANT_CA_PARTIAL_SUM
		atomic_fetch_add_explicit(&h->pending, share, MO_AR); /* publish as we go */
#else
		sum += share;
#endif
	}
#ifdef MUTANT_WAIT_NO_BLOCK
	return;
#endif
	if (atomic_fetch_add_explicit(&h->pending, sum, MO_AR) + sum == 0) /* [CM] */
		return;
	while (atomic_load_explicit(&h->done, MO_ACQ) == 0) { /* [CM] */
		mt_futex_wait(&h->done, 0);
#ifdef MUTANT_WAIT_SPURIOUS
		break;
#endif
	}
}

void ExWaitForRundownProtectionReleaseCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRef)
{
	struct mt_hdr *h = mt_hdr(RunRef);
	uint32_t s = MT_OPEN;

	if (atomic_compare_exchange_strong_explicit(&h->state, &s, MT_DRAINING,
						    memory_order_acq_rel, memory_order_acquire)) {
		mt_drain(h);
		atomic_store_explicit(&h->state, MT_DOWN, memory_order_release);
		mt_futex_wake(&h->state);
		return;
	}
	while (s == MT_DRAINING) { /* another Wait drains: wait for it */
		mt_futex_wait(&h->state, MT_DRAINING);
		s = atomic_load_explicit(&h->state, memory_order_acquire);
	}
}

void ExRundownCompletedCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	struct mt_hdr *h = mt_hdr(RunRefCacheAware);

#ifdef MUTANT_COMPLETED_REENABLES
	mt_reset(h, h->nslots); /* "completed: ready for the next object" */
#else
	atomic_store_explicit(&h->state, MT_DOWN, memory_order_release);
#endif
}

void ExReInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
#ifdef MUTANT_REINIT_NOOP
	(void)RunRefCacheAware;
#elif defined(MUTANT_REINIT_ONE_SLOT)
	mt_reset(mt_hdr(RunRefCacheAware), 1); /* "slot 0 is the header's" */
#else
	struct mt_hdr *h = mt_hdr(RunRefCacheAware);

	mt_reset(h, h->nslots);
#endif
}
