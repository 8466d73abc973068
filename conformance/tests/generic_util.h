/*
 * conformance/tests/generic_util.h - what the family-generic tests share:
 * registration of one body per family, clause ids by family, timed calls,
 * pinned threads and the checks every run-down test makes.
 *
 * A body is written once against struct gen (family + creation path) and
 * names clauses by their plain suffix ("ACQ-004"); gen_cl() maps it to the
 * family's id (PLAIN-ACQ-004 / CA-ACQ-006): the areas are numbered by the
 * documents' order, which differs between the families.
 */
#ifndef RUNDOWN_CONFORM_GENERIC_UTIL_H
#define RUNDOWN_CONFORM_GENERIC_UTIL_H

#include "conformance/tests/family.h"

struct gen {
	const struct conform_family *f;
	enum conform_make how;
	bool ca;
};

/* The family's clause id for a plain-numbered suffix, e.g. "WAIT-001". */
const char *gen_cl(const struct gen *g, const char *suffix);

/* Routines beyond the family's core set (CONFORM_NEEDS_*). */
#define GEN_ACQEX 0x1u
#define GEN_RELEX 0x2u
#define GEN_DONE 0x4u
#define GEN_REINIT 0x8u

#define GEN_NEEDS_P(o)                                                                  \
	(CONFORM_NEEDS_PLAIN |                                                          \
	 (((o)&GEN_ACQEX) ? RUNDOWN_BIT(ExAcquireRundownProtectionEx) : 0) |           \
	 (((o)&GEN_RELEX) ? RUNDOWN_BIT(ExReleaseRundownProtectionEx) : 0) |           \
	 (((o)&GEN_DONE) ? RUNDOWN_BIT(ExRundownCompleted) : 0) |                      \
	 (((o)&GEN_REINIT) ? RUNDOWN_BIT(ExReInitializeRundownProtection) : 0))
#define GEN_NEEDS_CA_OPS(o)                                                             \
	((((o)&GEN_ACQEX) ? RUNDOWN_BIT(ExAcquireRundownProtectionCacheAwareEx) : 0) |  \
	 (((o)&GEN_RELEX) ? RUNDOWN_BIT(ExReleaseRundownProtectionCacheAwareEx) : 0) |  \
	 (((o)&GEN_DONE) ? RUNDOWN_BIT(ExRundownCompletedCacheAware) : 0) |             \
	 (((o)&GEN_REINIT) ? RUNDOWN_BIT(ExReInitializeRundownProtectionCacheAware) : 0))
/* CA object from Allocate (freed with Free) */
#define GEN_NEEDS_CA(o) (CONFORM_NEEDS_CA | GEN_NEEDS_CA_OPS(o))
/* CA object from Size + Initialize in a heap buffer (freed with free()) */
#define GEN_NEEDS_CAB(o)                                                                \
	((CONFORM_NEEDS_CA & ~(RUNDOWN_BIT(ExAllocateCacheAwareRundownProtection) |     \
			       RUNDOWN_BIT(ExFreeCacheAwareRundownProtection))) |       \
	 CONFORM_NEEDS_CA_BUFFER | GEN_NEEDS_CA_OPS(o))

extern const struct gen gen_plain, gen_ca, gen_cab;

/*
 * Register body fn (void fn(const struct gen *)) three times: plain, CA on
 * an Allocate'd object, CA on a Size+Initialize'd buffer (CA-ALLOC-005:
 * the creation path must not matter).
 */
#define GEN_TEST3(pname, cname, fn, pcl, ccl, ops, flags)                               \
	CONFORM_TEST(pname, pcl, GEN_NEEDS_P(ops), flags) { fn(&gen_plain); }           \
	END_TEST                                                                        \
	CONFORM_TEST(cname, ccl, GEN_NEEDS_CA(ops), flags) { fn(&gen_ca); }             \
	END_TEST                                                                        \
	CONFORM_TEST(cname##_buffer, ccl, GEN_NEEDS_CAB(ops), flags) { fn(&gen_cab); }  \
	END_TEST

/* The Count values the suite uses (UNDEF-004 keeps Count <= 65535). */
extern const ULONG gen_counts[7];
#define GEN_NCOUNTS 7u

/* ---- calls under a deadline (a backend that never returns is a FAIL) ---- */

/* Run f->wait(obj) on a thread pinned to cpu (or unpinned if cpu < 0). */
void gen_waiter_start(struct conform_waiter *w, const struct gen *g, void *obj, int cpu);
/* Wait must return within CONFORM_RETURN_TIMEOUT_NS; FAIL clause otherwise. */
void gen_expect_returns(struct conform_waiter *w, const char *clause, const char *what);
/* Wait must stay blocked for the observation window; FAIL clause otherwise. */
void gen_expect_blocked(struct conform_waiter *w, const char *clause, const char *what);
/* Wait on obj (it must return at once: nothing held) with a deadline
 * (the first 16 watched calls of a test, with Completed below; later ones
 * direct). */
void gen_wait_now(const struct gen *g, void *obj, const char *clause, const char *what);
/* f->completed(obj) with a deadline. */
void gen_completed_now(const struct gen *g, void *obj, const char *clause, const char *what);
/* Acquire on a run-down object must return FALSE (0), exactly. */
void gen_expect_refused(const struct gen *g, void *obj, const char *clause, const char *what);
/* AcquireEx(n) must return FALSE (0), exactly. */
void gen_expect_refused_ex(const struct gen *g, void *obj, ULONG n, const char *clause,
			   const char *what);
/* Acquire must return TRUE (1), exactly. */
void gen_expect_granted(const struct gen *g, void *obj, const char *clause, const char *what);
void gen_expect_granted_ex(const struct gen *g, void *obj, ULONG n, const char *clause,
			   const char *what);
/* Poll AcquireEx(n) until FALSE (releasing each TRUE): run-down visible. */
bool gen_rundown_visible_ex(const struct gen *g, void *obj, ULONG n, uint64_t timeout_ns);

/* ---- threads ---- */

/* Run fn(arg) on a new thread pinned to cpu (unpinned if cpu < 0) and
 * join it within CONFORM_RETURN_TIMEOUT_NS; false if it did not finish. */
bool gen_run_on(int cpu, void (*fn)(void *), void *arg);
/* pthread_create with the new thread pinned to cpu (cpu < 0: unpinned). */
void gen_spawn(pthread_t *t, int cpu, void *(*fn)(void *), void *arg);
/* The cpu for thread i of a test: spread over the available CPUs. */
int gen_cpu_of(unsigned i);
/* A spin of about n short pauses (random delays inside races). */
void gen_spin(unsigned n);
/* A random delay in [0, 2^k) pauses with k random in 0..maxlog: log-uniform,
 * so a race is hit whatever the backend's speed. */
void gen_spin_random(uint64_t *rng, unsigned maxlog);
/* Wait for an atomic flag with a deadline (yielding); false on timeout. */
bool gen_await(_Atomic int *flag, int value, uint64_t timeout_ns);

/* A protected object: what holders touch inside their protection. */
struct gen_prot {
	unsigned nslots;
	unsigned long slot[]; /* plain (non-atomic): written only under protection */
};
struct gen_prot *gen_prot_new(unsigned nslots);

/* Rounds of a concurrent test: up to max (conform_iterations), but no
 * longer than a time budget, so a loaded machine makes the test weaker,
 * never HUNG.  At least 3 rounds run. */
struct gen_budget {
	uint64_t end;
	unsigned long max, done;
};
void gen_budget_init(struct gen_budget *b, unsigned long max);
bool gen_budget_next(struct gen_budget *b);

/* True in a TSan build of the runner. */
bool gen_tsan_build(void);
/* For a CONFORM_NEEDS_TSAN test's plain accesses: UNRESOLVED in a TSan
 * build whose backend TSan cannot see into (the races it would report are
 * the test's blindness, not the backend's bug); elsewhere nothing (no TSan,
 * no report: the runner maps the PASS to UNRESOLVED itself). */
void gen_need_tsan_backend(void);

/*
 * Accesses to protected data.  plain: ordinary loads and stores, ordered
 * only by the backend's Release/Wait or ReInitialize/Acquire, so TSan
 * checks that ordering (CONFORM_NEEDS_TSAN tests).  Otherwise relaxed
 * atomics: the values are still checked, but a TSan build of the runner
 * reports nothing against a backend it cannot see into.
 */
#define GEN_LOAD(p, plain) ((plain) ? *(p) : __atomic_load_n((p), __ATOMIC_RELAXED))
#define GEN_STORE(p, v, plain)                                                          \
	do {                                                                            \
		if (plain)                                                              \
			*(p) = (v);                                                     \
		else                                                                    \
			__atomic_store_n((p), (v), __ATOMIC_RELAXED);                   \
	} while (0)

#endif /* RUNDOWN_CONFORM_GENERIC_UTIL_H */
