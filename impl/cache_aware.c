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
 * Two paths: the atomic path described first (hdr->fast = 0, LOCK-prefixed
 * RMWs on the slots) and the rseq fast path after it (hdr->fast = 1).
 *
 * State machine, atomic path (hdr->state, slots' ACTIVE bits, hdr->drain):
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
 * Ordering (atomic path):
 *	- Acquire's fetch_add is an acquire RMW; when it grants (reads no
 *	  flag) it pairs with the release fetch_and of ReInitialize's pass 2.
 *	  A refused Acquire's add either stays in a marked (dead) slot, which
 *	  the next ReInitialize overwrites, or is undone by a Release-like
 *	  fetch_sub when it read REOPEN (rd_ca_slot_acquire).
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
 *
 * ---------------------------------------------------------------------------
 * The fast path (rseq + membarrier), hdr->fast = 1
 * ---------------------------------------------------------------------------
 * Chosen once per process by rd_cpu_init() (cpu.c), before any ref exists,
 * and recorded in each object at Initialize (hdr->fast never changes after
 * that).  Taken only if: x86-64, not a TSan build (TSan models neither rseq
 * nor membarrier), glibc registered rseq (__rseq_size >= 20; not with
 * GLIBC_TUNABLES=glibc.pthread.rseq=0), sched_getcpu is libc's own or an
 * interposer that does not change its answers (the inject/ shim under a
 * cpu= or ncpu= profile makes processor numbers up, which rseq would
 * bypass; under its other profiles the fast path runs), RUNDOWN_NO_RSEQ
 * is unset, and membarrier offers and
 * registers MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ (old kernel, seccomp:
 * no).  Otherwise every object takes the atomic path above.
 * This is Linux percpu_ref's percpu/atomic mode switch, with membarrier
 * in place of RCU (and liburcu memb's asymmetric fence).
 *
 * Encoding: slot i is written only by code running on processor i, inside
 * an rseq critical section (rseq.h): "c := cpu_id; if c < open_nslots,
 * slot[c] += v", a plain addq, no LOCK prefix.  It holds 4 * share,
 * modulo 2^64, no flag bits; shares go "negative" when a Release runs on
 * another processor than its Acquire, only the sum means anything.
 * hdr->open_nslots is nslots while the object is open and 0 from the
 * start of run-down (always 0 on the atomic path): one compare in the
 * section both bounds the slot index and checks that the object is open.
 * hdr->ovf is one shared word with the atomic path's encoding (4 * share
 * | REOPEN | ACTIVE), for threads whose processor number is >= nslots
 * (hot-added processors, small buffers) or whose rseq registration failed
 * (cpu_id < 0): two processors must never do a plain add on one word.
 *
 * State machine (hdr->state, hdr->open_nslots; no per-slot bits):
 *
 *	OPEN ----- Wait: CAS state OPEN->DRAINING; open_nslots := 0;
 *	  ^        fetch_or(ovf, ACTIVE); membarrier(PRIVATE_EXPEDITED_RSEQ);
 *	  |        sum := ovf share + every slot; drain += sum -------+
 *	  |                                                           v
 *	  |        drain == 0 (at publication, or at the last      DRAINING
 *	  |        Release, which finds open_nslots 0) <--------------+
 *	  |                                                           |
 *	  +-- ReInitialize (slots := 0, ovf := REOPEN, drain,      DOWN
 *	      drained := 0; state := OPEN; open_nslots := nslots;     |
 *	      ovf &= ~REOPEN) <----------------------------- Completed
 *
 *	Acquire, one critical section (no branch but the bound):
 *	    c := cpu_id; c < open_nslots?  else "other" (below)
 *	    slot[c] += 4 * Count          <- the commit (last instruction)
 *	Release, the same section:
 *	    c := cpu_id; c < open_nslots?  else "other"
 *	    slot[c] -= 4 * Count          <- the commit
 *	Aborted section (preemption, migration, signal, membarrier IPI):
 *	    nothing was written; run it again.
 *	"other" (c >= open_nslots), out of the section:
 *	    an atomic-path object: the atomic path above;
 *	    open_nslots == 0 (run-down started): Acquire FALSE, Release
 *	    drain_put(Count);
 *	    else (c >= nslots, or cpu_id < 0): the atomic path's
 *	    Acquire/Release on hdr->ovf, "open" being open_nslots != 0.
 *
 * Why it is exact (every granted unit is counted once in the sum, and
 * every Release subtracted once, from its slot before the sum or from
 * drain after it):
 *   F1 (Acquire vs Wait).  For every path of a fast object, run-down
 *	starts at Wait's seq_cst store open_nslots := 0 (the state CAS
 *	before it only elects the waiter): the section's compare and the
 *	ovf Acquire's acquire load both read open_nslots, so once any
 *	Acquire has failed, no later one succeeds.  The store (seq_cst, a
 *	LOCK-prefixed xchg on x86) is globally visible before membarrier
 *	starts.  membarrier(
 *	PRIVATE_EXPEDITED_RSEQ) makes every processor that runs one of our
 *	threads take an IPI whose handler runs a full barrier and aborts a
 *	critical section in progress on return to user mode; a processor
 *	that does not run one of our threads has gone through a context
 *	switch (full barrier, aborting any section in progress) since.  So
 *	when membarrier returns, a section either committed before the IPI
 *	(its store is visible: the IPI's barrier drained the store buffer,
 *	and membarrier's trailing barrier on the waiter orders the slot
 *	loads after it -- this pairs with the seq_cst fence after
 *	rd_ca_membarrier()), or was aborted and restarts, or starts after
 *	the IPI and loads open_nslots after the store: it reads 0 and
 *	writes nothing.  Hence the sum counts every Acquire that returned
 *	TRUE, and "Acquire fails once Wait has started" holds from the store
 *	on (an Acquire that read the open count earlier and commits before
 *	membarrier returns is concurrent with the start of Wait and is
 *	counted).  The processor number is read inside the section, so the
 *	slot is the running processor's at the commit (a migration in
 *	between aborts the section).
 *   F2 (Release vs Wait).  Same argument: a Release that committed to
 *	its slot did so before membarrier returned and is in the sum; one
 *	that finds open_nslots 0 is not, and goes to drain_put, exactly as
 *	the atomic path's post-mark Release.  A unit granted in this cycle
 *	is outstanding until its Release, so state cannot be DOWN then.
 *   F3 (protected accesses; x86-64 is TSO).  The "memory" clobber keeps
 *	the compiler from moving accesses across a section.  A holder's
 *	accesses before Release cannot pass the committing store (load-
 *	store and store-store order are kept), and the owner sees that
 *	store through the sum (F1) or through drain/drained (acq_rel RMW,
 *	release store; paired with Wait's acq_rel publication or acquire
 *	load of drained) before Wait returns.  After Acquire, the holder's
 *	accesses follow the section's load of open_nslots that read it
 *	nonzero (loads are not reordered with later loads or stores): they
 *	see what the owner did before its release store of it (F5).  A holder's load
 *	may be satisfied before the Acquire's store leaves the store buffer
 *	(store-load reordering): harmless, the owner can only reuse the
 *	protected data after Wait returns, which needs this holder's
 *	Release store, which comes after that load.
 *   F4 (signals, async-signal safety).  A signal delivered while the IP
 *	is in [start, commit) aborts the section before the handler runs;
 *	the handler may run its own Acquire/Release (its section installs
 *	its own descriptor and completes), and the interrupted code resumes
 *	at its abort handler, retries, and stores its descriptor again.  No
 *	call, no lock, no allocation on the fast path.
 *   F5 (ReInitialize).  It runs after Wait returned (or Completed): no
 *	section of the old cycle can commit any more (F1), and none of the
 *	new cycle before it sees open_nslots nonzero.  Its slot resets come
 *	before its release store of open_nslots; a section that loads it
 *	then reads its slot (TSO: in order), so every new-cycle add starts
 *	from 0.  ovf is an atomic-path slot and is reopened in the same two
 *	passes, its Acquire checking open_nslots (acquire load) before its
 *	RMW (which sees REOPEN until the last pass).
 *   F6 (ovf).  Exactly the atomic path's argument, for one slot; Wait marks
 *	it (acq_rel fetch_or) before membarrier.
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
#include "impl/hot.h"
#include "impl/rseq.h"

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
	atomic_store_explicit(&h->ovf, 0, memory_order_relaxed);
	atomic_store_explicit(&h->drain, 0, memory_order_relaxed);
	atomic_store_explicit(&h->drained, 0, memory_order_relaxed);
	/* Release: the resets above are visible to whoever sees OPEN (F5). */
	atomic_store_explicit(&h->state, RD_CA_OPEN, memory_order_release);
	/* The fast path opens here (F5); an atomic-path object never does. */
	atomic_store_explicit(&h->open_nslots, h->fast ? h->nslots : 0, memory_order_release);
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
	h->stride_shift = stride == RD_CA_LINE ? 6u : 3u; /* a shift, not a multiply */
	h->slots_off = (uint32_t)(slots - (uintptr_t)h);
	h->nslots = (uint32_t)((end - slots) / stride);
	if (h->nslots > RD_CPU_MAX)
		h->nslots = RD_CPU_MAX;
	h->alloc_magic = 0;
	h->pool_tag = 0;
	h->pool_type = 0;
	/* The path for this object's life.  Compact objects (8-byte slots)
	 * take the atomic path: the fast path's slots are 64 bytes apart. */
	h->fast = (uint32_t)(rd_ca_fast && stride == RD_CA_LINE);
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

/* The atomic path's Release on one slot word. */
static inline void rd_ca_slot_release(struct rd_ca_hdr *h, _Atomic uintptr_t *slot, ULONG Count)
{
	/* Release: pairs with the mark's acq_rel fetch_or in Wait. */
	uintptr_t old = atomic_fetch_sub_explicit(slot, (uintptr_t)Count * RD_UNIT,
						  memory_order_release);

	if (old & RD_ACTIVE)
		rd_ca_drain_put(h, Count);
}

/* A refused Acquire's add that read REOPEN: take it back as a Release.
 * Returns FALSE, so that the caller tail-calls it (no stack frame). */
__attribute__((noinline, cold)) static BOOLEAN rd_ca_acquire_undo(struct rd_ca_hdr *h,
								  _Atomic uintptr_t *slot,
								  uintptr_t add)
{
	rd_ca_slot_release(h, slot, (ULONG)(add / RD_UNIT));
	return FALSE;
}

/*
 * The atomic path's Acquire on one slot word (its own processor's slot; on
 * the fast path, the ovf word): one fetch_add, as percpu counters do, not
 * a load + CAS loop.
 *
 * Wait moves state to DRAINING before it marks any slot, and marks the
 * slots one by one.  Checking state first makes run-down visible to an
 * Acquire as soon as any Acquire has seen it: a FALSE from a marked slot
 * (the fetch_add below is an acquire, pairing with the mark's acq_rel
 * fetch_or, which follows the state CAS in Wait) happens-before every later
 * Acquire's state load, which then reads DRAINING, even if that Acquire's
 * own slot is not marked yet.  The state word shares the header line that
 * every Acquire reads anyway.
 *
 * The add is speculative; what the fetch_add read decides:
 *	no flag:  granted, and counted exactly like a granted CAS.
 *	ACTIVE:   the mark came first, so the add is not in the sum and the
 *	          slot is dead until ReInitialize's pass 1 overwrites it (the
 *	          add precedes that store in the slot's modification order,
 *	          since it read ACTIVE): FALSE, and leave the add there.
 *	REOPEN:   pass 2 keeps counts, so the add must go: undo it with a
 *	          Release, which also covers a new cycle's mark landing
 *	          between the add and the undo (the add is then in that
 *	          cycle's sum and the undo, seeing ACTIVE, goes to the drain).
 */
static inline BOOLEAN rd_ca_slot_add(struct rd_ca_hdr *h, _Atomic uintptr_t *slot, uintptr_t add)
{
	/* Acquire: pairs with ReInitialize's release fetch_and (pass 2) and
	 * with the mark's acq_rel fetch_or. */
	uintptr_t old = atomic_fetch_add_explicit(slot, add, memory_order_acquire);

	if (__builtin_expect((old & RD_CLOSED) == 0, 1))
		return TRUE;
	if ((old & RD_CLOSED) == RD_REOPEN && add != 0)
		return rd_ca_acquire_undo(h, slot, add);
	return FALSE;
}

static inline BOOLEAN rd_ca_slot_acquire(struct rd_ca_hdr *h, _Atomic uintptr_t *slot,
					 uintptr_t add)
{
	if (atomic_load_explicit(&h->state, memory_order_acquire) != RD_CA_OPEN)
		return FALSE;
	return rd_ca_slot_add(h, slot, add);
}

#if RD_HAVE_RSEQ_CS
/* The object is on the atomic path, or run-down has started, or this
 * processor has no slot of the fast path (ovf, F6).  Defined after the
 * atomic path. */
static inline BOOLEAN rd_ca_acquire_other(struct rd_ca_hdr *h, uintptr_t add);
static inline void rd_ca_release_other(struct rd_ca_hdr *h, ULONG Count);

/*
 * The fast Acquire: F1, F3, F4 at the top of the file.  One section and
 * one conditional branch (rseq.h); "other" (processor >= open_nslots) is
 * an object on the atomic path, run-down started, a processor without a
 * slot, or a thread without rseq: rd_ca_acquire_other() tells which.
 */
static inline __attribute__((always_inline)) BOOLEAN rd_ca_fast_acquire(struct rd_ca_hdr *h,
									uintptr_t add)
{
	for (;;) {
		enum rd_rseq_result r = rd_rseq_slot_add(h, add);

		if (__builtin_expect(r == RD_RSEQ_COMMITTED, 1))
			return TRUE;
		if (r == RD_RSEQ_OTHER)
			return rd_ca_acquire_other(h, add);
		/* aborted (preempted, migrated, signal, membarrier IPI): the
		 * section wrote nothing; run it again. */
	}
}

/* The fast Release: F2, F3 at the top of the file. */
static inline __attribute__((always_inline)) void rd_ca_fast_release(struct rd_ca_hdr *h,
								     ULONG Count)
{
	uintptr_t sub = (uintptr_t)0 - (uintptr_t)Count * RD_UNIT;

	for (;;) {
		enum rd_rseq_result r = rd_rseq_slot_add(h, sub);

		if (__builtin_expect(r == RD_RSEQ_COMMITTED, 1))
			return;
		if (r == RD_RSEQ_OTHER) {
			rd_ca_release_other(h, Count);
			return;
		}
	}
}
#endif

/* This processor's slot when the rseq area says which (the common case)
 * and it is below nslots; else NULL. */
static inline _Atomic uintptr_t *rd_ca_my_slot_rseq(struct rd_ca_hdr *h)
{
	ptrdiff_t o = rd_cpu_rseq_cpu_id_off;

	if (__builtin_expect(o != 0, 1)) {
		/* rseq cpu_id: see rd_cpu_current(); unsigned, so that a
		 * negative (unregistered) value fails the bound check. */
		uint32_t cpu = (uint32_t) * (volatile const int32_t *)((char *)__builtin_thread_pointer() + o);

		if (__builtin_expect(cpu < h->nslots, 1))
			return rd_ca_slot(h, cpu);
	}
	return NULL;
}

/* The atomic path through sched_getcpu() (and modulo nslots), out of line
 * and tail-called: the call would give the common path a stack frame. */
__attribute__((noinline, cold)) static BOOLEAN rd_ca_atomic_acquire_slow(struct rd_ca_hdr *h,
									 uintptr_t add)
{
	return rd_ca_slot_acquire(h, rd_ca_my_slot(h), add);
}

__attribute__((noinline, cold)) static void rd_ca_atomic_release_slow(struct rd_ca_hdr *h,
								      ULONG Count)
{
	rd_ca_slot_release(h, rd_ca_my_slot(h), Count);
}

static inline BOOLEAN rd_ca_atomic_acquire(struct rd_ca_hdr *h, uintptr_t add)
{
	_Atomic uintptr_t *slot = rd_ca_my_slot_rseq(h);

	if (__builtin_expect(slot == NULL, 0))
		return rd_ca_atomic_acquire_slow(h, add);
	return rd_ca_slot_acquire(h, slot, add);
}

static inline void rd_ca_atomic_release(struct rd_ca_hdr *h, ULONG Count)
{
	_Atomic uintptr_t *slot = rd_ca_my_slot_rseq(h);

	if (__builtin_expect(slot == NULL, 0)) {
		rd_ca_atomic_release_slow(h, Count);
		return;
	}
	rd_ca_slot_release(h, slot, Count);
}

#if RD_HAVE_RSEQ_CS
/*
 * Tail-called by the fast path (so that neither the atomic path's code nor
 * its call of sched_getcpu() give the fast path a stack frame) when the
 * section found its processor >= open_nslots:
 *	- the object is on the atomic path (open_nslots is always 0);
 *	- run-down has started (open_nslots 0): Acquire fails; a Release was
 *	  not in Wait's sum, it goes to the drain (F2);
 *	- this processor has no slot, or this thread no rseq: ovf (F6), where
 *	  "open" is also open_nslots != 0, not state: run-down starts for
 *	  every path of a fast object at one store (F1).
 */
__attribute__((noinline)) static BOOLEAN rd_ca_fast_acquire_other(struct rd_ca_hdr *h,
								 uintptr_t add)
{
	/* Acquire: pairs with ReInitialize's release store of open_nslots. */
	if (atomic_load_explicit(&h->open_nslots, memory_order_acquire) == 0)
		return FALSE;
	return rd_ca_slot_add(h, &h->ovf, add);
}

__attribute__((noinline)) static void rd_ca_fast_release_other(struct rd_ca_hdr *h, ULONG Count)
{
	if (atomic_load_explicit(&h->open_nslots, memory_order_relaxed) == 0)
		rd_ca_drain_put(h, Count); /* F2 */
	else
		rd_ca_slot_release(h, &h->ovf, Count); /* F6 */
}

/* Inline: a process without the fast path (every object on the atomic
 * path) pays only the section's first instructions and one branch. */
static inline __attribute__((always_inline)) BOOLEAN rd_ca_acquire_other(struct rd_ca_hdr *h,
									 uintptr_t add)
{
	if (h->fast)
		return rd_ca_fast_acquire_other(h, add);
	return rd_ca_atomic_acquire(h, add);
}

static inline __attribute__((always_inline)) void rd_ca_release_other(struct rd_ca_hdr *h,
								      ULONG Count)
{
	if (h->fast)
		rd_ca_fast_release_other(h, Count);
	else
		rd_ca_atomic_release(h, Count);
}
#endif

/*
 * The entry points.  Each exported routine has its own copy of the path
 * (always_inline), not a tail call into the Ex form: on the fast path the
 * call itself is most of the cost, and a second jump is measurable.
 */
static inline __attribute__((always_inline)) BOOLEAN rd_ca_acquire(PEX_RUNDOWN_REF_CACHE_AWARE ref,
								   ULONG Count)
{
#if RD_HAVE_RSEQ_CS
	return rd_ca_fast_acquire(rd_ca_hdr(ref), (uintptr_t)Count * RD_UNIT);
#else
	return rd_ca_atomic_acquire(rd_ca_hdr(ref), (uintptr_t)Count * RD_UNIT);
#endif
}

static inline __attribute__((always_inline)) void rd_ca_release(PEX_RUNDOWN_REF_CACHE_AWARE ref,
								ULONG Count)
{
#if RD_HAVE_RSEQ_CS
	rd_ca_fast_release(rd_ca_hdr(ref), Count);
#else
	rd_ca_atomic_release(rd_ca_hdr(ref), Count);
#endif
}

RD_HOT BOOLEAN ExAcquireRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware,
					       ULONG Count)
{
	return rd_ca_acquire(RunRefCacheAware, Count);
}

RD_HOT BOOLEAN ExAcquireRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	return rd_ca_acquire(RunRefCacheAware, 1);
}

RD_HOT void ExReleaseRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE RunRef, ULONG Count)
{
	if (Count == 0)
		return;
	rd_ca_release(RunRef, Count);
}

RD_HOT void ExReleaseRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	rd_ca_release(RunRefCacheAware, 1);
}

/*
 * Fast path: Wait's collection (F3).  Called after the state CAS
 * OPEN -> DRAINING.  Returns the exact sum of the shares.
 */
__attribute__((noinline)) static int64_t rd_ca_fast_collect(struct rd_ca_hdr *h)
{
	uintptr_t old;
	int64_t sum;

	/* Run-down starts here for every path of a fast object (F1): no
	 * section that loads open_nslots after this store adds to a slot, no
	 * ovf Acquire that loads it succeeds.  seq_cst: before the mark below
	 * and before membarrier. */
	atomic_store_explicit(&h->open_nslots, 0, memory_order_seq_cst);
	/* acq_rel: as the atomic path's mark of a slot (F6). */
	old = atomic_fetch_or_explicit(&h->ovf, RD_ACTIVE, memory_order_acq_rel);
	sum = (int64_t)(intptr_t)(old & ~RD_CLOSED) / (int64_t)RD_UNIT;

	/* F3: every section that found the object open has committed or been
	 * aborted, and every commit is visible, when this returns. */
	rd_ca_membarrier();
	/* membarrier ends with a full barrier on this processor; say so to
	 * the compiler and the C11 model: the loads below come after it. */
	atomic_thread_fence(memory_order_seq_cst);
	for (unsigned i = 0; i < h->nslots; i++)
		sum += (int64_t)(intptr_t)atomic_load_explicit(rd_ca_slot(h, i),
							       memory_order_relaxed) /
		       (int64_t)RD_UNIT;
	return sum;
}

/* The waiter that moved OPEN -> DRAINING: mark, publish, sleep. */
static void rd_ca_drain(struct rd_ca_hdr *h)
{
	int64_t sum = 0;

	if (h->fast) {
		sum = rd_ca_fast_collect(h);
	} else {
		for (unsigned i = 0; i < h->nslots; i++) {
			/* acq_rel: after this no Acquire on slot i succeeds, and
			 * every Release on slot i before it happens-before us. */
			uintptr_t old = atomic_fetch_or_explicit(rd_ca_slot(h, i), RD_ACTIVE,
								 memory_order_acq_rel);
			sum += (int64_t)(intptr_t)(old & ~RD_CLOSED) / (int64_t)RD_UNIT;
		}
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
	struct rd_ca_hdr *h = rd_ca_hdr(RunRefCacheAware);

	/* Run down on entry (documented precondition): the slots keep ACTIVE
	 * (open_nslots stays 0 on the fast path), so Acquires keep failing and
	 * Waits return at once until ReInitialize. */
	atomic_store_explicit(&h->open_nslots, 0, memory_order_relaxed);
	atomic_store_explicit(&h->state, RD_CA_DOWN, memory_order_release);
}

void ExReInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	struct rd_ca_hdr *h = rd_ca_hdr(RunRefCacheAware);

	if (h->fast) {
		/*
		 * F5: no section can commit while state is not OPEN, and none
		 * of the old cycle is still running (F3), so the slots are
		 * ours until the release store of OPEN, which orders these
		 * resets before every later section's add.  The ovf word is
		 * an atomic-path slot: reopened in two passes, as below.
		 */
		for (unsigned i = 0; i < h->nslots; i++)
			atomic_store_explicit(rd_ca_slot(h, i), 0, memory_order_relaxed);
		atomic_store_explicit(&h->ovf, RD_REOPEN, memory_order_relaxed);
		atomic_store_explicit(&h->drain, 0, memory_order_relaxed);
		atomic_store_explicit(&h->drained, 0, memory_order_relaxed);
		atomic_store_explicit(&h->state, RD_CA_OPEN, memory_order_release);
		/* Release: pairs with the sections' load of open_nslots (F5)
		 * and the ovf Acquire's acquire load of it. */
		atomic_store_explicit(&h->open_nslots, h->nslots, memory_order_release);
		/* Release: pairs with the acquire RMW of the next ovf Acquire. */
		atomic_fetch_and_explicit(&h->ovf, ~RD_REOPEN, memory_order_release);
		return;
	}

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
