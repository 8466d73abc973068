/*
 * impl/cache_aware.h - layout of a cache-aware ref inside the caller's
 * buffer, shared by cache_aware.c (the routines) and cache_aware_alloc.c
 * (Allocate/Free).  Private to librundown.
 *
 * Layout, for a buffer [buf, buf + size) of any alignment:
 *
 *	hdr   = align_up(buf, 8)                    struct rd_ca_hdr
 *	slots = align_up(hdr + sizeof *hdr, 64)     nslots slots, 64 bytes apart
 *	nslots = (buf + size - slots) / 64
 *
 * so no slot shares a cache line with another slot or with the header, and
 * nothing is ever written outside the buffer whatever its alignment: the
 * size from ExSizeOfRundownProtectionCacheAware() includes both alignment
 * slacks.  A buffer too small for one 64-byte slot gets a compact layout
 * (8-byte slots right after the header): correct, only slower.
 */
#ifndef RUNDOWN_IMPL_CACHE_AWARE_H
#define RUNDOWN_IMPL_CACHE_AWARE_H

#include <stdatomic.h>
#include <stdint.h>

#include <rundown/types.h>

#define RD_CA_LINE 64u
#define RD_CA_MAGIC 0x52444341u       /* "RDCA": initialized */
#define RD_CA_ALLOC_MAGIC 0x52444141u /* "RDAA": from Allocate */

enum rd_ca_state {
	RD_CA_OPEN = 0,     /* acquires may succeed */
	RD_CA_DRAINING = 1, /* a Wait has started and not returned */
	RD_CA_DOWN = 2,     /* run down (Wait returned, or Completed) */
};

struct rd_ca_hdr {
	uint32_t magic;           /* RD_CA_MAGIC once initialized */
	uint32_t nslots;          /* >= 1 */
	uint32_t stride_shift;    /* bytes between slots: 64 (6), or 8 if compact (3) */
	uint32_t slots_off;       /* slot 0 = (char *)hdr + slots_off */
	_Atomic uint32_t state;   /* enum rd_ca_state; futex for extra Waits */
	_Atomic uint32_t drained; /* 0 -> 1 when the drain reaches zero; futex */
	_Atomic int64_t drain;    /* units outstanding after the slots were marked */
	uint32_t alloc_magic;     /* RD_CA_ALLOC_MAGIC if Allocate made it */
	uint32_t pool_tag;        /* diagnostics only */
	uint32_t pool_type;       /* diagnostics only */
	_Atomic uint32_t xwaiters; /* Waits sleeping behind the draining one */
	uint32_t fast;            /* 1: rseq + membarrier fast path (set at Initialize) */
	_Atomic uint32_t open_nslots; /* fast path: nslots while open, 0 from the
				   * start of run-down; always 0 on the atomic
				   * path (rseq.h: one compare does it all) */
	_Atomic uintptr_t ovf;    /* fast path: the atomic slot of processors >= nslots */
};

static inline struct rd_ca_hdr *rd_ca_hdr(PEX_RUNDOWN_REF_CACHE_AWARE ref)
{
	uintptr_t p = (uintptr_t)(void *)ref;

	return (struct rd_ca_hdr *)((p + 7u) & ~(uintptr_t)7u);
}

static inline _Atomic uintptr_t *rd_ca_slot(struct rd_ca_hdr *h, unsigned i)
{
	return (_Atomic uintptr_t *)(void *)((char *)h + h->slots_off +
					     ((uintptr_t)i << h->stride_shift));
}

/* Size of a buffer with one 64-byte slot per configured processor. */
SIZE_T rd_ca_size(void) __attribute__((visibility("hidden")));

#endif /* RUNDOWN_IMPL_CACHE_AWARE_H */
