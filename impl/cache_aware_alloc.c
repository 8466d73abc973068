/*
 * impl/cache_aware_alloc.c - ExAllocateCacheAwareRundownProtection and
 * ExFreeCacheAwareRundownProtection.
 *
 * One malloc() per object (through libc, so the inject/ allocation-failure
 * shim reaches it): a failure returns NULL and leaves nothing allocated.
 * Free accepts only what Allocate returned; anything else (a caller buffer
 * set up with ExInitializeRundownProtectionCacheAware, which the documents
 * do not allow to be passed) is reported on stderr and left alone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include <rundown/ex_rundown_ref_cache_aware.h>

#include "impl/cache_aware.h"

PEX_RUNDOWN_REF_CACHE_AWARE ExAllocateCacheAwareRundownProtection(POOL_TYPE PoolType,
								  ULONG PoolTag)
{
	SIZE_T size = rd_ca_size();
	PEX_RUNDOWN_REF_CACHE_AWARE ref = malloc(size);
	struct rd_ca_hdr *h;

	if (ref == NULL)
		return NULL;
	ExInitializeRundownProtectionCacheAware(ref, size);
	h = rd_ca_hdr(ref);
	h->alloc_magic = RD_CA_ALLOC_MAGIC;
	h->pool_tag = PoolTag;
	h->pool_type = (uint32_t)PoolType;
	return ref;
}

void ExFreeCacheAwareRundownProtection(PEX_RUNDOWN_REF_CACHE_AWARE RunRefCacheAware)
{
	struct rd_ca_hdr *h;

	if (RunRefCacheAware == NULL)
		return;
	h = rd_ca_hdr(RunRefCacheAware);
	if (h->alloc_magic != RD_CA_ALLOC_MAGIC || h->magic != RD_CA_MAGIC) {
		fprintf(stderr,
			"librundown: ExFreeCacheAwareRundownProtection(%p): not an object from "
			"ExAllocateCacheAwareRundownProtection; not freed\n",
			(void *)RunRefCacheAware);
		return;
	}
	h->alloc_magic = 0;
	h->magic = 0;
	free(RunRefCacheAware);
}
