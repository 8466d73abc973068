/*
 * conformance/tests/generic_ordering.c - the owner's set-up of the new
 * object before ReInitialize is visible to an accessor whose Acquire
 * returned TRUE (REINIT-006 / CA-REINIT-007): ReInitialize publishes, a
 * successful Acquire acquires.
 *
 * The owner writes the new object only while it is run down, then
 * ReInitializes; accessors read it only under protection.  In the _tsan
 * variant these are plain loads and stores with nothing but the backend
 * to order them, so under TSan (instrumented backend) a missing
 * release/acquire is a data race report; the other variant uses relaxed
 * atomics and checks the data itself: every field must belong to one and
 * the same, current, generation.
 * (Holders' writes seen by the owner after Wait, WAIT-008, are checked in
 * generic_race_acquire.c.)
 */
#include "config.h"

#include <sched.h>
#include <stdlib.h>

#include "conformance/tests/generic_util.h"

#define MAXT 8
#define NFIELDS 8

struct pub {
	const struct gen *g;
	void *obj;
	long gen;            /* plain: the generation the owner set up */
	long field[NFIELDS]; /* plain: gen * 1000 + i */
	_Atomic long seen;   /* highest generation an accessor read */
	_Atomic int bad;     /* first inconsistent read, encoded below */
	long bad_gen, bad_field, bad_idx;
	_Atomic int stop;
	bool plain; /* plain accesses to gen/field (TSan-exact variant) */
};

struct reader {
	struct pub *s;
	unsigned nt;
};

static void *reader_main(void *p)
{
	struct reader *r = p;
	struct pub *s = r->s;
	const struct conform_family *f = s->g->f;
	long last = 0;

	while (!atomic_load(&s->stop)) {
		if (!f->acquire(s->obj)) {
			if (r->nt >= conform_ncpu())
				sched_yield();
			continue;
		}
		long gen = GEN_LOAD(&s->gen, s->plain); /* reads under protection */

		for (int i = 0; i < NFIELDS; i++) {
			long v = GEN_LOAD(&s->field[i], s->plain);

			if ((v != gen * 1000 + i || gen < last) && !atomic_exchange(&s->bad, 1)) {
				s->bad_gen = gen;
				s->bad_field = v;
				s->bad_idx = i;
			}
		}
		last = gen;
		if (atomic_load(&s->seen) < gen)
			atomic_store(&s->seen, gen);
		f->release(s->obj);
	}
	return NULL;
}

static void reinit_006(const struct gen *g, bool plain, unsigned long base)
{
	const char *cl = gen_cl(g, "REINIT-006");
	struct gen_budget bud;
	unsigned nt = conform_ncpu() < 2 ? 2 : conform_ncpu() > MAXT ? MAXT : conform_ncpu();
	struct pub *s = calloc(1, sizeof(*s));
	struct reader rd[MAXT];
	pthread_t t[MAXT];

	if (s == NULL)
		conform_unresolved("out of memory");
	s->g = g;
	s->plain = plain;
	s->obj = g->f->create(g->how);
	/* generation 1 is set up before any accessor exists */
	s->gen = 1;
	for (int i = 0; i < NFIELDS; i++)
		s->field[i] = 1000 + i;
	for (unsigned i = 0; i < nt; i++) {
		rd[i] = (struct reader){s, nt};
		gen_spawn(&t[i], gen_cpu_of(i), reader_main, &rd[i]);
	}
	gen_budget_init(&bud, conform_iterations(base));
	for (long c = 1; gen_budget_next(&bud); c++) {
		/* wait until an accessor has used generation c */
		for (uint64_t end = conform_now_ns() + CONFORM_RETURN_TIMEOUT_NS;
		     atomic_load(&s->seen) < c;) {
			if (conform_now_ns() > end)
				conform_fail(gen_cl(g, "ACQ-007"),
					     "no accessor's Acquire returned TRUE within %.1f s after "
					     "ReInitialize (cycle %ld)", CONFORM_RETURN_TIMEOUT_NS / 1e9, c);
			sched_yield();
		}
		gen_wait_now(g, s->obj, gen_cl(g, "WAIT-007"), "with accessors acquiring briefly");
		if (c & 1)
			gen_completed_now(g, s->obj, gen_cl(g, "DONE-001"), "after Wait");
		/* set up the next object while run down */
		GEN_STORE(&s->gen, c + 1, s->plain);
		for (int i = 0; i < NFIELDS; i++)
			GEN_STORE(&s->field[i], (c + 1) * 1000 + i, s->plain);
		g->f->reinit(s->obj);
		if (atomic_load(&s->bad))
			break;
	}
	atomic_store(&s->stop, 1);
	for (unsigned i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	if (atomic_load(&s->bad))
		conform_fail(cl, "an accessor whose Acquire returned TRUE read field %ld = %ld in "
			     "generation %ld; required %ld, as the owner wrote before ReInitialize",
			     s->bad_idx, s->bad_field, s->bad_gen, s->bad_gen * 1000 + s->bad_idx);
	gen_wait_now(g, s->obj, gen_cl(g, "WAIT-004"), "with every accessor stopped");
	g->f->destroy(s->obj);
	free(s);
}

static void reinit_006_data(const struct gen *g)
{
	reinit_006(g, false, 60);
}

static void reinit_006_tsan(const struct gen *g)
{
	gen_need_tsan_backend();
	reinit_006(g, true, 20);
}

GEN_TEST3(plain_reinit_006_setup_visible, ca_reinit_007_setup_visible, reinit_006_data,
	  "PLAIN-REINIT-006 PLAIN-ACQ-007 PLAIN-WAIT-007 PLAIN-DONE-001 PLAIN-WAIT-004",
	  "CA-REINIT-007 CA-ACQ-005 CA-WAIT-007 CA-DONE-001 CA-WAIT-004",
	  GEN_DONE | GEN_REINIT, CONFORM_CONCURRENT)

GEN_TEST3(plain_reinit_006_setup_visible_tsan, ca_reinit_007_setup_visible_tsan,
	  reinit_006_tsan, "PLAIN-REINIT-006", "CA-REINIT-007", GEN_DONE | GEN_REINIT,
	  CONFORM_CONCURRENT | CONFORM_NEEDS_TSAN)
