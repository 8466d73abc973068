/*
 * conformance/tests/generic_release.c - Release gives back one unit
 * (REL-001), ReleaseEx(Count) gives back Count (RELEX-001/002), and a unit
 * may be released on another thread and CPU (PLAIN-REL-003; the CA
 * counterpart CA-REL-003 is a CA-specific test).  The race of the last
 * Release with Wait (REL-002) is in generic_race.c.
 */
#include "config.h"

#include <stdio.h>

#include "conformance/tests/generic_util.h"

/* ---- REL-001: with k units held, Wait returns after the k-th Release ---- */

static void rel_001(const struct gen *g)
{
	static const unsigned ks[] = {1, 2, 5};
	const char *cl = gen_cl(g, "REL-001");
	char what[96];

	for (unsigned i = 0; i < 3; i++) {
		void *obj = g->f->create(g->how);
		struct conform_waiter w;

		for (unsigned k = 0; k < ks[i]; k++)
			gen_expect_granted(g, obj, gen_cl(g, "ACQ-001"), "on a live object");
		gen_waiter_start(&w, g, obj, gen_cpu_of(i));
		for (unsigned k = 1; k < ks[i]; k++) {
			g->f->release(obj);
			snprintf(what, sizeof(what), "after %u of %u Releases", k, ks[i]);
			gen_expect_blocked(&w, cl, what);
		}
		g->f->release(obj);
		snprintf(what, sizeof(what), "after the last of %u Releases", ks[i]);
		gen_expect_returns(&w, cl, what);
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_rel_001_gives_back_one, ca_rel_001_gives_back_one, rel_001,
	  "PLAIN-REL-001 PLAIN-ACQ-001", "CA-REL-001 CA-ACQ-001", 0, 0)

/* ---- RELEX-001: ReleaseEx(k) then ReleaseEx(n-k) after AcquireEx(n) ---- */

static void relex_001(const struct gen *g)
{
	static const ULONG ns[][2] = {{2, 1}, {3, 2}, {7, 3}, {64, 63}, {4096, 1}, {65535, 4096}};
	const char *cl = gen_cl(g, "RELEX-001");
	char what[128];

	for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		void *obj = g->f->create(g->how);
		ULONG n = ns[i][0], k = ns[i][1];
		struct conform_waiter w;

		gen_expect_granted_ex(g, obj, n, gen_cl(g, "ACQEX-001"), "on a live object");
		gen_waiter_start(&w, g, obj, gen_cpu_of(i));
		g->f->release_ex(obj, k);
		snprintf(what, sizeof(what), "after ReleaseEx(%lu) of the %lu units of AcquireEx(%lu)",
			 (unsigned long)k, (unsigned long)n, (unsigned long)n);
		gen_expect_blocked(&w, cl, what);
		g->f->release_ex(obj, n - k);
		snprintf(what, sizeof(what), "after ReleaseEx(%lu) gave back the last of the %lu units",
			 (unsigned long)(n - k), (unsigned long)n);
		gen_expect_returns(&w, cl, what);
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_relex_001_gives_back_count, ca_relex_001_gives_back_count, relex_001,
	  "PLAIN-RELEX-001 PLAIN-ACQEX-001", "CA-RELEX-001 CA-ACQEX-001", GEN_ACQEX | GEN_RELEX,
	  0)

/* ---- RELEX-002: n single Acquires given back by ReleaseEx ---- */

struct acquirer {
	const struct gen *g;
	void *obj;
	BOOLEAN got;
};

static void acquire_one(void *p)
{
	struct acquirer *a = p;

	a->got = a->g->f->acquire(a->obj);
}

static void relex_002(const struct gen *g)
{
	static const ULONG ns[] = {2, 3, 7, 64};
	const char *cl = gen_cl(g, "RELEX-002");
	char what[128];

	for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		void *obj = g->f->create(g->how);
		ULONG n = ns[i];
		struct conform_waiter w;

		/* n single Acquires, on different CPUs in turn */
		for (ULONG k = 0; k < n; k++) {
			struct acquirer a = {g, obj, 0};

			if (!gen_run_on(gen_cpu_of(k), acquire_one, &a))
				conform_fail(gen_cl(g, "ACQ-001"), "Acquire did not return");
			conform_assert(a.got == TRUE, gen_cl(g, "ACQ-001"),
				       "Acquire returned %u on a live object", (unsigned)a.got);
		}
		gen_waiter_start(&w, g, obj, gen_cpu_of(i));
		if (i & 1) {
			/* ReleaseEx(n - 1), then one Release */
			g->f->release_ex(obj, n - 1);
			snprintf(what, sizeof(what), "after ReleaseEx(%lu) of %lu single units",
				 (unsigned long)(n - 1), (unsigned long)n);
			gen_expect_blocked(&w, cl, what);
			g->f->release(obj);
			gen_expect_returns(&w, cl, "after ReleaseEx(n-1) and Release of n single units");
		} else {
			g->f->release_ex(obj, n);
			snprintf(what, sizeof(what), "after ReleaseEx(%lu) of %lu single units",
				 (unsigned long)n, (unsigned long)n);
			gen_expect_returns(&w, cl, what);
		}
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_relex_002_releases_single_units, ca_relex_002_releases_single_units,
	  relex_002, "PLAIN-RELEX-002 PLAIN-ACQ-001", "CA-RELEX-002 CA-ACQ-001", GEN_RELEX,
	  CONFORM_CONCURRENT)

/* ---- PLAIN-REL-003: acquire on A, release on B (different CPUs) ---- */

struct handover {
	const struct gen *g;
	void *obj;
	ULONG n;      /* 0: single */
	BOOLEAN got;
};

static void hand_acquire(void *p)
{
	struct handover *h = p;

	h->got = h->n ? h->g->f->acquire_ex(h->obj, h->n) : h->g->f->acquire(h->obj);
}

static void hand_release(void *p)
{
	struct handover *h = p;

	if (h->n)
		h->g->f->release_ex(h->obj, h->n);
	else
		h->g->f->release(h->obj);
}

static void rel_003(const struct gen *g)
{
	const char *cl = "PLAIN-REL-003";
	unsigned ncpu = conform_ncpu() > 4 ? 4 : conform_ncpu();

	for (unsigned r = 0; r < 8; r++) {
		void *obj = g->f->create(g->how);
		struct handover h[2] = {{g, obj, 0, 0}, {g, obj, gen_counts[1 + r % 6], 0}};
		struct conform_waiter w;

		/* a: acquire on A pinned to CPU i, release on B pinned to j != i */
		for (unsigned i = 0; i < ncpu; i++) {
			for (unsigned x = 0; x < 2; x++) {
				int ca = gen_cpu_of(i), cb = gen_cpu_of(i + 1);

				if (!gen_run_on(ca, hand_acquire, &h[x]) || h[x].got != TRUE)
					conform_fail(cl, "Acquire%s on thread A failed on a live object",
						     x ? "Ex" : "");
				if (!gen_run_on(cb, hand_release, &h[x]))
					conform_fail(cl, "Release%s on thread B (CPU %d) of a unit "
						     "acquired on thread A (CPU %d) did not return "
						     "within %.1f s", x ? "Ex" : "", cb, ca,
						     CONFORM_RETURN_TIMEOUT_NS / 1e9);
			}
		}
		/* one unit outstanding, handed over: Wait blocks until B releases it */
		if (!gen_run_on(gen_cpu_of(r), hand_acquire, &h[0]) || h[0].got != TRUE)
			conform_fail(cl, "Acquire on thread A failed on a live object");
		gen_waiter_start(&w, g, obj, gen_cpu_of(r + 2));
		if (r < 2)
			gen_expect_blocked(&w, cl, "while a unit acquired on another thread was held");
		if (!gen_run_on(gen_cpu_of(r + 1), hand_release, &h[0]))
			conform_fail(cl, "Release on thread B did not return");
		gen_expect_returns(&w, cl, "after thread B released the unit thread A acquired "
				   "(balanced: nothing held)");
		g->f->destroy(obj);
	}
}

CONFORM_TEST(plain_rel_003_release_on_other_thread, "PLAIN-REL-003",
	     GEN_NEEDS_P(GEN_ACQEX | GEN_RELEX), CONFORM_CONCURRENT)
{
	rel_003(&gen_plain);
}
END_TEST
