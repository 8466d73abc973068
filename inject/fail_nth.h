/*
 * inject/fail_nth.h - the fail-nth enumeration driver.
 *
 * Runs a piece of code again and again under the preloaded shim, failing
 * the 1st allocation made inside its armed window, then the 2nd, ... until
 * a run sees no fault (every allocation path has been failed once).  After
 * each run it checks the code's own verdict (e.g. "Allocate returned NULL
 * or a usable object") and that no block allocated inside the window is
 * still live (the shim's bookkeeping): a failure path that leaks is caught.
 *
 * The shim must be preloaded (LD_PRELOAD=.../librundown-inject.so); its
 * control functions are found with dlsym(RTLD_DEFAULT).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_INJECT_FAIL_NTH_H
#define RUNDOWN_INJECT_FAIL_NTH_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One run.  arm()/disarm() (pass-through to the shim) bracket the calls
 * whose allocations may fail; the code frees what it made, outside or
 * inside the window.  Return 0 if the outcome is acceptable, nonzero with
 * a reason in msg; describe the outcome in msg either way.
 */
struct rundown_fail_nth_window {
	void (*arm)(void);
	void (*disarm)(void);
};
typedef int (*rundown_fail_nth_fn)(void *ctx, const struct rundown_fail_nth_window *w,
				   char *msg, size_t msglen);

struct rundown_fail_nth_result {
	unsigned long steps;    /* runs made */
	unsigned long faults;   /* runs in which a fault was injected */
	unsigned long bad;      /* runs with an unacceptable outcome */
	unsigned long leaks;    /* runs that left armed blocks live */
	unsigned long allocs;   /* allocations in the final, fault-free run */
};

/*
 * Enumerate up to max_steps runs (0: 10000).  Progress lines go to out
 * (may be NULL).  Returns 0 if every run was acceptable and leak-free, 1 if
 * not, 2 if the shim is not preloaded, 77 if it cannot see the program's
 * allocations (malloc bound to a sanitizer's allocator).
 */
int rundown_fail_nth_run(rundown_fail_nth_fn fn, void *ctx, unsigned long max_steps,
			 FILE *out, struct rundown_fail_nth_result *res);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_INJECT_FAIL_NTH_H */
