/*
 * conformance/tests/generic_reinit.c - reuse of one object across cycles:
 * nothing of a contended cycle carries over (REINIT-004 / CA-REINIT-005),
 * accessors that keep trying across Completed and ReInitialize
 * (REINIT-005 / CA-REINIT-006, the reading of UNDEF-018: only Acquire and
 * AcquireEx race those two), the owner's set-up before ReInitialize is
 * visible to the next cycle's accessors (REINIT-006 / CA-REINIT-007), and
 * long reuse chains (LIFE-002, LIFE-003; CA-LIFE-003, CA-REINIT-002).
 */
#include "config.h"

#include <sched.h>
#include <stdlib.h>

#include "conformance/tests/generic_util.h"

#define MAXT 8

/* ---- REINIT-004: a contended cycle leaves nothing behind ---- */

static void reinit_004(const struct gen *g)
{
	const char *cl = gen_cl(g, "REINIT-004");
	void *obj = g->f->create(g->how);

	for (unsigned c = 0; c < 6; c++) {
		struct conform_waiter w;
		unsigned k = 1 + c % 3;

		for (unsigned i = 0; i < k; i++)
			gen_expect_granted(g, obj, cl, "in a new cycle after ReInitialize");
		gen_waiter_start(&w, g, obj, gen_cpu_of(c));
		if (c < 4)
			gen_expect_blocked(&w, cl, c ? "in a cycle after a contended Wait and "
							"ReInitialize, while its own units were held"
						     : "while units were held");
		else
			conform_assert(!conform_waiter_returned(&w), cl,
				       "Wait returned while units of its cycle were held");
		while (k--)
			g->f->release(obj);
		gen_expect_returns(&w, cl, "after the last release of its cycle");
		if (c & 1)
			gen_completed_now(g, obj, gen_cl(g, "DONE-001"), "after a contended Wait");
		g->f->reinit(obj);
	}
	gen_wait_now(g, obj, cl, "right after ReInitialize (a fresh cycle with nothing held)");
	g->f->destroy(obj);
}

GEN_TEST3(plain_reinit_004_nothing_carries_over, ca_reinit_005_nothing_carries_over,
	  reinit_004, "PLAIN-REINIT-004 PLAIN-DONE-001", "CA-REINIT-005 CA-DONE-001",
	  GEN_DONE | GEN_REINIT, 0)

/* ---- REINIT-005: accessors race Completed and ReInitialize ---- */

struct cyc {
	const struct gen *g;
	void *obj;
	_Atomic int inside;  /* holders between TRUE and release */
	_Atomic int closed;  /* owner: between Wait's return and ReInitialize */
	_Atomic int late;    /* a holder saw closed while holding */
	_Atomic long grants; /* TRUEs so far */
	_Atomic int stop;
	unsigned nt;
};

struct accessor {
	struct cyc *s;
	uint64_t rng;
};

static void *accessor_main(void *p)
{
	struct accessor *a = p;
	struct cyc *s = a->s;
	const struct conform_family *f = s->g->f;

	while (!atomic_load(&s->stop)) {
		uint64_t x = conform_rand(&a->rng);
		ULONG n = (x & 1) ? gen_counts[(x >> 1) % 4] : 0;

		if (!(n ? f->acquire_ex(s->obj, n) : f->acquire(s->obj))) {
			if (s->nt >= conform_ncpu())
				sched_yield();
			continue;
		}
		atomic_fetch_add(&s->inside, 1);
		if (atomic_load(&s->closed))
			atomic_store(&s->late, 1);
		atomic_fetch_add(&s->grants, 1);
		gen_spin_random(&a->rng, 8);
		atomic_fetch_sub(&s->inside, 1);
		if (n)
			f->release_ex(s->obj, n);
		else
			f->release(s->obj);
	}
	return NULL;
}

struct cyc_waiter {
	struct cyc *s;
	int seen_inside;
	_Atomic int done;
};

static void *cyc_waiter_main(void *p)
{
	struct cyc_waiter *w = p;

	w->s->g->f->wait(w->s->obj);
	atomic_store(&w->s->closed, 1);
	w->seen_inside = atomic_load(&w->s->inside);
	atomic_store_explicit(&w->done, 1, memory_order_release);
	return NULL;
}

/* completed: 0 never, 1 always, 2 every other cycle */
static void reuse_with_accessors(const struct gen *g, const char *cl, int completed,
				 unsigned long base)
{
	struct gen_budget bud;
	unsigned nt = conform_ncpu() < 2 ? 2 : conform_ncpu() > MAXT ? MAXT : conform_ncpu();
	struct cyc *s = calloc(1, sizeof(*s));
	struct accessor ac[MAXT];
	pthread_t t[MAXT];
	uint64_t rng = conform_seed();

	if (s == NULL)
		conform_unresolved("out of memory");
	s->g = g;
	s->obj = g->f->create(g->how);
	s->nt = nt;
	for (unsigned i = 0; i < nt; i++) {
		ac[i] = (struct accessor){s, conform_seed() + 77 * (i + 1)};
		gen_spawn(&t[i], gen_cpu_of(i), accessor_main, &ac[i]);
	}
	gen_budget_init(&bud, conform_iterations(base));
	for (unsigned long c = 1; gen_budget_next(&bud); c++) {
		struct cyc_waiter w = {s, 0, 0};
		long before = atomic_load(&s->grants);
		pthread_t tw;
		bool done = completed == 1 || (completed == 2 && (c & 1));

		/* this cycle's accessors get in before the owner runs it down */
		for (uint64_t end = conform_now_ns() + CONFORM_RETURN_TIMEOUT_NS;
		     atomic_load(&s->grants) == before;) {
			if (conform_now_ns() > end)
				conform_fail(gen_cl(g, "ACQ-007"),
					     "no Acquire/AcquireEx returned TRUE within %.1f s after "
					     "ReInitialize (cycle %lu)", CONFORM_RETURN_TIMEOUT_NS / 1e9, c);
			sched_yield();
		}
		gen_spin_random(&rng, 12);
		atomic_init(&w.done, 0);
		gen_spawn(&tw, -1, cyc_waiter_main, &w);
		if (!gen_await(&w.done, 1, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(cl, "Wait did not return within %.1f s with accessors acquiring "
				     "and releasing (cycle %lu)", CONFORM_RETURN_TIMEOUT_NS / 1e9, c);
		pthread_join(tw, NULL);
		if (w.seen_inside)
			conform_fail(cl, "Wait returned while %d accessors held protection acquired "
				     "in this cycle (cycle %lu, after ReInitialize)", w.seen_inside, c);
		if (done)
			gen_completed_now(g, s->obj, gen_cl(g, "DONE-001"), "with accessors retrying");
		if (atomic_load(&s->late))
			conform_fail(cl, "an accessor held protection between Wait's return and "
				     "ReInitialize (cycle %lu%s); required: Acquire returns FALSE "
				     "there", c, done ? ", across Completed" : "");
		atomic_store(&s->closed, 0); /* before ReInitialize: a TRUE may follow it */
		g->f->reinit(s->obj);
	}
	atomic_store(&s->stop, 1);
	for (unsigned i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&s->late))
		conform_fail(cl, "an accessor held protection between Wait's return and "
			     "ReInitialize (last cycle); required: Acquire returns FALSE there");
	gen_wait_now(g, s->obj, cl, "with every accessor stopped");
	g->f->destroy(s->obj);
	free(s);
}

static void reinit_005(const struct gen *g)
{
	reuse_with_accessors(g, gen_cl(g, "REINIT-005"), 2, 60);
}

GEN_TEST3(plain_reinit_005_accessors_race_reinit, ca_reinit_006_accessors_race_reinit,
	  reinit_005, "PLAIN-REINIT-005 PLAIN-ACQ-007 PLAIN-DONE-001",
	  "CA-REINIT-006 CA-ACQ-005 CA-DONE-001", GEN_ACQEX | GEN_RELEX | GEN_DONE | GEN_REINIT,
	  CONFORM_CONCURRENT)

/* ---- LIFE-002 / LIFE-003: >= 1000 reuse cycles on one object ---- */

static void reuse_chain(const struct gen *g, const char *cl, bool completed)
{
	void *obj = g->f->create(g->how);

	for (unsigned c = 0; c < 1000; c++) {
		struct conform_waiter w;
		unsigned k = 1 + c % 3;

		for (unsigned i = 0; i < k; i++)
			gen_expect_granted(g, obj, cl, c ? "after ReInitialize" : "on a fresh object");
		gen_expect_granted_ex(g, obj, 3, cl, c ? "after ReInitialize" : "on a fresh object");
		g->f->release_ex(obj, 3);
		if (c % 50 < 2) { /* a contended Wait on a watched thread */
			gen_waiter_start(&w, g, obj, -1);
			if (c % 250 == 1)
				gen_expect_blocked(&w, cl, "while this cycle's units were held");
			while (k--)
				g->f->release(obj);
			gen_expect_returns(&w, cl, "after this cycle's last release");
		} else { /* released first: the Wait returns at once */
			while (k--)
				g->f->release(obj);
			gen_wait_now(g, obj, cl, "after this cycle's last release");
		}
		gen_expect_refused(g, obj, cl, "after Wait returned");
		if (completed)
			gen_completed_now(g, obj, cl, "after Wait");
		g->f->reinit(obj);
	}
	gen_wait_now(g, obj, cl, "after ReInitialize with nothing held");
	g->f->destroy(obj);
}

static void life_002(const struct gen *g)
{
	reuse_chain(g, gen_cl(g, "LIFE-002"), true);
	reuse_with_accessors(g, gen_cl(g, "LIFE-002"), 1, 20);
}

static void life_003(const struct gen *g)
{
	reuse_chain(g, gen_cl(g, "LIFE-003"), false);
	reuse_with_accessors(g, gen_cl(g, "LIFE-003"), 0, 20);
}

GEN_TEST3(plain_life_002_reuse_with_completed, ca_life_003_reuse_with_completed, life_002,
	  "PLAIN-LIFE-002 PLAIN-ACQ-007 PLAIN-DONE-001", "CA-LIFE-003 CA-ACQ-005 CA-DONE-001",
	  GEN_ACQEX | GEN_RELEX | GEN_DONE | GEN_REINIT, CONFORM_CONCURRENT)

GEN_TEST3(plain_life_003_reuse_without_completed, ca_reinit_002_reuse_without_completed,
	  life_003, "PLAIN-LIFE-003 PLAIN-ACQ-007", "CA-REINIT-002 CA-ACQ-005", GEN_ACQEX | GEN_RELEX | GEN_REINIT,
	  CONFORM_CONCURRENT)
