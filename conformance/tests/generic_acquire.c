/*
 * conformance/tests/generic_acquire.c - Acquire: a TRUE counts (ACQ-001),
 * FALSE from the moment Wait is called (ACQ-002), never spuriously FALSE
 * (ACQ-004 / CA-ACQ-006), a FALSE grants nothing (ACQ-005 / CA-ACQ-007),
 * and protection does not serialize (CONCEPT-005).
 */
#include "config.h"

#include <stdlib.h>

#include "conformance/tests/generic_util.h"

/* ---- ACQ-001: a granted unit keeps Wait blocked ---- */

static void acq_001(const struct gen *g)
{
	const char *cl = gen_cl(g, "ACQ-001");

	for (unsigned r = 0; r < 3; r++) {
		void *obj = g->f->create(g->how);
		struct conform_waiter w;

		gen_expect_granted(g, obj, cl, "on a live object");
		gen_waiter_start(&w, g, obj, gen_cpu_of(r + 1));
		gen_expect_blocked(&w, cl, "while the unit granted by Acquire was held");
		g->f->release(obj);
		gen_expect_returns(&w, gen_cl(g, "WAIT-001"), "after the only unit was released");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_acq_001_granted_unit_counts, ca_acq_001_granted_unit_counts, acq_001,
	  "PLAIN-ACQ-001 PLAIN-WAIT-001", "CA-ACQ-001 CA-WAIT-001", 0, 0)

/* ---- ACQ-002 (+ ACQEX-004, ACQ-005): refused while Wait blocks ---- */

struct burst {
	const struct gen *g;
	void *obj;
	unsigned granted; /* Acquire/AcquireEx TRUEs seen (released at once) */
};

static void burst_refused(void *p)
{
	struct burst *b = p;

	for (unsigned i = 0; i < 64; i++) {
		ULONG n = gen_counts[i % GEN_NCOUNTS];

		if (b->g->f->acquire(b->obj)) {
			b->g->f->release(b->obj);
			b->granted++;
		}
		if (b->g->f->acquire_ex(b->obj, n)) {
			b->g->f->release_ex(b->obj, n);
			b->granted++;
		}
	}
}

static void acq_002(const struct gen *g)
{
	const char *cl = gen_cl(g, "ACQ-002");

	for (unsigned r = 0; r < 20; r++) {
		void *obj = g->f->create(g->how);
		struct conform_waiter w;

		gen_expect_granted(g, obj, gen_cl(g, "ACQ-001"), "on a live object");
		gen_waiter_start(&w, g, obj, gen_cpu_of(r));
		if (!conform_rundown_visible(g->f, obj, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(cl, "Acquire kept returning TRUE for %.1f s after Wait was called "
				     "while a unit was held; required FALSE once run-down has started",
				     CONFORM_RETURN_TIMEOUT_NS / 1e9);
		conform_assert(!conform_waiter_returned(&w), gen_cl(g, "WAIT-001"),
			       "Wait returned while a unit was held");
		/* still blocked: every further attempt, from every CPU, is refused */
		for (unsigned c = 0; c < conform_ncpu() && c < 8; c++) {
			struct burst b = {g, obj, 0};

			if (!gen_run_on(gen_cpu_of(c), burst_refused, &b))
				conform_fail(gen_cl(g, "WAIT-006"),
					     "Acquire/AcquireEx on another thread did not return "
					     "within %.1f s while Wait blocked",
					     CONFORM_RETURN_TIMEOUT_NS / 1e9);
			conform_assert(b.granted == 0, cl,
				       "%u of 128 Acquire/AcquireEx calls on CPU %d returned TRUE "
				       "while Wait blocked on a held unit; required FALSE",
				       b.granted, gen_cpu_of(c));
		}
		gen_expect_refused_ex(g, obj, 5, gen_cl(g, "ACQEX-004"), "while Wait blocked");
		conform_assert(!conform_waiter_returned(&w), gen_cl(g, "WAIT-001"),
			       "Wait returned while a unit was held");
		g->f->release(obj);
		gen_expect_returns(&w, gen_cl(g, "ACQ-005"),
				   "after the only granted unit was released (the refused "
				   "Acquires must not count)");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_acq_002_refused_while_wait_blocks, ca_acq_002_refused_while_wait_blocks,
	  acq_002, "PLAIN-ACQ-002 PLAIN-ACQEX-004 PLAIN-ACQ-001 PLAIN-WAIT-001 PLAIN-ACQ-005 PLAIN-WAIT-006",
	  "CA-ACQ-002 CA-ACQEX-004 CA-ACQ-001 CA-WAIT-001 CA-ACQ-007 CA-WAIT-006",
	  GEN_ACQEX | GEN_RELEX, CONFORM_CONCURRENT)

/* ---- ACQ-004 / CA-ACQ-006: never spuriously FALSE ---- */

struct hammer {
	const struct gen *g;
	void *obj;
	unsigned long rounds;
	uint64_t rng;
	unsigned long refused;
	pthread_barrier_t *start;
};

static void *hammer_main(void *p)
{
	struct hammer *h = p;
	ULONG held[8];

	pthread_barrier_wait(h->start);
	for (unsigned long i = 0; i < h->rounds; i++) {
		uint64_t r = conform_rand(&h->rng);
		unsigned k = 1 + (unsigned)(r % 8);

		/* up to 8 nested units, single or Ex, released in another order */
		for (unsigned j = 0; j < k; j++) {
			ULONG n = (r >> (8 + j)) & 1 ? gen_counts[(r >> (16 + 3 * j)) % 5] : 0;
			BOOLEAN ok = n ? h->g->f->acquire_ex(h->obj, n) : h->g->f->acquire(h->obj);

			if (!ok) {
				h->refused++;
				held[j] = ~(ULONG)0;
				continue;
			}
			held[j] = n;
		}
		for (unsigned j = k; j-- > 0;) {
			if (held[j] == ~(ULONG)0)
				continue;
			if (held[j])
				h->g->f->release_ex(h->obj, held[j]);
			else
				h->g->f->release(h->obj);
		}
	}
	return NULL;
}

static void acq_004(const struct gen *g)
{
	const char *cl = gen_cl(g, "ACQ-004");
	unsigned nt = conform_ncpu() < 2 ? 2 : conform_ncpu() > 8 ? 8 : conform_ncpu();
	unsigned long rounds = conform_iterations(4000);
	pthread_barrier_t start;
	struct hammer h[8];
	pthread_t t[8];
	void *obj = g->f->create(g->how);
	unsigned long refused = 0;

	pthread_barrier_init(&start, NULL, nt);
	for (unsigned i = 0; i < nt; i++) {
		h[i] = (struct hammer){g, obj, rounds, conform_seed() + i + 1, 0, &start};
		gen_spawn(&t[i], gen_cpu_of(i), hammer_main, &h[i]);
	}
	for (unsigned i = 0; i < nt; i++) {
		pthread_join(t[i], NULL);
		refused += h[i].refused;
	}
	pthread_barrier_destroy(&start);
	conform_assert(refused == 0, cl,
		       "%lu of about %lu Acquire/AcquireEx calls returned FALSE with no Wait "
		       "called (%u threads); required TRUE every time",
		       refused, rounds * nt * 9 / 2, nt);
	gen_wait_now(g, obj, gen_cl(g, "WAIT-004"), "after every unit was released");
	g->f->destroy(obj);
}

GEN_TEST3(plain_acq_004_never_spuriously_refused, ca_acq_006_never_spuriously_refused,
	  acq_004, "PLAIN-ACQ-004 PLAIN-WAIT-004", "CA-ACQ-006 CA-WAIT-004",
	  GEN_ACQEX | GEN_RELEX, CONFORM_CONCURRENT)

/* ---- CONCEPT-005: protection does not serialize accessors ---- */

struct parked {
	const struct gen *g;
	void *obj;
	ULONG n; /* 0: single Acquire */
	BOOLEAN got;
	pthread_barrier_t *b;
};

static void *parked_main(void *p)
{
	struct parked *a = p;

	a->got = a->n ? a->g->f->acquire_ex(a->obj, a->n) : a->g->f->acquire(a->obj);
	pthread_barrier_wait(a->b); /* 1: A holds (or failed) */
	pthread_barrier_wait(a->b); /* 2: B has tried while A held */
	if (a->got) {
		if (a->n)
			a->g->f->release_ex(a->obj, a->n);
		else
			a->g->f->release(a->obj);
	}
	return NULL;
}

static void concept_005(const struct gen *g)
{
	for (unsigned r = 0; r < 40; r++) {
		void *obj = g->f->create(g->how);
		pthread_barrier_t b;
		struct parked a = {g, obj, (r & 1) ? gen_counts[r % GEN_NCOUNTS] : 0, 0, &b};
		ULONG nb = (r & 2) ? gen_counts[(r / 2) % GEN_NCOUNTS] : 0;
		BOOLEAN got;
		pthread_t t;

		pthread_barrier_init(&b, NULL, 2);
		gen_spawn(&t, gen_cpu_of(r), parked_main, &a);
		pthread_barrier_wait(&b);
		conform_assert(a.got == TRUE, "CONCEPT-005", "thread A's Acquire%s returned %u on a "
			       "live object; required TRUE", a.n ? "Ex" : "", (unsigned)a.got);
		got = nb ? g->f->acquire_ex(obj, nb) : g->f->acquire(obj);
		pthread_barrier_wait(&b);
		pthread_join(t, NULL);
		pthread_barrier_destroy(&b);
		conform_assert(got == TRUE, "CONCEPT-005",
			       "thread B's Acquire%s returned %u while thread A held protection; "
			       "required TRUE (protection does not serialize accesses)",
			       nb ? "Ex" : "", (unsigned)got);
		if (nb)
			g->f->release_ex(obj, nb);
		else
			g->f->release(obj);
		gen_wait_now(g, obj, gen_cl(g, "WAIT-004"), "after both accessors released");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_concept_005_no_serialization, ca_concept_005_no_serialization, concept_005,
	  "CONCEPT-005 PLAIN-WAIT-004", "CONCEPT-005 CA-WAIT-004", GEN_ACQEX | GEN_RELEX,
	  CONFORM_CONCURRENT)
