/*
 * conformance/irql_wrap.c - wrappers that bracket Acquire/Release(+Ex) of
 * both families as DISPATCH_LEVEL for the inject shim (irql_wrap.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "inject/inject.h"

#include "conformance/irql_wrap.h"

typedef size_t (*rd_first_fn)(char *buf, size_t len);

static rundown_inject_irql_enter_fn rd_enter;
static rundown_inject_void_fn rd_leave;
static rundown_inject_stats_fn rd_stats;
static rd_first_fn rd_first;
static struct rundown_backend rd_real; /* the backend's own pointers */

/* The first wrapped call during which the violation counter grew; written
 * once (CAS), read by the runner after the test (same process, or the
 * test's own child: each forked test has its copy). */
static const char *_Atomic rd_first_routine;
static _Atomic uint64_t rd_seen;

static uint64_t rd_count(void)
{
	struct rundown_inject_stats s;

	s.irql_violations = 0;
	rd_stats(&s, sizeof(s));
	return s.irql_violations;
}

static void rd_note(uint64_t before, const char *routine, int ca)
{
	uint64_t after = rd_count();
	const char *none = NULL;

	if (after == before)
		return;
	atomic_fetch_add_explicit(&rd_seen, after - before, memory_order_relaxed);
	(void)ca;
	/* pairs with conform_irql_violations' acquire load */
	atomic_compare_exchange_strong_explicit(&rd_first_routine, &none, routine, memory_order_release,
						memory_order_relaxed);
}

#define RD_WRAP_B(name, ca, ptype)                                                     \
	static BOOLEAN rd_w_##name(ptype r)                                                \
	{                                                                              \
		uint64_t before = rd_count();                                              \
		BOOLEAN v;                                                                 \
                                                                                       \
		rd_enter(#name);                                                           \
		v = rd_real.name(r);                                                       \
		rd_leave();                                                                \
		rd_note(before, #name, ca);                                                \
		return v;                                                                  \
	}
#define RD_WRAP_BX(name, ca, ptype)                                                    \
	static BOOLEAN rd_w_##name(ptype r, ULONG n)                                       \
	{                                                                              \
		uint64_t before = rd_count();                                              \
		BOOLEAN v;                                                                 \
                                                                                       \
		rd_enter(#name);                                                           \
		v = rd_real.name(r, n);                                                    \
		rd_leave();                                                                \
		rd_note(before, #name, ca);                                                \
		return v;                                                                  \
	}
#define RD_WRAP_V(name, ca, ptype)                                                     \
	static VOID rd_w_##name(ptype r)                                                   \
	{                                                                              \
		uint64_t before = rd_count();                                              \
                                                                                       \
		rd_enter(#name);                                                           \
		rd_real.name(r);                                                           \
		rd_leave();                                                                \
		rd_note(before, #name, ca);                                                \
	}
#define RD_WRAP_VX(name, ca, ptype)                                                    \
	static VOID rd_w_##name(ptype r, ULONG n)                                          \
	{                                                                              \
		uint64_t before = rd_count();                                              \
                                                                                       \
		rd_enter(#name);                                                           \
		rd_real.name(r, n);                                                        \
		rd_leave();                                                                \
		rd_note(before, #name, ca);                                                \
	}

RD_WRAP_B(ExAcquireRundownProtection, 0, PEX_RUNDOWN_REF)
RD_WRAP_BX(ExAcquireRundownProtectionEx, 0, PEX_RUNDOWN_REF)
RD_WRAP_V(ExReleaseRundownProtection, 0, PEX_RUNDOWN_REF)
RD_WRAP_VX(ExReleaseRundownProtectionEx, 0, PEX_RUNDOWN_REF)
RD_WRAP_B(ExAcquireRundownProtectionCacheAware, 1, PEX_RUNDOWN_REF_CACHE_AWARE)
RD_WRAP_BX(ExAcquireRundownProtectionCacheAwareEx, 1, PEX_RUNDOWN_REF_CACHE_AWARE)
RD_WRAP_V(ExReleaseRundownProtectionCacheAware, 1, PEX_RUNDOWN_REF_CACHE_AWARE)
RD_WRAP_VX(ExReleaseRundownProtectionCacheAwareEx, 1, PEX_RUNDOWN_REF_CACHE_AWARE)

int conform_irql_wrap(struct rundown_backend *b)
{
	*(void **)&rd_enter = dlsym(RTLD_DEFAULT, "rundown_inject_irql_enter");
	*(void **)&rd_leave = dlsym(RTLD_DEFAULT, "rundown_inject_irql_leave");
	*(void **)&rd_stats = dlsym(RTLD_DEFAULT, "rundown_inject_stats");
	*(void **)&rd_first = dlsym(RTLD_DEFAULT, "rundown_inject_irql_first");
	if (!rd_enter || !rd_leave || !rd_stats)
		return -1;
	rd_real = *b;
#define RD_SWAP(name)                     \
	if (b->name)                      \
		b->name = rd_w_##name;
	RD_SWAP(ExAcquireRundownProtection)
	RD_SWAP(ExAcquireRundownProtectionEx)
	RD_SWAP(ExReleaseRundownProtection)
	RD_SWAP(ExReleaseRundownProtectionEx)
	RD_SWAP(ExAcquireRundownProtectionCacheAware)
	RD_SWAP(ExAcquireRundownProtectionCacheAwareEx)
	RD_SWAP(ExReleaseRundownProtectionCacheAware)
	RD_SWAP(ExReleaseRundownProtectionCacheAwareEx)
#undef RD_SWAP
	return 0;
}

uint64_t conform_irql_violations(const char **clause, char *what, size_t whatlen)
{
	uint64_t n = atomic_load_explicit(&rd_seen, memory_order_relaxed);
	const char *routine = atomic_load_explicit(&rd_first_routine, memory_order_acquire);

	if (n == 0 || routine == NULL)
		return 0;
	*clause = strstr(routine, "CacheAware") ? "IRQL-004" : "IRQL-001";
	if (whatlen > 0) {
		what[0] = '\0';
		if (rd_first)
			rd_first(what, whatlen);
		if (what[0] == '\0')
			snprintf(what, whatlen, "a blocking call inside %s", routine);
	}
	return n;
}
