/*
 * bench/variants_ref.c - the reference (librundown, linked statically) and
 * a --backend PATH.so, plain and cache-aware families, called through the
 * function pointers of struct rundown_backend, as every tool calls them.
 *
 *	ref-plain / backend-plain            ExAcquire/ExReleaseRundownProtection
 *	                                     on one EX_RUNDOWN_REF in its own line
 *	ref-cache-aware / backend-cache-aware  ...CacheAware on an object from
 *	                                     ExAllocateCacheAwareRundownProtection
 *	ref-ca-atomic                        ref-cache-aware on an object made
 *	                                     while librundown's atomic path was
 *	                                     selected (rd_ca_select_path(0)): the
 *	                                     fallback of a process without rseq
 *	                                     or membarrier, in the same run
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "impl/cpu.h" /* rd_ca_select_path: librundown is linked statically */

static void *bench_plain_setup(const struct bench_variant *v)
{
	PEX_RUNDOWN_REF ref = aligned_alloc(64, 64);

	if (ref == NULL)
		abort();
	v->backend->ExInitializeRundownProtection(ref);
	return ref;
}

static uint64_t bench_plain_loop(struct bench_thread *t)
{
	BOOLEAN (*acquire)(PEX_RUNDOWN_REF) = t->v->backend->ExAcquireRundownProtection;
	void (*release)(PEX_RUNDOWN_REF) = t->v->backend->ExReleaseRundownProtection;
	PEX_RUNDOWN_REF ref = t->obj;

	BENCH_LOOP(t, acquire(ref), release(ref));
}

static void bench_plain_teardown(const struct bench_variant *v, void *obj)
{
	v->backend->ExWaitForRundownProtectionRelease(obj);
	free(obj);
}

static void *bench_ca_setup(const struct bench_variant *v)
{
	void *ref = v->backend->ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 0x68636e42);

	if (ref == NULL)
		abort();
	return ref;
}

static uint64_t bench_ca_loop(struct bench_thread *t)
{
	BOOLEAN (*acquire)(PEX_RUNDOWN_REF_CACHE_AWARE) =
		t->v->backend->ExAcquireRundownProtectionCacheAware;
	void (*release)(PEX_RUNDOWN_REF_CACHE_AWARE) =
		t->v->backend->ExReleaseRundownProtectionCacheAware;
	PEX_RUNDOWN_REF_CACHE_AWARE ref = t->obj;

	BENCH_LOOP(t, acquire(ref), release(ref));
}

static void *bench_ca_atomic_setup(const struct bench_variant *v)
{
	int was = rd_ca_fast;
	void *ref;

	rd_ca_select_path(0);
	ref = bench_ca_setup(v);
	rd_ca_select_path(was);
	return ref;
}

static void bench_ca_teardown(const struct bench_variant *v, void *obj)
{
	v->backend->ExWaitForRundownProtectionReleaseCacheAware(obj);
	v->backend->ExFreeCacheAwareRundownProtection(obj);
}

void bench_variants_ref(struct bench_variant *v, unsigned *n, const struct rundown_backend *b,
			const char *plain_name, const char *ca_name)
{
	if (b->ExInitializeRundownProtection && b->ExAcquireRundownProtection &&
	    b->ExReleaseRundownProtection && b->ExWaitForRundownProtectionRelease)
		v[(*n)++] = (struct bench_variant){
			.name = plain_name, .call = "fnptr", .backend = b,
			.setup = bench_plain_setup, .loop = bench_plain_loop,
			.teardown = bench_plain_teardown};
	if (b->ExAllocateCacheAwareRundownProtection && b->ExAcquireRundownProtectionCacheAware &&
	    b->ExReleaseRundownProtectionCacheAware &&
	    b->ExWaitForRundownProtectionReleaseCacheAware && b->ExFreeCacheAwareRundownProtection)
		v[(*n)++] = (struct bench_variant){
			.name = ca_name, .call = "fnptr", .backend = b,
			.setup = bench_ca_setup, .loop = bench_ca_loop,
			.teardown = bench_ca_teardown};
	/* The reference's fallback path, only worth a row if the fast path
	 * is the default here. */
	if (strcmp(ca_name, "ref-cache-aware") == 0 &&
	    rd_ca_fast_ok)
		v[(*n)++] = (struct bench_variant){
			.name = "ref-ca-atomic", .call = "fnptr", .backend = b,
			.setup = bench_ca_atomic_setup, .loop = bench_ca_loop,
			.teardown = bench_ca_teardown};
}
