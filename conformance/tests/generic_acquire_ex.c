/*
 * conformance/tests/generic_acquire_ex.c - AcquireEx(Count): a TRUE adds
 * exactly Count units (ACQEX-001), a FALSE adds none (ACQEX-002), and Ex
 * and single calls share one count (ACQEX-005).  The race with the start
 * of Wait (ACQEX-003) is in generic_race.c.
 */
#include "config.h"

#include <stdio.h>

#include "conformance/tests/generic_util.h"

struct releaser {
	const struct gen *g;
	void *obj;
	ULONG n; /* single Releases to make */
};

static void release_n(void *p)
{
	struct releaser *a = p;

	for (ULONG i = 0; i < a->n; i++)
		a->g->f->release(a->obj);
}

/* Give back n units with single Releases, spread over threads on
 * different CPUs (the first share on the calling thread). */
static void release_spread(const struct gen *g, void *obj, ULONG n, const char *clause)
{
	unsigned parts = conform_ncpu() < 2 ? 2 : conform_ncpu() > 4 ? 4 : conform_ncpu();
	ULONG share = n / parts;

	for (unsigned i = 1; i < parts; i++) {
		struct releaser a = {g, obj, share};

		if (!gen_run_on(gen_cpu_of(i), release_n, &a))
			conform_fail(clause, "Release did not return within %.1f s",
				     CONFORM_RETURN_TIMEOUT_NS / 1e9);
		n -= share;
	}
	for (ULONG i = 0; i < n; i++)
		g->f->release(obj);
}

/* ---- ACQEX-001: AcquireEx(Count) adds Count units ---- */

static void acqex_001(const struct gen *g)
{
	const char *cl = gen_cl(g, "ACQEX-001");
	char what[160];

	for (unsigned i = 0; i < GEN_NCOUNTS + 1; i++) {
		void *obj = g->f->create(g->how);
		struct conform_waiter w;
		/* the last round: three AcquireEx(65535), 196605 units at once */
		unsigned times = i < GEN_NCOUNTS ? 1 : 3;
		ULONG n = gen_counts[i < GEN_NCOUNTS ? i : GEN_NCOUNTS - 1];
		unsigned long total = (unsigned long)n * times;

		for (unsigned k = 0; k < times; k++)
			gen_expect_granted_ex(g, obj, n, cl, "on a live object");
		gen_waiter_start(&w, g, obj, gen_cpu_of(i));
		if (!conform_rundown_visible(g->f, obj, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(gen_cl(g, "ACQ-002"), "Acquire kept returning TRUE after Wait "
				     "was called");
		release_spread(g, obj, (ULONG)(total - 1), cl);
		snprintf(what, sizeof(what),
			 "after %lu of the %lu units granted by %u AcquireEx(%lu) were released",
			 total - 1, total, times, (unsigned long)n);
		gen_expect_blocked(&w, cl, what);
		g->f->release(obj);
		snprintf(what, sizeof(what), "after the last of %lu units (AcquireEx(%lu) x %u) "
			 "was released", total, (unsigned long)n, times);
		gen_expect_returns(&w, cl, what);
		g->f->destroy(obj);
	}
	/* Counts above 16 bits (ULONG is 32 bits; UNDEF-004 leaves only
	 * totals above 2^24 unchecked): AcquireEx(n), ReleaseEx(n - 1) must
	 * leave exactly one unit holding Wait. */
	static const ULONG big[] = {65536, 70000, 1u << 20};
	for (unsigned i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		void *obj = g->f->create(g->how);
		struct conform_waiter w;

		gen_expect_granted_ex(g, obj, big[i], cl, "on a live object (Count above 16 bits)");
		g->f->release_ex(obj, big[i] - 1);
		gen_waiter_start(&w, g, obj, gen_cpu_of(i));
		snprintf(what, sizeof(what), "after AcquireEx(%lu) then ReleaseEx(%lu): one unit "
			 "is still held", (unsigned long)big[i], (unsigned long)big[i] - 1);
		gen_expect_blocked(&w, cl, what);
		g->f->release(obj);
		snprintf(what, sizeof(what), "after the last unit of AcquireEx(%lu) was released",
			 (unsigned long)big[i]);
		gen_expect_returns(&w, cl, what);
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_acqex_001_adds_count_units, ca_acqex_001_adds_count_units, acqex_001,
	  "PLAIN-ACQEX-001 PLAIN-ACQ-002", "CA-ACQEX-001 CA-ACQ-002", GEN_ACQEX | GEN_RELEX, 0)

/* ---- ACQEX-002: a failed AcquireEx leaves nothing to release ---- */

struct attempt {
	const struct gen *g;
	void *obj;
	ULONG n;
	BOOLEAN got;
};

static void attempt_ex(void *p)
{
	struct attempt *a = p;

	a->got = a->g->f->acquire_ex(a->obj, a->n);
}

static void acqex_002(const struct gen *g)
{
	const char *cl = gen_cl(g, "ACQEX-002");

	for (unsigned r = 0; r < 30; r++) {
		void *obj = g->f->create(g->how);
		struct conform_waiter w;
		unsigned tries = 0;

		gen_expect_granted(g, obj, gen_cl(g, "ACQ-001"), "on a live object");
		gen_waiter_start(&w, g, obj, gen_cpu_of(r));
		if (!conform_rundown_visible(g->f, obj, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(gen_cl(g, "ACQ-002"), "Acquire kept returning TRUE for %.1f s "
				     "after Wait was called", CONFORM_RETURN_TIMEOUT_NS / 1e9);
		for (unsigned c = 0; c < conform_ncpu() && c < 8; c++) {
			struct attempt a = {g, obj, gen_counts[(r + c) % GEN_NCOUNTS] + 4, 0};

			if (!gen_run_on(gen_cpu_of(c + 1), attempt_ex, &a))
				conform_fail(cl, "AcquireEx did not return within %.1f s while Wait "
					     "blocked", CONFORM_RETURN_TIMEOUT_NS / 1e9);
			if (a.got) /* ACQEX-004's violation; give the units back */
				g->f->release_ex(obj, a.n);
			conform_assert(!a.got, gen_cl(g, "ACQEX-004"),
				       "AcquireEx(%lu) returned TRUE while Wait blocked",
				       (unsigned long)a.n);
			tries++;
		}
		g->f->release(obj);
		gen_expect_returns(&w, cl, "after the only granted unit was released (the "
				   "failed AcquireEx calls must have added nothing)");
		(void)tries;
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_acqex_002_failure_adds_nothing, ca_acqex_002_failure_adds_nothing, acqex_002,
	  "PLAIN-ACQEX-002 PLAIN-ACQEX-004 PLAIN-ACQ-001 PLAIN-ACQ-002",
	  "CA-ACQEX-002 CA-ACQEX-004 CA-ACQ-001 CA-ACQ-002", GEN_ACQEX | GEN_RELEX,
	  CONFORM_CONCURRENT)

/* ---- ACQEX-005: AcquireEx(n) given back by n single Releases ---- */

static void acqex_005(const struct gen *g)
{
	static const ULONG ns[] = {2, 3, 7, 64};
	const char *cl = gen_cl(g, "ACQEX-005");
	char what[128];

	for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		void *obj = g->f->create(g->how);
		struct conform_waiter w;
		struct releaser a = {g, obj, 1};

		gen_expect_granted_ex(g, obj, ns[i], gen_cl(g, "ACQEX-001"), "on a live object");
		gen_waiter_start(&w, g, obj, gen_cpu_of(0));
		/* n - 1 single Releases, each on another CPU in turn */
		for (ULONG k = 0; k + 1 < ns[i]; k++) {
			if (!gen_run_on(gen_cpu_of(k + 1), release_n, &a))
				conform_fail(cl, "Release did not return within %.1f s",
					     CONFORM_RETURN_TIMEOUT_NS / 1e9);
			if (conform_waiter_returned(&w))
				conform_fail(cl, "Wait returned after %lu single Releases of the %lu "
					     "units of AcquireEx(%lu)", (unsigned long)k + 1,
					     (unsigned long)ns[i], (unsigned long)ns[i]);
		}
		snprintf(what, sizeof(what), "after %lu single Releases of the %lu units of "
			 "AcquireEx(%lu)", (unsigned long)ns[i] - 1, (unsigned long)ns[i],
			 (unsigned long)ns[i]);
		gen_expect_blocked(&w, cl, what);
		g->f->release(obj);
		gen_expect_returns(&w, cl, "after the n-th single Release");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_acqex_005_one_count, ca_acqex_005_one_count, acqex_005,
	  "PLAIN-ACQEX-005 PLAIN-ACQEX-001", "CA-ACQEX-005 CA-ACQEX-001", GEN_ACQEX,
	  CONFORM_CONCURRENT)
