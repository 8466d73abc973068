/*
 * conformance/tests/specific_plain_storage.c - the caller's EX_RUNDOWN_REF
 * storage (PLAIN-INIT-002/003/004, PLAIN-LIFE-004): any 8-aligned place,
 * no write outside the 8 bytes, any previous contents, refs side by side
 * independent.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/tests/specific_util.h"

#define NEEDS_PLAIN_LIFE                                                               \
	(CONFORM_NEEDS_PLAIN | RUNDOWN_BIT(ExAcquireRundownProtectionEx) |                \
	 RUNDOWN_BIT(ExReleaseRundownProtectionEx) | RUNDOWN_BIT(ExRundownCompleted) |    \
	 RUNDOWN_BIT(ExReInitializeRundownProtection))

#define RD_AREA 256
#define RD_GUARD 0x5A

/* A full lifecycle with a contended Wait on the ref at r. */
static void rd_plain_lifecycle(PEX_RUNDOWN_REF r, const char *clause, const char *what)
{
	struct conform_waiter w;

	memset(r, 0xA5, sizeof(*r));
	B->ExInitializeRundownProtection(r);
	if (!B->ExAcquireRundownProtection(r) || !B->ExAcquireRundownProtectionEx(r, 3))
		conform_fail(clause, "%s: Acquire after Initialize returned FALSE; required TRUE", what);
	B->ExReleaseRundownProtectionEx(r, 2);
	conform_waiter_start(&w, &conform_plain, r);
	if (!conform_rundown_visible(&conform_plain, r, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail(clause, "%s: Acquire still TRUE 2 s after Wait was called", what);
	if (conform_waiter_returned(&w))
		conform_fail(clause, "%s: Wait returned while 2 units were held; required to block", what);
	B->ExReleaseRundownProtection(r);
	B->ExReleaseRundownProtection(r);
	if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail(clause, "%s: Wait did not return within 2 s of the last release", what);
	if (B->ExAcquireRundownProtection(r))
		conform_fail(clause, "%s: Acquire after Wait returned TRUE; required FALSE", what);
	B->ExRundownCompleted(r);
	B->ExReInitializeRundownProtection(r);
	if (!B->ExAcquireRundownProtection(r))
		conform_fail(clause, "%s: Acquire after ReInitialize returned FALSE; required TRUE", what);
	B->ExReleaseRundownProtection(r);
	conform_waiter_start(&w, &conform_plain, r);
	if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail(clause, "%s: Wait with nothing held did not return within 2 s", what);
}

/* The ref at area + off, every other byte of area a guard. */
static void rd_placed(unsigned char *area, size_t off, const char *clause, const char *where)
{
	PEX_RUNDOWN_REF r = (PEX_RUNDOWN_REF)(void *)(area + off);
	char what[128];

	snprintf(what, sizeof(what), "ref %s at an address %zu mod 16, %zu mod 64", where,
		 (size_t)((uintptr_t)r % 16), (size_t)((uintptr_t)r % 64));
	memset(area, RD_GUARD, RD_AREA);
	rd_plain_lifecycle(r, clause, what);
	for (size_t i = 0; i < RD_AREA; i++)
		if ((i < off || i >= off + sizeof(EX_RUNDOWN_REF)) && area[i] != RD_GUARD)
			conform_fail(clause, "%s: byte %+ld from the ref changed (0x%02x, was 0x%02x); required "
				     "the routines to write only the 8-byte ref", what, (long)i - (long)off,
				     area[i], RD_GUARD);
}

static _Alignas(64) unsigned char rd_static_area[RD_AREA];

static const size_t rd_offsets[] = {8, 24, 40, 72, 128, 200};

static void rd_everywhere(const char *clause)
{
	_Alignas(64) unsigned char stack_area[RD_AREA];
	unsigned char *heap_area = aligned_alloc(64, RD_AREA);
	struct {
		uint64_t before;
		EX_RUNDOWN_REF ref;
		uint64_t after;
	} *s;

	if (heap_area == NULL)
		conform_unresolved("out of memory");
	for (size_t k = 0; k < sizeof(rd_offsets) / sizeof(rd_offsets[0]); k++) {
		rd_placed(stack_area, rd_offsets[k], clause, "on the stack");
		rd_placed(heap_area, rd_offsets[k], clause, "on the heap");
		rd_placed(rd_static_area, rd_offsets[k], clause, "in static storage");
	}
	/* inside a struct between guard words, the struct 8 mod 16 */
	s = (void *)(heap_area + 8 + 64);
	s->before = 0x0123456789abcdefull;
	s->after = 0xfedcba9876543210ull;
	rd_plain_lifecycle(&s->ref, clause, "ref inside a struct between guard words");
	conform_assert(s->before == 0x0123456789abcdefull && s->after == 0xfedcba9876543210ull, clause,
		       "ref inside a struct: the neighbouring fields changed; required untouched");
	free(heap_area);
}

CONFORM_TEST(plain_init_002_eight_byte_alignment_suffices, "PLAIN-INIT-002", NEEDS_PLAIN_LIFE, CONFORM_CONCURRENT)
{
	rd_everywhere("PLAIN-INIT-002");
}
END_TEST

static void rd_plain_cycle(bool contended)
{
	PEX_RUNDOWN_REF r = malloc(sizeof(*r));
	struct conform_waiter w;

	if (r == NULL)
		conform_unresolved("out of memory");
	B->ExInitializeRundownProtection(r);
	if (!B->ExAcquireRundownProtection(r))
		conform_fail("PLAIN-INIT-003", "Acquire after Initialize returned FALSE; required TRUE");
	if (contended) {
		conform_waiter_start(&w, &conform_plain, r);
		if (!conform_rundown_visible(&conform_plain, r, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail("PLAIN-INIT-003", "Acquire still TRUE 2 s after Wait was called");
		B->ExReleaseRundownProtection(r);
		if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail("PLAIN-INIT-003", "Wait did not return within 2 s of the last release");
	} else {
		B->ExReleaseRundownProtection(r);
		B->ExWaitForRundownProtectionRelease(r);
	}
	B->ExRundownCompleted(r);
	free(r);
}

/* Writes confined to the ref (guards), and no resource beyond it. */
CONFORM_TEST(plain_init_003_confined_to_ref, "PLAIN-INIT-003", NEEDS_PLAIN_LIFE, CONFORM_CONCURRENT)
{
	unsigned long n = CONFORM_LEAK_CYCLES(conform_iterations(50000) > 400000 ? 400000 : conform_iterations(50000));
	long before, after;
	int leak;

	rd_everywhere("PLAIN-INIT-003");
	leak = conform_leak_check();
	if (leak == 1)
		conform_unresolved("LeakSanitizer reports leaks before the test: cannot attribute new ones");
	if (leak == 0) {
		for (unsigned k = 0; k < 64; k++)
			rd_plain_cycle((k & 1) != 0);
		conform_assert(conform_leak_check() == 0, "PLAIN-INIT-003",
			       "LeakSanitizer found leaks after 64 plain lifecycles (refs freed after Wait); "
			       "required no resource beyond the ref");
		return;
	}
	for (unsigned k = 0; k < 256; k++)
		rd_plain_cycle((k & 63) == 0);
	before = conform_rss_kb();
	for (unsigned long k = 0; k < n; k++)
		rd_plain_cycle((k % 4096) == 0);
	after = conform_rss_kb();
	if (before < 0 || after < 0)
		conform_unresolved("cannot read /proc/self/statm");
	conform_assert(after - before < CONFORM_LEAK_LIMIT_KB, "PLAIN-INIT-003",
		       "memory in use (resident set; heap under TSan) grew by %ld KiB over %lu plain lifecycles; required no resource beyond "
		       "the ref", after - before, n);
}
END_TEST

/* Initialize ignores the old contents. */
CONFORM_TEST(plain_init_004_any_previous_contents, "PLAIN-INIT-004", NEEDS_PLAIN_LIFE, CONFORM_CONCURRENT)
{
	static const uint64_t fills[] = {0xA5A5A5A5A5A5A5A5ull, ~0ull, 1, 3, 0x8000000000000001ull, 0};
	uint64_t rng = conform_seed();

	for (unsigned k = 0; k <= sizeof(fills) / sizeof(fills[0]); k++) {
		PEX_RUNDOWN_REF r = aligned_alloc(8, sizeof(*r));
		uint64_t fill = k < sizeof(fills) / sizeof(fills[0]) ? fills[k] : conform_rand(&rng);
		struct conform_waiter w;

		if (r == NULL)
			conform_unresolved("out of memory");
		memcpy(r, &fill, sizeof(fill));
		B->ExInitializeRundownProtection(r);
		if (!B->ExAcquireRundownProtection(r))
			conform_fail("PLAIN-INIT-004", "storage pre-filled with 0x%016llx: Acquire after Initialize "
				     "returned FALSE; required TRUE", (unsigned long long)fill);
		conform_waiter_start(&w, &conform_plain, r);
		if (!conform_rundown_visible(&conform_plain, r, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail("PLAIN-INIT-004", "storage pre-filled with 0x%016llx: Acquire still TRUE 2 s after "
				     "Wait", (unsigned long long)fill);
		if (conform_waiter_returned(&w))
			conform_fail("PLAIN-INIT-004", "storage pre-filled with 0x%016llx: Wait returned while a unit "
				     "was held; required to block", (unsigned long long)fill);
		B->ExReleaseRundownProtection(r);
		if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail("PLAIN-INIT-004", "storage pre-filled with 0x%016llx: Wait did not return within "
				     "2 s after the only unit was released", (unsigned long long)fill);
		free(r);
	}
}
END_TEST

/* Refs side by side in one array, in mixed states. */
CONFORM_TEST(plain_life_004_adjacent_refs_independent, "PLAIN-LIFE-004", NEEDS_PLAIN_LIFE, CONFORM_CONCURRENT)
{
	enum { N = 8 };
	struct {
		unsigned char before[64];
		EX_RUNDOWN_REF refs[N];
		unsigned char after[64];
	} *a = aligned_alloc(64, sizeof(*a));
	void *objs[N];

	if (a == NULL)
		conform_unresolved("out of memory");
	for (unsigned round = 0; round < 4; round++) {
		memset(a, RD_GUARD, sizeof(*a));
		for (unsigned i = 0; i < N; i++) {
			B->ExInitializeRundownProtection(&a->refs[i]);
			objs[i] = &a->refs[i];
		}
		conform_independent(&conform_plain, objs, N, round, "PLAIN-LIFE-004", "adjacent ref");
		for (unsigned i = 0; i < 64; i++)
			if (a->before[i] != RD_GUARD || a->after[i] != RD_GUARD)
				conform_fail("PLAIN-LIFE-004", "bytes next to an array of %u refs changed; required "
					     "untouched", N);
	}
	free(a);
}
END_TEST
