/*
 * conformance/tests/smoke.c - three single-threaded tests used to develop
 * and check the runner itself (progress, verdicts, results.tsv); the
 * per-clause tests check the same clauses more thoroughly.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "conformance/conform.h"

CONFORM_TEST(smoke_plain_init_acquire, "PLAIN-INIT-001",
	     RUNDOWN_BIT(ExInitializeRundownProtection) | RUNDOWN_BIT(ExAcquireRundownProtection) |
		     RUNDOWN_BIT(ExAcquireRundownProtectionEx) | RUNDOWN_BIT(ExReleaseRundownProtection) |
		     RUNDOWN_BIT(ExReleaseRundownProtectionEx),
	     0)
{
	EX_RUNDOWN_REF ref;
	BOOLEAN r;

	B->ExInitializeRundownProtection(&ref);
	r = B->ExAcquireRundownProtection(&ref);
	conform_assert(r == TRUE, "PLAIN-INIT-001", "Acquire after Initialize returned %u, want TRUE (1)", r);
	r = B->ExAcquireRundownProtectionEx(&ref, 2);
	conform_assert(r == TRUE, "PLAIN-INIT-001", "AcquireEx(2) after Initialize returned %u, want TRUE (1)", r);
	B->ExReleaseRundownProtectionEx(&ref, 2);
	B->ExReleaseRundownProtection(&ref);
}
END_TEST

/* A backend that blocks here is HUNG (the runner's timeout). */
CONFORM_TEST(smoke_plain_wait_uncontended, "PLAIN-INIT-005",
	     RUNDOWN_BIT(ExInitializeRundownProtection) | RUNDOWN_BIT(ExAcquireRundownProtection) |
		     RUNDOWN_BIT(ExReleaseRundownProtection) | RUNDOWN_BIT(ExWaitForRundownProtectionRelease) |
		     RUNDOWN_BIT(ExReInitializeRundownProtection),
	     0)
{
	EX_RUNDOWN_REF ref;
	BOOLEAN r;

	B->ExInitializeRundownProtection(&ref);
	B->ExWaitForRundownProtectionRelease(&ref); /* count 0: returns at once */
	B->ExReInitializeRundownProtection(&ref);
	r = B->ExAcquireRundownProtection(&ref);
	if (r != TRUE)
		conform_unresolved("Acquire after ReInitialize returned %u; cannot set up a held unit", r);
	B->ExReleaseRundownProtection(&ref);
	B->ExWaitForRundownProtectionRelease(&ref); /* count back to 0 */
}
END_TEST

CONFORM_TEST(smoke_ca_alloc_cycle, "CA-ALLOC-001",
	     RUNDOWN_BIT(ExAllocateCacheAwareRundownProtection) | RUNDOWN_BIT(ExAcquireRundownProtectionCacheAware) |
		     RUNDOWN_BIT(ExReleaseRundownProtectionCacheAware) |
		     RUNDOWN_BIT(ExWaitForRundownProtectionReleaseCacheAware) |
		     RUNDOWN_BIT(ExFreeCacheAwareRundownProtection),
	     0)
{
	PEX_RUNDOWN_REF_CACHE_AWARE ca = B->ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 0x646e7552u);
	BOOLEAN r;

	if (!ca)
		conform_unresolved("ExAllocateCacheAwareRundownProtection returned NULL");
	r = B->ExAcquireRundownProtectionCacheAware(ca);
	if (r != TRUE) {
		B->ExFreeCacheAwareRundownProtection(ca);
		conform_fail("CA-ALLOC-001", "Acquire on a freshly allocated object returned %u, want TRUE (1)", r);
	}
	B->ExReleaseRundownProtectionCacheAware(ca);
	B->ExWaitForRundownProtectionReleaseCacheAware(ca); /* nothing held: returns at once */
	B->ExFreeCacheAwareRundownProtection(ca);
}
END_TEST
