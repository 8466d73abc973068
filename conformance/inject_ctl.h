/*
 * conformance/inject_ctl.h - rundown-conform --inject / --inject-spec: the
 * runner's side of the inject shim (inject/README.md).
 *
 * The runner never preloads anything itself: it validates the profiles and
 * the spec with inject/libinject-spec.la, builds the canonical spec (seed
 * included), then re-executes itself with LD_PRELOAD (the shim, then a
 * sanitizer runtime if the runner has one), RUNDOWN_INJECT and, for the
 * profiles that perturb processor numbers, GLIBC_TUNABLES=glibc.pthread.rseq=0.
 * The re-executed runner finds the shim loaded with that spec and runs.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_INJECT_CTL_H
#define RUNDOWN_INJECT_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inject/spec.h"
#include "conformance/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CONFORM_INJECT_MAXPROF 32

struct conform_inject {
	bool on;
	char names[512];                         /* --inject list, "" if none */
	char user_spec[RUNDOWN_INJECT_SPEC_MAX]; /* --inject-spec, "" if none */
	char spec[RUNDOWN_INJECT_SPEC_MAX];      /* canonical, seed included */
	char label[600];                         /* names, or "spec", or "names+spec" */
	struct rundown_inject_cfg cfg;
	uint64_t seed;                           /* the shim's seed */
	bool cpu;                                /* perturbs processor numbers or count */
	/* Profiles whose targets decide what is rerun: the named ones, and for
	 * --inject-spec one per feature it turns on (sched -> sched-light's
	 * targets, cpu/ncpu -> migrate's, alloc -> alloc-fail's, futex ->
	 * spurious-wakeup's, irql -> irql's). */
	const struct rundown_inject_profile *prof[CONFORM_INJECT_MAXPROF];
	bool prof_cpu[CONFORM_INJECT_MAXPROF];   /* that profile is a CPU one */
	size_t nprof;
};

/*
 * Validate names ("p1,p2", may be NULL) and spec (may be NULL) and fill
 * *in with seed as the shim's seed unless spec has its own.  0, or -1 with
 * a message naming the unknown profile, the malformed clause or the clash.
 */
int conform_inject_setup(struct conform_inject *in, const char *names, const char *spec, uint64_t seed,
			 char *err, size_t errlen);

/*
 * Make sure this process runs under the shim with in->spec: returns 0 when
 * it does; otherwise re-executes /proc/self/exe with argv (plus extra_argv,
 * NULL-terminated, appended) and the environment above, and returns -1
 * with err only if that is impossible (no shim, exec failed, or the
 * re-executed runner still lacks the shim).  In an ASan build lsan_supp
 * (conformance/lsan-inject.supp) goes into LSAN_OPTIONS.
 */
int conform_inject_exec(const struct conform_inject *in, int argc, char **argv, char *const *extra_argv,
			const char *build_tree_shim, const char *installed_shim, const char *lsan_supp, char *err,
			size_t errlen);

/*
 * Whether a clause is worth rerunning: some profile affects it with the
 * clause's kind, or (concurrent) with kind "concurrent" (the sched profiles
 * target concurrent tests).  *cpu_only: only CPU profiles affect it.
 */
bool conform_inject_affects(const struct conform_inject *in, const char *id, const char *kind, bool concurrent,
			    bool *cpu_only);

/*
 * Does the backend ask sched_getcpu() (the shim) for the processor in CA
 * Acquire/Release?  Probed in a child process: 1 yes, 0 no (it bypasses
 * the shim: rseq, RDPID...), -1 unknown (no CA routines, crash, no shim).
 */
int conform_inject_cpu_probe(const struct rundown_backend *b);

/* The shim's statistics; false without the shim. */
struct rundown_inject_stats;
bool conform_inject_stats(struct rundown_inject_stats *s);

/*
 * sched=pct: this process (the runner, which forks the tests) runs above
 * every test thread and unconfined, so its timeouts fire however the
 * tests' threads spin; its children re-enter PCT.  No-op without the shim.
 */
void conform_inject_pct_exempt(void);

/* Arm/disarm the shim's allocation window (no-ops without the shim). */
void conform_inject_alloc_arm(void);
void conform_inject_alloc_disarm(void);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_INJECT_CTL_H */
