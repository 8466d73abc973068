/*
 * inject/spec.h - the RUNDOWN_INJECT grammar: parser, canonical form and
 * the named profiles.  Compiled into the shim (librundown-inject.so) and
 * into libinject-spec.la, which the runner links to validate --inject-spec
 * and to expand --inject PROFILE[,PROFILE...] without preloading anything.
 *
 * The grammar is in inject/README.md (EBNF).  The parser allocates nothing,
 * uses no locale (probabilities and durations are parsed by hand) and is
 * reentrant, so the shim can run it in its constructor before main.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_INJECT_SPEC_H
#define RUNDOWN_INJECT_SPEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RUNDOWN_INJECT_SPEC_MAX 4096 /* longest spec accepted, bytes */
#define RUNDOWN_INJECT_PATH_MAX 1024 /* longest log= path */
#define RUNDOWN_INJECT_PPB 1000000000u /* probabilities: parts per billion */

enum rundown_inject_cpu_mode {
	RUNDOWN_INJECT_CPU_OFF = 0,
	RUNDOWN_INJECT_CPU_RANDOM,  /* uniform in [0, ncpu) per call */
	RUNDOWN_INJECT_CPU_MIGRATE, /* never the thread's previous answer */
	RUNDOWN_INJECT_CPU_HOTPLUG, /* sometimes in [ncpu, ncpu + span) */
	RUNDOWN_INJECT_CPU_FIXED,   /* always n */
};

enum rundown_inject_alloc_mode {
	RUNDOWN_INJECT_ALLOC_OFF = 0,
	RUNDOWN_INJECT_ALLOC_P,     /* each eligible call fails with probability p */
	RUNDOWN_INJECT_ALLOC_NTH,   /* the n-th eligible call fails */
	RUNDOWN_INJECT_ALLOC_EVERY, /* every n-th eligible call fails */
};

enum rundown_inject_irql_mode {
	RUNDOWN_INJECT_IRQL_OFF = 0,
	RUNDOWN_INJECT_IRQL_RECORD, /* report, count, carry on */
	RUNDOWN_INJECT_IRQL_ABORT,  /* report, then abort() */
};

/* A parsed spec.  Zero-initialised means "everything off". */
struct rundown_inject_cfg {
	uint64_t seed;
	int have_seed;
	struct {
		uint32_t p; /* ppb; 0 = off */
	} yield;
	struct {
		uint32_t p;               /* ppb; 0 = off */
		uint64_t min_ns, max_ns;  /* delay drawn uniformly in [min, max] */
	} delay;
	struct {
		int on;
		uint64_t min_ns, max_ns;  /* starvation period: min, doubling to max */
	} chaos;
	struct {
		int on;
		unsigned d;               /* bug depth: d-1 priority change points */
		uint64_t k;               /* estimated steps: change points in [1, k] */
		int cpu;                  /* CPU the threads are confined to */
	} pct;
	struct {
		int mode;                 /* enum rundown_inject_cpu_mode */
		uint32_t p;               /* hotplug: ppb of an out-of-range number */
		unsigned n;               /* fixed: the number */
		unsigned span;            /* hotplug: out-of-range numbers in [ncpu, ncpu+span) */
	} cpu;
	unsigned ncpu;                    /* 0: report the real count */
	struct {
		int mode;                 /* enum rundown_inject_alloc_mode */
		uint32_t p;               /* ALLOC_P */
		uint64_t n;               /* ALLOC_NTH, ALLOC_EVERY */
		uint64_t max;             /* at most this many faults; 0 = unlimited */
		int armed;                /* only calls inside rundown_inject_alloc_arm() */
	} alloc;
	struct {
		uint32_t spurious_p;      /* FUTEX_WAIT returns 0, cond waits return early */
		uint32_t eintr_p;         /* FUTEX_WAIT and sem_wait fail with EINTR */
	} futex;
	int irql;                         /* enum rundown_inject_irql_mode */
	char log[RUNDOWN_INJECT_PATH_MAX];/* "" = no decision log */
};

/*
 * Parse spec into *cfg (zeroed first).  Returns 0, or -1 with a one-line
 * message naming the offending clause or token in err (never longer than
 * errlen - 1; err may be NULL).  NULL or "" parses as everything off.
 */
int rundown_inject_parse(const char *spec, struct rundown_inject_cfg *cfg, char *err,
			 size_t errlen);

/*
 * Canonical spec of *cfg (clauses in a fixed order, seed included when
 * have_seed): parsing it gives back the same cfg.  Returns the length it
 * needed (like snprintf); the output is truncated to len - 1.
 */
size_t rundown_inject_format(const struct rundown_inject_cfg *cfg, char *buf, size_t len);

/* Nonzero when the spec turns at least one feature on. */
int rundown_inject_cfg_active(const struct rundown_inject_cfg *cfg);

/*
 * Named profiles.  targets is a comma-separated list of fnmatch(3)
 * patterns over clause ids; kinds, when not NULL, a comma-separated list
 * of clause kinds (conformance/clauses.tsv, field "kind") the profile can
 * affect: a clause is rerun under a profile when its id matches one
 * pattern and, if kinds is set, its kind is one of them.
 */
struct rundown_inject_profile {
	const char *name;
	const char *spec;    /* a spec without seed= */
	const char *targets; /* clause-id patterns */
	const char *kinds;   /* NULL: any kind */
	const char *summary; /* one line, for --help and reports */
};

/* The spec of a named profile, or NULL if there is no such profile. */
const char *rundown_inject_profile(const char *name);

/* The profile record, or NULL. */
const struct rundown_inject_profile *rundown_inject_profile_find(const char *name);

/* All profiles, in a fixed order; *count set to their number. */
const struct rundown_inject_profile *rundown_inject_profiles(size_t *count);

/* Nonzero if the profile can affect the clause (kind may be NULL). */
int rundown_inject_profile_affects(const struct rundown_inject_profile *profile,
				   const char *clause_id, const char *kind);

/*
 * Expand "p1,p2,..." (profile names) into one spec in out ("s1;s2;...")
 * and check that it parses (two profiles setting the same clause, e.g.
 * migrate,hotplug, do not combine).  Returns 0, or -1 with a message in
 * err naming the unknown profile or the conflict.
 */
int rundown_inject_profile_expand(const char *names, char *out, size_t outlen, char *err,
				  size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_INJECT_SPEC_H */
