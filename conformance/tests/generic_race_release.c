/*
 * conformance/tests/generic_race_release.c - the last Releases racing the
 * start of Wait: the last one must let Wait return (REL-002, lost
 * wakeups), no earlier one may (WAIT-002, early wakeups and partial sums
 * over per-CPU shares), and the owner may free the object the moment Wait
 * returns while the releaser is still returning (WAIT-003, exact under
 * ASan).
 *
 * Two threads pinned to different CPUs play one round after another
 * without sleeping: the waiter W takes a few units itself (handed over to
 * the main thread M, PLAIN-REL-003/CA-REL-003), then calls Wait; M holds
 * its own units too and releases them all, in random order, after random
 * log-uniform delays that straddle the start of Wait.  M lowers `held`
 * before each release; W reads it as soon as Wait returns (seq_cst, so a
 * Wait that returned early sees a positive count), frees the object and
 * says so.  M never touches the object after its last release.
 */
#include "config.h"

#include <sched.h>
#include <stdlib.h>

#include "conformance/tests/generic_util.h"

#define MAXU 6

struct rr {
	const struct gen *g;
	void *obj;                /* the round's object; W frees it */
	unsigned wunits;          /* units W acquires for M at the round's start */
	_Atomic int phase;        /* M->W: round number to play (release/acquire) */
	_Atomic int in_wait;      /* W->M: round number whose Wait W is calling */
	_Atomic int finished;     /* W->M: round number W finished */
	_Atomic int held;         /* units not yet released, lowered before each release */
	_Atomic int early;        /* W: held seen > 0 when Wait returned (+1) */
	_Atomic int stop;
	bool multi;               /* more than one CPU: spin before yielding */
	_Atomic int wgot;         /* W's acquire results: 1 ok, -1 refused */
	uint64_t rng;
};

static void *rr_waiter(void *p)
{
	struct rr *s = p;

	for (int round = 1;; round++) {
		for (unsigned spin = 0;
		     atomic_load_explicit(&s->phase, memory_order_acquire) < round; spin++) {
			if (atomic_load_explicit(&s->stop, memory_order_acquire))
				return NULL;
			if (spin < 64 && s->multi) /* spin briefly, then let M run */
				gen_spin(8);
			else
				sched_yield();
		}
		void *obj = s->obj;
		int ok = 1;

		for (unsigned i = 0; i < s->wunits; i++)
			if (!s->g->f->acquire(obj))
				ok = -1;
		atomic_store_explicit(&s->wgot, ok, memory_order_release);
		atomic_store_explicit(&s->in_wait, round, memory_order_release);
		if (ok < 0)
			return NULL;
		s->g->f->wait(obj);
		/* seq_cst: ordered after Wait's return, against M's decrements */
		int h = atomic_load(&s->held);
		if (h != 0) /* M still releases into obj: leave it to the failed test */
			atomic_store(&s->early, h + 1);
		else
			s->g->f->destroy(obj); /* at once: WAIT-003 */
		atomic_store_explicit(&s->finished, round, memory_order_release);
	}
}

static void release_race(const struct gen *g)
{
	const char *c2 = gen_cl(g, "WAIT-002"), *crel = gen_cl(g, "REL-002");
	struct gen_budget bud;
	int cm = gen_cpu_of(0), cw = gen_cpu_of(1);
	struct rr *s = calloc(1, sizeof(*s));
	pthread_t tw;

	if (s == NULL)
		conform_unresolved("out of memory");
	s->g = g;
	s->multi = conform_ncpu() > 1;
	s->rng = conform_seed();
	if (cm >= 0)
		conform_pin((unsigned)cm);
	gen_spawn(&tw, cw, rr_waiter, s);
	gen_budget_init(&bud, conform_iterations(g->ca ? 3000 : 6000));
	for (int round = 1; gen_budget_next(&bud); round++) {
		uint64_t x = conform_rand(&s->rng);
		ULONG units[MAXU];
		unsigned nm = 1 + (unsigned)(x % 3), order[MAXU], n;
		void *obj = g->f->create(g->how);

		/* Odd rounds aim at the gap between Wait's look at one CPU's share
		 * and the next: M (first CPU) holds one unit and releases it a few
		 * pauses after Wait starts, W's units (second CPU) stay held until
		 * W has returned or a while has passed.  Even rounds release every
		 * unit in random order after log-uniform delays. */
		bool gap = round & 1;

		s->wunits = gap ? 1 + (unsigned)((x >> 4) % 2) : (unsigned)((x >> 4) % 3);
		if (gap)
			nm = 1;
		n = nm + s->wunits;
		for (unsigned i = 0; i < nm; i++) {
			ULONG c = ((x >> (8 + i)) & 1) ? gen_counts[(x >> (12 + 2 * i)) % 4] : 0;

			if (!(c ? g->f->acquire_ex(obj, c) : g->f->acquire(obj)))
				conform_fail(gen_cl(g, "ACQ-004"), "Acquire on a live object returned FALSE");
			units[i] = c;
		}
		for (unsigned i = nm; i < n; i++)
			units[i] = 0;
		for (unsigned i = 0; i < n; i++)
			order[i] = i;
		for (unsigned i = gap ? 0 : n; i-- > 1;) {
			unsigned j = (unsigned)(conform_rand(&s->rng) % (i + 1)), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		atomic_store(&s->held, (int)n);
		s->obj = obj;
		atomic_store_explicit(&s->phase, round, memory_order_release);
		if (!gen_await(&s->in_wait, round, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(gen_cl(g, "ACQ-004"), "Acquire on a live object did not return");
		if (atomic_load_explicit(&s->wgot, memory_order_acquire) < 0)
			conform_fail(gen_cl(g, "ACQ-004"), "Acquire on a live object returned FALSE");
		/* releases straddling the start of Wait; obj is W's after the last */
		for (unsigned i = 0; i < n; i++) {
			ULONG c = units[order[i]];

			if (!gap)
				gen_spin_random(&s->rng, 11);
			else if (i == 0)
				gen_spin_random(&s->rng, 7);
			else if (i == 1) /* let an early return show before the rest */
				for (unsigned k = 0; k < 512 && atomic_load(&s->finished) != round; k++)
					gen_spin(8);
			atomic_fetch_sub(&s->held, 1);
			if (c)
				g->f->release_ex(obj, c);
			else
				g->f->release(obj);
		}
		if (!gen_await(&s->finished, round, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(crel, "Wait did not return within %.1f s after the last release "
				     "(round %d, %u holders' releases racing the start of Wait)",
				     CONFORM_RETURN_TIMEOUT_NS / 1e9, round, n);
		int early = atomic_load(&s->early);
		if (early)
			conform_fail(c2, "Wait returned while %d of %u units were still held "
				     "(round %d, releases racing the start of Wait); required: "
				     "only after the last release", early - 1, n, round);
	}
	atomic_store_explicit(&s->stop, 1, memory_order_release);
	pthread_join(tw, NULL);
	free(s);
}

GEN_TEST3(plain_rel_002_last_release_ends_wait, ca_rel_002_last_release_ends_wait,
	  release_race,
	  "PLAIN-REL-002 PLAIN-WAIT-002 PLAIN-WAIT-003 PLAIN-ACQ-004",
	  "CA-REL-002 CA-WAIT-002 CA-WAIT-003 CA-ACQ-006", GEN_ACQEX | GEN_RELEX,
	  CONFORM_CONCURRENT)
