/*
 * tests/unit/family.h - one table of operations per way of making a ref,
 * so the multi-threaded tests run unchanged on every family:
 *
 *	plain      EX_RUNDOWN_REF, ExInitializeRundownProtection
 *	ca-alloc   ExAllocateCacheAwareRundownProtection / Free
 *	ca-buffer  ExSizeOfRundownProtectionCacheAware, a caller buffer that
 *	           starts 1 byte past a 64-byte boundary, Initialize
 *
 * Tests index rd_families[] with libcheck's loop index (_i).
 */
#ifndef RUNDOWN_TESTS_FAMILY_H
#define RUNDOWN_TESTS_FAMILY_H

#include <stdlib.h>

#include <rundown/rundown.h>

struct rd_family {
	const char *name;
	void *(*make)(void);
	void (*destroy)(void *ref);
	BOOLEAN (*acquire)(void *ref);
	BOOLEAN (*acquire_ex)(void *ref, ULONG count);
	void (*release)(void *ref);
	void (*release_ex)(void *ref, ULONG count);
	void (*wait)(void *ref);
	void (*completed)(void *ref);
	void (*reinit)(void *ref);
};

/* plain */
static inline void *rd_plain_make(void)
{
	PEX_RUNDOWN_REF ref = aligned_alloc(_Alignof(EX_RUNDOWN_REF), sizeof *ref);

	if (ref != NULL)
		ExInitializeRundownProtection(ref);
	return ref;
}
static inline void rd_plain_destroy(void *ref) { free(ref); }
static inline BOOLEAN rd_plain_acquire(void *ref) { return ExAcquireRundownProtection(ref); }
static inline BOOLEAN rd_plain_acquire_ex(void *ref, ULONG n)
{
	return ExAcquireRundownProtectionEx(ref, n);
}
static inline void rd_plain_release(void *ref) { ExReleaseRundownProtection(ref); }
static inline void rd_plain_release_ex(void *ref, ULONG n) { ExReleaseRundownProtectionEx(ref, n); }
static inline void rd_plain_wait(void *ref) { ExWaitForRundownProtectionRelease(ref); }
static inline void rd_plain_completed(void *ref) { ExRundownCompleted(ref); }
static inline void rd_plain_reinit(void *ref) { ExReInitializeRundownProtection(ref); }

/* cache-aware, both ways of making one */
static inline void *rd_ca_alloc_make(void)
{
	return ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 0x54736554u /* "TesT" */);
}
static inline void rd_ca_alloc_destroy(void *ref) { ExFreeCacheAwareRundownProtection(ref); }

/* The buffer is malloc'd 64-aligned + 1; the byte before the ref holds the
 * offset back to the start of the allocation. */
static inline void *rd_ca_buffer_make(void)
{
	SIZE_T size = ExSizeOfRundownProtectionCacheAware();
	unsigned char *raw = aligned_alloc(64, ((size + 1 + 63) / 64) * 64);

	if (raw == NULL)
		return NULL;
	raw[0] = 1;
	ExInitializeRundownProtectionCacheAware((PEX_RUNDOWN_REF_CACHE_AWARE)(raw + 1), size);
	return raw + 1;
}
static inline void rd_ca_buffer_destroy(void *ref)
{
	unsigned char *p = ref;

	free(p - p[-1]);
}
static inline BOOLEAN rd_ca_acquire(void *ref) { return ExAcquireRundownProtectionCacheAware(ref); }
static inline BOOLEAN rd_ca_acquire_ex(void *ref, ULONG n)
{
	return ExAcquireRundownProtectionCacheAwareEx(ref, n);
}
static inline void rd_ca_release(void *ref) { ExReleaseRundownProtectionCacheAware(ref); }
static inline void rd_ca_release_ex(void *ref, ULONG n)
{
	ExReleaseRundownProtectionCacheAwareEx(ref, n);
}
static inline void rd_ca_wait(void *ref) { ExWaitForRundownProtectionReleaseCacheAware(ref); }
static inline void rd_ca_completed(void *ref) { ExRundownCompletedCacheAware(ref); }
static inline void rd_ca_reinit(void *ref) { ExReInitializeRundownProtectionCacheAware(ref); }

#define RD_CA_OPS                                                                       \
	.acquire = rd_ca_acquire, .acquire_ex = rd_ca_acquire_ex, .release = rd_ca_release, \
	.release_ex = rd_ca_release_ex, .wait = rd_ca_wait, .completed = rd_ca_completed,   \
	.reinit = rd_ca_reinit

static const struct rd_family rd_families[] = {
	{ .name = "plain", .make = rd_plain_make, .destroy = rd_plain_destroy,
	  .acquire = rd_plain_acquire, .acquire_ex = rd_plain_acquire_ex,
	  .release = rd_plain_release, .release_ex = rd_plain_release_ex,
	  .wait = rd_plain_wait, .completed = rd_plain_completed, .reinit = rd_plain_reinit },
	{ .name = "ca-alloc", .make = rd_ca_alloc_make, .destroy = rd_ca_alloc_destroy, RD_CA_OPS },
	{ .name = "ca-buffer", .make = rd_ca_buffer_make, .destroy = rd_ca_buffer_destroy,
	  RD_CA_OPS },
};

#define RD_NR_FAMILIES ((int)(sizeof rd_families / sizeof rd_families[0]))

#endif /* RUNDOWN_TESTS_FAMILY_H */
