/*
 * conformance/tests/generic_state.c - the states of one object, walked by
 * one owner: fresh, run down by an uncontended or a contended Wait,
 * completed, reinitialized (INIT, WAIT-004/005, DONE, ACQ-003/006/007,
 * REINIT-001..003, ACQEX-004 after the Wait, CONCEPT-006).
 *
 * "Returns at once" is a Wait or Completed on a watched thread that must
 * finish within CONFORM_RETURN_TIMEOUT_NS: a backend that blocks FAILs
 * with the clause instead of hanging the runner.
 */
#include "config.h"

#include "conformance/tests/generic_util.h"

#define ROUNDS 200u

/* Run obj down for good: hold one unit, Wait blocks, release, Wait
 * returns (a contended Wait); clause names who is checked. */
static void run_down_contended(const struct gen *g, void *obj, const char *clause)
{
	struct conform_waiter w;

	gen_expect_granted(g, obj, clause, "on a live object (setting up a contended Wait)");
	gen_waiter_start(&w, g, obj, -1);
	if (!conform_rundown_visible(g->f, obj, CONFORM_RETURN_TIMEOUT_NS))
		conform_unresolved("run-down never became visible to Acquire while Wait blocked");
	g->f->release(obj);
	gen_expect_returns(&w, clause, "after the last release (setting up a contended Wait)");
}

static void run_down(const struct gen *g, void *obj, bool contended, const char *clause)
{
	if (contended)
		run_down_contended(g, obj, clause);
	else
		gen_wait_now(g, obj, clause, "on an object with nothing held");
}

/* ---- INIT-001: a fresh object grants protection (single and Ex) ---- */

static void init_001(const struct gen *g, bool ex)
{
	const char *cl = gen_cl(g, "INIT-001");

	for (unsigned r = 0; r < ROUNDS; r++) {
		void *obj = g->f->create(g->how);
		unsigned long held = 1;

		gen_expect_granted(g, obj, cl, "right after Initialize");
		for (unsigned i = 0; ex && i < GEN_NCOUNTS; i++) {
			gen_expect_granted_ex(g, obj, gen_counts[i], cl, "right after Initialize");
			g->f->release_ex(obj, gen_counts[i]);
		}
		while (held--)
			g->f->release(obj);
		gen_wait_now(g, obj, cl, "after every unit was released (cleanup)");
		g->f->destroy(obj);
	}
}

CONFORM_TEST(plain_init_001_acquire_succeeds, "PLAIN-INIT-001",
	     GEN_NEEDS_P(GEN_ACQEX | GEN_RELEX), 0)
{
	init_001(&gen_plain, true);
}
END_TEST

CONFORM_TEST(ca_init_001_acquire_succeeds, "CA-INIT-001", GEN_NEEDS_CAB(0), 0)
{
	init_001(&gen_cab, false);
}
END_TEST

/* ---- INIT-005 / CA-INIT-004: nothing outstanding after Initialize ---- */

static void init_005(const struct gen *g)
{
	const char *cl = gen_cl(g, "INIT-005");

	for (unsigned r = 0; r < ROUNDS; r++) {
		void *obj = g->f->create(g->how);

		gen_wait_now(g, obj, cl, "right after Initialize (the count must start at zero)");
		g->f->destroy(obj);

		obj = g->f->create(g->how);
		gen_expect_granted(g, obj, cl, "right after Initialize");
		g->f->release(obj);
		gen_wait_now(g, obj, cl, "after Initialize, Acquire, Release (count back to zero)");
		g->f->destroy(obj);
	}
}

CONFORM_TEST(plain_init_005_count_starts_at_zero, "PLAIN-INIT-005", GEN_NEEDS_P(0), 0)
{
	init_005(&gen_plain);
}
END_TEST

CONFORM_TEST(ca_init_004_nothing_outstanding, "CA-INIT-004", GEN_NEEDS_CAB(0), 0)
{
	init_005(&gen_cab);
}
END_TEST

/* ---- WAIT-004: uncontended Wait runs the object down at once ---- */

static void wait_004(const struct gen *g)
{
	const char *cl = gen_cl(g, "WAIT-004");

	for (unsigned r = 0; r < ROUNDS; r++) {
		void *obj = g->f->create(g->how);

		if (r & 1) { /* also with a history of balanced units */
			gen_expect_granted(g, obj, cl, "on a live object");
			g->f->release(obj);
		}
		gen_wait_now(g, obj, cl, "with nothing held (it must not wait)");
		gen_expect_refused(g, obj, cl, "after a Wait with nothing held (object must be run down)");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_wait_004_uncontended_returns_at_once, ca_wait_004_uncontended_returns_at_once,
	  wait_004, "PLAIN-WAIT-004", "CA-WAIT-004", 0, 0)

/* ---- WAIT-005: Wait on a run-down object returns at once ---- */

static void wait_005(const struct gen *g)
{
	const char *cl = gen_cl(g, "WAIT-005");

	for (unsigned r = 0; r < ROUNDS; r++) {
		void *obj = g->f->create(g->how);
		bool contended = r & 1;

		run_down(g, obj, contended, gen_cl(g, contended ? "WAIT-001" : "WAIT-004"));
		for (int i = 0; i < 3; i++) {
			gen_wait_now(g, obj, cl, contended ? "again after a contended Wait"
							   : "again after an uncontended Wait");
			gen_expect_refused(g, obj, cl, "after a repeated Wait (object must stay run down)");
		}
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_wait_005_repeated_wait_no_effect, ca_wait_005_repeated_wait_no_effect, wait_005,
	  "PLAIN-WAIT-005 PLAIN-WAIT-004 PLAIN-WAIT-001", "CA-WAIT-005 CA-WAIT-004 CA-WAIT-001", 0,
	  0)

/* ---- ACQ-003 (+ ACQEX-004): refused after Wait returned ---- */

static void acq_003(const struct gen *g)
{
	const char *cl = gen_cl(g, "ACQ-003"), *clx = gen_cl(g, "ACQEX-004");

	for (unsigned r = 0; r < ROUNDS; r++) {
		void *obj = g->f->create(g->how);
		bool contended = r & 1;
		const char *what = contended ? "after a contended Wait returned"
					     : "after an uncontended Wait returned";

		run_down(g, obj, contended, gen_cl(g, contended ? "WAIT-001" : "WAIT-004"));
		for (int i = 0; i < 4; i++)
			gen_expect_refused(g, obj, cl, what);
		for (unsigned i = 1; i < GEN_NCOUNTS; i++)
			gen_expect_refused_ex(g, obj, gen_counts[i], clx, what);
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_acq_003_refused_after_wait, ca_acq_003_refused_after_wait, acq_003,
	  "PLAIN-ACQ-003 PLAIN-ACQEX-004 PLAIN-WAIT-001 PLAIN-WAIT-004",
	  "CA-ACQ-003 CA-ACQEX-004 CA-WAIT-001 CA-WAIT-004", GEN_ACQEX | GEN_RELEX, 0)

/* ---- DONE-001/002, ACQ-006 (+ ACQEX-004): Completed ---- */

static void done(const struct gen *g)
{
	for (unsigned r = 0; r < ROUNDS; r++) {
		void *obj = g->f->create(g->how);
		bool contended = r & 1;
		const char *what = contended ? "after a contended Wait" : "after an uncontended Wait";

		run_down(g, obj, contended, gen_cl(g, contended ? "WAIT-001" : "WAIT-004"));
		gen_completed_now(g, obj, gen_cl(g, "DONE-001"), what);
		/* Acquire first: a Wait would run a wrongly reopened object down again */
		gen_expect_refused(g, obj, gen_cl(g, "ACQ-006"), "after RundownCompleted");
		for (unsigned i = 1; i < GEN_NCOUNTS; i++)
			gen_expect_refused_ex(g, obj, gen_counts[i], gen_cl(g, "ACQEX-004"),
					      "after RundownCompleted");
		for (int i = 0; i < 3; i++)
			gen_wait_now(g, obj, gen_cl(g, "DONE-002"), "after RundownCompleted");
		gen_expect_refused(g, obj, gen_cl(g, "ACQ-006"), "after RundownCompleted and Waits");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_done_001_completed_marks_done, ca_done_001_completed_marks_done, done,
	  "PLAIN-DONE-001 PLAIN-DONE-002 PLAIN-ACQ-006 PLAIN-ACQEX-004 PLAIN-WAIT-001 PLAIN-WAIT-004",
	  "CA-DONE-001 CA-DONE-002 CA-ACQ-004 CA-ACQEX-004 CA-WAIT-001 CA-WAIT-004",
	  GEN_ACQEX | GEN_RELEX | GEN_DONE, 0)

/* ---- REINIT-001..003, ACQ-007, ACQEX-004: ReInitialize ---- */

struct reinit_probe {
	const struct gen *g;
	void *obj;
	BOOLEAN got;
};

static void probe_acquire(void *p)
{
	struct reinit_probe *a = p;

	a->got = a->g->f->acquire(a->obj);
}

static void reinit(const struct gen *g)
{
	const char *c1 = gen_cl(g, "REINIT-001"), *c7 = gen_cl(g, "ACQ-007");

	for (unsigned r = 0; r < ROUNDS; r++) {
		void *obj = g->f->create(g->how);
		bool contended = r & 1, completed = r & 2;
		const char *path = completed ? gen_cl(g, "REINIT-003") : gen_cl(g, "REINIT-002");
		const char *what = completed ? "after Wait, Completed, ReInitialize"
					     : "after Wait, ReInitialize";
		struct conform_waiter w;
		struct reinit_probe pr = {g, obj, 0};
		unsigned ncpu = conform_ncpu(), held = 0;

		run_down(g, obj, contended, gen_cl(g, contended ? "WAIT-001" : "WAIT-004"));
		if (completed)
			gen_completed_now(g, obj, gen_cl(g, "DONE-001"), "after Wait");
		g->f->reinit(obj);

		/* Acquire succeeds again, from every CPU */
		gen_expect_granted(g, obj, path, what);
		gen_expect_granted(g, obj, c7, what);
		held = 2;
		for (unsigned c = 0; c < ncpu && c < 8; c++) {
			if (!gen_run_on(gen_cpu_of(c), probe_acquire, &pr))
				conform_fail(c7, "Acquire did not return within %.1f s %s",
					     CONFORM_RETURN_TIMEOUT_NS / 1e9, what);
			conform_assert(pr.got == TRUE, c7,
				       "Acquire on CPU %d returned %u %s; required TRUE (1)",
				       gen_cpu_of(c), (unsigned)pr.got, what);
			held++;
		}
		gen_expect_granted_ex(g, obj, 7, gen_cl(g, "ACQEX-004"), what);
		g->f->release_ex(obj, 7);

		/* the count is zero: the units just taken are all there is */
		if (r < 4) { /* every path once; the window costs time */
			gen_waiter_start(&w, g, obj, -1);
			gen_expect_blocked(&w, c1, "while units acquired after ReInitialize were held");
			while (held--)
				g->f->release(obj);
			gen_expect_returns(&w, c1, "after the last release of the new cycle");
		} else {
			while (held--)
				g->f->release(obj);
			gen_wait_now(g, obj, c1, "right after ReInitialize with every new unit released");
		}
		gen_expect_refused(g, obj, gen_cl(g, "ACQ-003"), "after the new cycle's Wait returned");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_reinit_001_reusable, ca_reinit_001_reusable, reinit,
	  "PLAIN-REINIT-001 PLAIN-REINIT-002 PLAIN-REINIT-003 PLAIN-ACQ-007 PLAIN-ACQEX-004 "
	  "PLAIN-ACQ-003 PLAIN-DONE-001 PLAIN-WAIT-001 PLAIN-WAIT-004",
	  "CA-REINIT-001 CA-REINIT-002 CA-REINIT-003 CA-ACQ-005 CA-ACQEX-004 CA-ACQ-003 "
	  "CA-DONE-001 CA-WAIT-001 CA-WAIT-004",
	  GEN_ACQEX | GEN_RELEX | GEN_DONE | GEN_REINIT, 0)

/* ---- CONCEPT-006: three observable states ---- */

static void concept_006(const struct gen *g)
{
	const char *cl = "CONCEPT-006";

	for (unsigned r = 0; r < 20; r++) {
		void *obj = g->f->create(g->how);
		struct conform_waiter w;

		/* live */
		gen_expect_granted(g, obj, cl, "in the live state");
		gen_expect_granted(g, obj, cl, "in the live state (a second unit)");
		g->f->release(obj);
		/* being run down: Wait blocked, Acquire FALSE */
		gen_waiter_start(&w, g, obj, -1);
		if (!conform_rundown_visible(g->f, obj, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(cl, "Acquire kept returning TRUE for %.1f s after Wait was called "
				     "(being-run-down state must refuse)",
				     CONFORM_RETURN_TIMEOUT_NS / 1e9);
		conform_assert(!conform_waiter_returned(&w), cl,
			       "Wait returned while a unit was held (being-run-down state)");
		gen_expect_refused(g, obj, cl, "in the being-run-down state");
		g->f->release(obj);
		gen_expect_returns(&w, cl, "after the last release");
		/* run down: Acquire FALSE, a new Wait returns at once */
		gen_expect_refused(g, obj, cl, "in the run-down state");
		gen_wait_now(g, obj, cl, "in the run-down state");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_concept_006_three_states, ca_concept_006_three_states, concept_006,
	  "CONCEPT-006", "CONCEPT-006", 0, 0)
