/*
 * conformance/tests/generic_lifecycle.c - the owner/accessor model with
 * every role on its own thread (CONCEPT-002): the owner initializes on A,
 * accessors acquire and release on B and C, the owner runs down on D.
 * The lifecycles with many accessors are LIFE-001 (generic_race_acquire.c)
 * and the reuse chains LIFE-002/003 (generic_reinit.c).
 */
#include "config.h"

#include "conformance/tests/generic_util.h"

struct roles {
	const struct gen *g;
	void *obj;
	BOOLEAN got[2];
	ULONG n[2];
};

static void role_create(void *p)
{
	struct roles *r = p;

	r->obj = r->g->f->create(r->g->how);
}

static void role_acquire_b(void *p)
{
	struct roles *r = p;

	r->got[0] = r->n[0] ? r->g->f->acquire_ex(r->obj, r->n[0]) : r->g->f->acquire(r->obj);
}

static void role_acquire_c(void *p)
{
	struct roles *r = p;

	r->got[1] = r->n[1] ? r->g->f->acquire_ex(r->obj, r->n[1]) : r->g->f->acquire(r->obj);
}

static void role_release(struct roles *r, unsigned i)
{
	if (r->n[i])
		r->g->f->release_ex(r->obj, r->n[i]);
	else
		r->g->f->release(r->obj);
}

static void role_release_b(void *p) { role_release(p, 0); }
static void role_release_c(void *p) { role_release(p, 1); }

static void concept_002(const struct gen *g)
{
	const char *cl = "CONCEPT-002";

	for (unsigned k = 0; k < 12; k++) {
		struct roles r = {g, NULL, {0, 0}, {k & 1 ? 3 : 0, k & 2 ? 7 : 0}};
		struct conform_waiter w;

		if (!gen_run_on(gen_cpu_of(k), role_create, &r))
			conform_fail(cl, "Initialize on thread A did not return");
		if (!gen_run_on(gen_cpu_of(k + 1), role_acquire_b, &r) ||
		    !gen_run_on(gen_cpu_of(k + 2), role_acquire_c, &r))
			conform_fail(cl, "Acquire on an accessor thread did not return");
		conform_assert(r.got[0] == TRUE && r.got[1] == TRUE, cl,
			       "Acquire on accessor threads B and C returned %u and %u on an object "
			       "initialized on thread A; required TRUE", (unsigned)r.got[0],
			       (unsigned)r.got[1]);
		gen_waiter_start(&w, g, r.obj, gen_cpu_of(k + 3)); /* owner's run-down on D */
		if (k < 2)
			gen_expect_blocked(&w, cl, "on thread D while accessors B and C held protection");
		if (!gen_run_on(gen_cpu_of(k + 1), role_release_b, &r))
			conform_fail(cl, "Release on accessor thread B did not return");
		conform_assert(!conform_waiter_returned(&w), cl,
			       "Wait on thread D returned while accessor C still held protection");
		if (!gen_run_on(gen_cpu_of(k + 2), role_release_c, &r))
			conform_fail(cl, "Release on accessor thread C did not return");
		gen_expect_returns(&w, cl, "on thread D after both accessors released");
		g->f->destroy(r.obj);
	}
}

GEN_TEST3(plain_concept_002_owner_accessor_threads, ca_concept_002_owner_accessor_threads,
	  concept_002, "CONCEPT-002", "CONCEPT-002", GEN_ACQEX | GEN_RELEX, CONFORM_CONCURRENT)
