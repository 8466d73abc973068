/*
 * conformance/tests/generic_wait.c - Wait blocks while a unit is held, on
 * whichever CPU it was acquired (WAIT-001), until every holder released,
 * in any order (WAIT-002), and blocks only its own thread (WAIT-006).
 * Races of Wait with Acquire and Release are in generic_race.c.
 */
#include "config.h"

#include <stdio.h>

#include "conformance/tests/generic_util.h"

struct holder {
	const struct gen *g;
	void *obj;
	ULONG n;         /* 0: single Acquire/Release */
	BOOLEAN got;
	_Atomic int go;  /* main -> holder: release now (release: pairs with acquire in await) */
	_Atomic int done;
	pthread_t t;
};

static void *holder_main(void *p)
{
	struct holder *h = p;

	h->got = h->n ? h->g->f->acquire_ex(h->obj, h->n) : h->g->f->acquire(h->obj);
	atomic_store_explicit(&h->done, 1, memory_order_release);
	if (!gen_await(&h->go, 1, 60 * CONFORM_RETURN_TIMEOUT_NS))
		return NULL;
	if (h->got) {
		if (h->n)
			h->g->f->release_ex(h->obj, h->n);
		else
			h->g->f->release(h->obj);
	}
	atomic_store_explicit(&h->done, 2, memory_order_release);
	return NULL;
}

static void holder_start(struct holder *h, const struct gen *g, void *obj, ULONG n, int cpu,
			 const char *clause)
{
	*h = (struct holder){.g = g, .obj = obj, .n = n};
	atomic_init(&h->go, 0);
	atomic_init(&h->done, 0);
	gen_spawn(&h->t, cpu, holder_main, h);
	if (!gen_await(&h->done, 1, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail(clause, "Acquire on a live object did not return");
	conform_assert(h->got == TRUE, clause, "Acquire%s on a live object returned %u",
		       n ? "Ex" : "", (unsigned)h->got);
}

static void holder_release(struct holder *h, const char *clause)
{
	atomic_store_explicit(&h->go, 1, memory_order_release);
	if (!gen_await(&h->done, 2, CONFORM_RETURN_TIMEOUT_NS))
		conform_fail(clause, "Release on a holder thread did not return within %.1f s "
			     "while Wait blocked", CONFORM_RETURN_TIMEOUT_NS / 1e9);
	pthread_join(h->t, NULL);
}

/* ---- WAIT-001: blocks while held, whichever CPU acquired ---- */

static void wait_001(const struct gen *g)
{
	const char *cl = gen_cl(g, "WAIT-001");
	unsigned ncpu = conform_ncpu() > 4 ? 4 : conform_ncpu();
	char what[96];

	for (unsigned c = 0; c < ncpu; c++) {
		void *obj = g->f->create(g->how);
		struct conform_waiter w;
		struct holder h;

		holder_start(&h, g, obj, 0, gen_cpu_of(c), gen_cl(g, "ACQ-001"));
		gen_waiter_start(&w, g, obj, gen_cpu_of(c + 1));
		snprintf(what, sizeof(what), "while one unit acquired on CPU %d was held (Wait on CPU %d)",
			 gen_cpu_of(c), gen_cpu_of(c + 1));
		gen_expect_blocked(&w, cl, what);
		holder_release(&h, cl);
		gen_expect_returns(&w, cl, "after the only unit was released");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_wait_001_blocks_while_held, ca_wait_001_blocks_while_held, wait_001,
	  "PLAIN-WAIT-001 PLAIN-ACQ-001", "CA-WAIT-001 CA-ACQ-001", 0, CONFORM_CONCURRENT)

/* ---- WAIT-002: returns only after every holder, any release order ---- */

static void wait_002(const struct gen *g)
{
	const char *cl = gen_cl(g, "WAIT-002");
	uint64_t rng = conform_seed();
	char what[128];

	for (unsigned r = 0; r < 4; r++) {
		void *obj = g->f->create(g->how);
		unsigned k = 2 + (unsigned)(conform_rand(&rng) % 3), order[4];
		struct holder h[4];
		struct conform_waiter w;

		for (unsigned i = 0; i < k; i++) {
			uint64_t x = conform_rand(&rng);

			holder_start(&h[i], g, obj, (x & 1) ? gen_counts[(x >> 8) % GEN_NCOUNTS] : 0,
				     gen_cpu_of(i), gen_cl(g, "ACQ-001"));
			order[i] = i;
		}
		for (unsigned i = k; i-- > 1;) { /* Fisher-Yates */
			unsigned j = (unsigned)(conform_rand(&rng) % (i + 1)), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		gen_waiter_start(&w, g, obj, gen_cpu_of(r));
		for (unsigned i = 0; i + 1 < k; i++) {
			holder_release(&h[order[i]], cl);
			snprintf(what, sizeof(what), "after %u of %u holders released (holder %u, %s)",
				 i + 1, k, order[i], h[order[i]].n ? "ReleaseEx" : "Release");
			if (i + 2 == k)
				gen_expect_blocked(&w, cl, what);
			else
				conform_assert(!conform_waiter_returned(&w), cl, "Wait returned %s", what);
		}
		holder_release(&h[order[k - 1]], cl);
		gen_expect_returns(&w, cl, "after the last holder released");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_wait_002_waits_for_all_holders, ca_wait_002_waits_for_all_holders, wait_002,
	  "PLAIN-WAIT-002 PLAIN-ACQ-001", "CA-WAIT-002 CA-ACQ-001", GEN_ACQEX | GEN_RELEX,
	  CONFORM_CONCURRENT)

/* ---- WAIT-006: Wait blocks its own thread only ---- */

struct calls {
	const struct gen *g;
	void *obj;
	unsigned granted;
	bool release; /* also give back one unit */
};

static void other_calls(void *p)
{
	struct calls *c = p;

	for (unsigned i = 0; i < 100; i++) {
		if (c->g->f->acquire(c->obj)) {
			c->granted++;
			c->g->f->release(c->obj);
		}
	}
	if (c->release)
		c->g->f->release(c->obj);
}

static void wait_006(const struct gen *g)
{
	const char *cl = gen_cl(g, "WAIT-006");

	for (unsigned r = 0; r < 10; r++) {
		void *obj = g->f->create(g->how);
		struct conform_waiter w;
		unsigned held = 3;

		for (unsigned i = 0; i < held; i++)
			gen_expect_granted(g, obj, gen_cl(g, "ACQ-001"), "on a live object");
		gen_waiter_start(&w, g, obj, gen_cpu_of(r));
		if (!conform_rundown_visible(g->f, obj, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(gen_cl(g, "ACQ-002"), "Acquire kept returning TRUE after Wait "
				     "was called");
		/* other threads: refused Acquires and Releases return, Wait stays */
		while (held > 0) {
			struct calls c = {g, obj, 0, true};

			if (!gen_run_on(gen_cpu_of(r + held), other_calls, &c))
				conform_fail(cl, "Acquire or Release on another thread did not return "
					     "within %.1f s while the owner blocked in Wait",
					     CONFORM_RETURN_TIMEOUT_NS / 1e9);
			conform_assert(c.granted == 0, gen_cl(g, "ACQ-002"),
				       "%u Acquires returned TRUE while Wait blocked", c.granted);
			held--;
			if (held > 0)
				conform_assert(!conform_waiter_returned(&w), gen_cl(g, "WAIT-001"),
					       "Wait returned with %u units still held", held);
		}
		gen_expect_returns(&w, cl, "after the last Release");
		g->f->destroy(obj);
	}
}

GEN_TEST3(plain_wait_006_blocks_only_caller, ca_wait_006_blocks_only_caller, wait_006,
	  "PLAIN-WAIT-006 PLAIN-ACQ-001 PLAIN-ACQ-002 PLAIN-WAIT-001",
	  "CA-WAIT-006 CA-ACQ-001 CA-ACQ-002 CA-WAIT-001", 0, CONFORM_CONCURRENT)
