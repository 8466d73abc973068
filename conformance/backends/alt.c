/*
 * conformance/backends/alt.c - librundown-alt: a second correct backend of a
 * deliberately different design, so that the conformance suite tests what
 * the documents require and not what librundown happens to do.
 *
 * Differences from librundown (impl/), all allowed by the documents:
 *   - Its own word encoding, not Windows': a zero-filled EX_RUNDOWN_REF is
 *     *not* a valid open ref (it reads as "run down").  The abi profile,
 *     which checks Windows' de facto encoding, is expected to fail here.
 *   - No per-processor slots: a cache-aware ref is the same single word,
 *     ExSizeOfRundownProtectionCacheAware() is 24 (the size is only
 *     "recommended"), and Initialize works at any buffer alignment.
 *   - Waiters sleep on a generation counter in a static table hashed by the
 *     word's address (a "parking lot"), not on the ref itself, so a
 *     releaser never touches the ref after its decrement.
 *   - ExAllocateCacheAwareRundownProtection uses calloc().
 *
 * The word w (64 bits, 8-byte aligned; one per ref of either family):
 *
 *	bit 63      OPEN   set by Initialize/ReInitialize, cleared by Wait
 *	bits 0..62  count  units granted and not yet released (< 2^62)
 *
 * State machine:
 *
 *	           Acquire[Ex] (+n)                Wait, count == 0
 *	  OPEN|c ---------------------> OPEN|c ----------------------> 0 (DOWN)
 *	    ^    <--------------------- (c >= 0)                        ^   |
 *	    |        Release[Ex] (-n)      | Wait, count > 0            |   |
 *	    |                              v                            |   |
 *	    |                           DRAINING: w = c > 0 --- last ---+   |
 *	    |                                          Release (w = 0, bump |
 *	    |                                          the generation, wake)|
 *	    +--------- ReInitialize (w = OPEN) <---- Completed (w = 0) <----+
 *
 *	- Acquire fails whenever OPEN is clear: in DRAINING, DOWN and on a
 *	  zero-filled (never initialized) word.
 *	- Wait on DOWN finds count 0 and returns at once; concurrent Waits all
 *	  sleep until w == 0 (several Waits are allowed).
 *
 * Invariants:
 *	- w == OPEN | count while open; once OPEN is clear, count only
 *	  decreases and w == 0 exactly when every unit granted before the Wait
 *	  has been released.
 *
 * Ordering (each pair is named again at both ends below):
 *	[A] A successful Acquire's CAS is an acquire RMW: it reads OPEN from
 *	    Initialize (relaxed, before publication) or ReInitialize (release
 *	    store), so the owner's setup of the object happens-before the use.
 *	[R] Every Release is a release RMW on w; the waiter's acquire load that
 *	    reads 0 reads the last RMW of a release sequence headed by every
 *	    earlier Release, so every holder's accesses happen-before the
 *	    return of Wait (the owner may then free the object).
 *	[W] Wait's fetch_and is acq_rel: no Acquire ordered after it in w's
 *	    modification order can see OPEN.
 *	[G] The last Release bumps the generation with a release RMW after its
 *	    decrement; the waiter loads the generation (acquire) *before* it
 *	    loads w.  If the waiter sees the new generation, it synchronizes
 *	    with the bump, so its load of w sees 0; if it sees the old one,
 *	    FUTEX_WAIT compares it atomically and either returns at once or is
 *	    woken by the FUTEX_WAKE after the bump.  No lost wakeup.
 *
 * Acquire/Release are lock-free, allocate nothing and are async-signal-safe
 * (a CAS loop or one fetch_sub, plus on the last release one fetch_add on
 * a static word and one futex syscall).  The generation table outlives
 * every ref, so the owner may free the ref the moment Wait returns even
 * though the last releaser is still inside Release.  Sharing a table entry
 * between refs only causes spurious wakeups, which Wait tolerates; a wrap
 * of a 32-bit generation between a waiter's load and its FUTEX_WAIT (2^32
 * last-releases on one bucket in that window) is the only way to oversleep.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rundown/rundown.h>

#define ALT_OPEN (UINT64_C(1) << 63)
#define ALT_COUNT_MAX (UINT64_C(1) << 62) /* counts stay below this */

_Static_assert(sizeof(_Atomic uint64_t) == sizeof(EX_RUNDOWN_REF), "the word fills EX_RUNDOWN_REF");

/* ---- the parking lot: one generation counter per bucket ---- */

#define ALT_BUCKETS 64u

static struct {
	_Alignas(64) _Atomic uint32_t gen;
} alt_lot[ALT_BUCKETS];

static _Atomic uint32_t *alt_gen(const _Atomic uint64_t *w)
{
	uintptr_t p = (uintptr_t)(const void *)w;

	return &alt_lot[((p >> 3) ^ (p >> 11)) % ALT_BUCKETS].gen;
}

/* Through libc's syscall() so that the inject/ shims see the futex calls. */
static void alt_futex_wait(_Atomic uint32_t *addr, uint32_t expected)
{
	syscall(SYS_futex, (void *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void alt_futex_wake_all(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, (void *)addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

/* ---- the word, common to both families ---- */

static BOOLEAN alt_acquire(_Atomic uint64_t *w, ULONG n)
{
	uint64_t old = atomic_load_explicit(w, memory_order_relaxed);

	do {
		if (!(old & ALT_OPEN))
			return FALSE;
		if ((old & ~ALT_OPEN) + n >= ALT_COUNT_MAX) /* refuse to overflow */
			return FALSE;
		/* [A] acquire on success: pairs with ReInitialize's release store. */
	} while (!atomic_compare_exchange_weak_explicit(w, &old, old + n, memory_order_acquire,
						       memory_order_relaxed));
	return TRUE;
}

static void alt_release(_Atomic uint64_t *w, ULONG n)
{
	_Atomic uint32_t *gen = alt_gen(w); /* computed before: w may die below */

	if (n == 0)
		return;
	/* [R] release: pairs with the waiter's acquire load of w == 0.  This is
	 * the last access to the ref. */
	if (atomic_fetch_sub_explicit(w, n, memory_order_release) == n) {
		/* [G] release: pairs with the waiter's acquire load of gen. */
		atomic_fetch_add_explicit(gen, 1, memory_order_release);
		alt_futex_wake_all(gen);
	}
}

static void alt_wait(_Atomic uint64_t *w)
{
	_Atomic uint32_t *gen = alt_gen(w);
	uint32_t g;

	/* [W] acq_rel: no later Acquire sees OPEN; acquires earlier Releases. */
	if ((atomic_fetch_and_explicit(w, ~ALT_OPEN, memory_order_acq_rel) & ~ALT_OPEN) == 0)
		return;
	for (;;) {
		/* [G] acquire, and before the load of w: pairs with the bump. */
		g = atomic_load_explicit(gen, memory_order_acquire);
		/* [R] acquire: pairs with every Release's fetch_sub. */
		if (atomic_load_explicit(w, memory_order_acquire) == 0)
			return;
		alt_futex_wait(gen, g); /* spurious returns are fine: loop */
	}
}

/* ---- plain family: the word is the EX_RUNDOWN_REF ---- */

static _Atomic uint64_t *alt_plain(PEX_RUNDOWN_REF RunRef)
{
	return (_Atomic uint64_t *)(void *)&RunRef->Count;
}

void ExInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	/* Before publication: the caller's hand-off orders it. */
	atomic_store_explicit(alt_plain(RunRef), ALT_OPEN, memory_order_relaxed);
}

void ExReInitializeRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	/* [A] release: pairs with the acquire CAS of the next Acquire. */
	atomic_store_explicit(alt_plain(RunRef), ALT_OPEN, memory_order_release);
}

BOOLEAN ExAcquireRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	return alt_acquire(alt_plain(RunRef), 1);
}

BOOLEAN ExAcquireRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
	return alt_acquire(alt_plain(RunRef), Count);
}

void ExReleaseRundownProtection(PEX_RUNDOWN_REF RunRef)
{
	alt_release(alt_plain(RunRef), 1);
}

void ExReleaseRundownProtectionEx(PEX_RUNDOWN_REF RunRef, ULONG Count)
{
	alt_release(alt_plain(RunRef), Count);
}

void ExWaitForRundownProtectionRelease(PEX_RUNDOWN_REF RunRef)
{
	alt_wait(alt_plain(RunRef));
}

void ExRundownCompleted(PEX_RUNDOWN_REF RunRef)
{
	/* Run down on entry (w == 0, documented precondition); keep it so. */
	atomic_store_explicit(alt_plain(RunRef), 0, memory_order_release);
}

/* ---- cache-aware family: the same word inside the caller's buffer ---- */

/*
 * Layout in a buffer [buf, buf + size) of any alignment:
 *	obj = align_up(buf, 8): { word, magic }, 16 bytes
 * so 16 + 7 bytes always suffice; nothing outside [obj, obj + 16) is
 * written.  magic tells Free an object from Allocate.
 */
struct alt_ca {
	_Atomic uint64_t word;
	uint32_t magic;
	uint32_t pool_tag; /* diagnostics only */
};

#define ALT_CA_SIZE (sizeof(struct alt_ca) + 7u) /* 23 */
#define ALT_CA_ALLOCATED 0x414c5441u              /* "ALTA" */
#define ALT_CA_INITIALIZED 0x414c5449u            /* "ALTI" */

static struct alt_ca *alt_ca(PEX_RUNDOWN_REF_CACHE_AWARE ref)
{
	uintptr_t p = (uintptr_t)(void *)ref;

	return (struct alt_ca *)((p + 7u) & ~(uintptr_t)7u);
}

SIZE_T ExSizeOfRundownProtectionCacheAware(void)
{
	return (ALT_CA_SIZE + 7u) & ~(SIZE_T)7u; /* 24 */
}

void ExInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware,
					     SIZE_T RunRefSize)
{
	struct alt_ca *o = alt_ca(RunRefCacheAware);

	if ((uintptr_t)(o + 1) > (uintptr_t)(void *)RunRefCacheAware + RunRefSize) {
		/* Undefined by the documents: refuse rather than overrun. */
		fprintf(stderr,
			"librundown-alt: ExInitializeRundownProtectionCacheAware: RunRefSize %zu "
			"is too small (need %zu)\n",
			(size_t)RunRefSize, (size_t)ALT_CA_SIZE);
		abort();
	}
	o->magic = ALT_CA_INITIALIZED;
	o->pool_tag = 0;
	atomic_store_explicit(&o->word, ALT_OPEN, memory_order_relaxed); /* unpublished */
}

PEX_RUNDOWN_REF_CACHE_AWARE ExAllocateCacheAwareRundownProtection(POOL_TYPE PoolType,
								  ULONG PoolTag)
{
	/* calloc's memory is aligned for any object: no slack needed. */
	struct alt_ca *o = calloc(1, sizeof(*o));

	(void)PoolType;
	if (o == NULL)
		return NULL;
	ExInitializeRundownProtectionCacheAware((PEX_RUNDOWN_REF_CACHE_AWARE)(void *)o,
						sizeof(*o));
	o->magic = ALT_CA_ALLOCATED;
	o->pool_tag = PoolTag;
	return (PEX_RUNDOWN_REF_CACHE_AWARE)(void *)o;
}

void ExFreeCacheAwareRundownProtection(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	struct alt_ca *o = (struct alt_ca *)(void *)RunRefCacheAware;

	if (o == NULL)
		return;
	if (o->magic != ALT_CA_ALLOCATED) {
		fprintf(stderr,
			"librundown-alt: ExFreeCacheAwareRundownProtection(%p): not from "
			"ExAllocateCacheAwareRundownProtection; not freed\n",
			(void *)RunRefCacheAware);
		return;
	}
	o->magic = 0;
	free(o);
}

BOOLEAN ExAcquireRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	return alt_acquire(&alt_ca(RunRefCacheAware)->word, 1);
}

BOOLEAN ExAcquireRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware,
					       ULONG Count)
{
	return alt_acquire(&alt_ca(RunRefCacheAware)->word, Count);
}

void ExReleaseRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	alt_release(&alt_ca(RunRefCacheAware)->word, 1);
}

void ExReleaseRundownProtectionCacheAwareEx(PEX_RUNDOWN_REF_CACHE_AWARE RunRef, ULONG Count)
{
	alt_release(&alt_ca(RunRef)->word, Count);
}

void ExWaitForRundownProtectionReleaseCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRef)
{
	alt_wait(&alt_ca(RunRef)->word);
}

void ExRundownCompletedCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	atomic_store_explicit(&alt_ca(RunRefCacheAware)->word, 0, memory_order_release);
}

void ExReInitializeRundownProtectionCacheAware(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	/* [A] release: pairs with the acquire CAS of the next Acquire. */
	atomic_store_explicit(&alt_ca(RunRefCacheAware)->word, ALT_OPEN, memory_order_release);
}
