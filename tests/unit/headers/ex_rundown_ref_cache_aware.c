/* tests/unit/headers/ex_rundown_ref_cache_aware.c - the cache-aware header alone. */
#include <rundown/ex_rundown_ref_cache_aware.h>
#include <rundown/ex_rundown_ref_cache_aware.h>

int rd_header_ex_rundown_ref_cache_aware(void);

int rd_header_ex_rundown_ref_cache_aware(void)
{
	PEX_RUNDOWN_REF_CACHE_AWARE ref = ExAllocateCacheAwareRundownProtection(NonPagedPool, 0);
	int ok;

	if (ref == NULL)
		return 0;
	ok = ExAcquireRundownProtectionCacheAware(ref) == TRUE;
	ExReleaseRundownProtectionCacheAware(ref);
	ExWaitForRundownProtectionReleaseCacheAware(ref);
	ExFreeCacheAwareRundownProtection(ref);
	return ok;
}
