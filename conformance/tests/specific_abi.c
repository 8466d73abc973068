/*
 * conformance/tests/specific_abi.c - Windows' de facto encoding of
 * EX_RUNDOWN_REF (ABI-001..008).  Not documented: only --profile abi runs
 * these (CONFORM_ABI), for backends that claim binary compatibility.  The
 * word is read with __atomic_load_n on the Count field.
 */
#include "config.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/tests/specific_util.h"

#define NEEDS_ABI                                                                      \
	(CONFORM_NEEDS_PLAIN | RUNDOWN_BIT(ExAcquireRundownProtectionEx) |                \
	 RUNDOWN_BIT(ExReleaseRundownProtectionEx) | RUNDOWN_BIT(ExRundownCompleted) |    \
	 RUNDOWN_BIT(ExReInitializeRundownProtection))

static ULONG_PTR rd_word(PEX_RUNDOWN_REF r)
{
	return __atomic_load_n(&r->Count, __ATOMIC_ACQUIRE);
}

static void rd_wait_contended(PEX_RUNDOWN_REF r, const char *clause)
{
	struct conform_waiter w;

	if (!B->ExAcquireRundownProtection(r))
		conform_fail(clause, "Acquire returned FALSE on a live ref");
	conform_waiter_start(&w, &conform_plain, r);
	if (!conform_rundown_visible(&conform_plain, r, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail(clause, "Acquire still TRUE 2 s after Wait was called");
	B->ExReleaseRundownProtection(r);
	if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail(clause, "Wait did not return within 2 s of the last release");
}

CONFORM_TEST(abi_001_one_eight_byte_word, "ABI-001", NEEDS_ABI, CONFORM_ABI)
{
	struct {
		uint64_t before;
		EX_RUNDOWN_REF ref;
		uint64_t after;
	} s = {0x1111111111111111ull, {{0}}, 0x2222222222222222ull};

	conform_assert(sizeof(EX_RUNDOWN_REF) == 8 && _Alignof(EX_RUNDOWN_REF) == 8, "ABI-001",
		       "sizeof %zu, alignof %zu; required 8 and 8", sizeof(EX_RUNDOWN_REF),
		       (size_t)_Alignof(EX_RUNDOWN_REF));
	B->ExInitializeRundownProtection(&s.ref);
	if (!B->ExAcquireRundownProtectionEx(&s.ref, 3))
		conform_fail("ABI-001", "AcquireEx returned FALSE on a live ref");
	B->ExReleaseRundownProtectionEx(&s.ref, 3);
	rd_wait_contended(&s.ref, "ABI-001");
	B->ExRundownCompleted(&s.ref);
	B->ExReInitializeRundownProtection(&s.ref);
	conform_assert(s.before == 0x1111111111111111ull && s.after == 0x2222222222222222ull, "ABI-001",
		       "the words next to the EX_RUNDOWN_REF changed; required the backend to use only its 8 bytes");
}
END_TEST

CONFORM_TEST(abi_002_initialize_stores_zero, "ABI-002", RUNDOWN_BIT(ExInitializeRundownProtection), CONFORM_ABI)
{
	static const ULONG_PTR garbage[] = {0xA5A5A5A5A5A5A5A5ull, ~(ULONG_PTR)0, 1, 6};

	for (unsigned k = 0; k < 4; k++) {
		EX_RUNDOWN_REF r;

		r.Count = garbage[k];
		B->ExInitializeRundownProtection(&r);
		conform_assert(rd_word(&r) == 0, "ABI-002",
			       "word after Initialize (storage was 0x%llx): 0x%llx; required 0",
			       (unsigned long long)garbage[k], (unsigned long long)rd_word(&r));
	}
}
END_TEST

static EX_RUNDOWN_REF rd_zero_static;

CONFORM_TEST(abi_003_zero_filled_ref_valid, "ABI-003", NEEDS_ABI, CONFORM_ABI)
{
	PEX_RUNDOWN_REF heap = calloc(1, sizeof(EX_RUNDOWN_REF));
	PEX_RUNDOWN_REF refs[2] = {&rd_zero_static, heap};

	if (heap == NULL)
		conform_unresolved("out of memory");
	for (unsigned k = 0; k < 2; k++) {
		struct conform_waiter w;

		conform_assert(B->ExAcquireRundownProtection(refs[k]), "ABI-003",
			       "%s zero-filled ref, no Initialize: Acquire returned FALSE; required TRUE",
			       k ? "calloc'd" : "static");
		B->ExReleaseRundownProtection(refs[k]);
		conform_waiter_start(&w, &conform_plain, refs[k]);
		conform_assert(conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS), "ABI-003",
			       "%s zero-filled ref: Wait with nothing held did not return within 2 s",
			       k ? "calloc'd" : "static");
		conform_assert(!B->ExAcquireRundownProtection(refs[k]), "ABI-003",
			       "%s zero-filled ref: Acquire after Wait returned TRUE; required FALSE",
			       k ? "calloc'd" : "static");
	}
	free(heap);
}
END_TEST

CONFORM_TEST(abi_004_count_in_steps_of_two, "ABI-004", NEEDS_ABI, CONFORM_ABI)
{
	EX_RUNDOWN_REF r;
	ULONG_PTR k = 0;

	B->ExInitializeRundownProtection(&r);
#define RD_STEP(call, delta, name)                                                             \
	do {                                                                                   \
		call;                                                                          \
		k += (delta);                                                                  \
		conform_assert(rd_word(&r) == 2 * k, "ABI-004", "after %s with %lu units held: word "  \
			       "0x%llx; required 2*count = 0x%llx", name, (unsigned long)k,        \
			       (unsigned long long)rd_word(&r), (unsigned long long)(2 * k));      \
	} while (0)
	RD_STEP((void)B->ExAcquireRundownProtection(&r), 1, "Acquire");
	RD_STEP((void)B->ExAcquireRundownProtection(&r), 1, "Acquire");
	RD_STEP((void)B->ExAcquireRundownProtectionEx(&r, 5), 5, "AcquireEx(5)");
	RD_STEP(B->ExReleaseRundownProtection(&r), (ULONG_PTR)-1, "Release");
	RD_STEP(B->ExReleaseRundownProtectionEx(&r, 5), (ULONG_PTR)-5, "ReleaseEx(5)");
	RD_STEP((void)B->ExAcquireRundownProtectionEx(&r, 1000), 1000, "AcquireEx(1000)");
	RD_STEP(B->ExReleaseRundownProtectionEx(&r, 1000), (ULONG_PTR)-1000, "ReleaseEx(1000)");
	RD_STEP(B->ExReleaseRundownProtection(&r), (ULONG_PTR)-1, "Release");
#undef RD_STEP
}
END_TEST

CONFORM_TEST(abi_005_bit0_while_wait_blocks, "ABI-005", NEEDS_ABI, CONFORM_ABI | CONFORM_CONCURRENT)
{
	EX_RUNDOWN_REF r;
	struct conform_waiter w;
	uint64_t end;

	B->ExInitializeRundownProtection(&r);
	(void)B->ExAcquireRundownProtectionEx(&r, 3);
	conform_waiter_start(&w, &conform_plain, &r);
	end = conform_now_ns() + CONFORM_RETURN_TIMEOUT_NS;
	while (!(rd_word(&r) & 1)) {
		if (conform_now_ns() > end)
			conform_fail("ABI-005", "word 0x%llx 2 s after Wait was called with 3 units held; required "
				     "bit 0 set", (unsigned long long)rd_word(&r));
		sched_yield();
	}
	conform_assert(!conform_waiter_returned(&w), "ABI-005", "Wait returned while 3 units were held");
	conform_assert(rd_word(&r) & 1, "ABI-005", "bit 0 cleared while Wait blocked");
	B->ExReleaseRundownProtectionEx(&r, 3);
	conform_assert(conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS), "ABI-005",
		       "Wait did not return within 2 s of the last release");
}
END_TEST

CONFORM_TEST(abi_006_one_after_uncontended_wait, "ABI-006", NEEDS_ABI, CONFORM_ABI)
{
	EX_RUNDOWN_REF r;

	B->ExInitializeRundownProtection(&r);
	(void)B->ExAcquireRundownProtection(&r);
	B->ExReleaseRundownProtection(&r);
	B->ExWaitForRundownProtectionRelease(&r);
	conform_assert(rd_word(&r) == 1, "ABI-006", "word after an uncontended Wait: 0x%llx; required 1",
		       (unsigned long long)rd_word(&r));
}
END_TEST

CONFORM_TEST(abi_007_one_after_completed, "ABI-007", NEEDS_ABI, CONFORM_ABI | CONFORM_CONCURRENT)
{
	EX_RUNDOWN_REF r;

	B->ExInitializeRundownProtection(&r);
	B->ExWaitForRundownProtectionRelease(&r);
	B->ExRundownCompleted(&r);
	conform_assert(rd_word(&r) == 1, "ABI-007", "word after uncontended Wait + Completed: 0x%llx; required 1",
		       (unsigned long long)rd_word(&r));
	B->ExReInitializeRundownProtection(&r);
	rd_wait_contended(&r, "ABI-007");
	B->ExRundownCompleted(&r);
	conform_assert(rd_word(&r) == 1, "ABI-007", "word after contended Wait + Completed: 0x%llx; required 1",
		       (unsigned long long)rd_word(&r));
}
END_TEST

CONFORM_TEST(abi_008_reinitialize_stores_zero, "ABI-008", NEEDS_ABI, CONFORM_ABI | CONFORM_CONCURRENT)
{
	EX_RUNDOWN_REF r;

	B->ExInitializeRundownProtection(&r);
	rd_wait_contended(&r, "ABI-008");
	B->ExReInitializeRundownProtection(&r); /* straight after Wait */
	conform_assert(rd_word(&r) == 0, "ABI-008", "word after Wait + ReInitialize: 0x%llx; required 0",
		       (unsigned long long)rd_word(&r));
	rd_wait_contended(&r, "ABI-008");
	B->ExRundownCompleted(&r);
	B->ExReInitializeRundownProtection(&r); /* after Completed */
	conform_assert(rd_word(&r) == 0, "ABI-008", "word after Wait + Completed + ReInitialize: 0x%llx; "
		       "required 0", (unsigned long long)rd_word(&r));
}
END_TEST
