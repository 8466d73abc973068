/*
 * inject/fail_nth.c - the fail-nth enumeration driver (see fail_nth.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "inject/fail_nth.h"
#include "inject/inject.h"

struct rd_shim {
	rundown_inject_void_fn arm, disarm;
	rundown_inject_alloc_configure_fn configure;
	rundown_inject_stats_fn stats;
};

static int rd_shim_find(struct rd_shim *s)
{
	s->arm = (rundown_inject_void_fn)dlsym(RTLD_DEFAULT, "rundown_inject_alloc_arm");
	s->disarm = (rundown_inject_void_fn)dlsym(RTLD_DEFAULT, "rundown_inject_alloc_disarm");
	s->configure = (rundown_inject_alloc_configure_fn)dlsym(RTLD_DEFAULT,
								 "rundown_inject_alloc_configure");
	s->stats = (rundown_inject_stats_fn)dlsym(RTLD_DEFAULT, "rundown_inject_stats");
	return s->arm && s->disarm && s->configure && s->stats ? 0 : -1;
}

int rundown_fail_nth_run(rundown_fail_nth_fn fn, void *ctx, unsigned long max_steps,
			 FILE *out, struct rundown_fail_nth_result *res)
{
	struct rundown_fail_nth_result r = { 0 };
	struct rd_shim shim;
	struct rundown_fail_nth_window w;
	int rc = 0;

	if (rd_shim_find(&shim) != 0) {
		if (out)
			fprintf(out, "fail-nth: the inject shim is not preloaded "
				     "(LD_PRELOAD=.../librundown-inject.so; see rundown-inject-env)\n");
		return 2;
	}
	w.arm = shim.arm;
	w.disarm = shim.disarm;
	if (max_steps == 0)
		max_steps = 10000;
	for (unsigned long k = 1; k <= max_steps; k++) {
		struct rundown_inject_stats before, after;
		char spec[64], msg[256] = "";
		int verdict, faulted;
		int64_t live;
		unsigned long eligible;

		snprintf(spec, sizeof spec, "nth:%lu,scope=armed", k);
		if (shim.configure(spec) != 0)
			return 2;
		shim.stats(&before, sizeof before);
		verdict = fn(ctx, &w, msg, sizeof msg);
		shim.stats(&after, sizeof after);
		faulted = after.alloc_faults > before.alloc_faults;
		eligible = (unsigned long)(after.alloc_eligible - before.alloc_eligible);
		live = after.alloc_live - before.alloc_live;
		r.steps++;
		r.faults += (unsigned long)faulted;
		if (k == 1 && eligible == 0 && after.alloc_bypassed) {
			if (out)
				fprintf(out, "fail-nth: SKIP: malloc is bound to another allocator "
					     "(a sanitizer's): the shim sees no allocation\n");
			rc = 77;
			break;
		}
		if (verdict != 0)
			r.bad++;
		if (live != 0)
			r.leaks++;
		if (out)
			fprintf(out, "fail-nth: step %lu: %s (%lu allocation%s in the window): %s; "
				     "live blocks %lld: %s\n",
				k, faulted ? "allocation failed" : "no fault", eligible,
				eligible == 1 ? "" : "s", msg[0] ? msg : "-", (long long)live,
				verdict == 0 && live == 0 ? "ok" : verdict ? "FAIL (outcome)"
									   : "FAIL (leak)");
		if (verdict != 0 || live != 0)
			rc = 1;
		if (!faulted) {
			r.allocs = eligible;
			break;
		}
		if (k == max_steps) {
			if (out)
				fprintf(out, "fail-nth: stopped after %lu steps\n", k);
		}
	}
	shim.configure("off");
	if (out && rc != 77)
		fprintf(out, "fail-nth: %s: %lu steps, %lu faults injected, %lu bad outcomes, "
			     "%lu leaking\n", rc == 0 ? "PASS" : "FAIL", r.steps, r.faults, r.bad,
			r.leaks);
	if (res)
		*res = r;
	return rc;
}
