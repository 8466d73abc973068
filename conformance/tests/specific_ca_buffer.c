/*
 * conformance/tests/specific_ca_buffer.c - the caller-supplied buffer of
 * the cache-aware family: ExSizeOfRundownProtectionCacheAware and
 * ExInitializeRundownProtectionCacheAware (CA-SIZE-*, CA-INIT-002/003/007).
 *
 * Buffers come from conform_guard_alloc: canary bytes around them and a
 * PROT_NONE page right after, so a write outside [buf, buf + Size) either
 * faults (SIGNALED) or changes a canary (FAIL).  Size is asked again before
 * every buffer and never compared between calls (UNDEF-013).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/tests/specific_util.h"

#define NEEDS_BUF_LIFE                                                                \
	(CONFORM_NEEDS_CA_BUFFER | RUNDOWN_BIT(ExAcquireRundownProtectionCacheAware) |   \
	 RUNDOWN_BIT(ExAcquireRundownProtectionCacheAwareEx) |                           \
	 RUNDOWN_BIT(ExReleaseRundownProtectionCacheAware) |                             \
	 RUNDOWN_BIT(ExReleaseRundownProtectionCacheAwareEx) |                           \
	 RUNDOWN_BIT(ExWaitForRundownProtectionReleaseCacheAware) |                      \
	 RUNDOWN_BIT(ExRundownCompletedCacheAware) |                                     \
	 RUNDOWN_BIT(ExReInitializeRundownProtectionCacheAware))

static SIZE_T rd_size(const char *clause)
{
	SIZE_T size = B->ExSizeOfRundownProtectionCacheAware();

	if (size == 0)
		conform_fail(clause, "ExSizeOfRundownProtectionCacheAware returned 0; required a nonzero size");
	if (size > (64u << 20))
		conform_unresolved("ExSizeOfRundownProtectionCacheAware returned %zu: too large to test",
				   (size_t)size);
	return size;
}

static void rd_describe(char *out, size_t len, unsigned misalign)
{
	if (misalign == CONFORM_GUARD_TIGHT)
		snprintf(out, len, "buffer ending at a guard page");
	else
		snprintf(out, len, "buffer at 64*k+%u", misalign);
}

CONFORM_TEST(ca_size_001_nonzero, "CA-SIZE-001", RUNDOWN_BIT(ExSizeOfRundownProtectionCacheAware), 0)
{
	SIZE_T size = B->ExSizeOfRundownProtectionCacheAware();

	conform_assert(size != 0, "CA-SIZE-001",
		       "ExSizeOfRundownProtectionCacheAware returned 0; required the nonzero size of an object");
}
END_TEST

/* One exact-size buffer per misalignment 0..63 and one ending at the guard
 * page; Initialize and a full lifecycle on several CPUs; then no byte
 * outside [buf, buf + Size) may have changed. */
CONFORM_TEST(ca_size_002_exact_size_any_alignment, "CA-SIZE-002", NEEDS_BUF_LIFE, CONFORM_CONCURRENT)
{
	char what[96];

	for (unsigned m = 0; m <= 64; m++) {
		unsigned misalign = m == 64 ? CONFORM_GUARD_TIGHT : m;
		SIZE_T size = rd_size("CA-SIZE-002");
		void *buf = conform_guard_alloc(size, misalign);

		rd_describe(what, sizeof(what), misalign);
		B->ExInitializeRundownProtectionCacheAware(buf, size);
		if (!conform_guard_canary_ok(buf))
			conform_fail("CA-SIZE-002", "%s of exactly Size = %zu bytes: Initialize wrote outside "
				     "[buf, buf+Size); required to stay inside", what, (size_t)size);
		conform_ca_lifecycle(buf, "CA-SIZE-002", what);
		if (!conform_guard_canary_ok(buf))
			conform_fail("CA-SIZE-002", "%s of exactly Size = %zu bytes: bytes outside [buf, buf+Size) "
				     "changed during the lifecycle; required every routine to stay inside",
				     what, (size_t)size);
		conform_guard_free(buf);
	}
	/* Exact-size heap block: an ASan build of the backend reports overflows. */
	{
		SIZE_T size = rd_size("CA-SIZE-002");
		void *buf = malloc(size);

		if (buf == NULL)
			conform_unresolved("out of memory");
		memset(buf, 0xA5, size);
		B->ExInitializeRundownProtectionCacheAware(buf, size);
		conform_ca_lifecycle(buf, "CA-SIZE-002", "malloc'd buffer of exactly Size bytes");
		free(buf);
	}
}
END_TEST

/* Two objects back to back in one block, driven into different states. */
CONFORM_TEST(ca_size_003_adjacent_buffers_independent, "CA-SIZE-003", NEEDS_BUF_LIFE, CONFORM_CONCURRENT)
{
	static const unsigned misaligns[] = {0, 1, 8, 63, CONFORM_GUARD_TIGHT};
	char what[128];

	for (unsigned k = 0; k < sizeof(misaligns) / sizeof(misaligns[0]); k++) {
		for (unsigned offset = 0; offset < 4; offset++) {
			SIZE_T size = rd_size("CA-SIZE-003");
			unsigned char *block = conform_guard_alloc(2 * size, misaligns[k]);
			void *objs[2] = {block, block + size};

			rd_describe(what, sizeof(what), misaligns[k]);
			strncat(what, " holding two objects back to back", sizeof(what) - strlen(what) - 1);
			/* Second first: an overrun of the first's Initialize is not repaired. */
			B->ExInitializeRundownProtectionCacheAware(objs[1], size);
			B->ExInitializeRundownProtectionCacheAware(objs[0], size);
			conform_independent(&conform_ca, objs, 2, offset, "CA-SIZE-003", what);
			if (!conform_guard_canary_ok(block))
				conform_fail("CA-SIZE-003", "%s: bytes outside both objects changed; required each "
					     "object to stay inside its own Size bytes", what);
			conform_guard_free(block);
		}
	}
}
END_TEST

CONFORM_TEST(ca_init_002_size_from_size_routine, "CA-INIT-002", NEEDS_BUF_LIFE, CONFORM_CONCURRENT)
{
	/* The value Size returned, passed with a buffer of exactly that many
	 * bytes, makes a working object: several fresh buffers, heap and
	 * guarded, each through a lifecycle. */
	for (unsigned k = 0; k < 4; k++) {
		SIZE_T size = rd_size("CA-INIT-002");
		void *buf = (k & 1) ? conform_guard_alloc(size, k == 1 ? CONFORM_GUARD_TIGHT : 0) : malloc(size);

		if (buf == NULL)
			conform_unresolved("out of memory");
		B->ExInitializeRundownProtectionCacheAware(buf, size);
		conform_ca_lifecycle(buf, "CA-INIT-002",
				     (k & 1) ? "guarded buffer of RunRefSize bytes" : "malloc'd buffer of RunRefSize bytes");
		if (k & 1) {
			if (!conform_guard_canary_ok(buf))
				conform_fail("CA-INIT-002", "bytes outside the RunRefSize-byte buffer changed");
			conform_guard_free(buf);
		} else {
			free(buf);
		}
	}
}
END_TEST

/* Initialize must not read the buffer's old contents. */
CONFORM_TEST(ca_init_003_any_previous_contents, "CA-INIT-003", NEEDS_BUF_LIFE, CONFORM_CONCURRENT)
{
	uint64_t rng = conform_seed();
	const char *fills[] = {"0xA5 bytes", "0xFF bytes", "0x00 bytes", "random bytes",
			       "the bytes of a run-down object"};
	SIZE_T size = rd_size("CA-INIT-003");
	unsigned char *buf = conform_guard_alloc(size, 0);

	for (unsigned k = 0; k < sizeof(fills) / sizeof(fills[0]); k++) {
		struct conform_waiter w;
		char what[96];

		snprintf(what, sizeof(what), "buffer pre-filled with %s", fills[k]);
		switch (k) {
		case 0: memset(buf, 0xA5, size); break;
		case 1: memset(buf, 0xFF, size); break;
		case 2: memset(buf, 0x00, size); break;
		case 3:
			for (SIZE_T i = 0; i < size; i++)
				buf[i] = (unsigned char)conform_rand(&rng);
			break;
		default: break; /* what case 3's object left: run down by the lifecycle below */
		}
		B->ExInitializeRundownProtectionCacheAware((void *)buf, size);
		if (!B->ExAcquireRundownProtectionCacheAware((void *)buf))
			conform_fail("CA-INIT-003", "%s: Acquire after Initialize returned FALSE; required TRUE", what);
		conform_waiter_start(&w, &conform_ca, buf);
		if (!conform_rundown_visible(&conform_ca, buf, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail("CA-INIT-003", "%s: Acquire still TRUE 2 s after Wait was called", what);
		if (conform_waiter_returned(&w))
			conform_fail("CA-INIT-003", "%s: Wait returned while a unit was held; required to block", what);
		B->ExReleaseRundownProtectionCacheAware((void *)buf);
		if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail("CA-INIT-003", "%s: Wait did not return within 2 s after the only unit was "
				     "released (Initialize kept a count from the old contents?)", what);
		if (k == 3) /* leave a run-down, completed object behind for case 4 */
			B->ExRundownCompletedCacheAware((void *)buf);
	}
	if (!conform_guard_canary_ok(buf))
		conform_fail("CA-INIT-003", "bytes outside the buffer changed");
	conform_guard_free(buf);
}
END_TEST

static void rd_buffer_cycle(SIZE_T size, bool contended)
{
	void *buf = malloc(size);
	struct conform_waiter w;

	if (buf == NULL)
		conform_unresolved("out of memory");
	B->ExInitializeRundownProtectionCacheAware(buf, size);
	if (!B->ExAcquireRundownProtectionCacheAware(buf))
		conform_fail("CA-INIT-007", "Acquire after Initialize returned FALSE; required TRUE");
	if (!contended) {
		B->ExReleaseRundownProtectionCacheAware(buf);
		B->ExWaitForRundownProtectionReleaseCacheAware(buf);
	} else {
		conform_waiter_start(&w, &conform_ca, buf);
		if (!conform_rundown_visible(&conform_ca, buf, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail("CA-INIT-007", "Acquire still TRUE 2 s after Wait was called");
		B->ExReleaseRundownProtectionCacheAware(buf);
		if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail("CA-INIT-007", "Wait did not return within 2 s after the last release");
	}
	free(buf);
}

/* After Wait the caller frees its buffer; nothing else may remain. */
CONFORM_TEST(ca_init_007_caller_frees_buffer_no_leak, "CA-INIT-007",
	     CONFORM_NEEDS_CA_BUFFER | RUNDOWN_BIT(ExAcquireRundownProtectionCacheAware) |
		     RUNDOWN_BIT(ExReleaseRundownProtectionCacheAware) |
		     RUNDOWN_BIT(ExWaitForRundownProtectionReleaseCacheAware),
	     CONFORM_CONCURRENT)
{
	SIZE_T size = rd_size("CA-INIT-007");
	unsigned long n = CONFORM_LEAK_CYCLES(conform_iterations(50000) > 400000 ? 400000 : conform_iterations(50000));
	long before, after;
	int leak = conform_leak_check();

	if (leak == 1)
		conform_unresolved("LeakSanitizer reports leaks before the test: cannot attribute new ones");
	if (leak == 0) {
		for (unsigned k = 0; k < 64; k++)
			rd_buffer_cycle(size, (k & 1) != 0);
		conform_assert(conform_leak_check() == 0, "CA-INIT-007",
			       "LeakSanitizer found leaks after 64 Size+Initialize lifecycles (buffer freed by the "
			       "caller after Wait); required no resource beyond the buffer");
		return;
	}
	/* No LSan: a backend that allocates per object and never frees grows
	 * the resident set by at least one heap chunk (32 bytes) per cycle,
	 * over 1.5 MiB in 50000 cycles; a correct one reuses the same block
	 * (growth seen: under 100 KiB). */
	for (unsigned k = 0; k < 256; k++)
		rd_buffer_cycle(size, (k & 63) == 0);
	before = conform_rss_kb();
	for (unsigned long k = 0; k < n; k++)
		rd_buffer_cycle(size, (k % 4096) == 0);
	after = conform_rss_kb();
	if (before < 0 || after < 0)
		conform_unresolved("cannot read /proc/self/statm");
	conform_assert(after - before < CONFORM_LEAK_LIMIT_KB, "CA-INIT-007",
		       "memory in use (resident set; heap under TSan) grew by %ld KiB over %lu Size+Initialize lifecycles whose buffers the "
		       "caller freed; required no resource beyond the buffer", after - before, n);
}
END_TEST
