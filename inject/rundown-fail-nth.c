/*
 * inject/rundown-fail-nth.c - run the fail-nth enumeration over a backend's
 * ExAllocateCacheAwareRundownProtection.
 *
 *	rundown-fail-nth [--max N] [--shim SO] BACKEND.so
 *
 * Each step arms the shim's window around Allocate only, fails its n-th
 * allocation, and checks the outcome: NULL, or an object that works
 * (Acquire succeeds, Release, Wait returns, Completed, Free) and leaves
 * nothing allocated.  Not preloaded?  It re-executes itself with the shim
 * appended to LD_PRELOAD (the installed one, or --shim).
 *
 * Exit: 0 every step fine, 1 a step failed, 2 usage or load error, 77 the
 * shim cannot see the backend's allocations (sanitizer allocator).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <dlfcn.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rundown/rundown.h>

#include "inject/fail_nth.h"

struct rd_backend {
#define RD_FIELD(ret, name, params, args, family) ret(*name) params;
	RUNDOWN_CA_ROUTINES(RD_FIELD)
#undef RD_FIELD
};

static int rd_step(void *ctx, const struct rundown_fail_nth_window *w, char *msg, size_t len)
{
	const struct rd_backend *b = ctx;
	PEX_RUNDOWN_REF_CACHE_AWARE ref;

	w->arm();
	ref = b->ExAllocateCacheAwareRundownProtection(NonPagedPool, 0x74736554u /* 'Test' */);
	w->disarm();
	if (ref == NULL) {
		snprintf(msg, len, "Allocate returned NULL");
		return 0;
	}
	if (!b->ExAcquireRundownProtectionCacheAware(ref)) {
		snprintf(msg, len, "Allocate returned an object whose first Acquire fails");
		return 1;
	}
	b->ExReleaseRundownProtectionCacheAware(ref);
	b->ExWaitForRundownProtectionReleaseCacheAware(ref);
	if (b->ExAcquireRundownProtectionCacheAware(ref)) {
		snprintf(msg, len, "Allocate returned an object that Acquires after Wait");
		return 1;
	}
	b->ExRundownCompletedCacheAware(ref);
	b->ExFreeCacheAwareRundownProtection(ref);
	snprintf(msg, len, "Allocate returned a working object");
	return 0;
}

static void rd_usage(FILE *f)
{
	fprintf(f, "usage: rundown-fail-nth [--max N] [--shim SO] BACKEND.so\n"
		   "Fail the 1st, 2nd, ... allocation of ExAllocateCacheAwareRundownProtection\n"
		   "until a run sees no fault; check NULL-or-working and no leak each time.\n");
}

static int rd_reexec(char **argv, const char *shim)
{
	const char *old = getenv("LD_PRELOAD");
	size_t n = (old ? strlen(old) + 1 : 0) + strlen(shim) + 1;
	char *v = malloc(n);

	if (v == NULL || getenv("RUNDOWN_FAIL_NTH_REEXEC") != NULL)
		return 2;
	snprintf(v, n, "%s%s%s", old ? old : "", old && *old ? ":" : "", shim);
	setenv("LD_PRELOAD", v, 1);
	setenv("RUNDOWN_FAIL_NTH_REEXEC", "1", 1);
	execv("/proc/self/exe", argv);
	perror("rundown-fail-nth: execv /proc/self/exe");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max", required_argument, NULL, 'm' },
		{ "shim", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shim = PKGLIBDIR "/librundown-inject.so";
	unsigned long max = 0;
	struct rd_backend b;
	void *h;
	int c;

	while ((c = getopt_long(argc, argv, "m:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			max = strtoul(optarg, NULL, 10);
			break;
		case 's':
			shim = optarg;
			break;
		case 'h':
			rd_usage(stdout);
			return 0;
		default:
			rd_usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		rd_usage(stderr);
		return 2;
	}
	if (dlsym(RTLD_DEFAULT, "rundown_inject_alloc_configure") == NULL) {
		rd_reexec(argv, shim);
		fprintf(stderr, "rundown-fail-nth: the shim %s is not preloaded and could not be "
				"(run under LD_PRELOAD; see rundown-inject-env)\n", shim);
		return 2;
	}
	h = dlopen(argv[optind], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, "rundown-fail-nth: %s\n", dlerror());
		return 2;
	}
#define RD_RESOLVE(ret, name, params, args, family)                                    \
	*(void **)(&b.name) = dlsym(h, #name);                                         \
	if (b.name == NULL) {                                                          \
		fprintf(stderr, "rundown-fail-nth: %s does not export %s\n", argv[optind], \
			#name);                                                        \
		return 2;                                                              \
	}
	RUNDOWN_CA_ROUTINES(RD_RESOLVE)
#undef RD_RESOLVE
	return rundown_fail_nth_run(rd_step, &b, max, stdout, NULL);
}
