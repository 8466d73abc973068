/*
 * conformance/tests/generic_race_acquire.c - accessors acquiring while the
 * owner starts Wait at a random moment.
 *
 * Every TRUE, even one racing the start of Wait, is waited for, and none
 * comes after Wait returned (WAIT-007); AcquireEx grants all its units or
 * none (ACQEX-003); when Wait returns no holder is inside its protected
 * access and every write a holder made under protection is visible to the
 * owner (WAIT-008, exact under TSan: the owner reads the holders' plain
 * writes with no other synchronization); the object is then run down for
 * good (CONCEPT-001).
 *
 * Invariants (all counters seq_cst):
 *   inside  - holders between a TRUE and their first release;
 *   granted - units between a TRUE and their release (lowered per unit);
 *   down    - set by the waiter right after Wait returned.
 * A holder raises inside then reads down; the waiter sets down then reads
 * inside and granted.  In the single total order one of the two sees the
 * other, so a unit held when Wait returned (or granted after it) is seen
 * by one side, whatever the timing.  The protected object is freed by the
 * waiter right after its reads (ASan: a holder still writing is a
 * use-after-free).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conformance/tests/generic_util.h"

#define MAXT 8

enum race_mode {
	RACE_MIXED, /* Acquire / AcquireEx, release as a whole (WAIT-007/008) */
	RACE_EX,    /* AcquireEx(n), units released one at a time (ACQEX-003) */
	RACE_LIFE,  /* as MIXED, every verdict under the lifecycle clause */
};

struct ra {
	const struct gen *g;
	enum race_mode mode;
	bool plain;              /* plain accesses to prot (TSan-exact variant) */
	/* Order of the invariant counters: seq_cst (the Dekker argument
	 * above); relaxed in the plain variant, where they must not order the
	 * holders' writes before the owner's reads (only the backend may). */
	memory_order mo;
	void *obj;
	struct gen_prot *prot;   /* freed by the waiter right after Wait */
	_Atomic int inside, granted, down;
	_Atomic int late;        /* holder saw down while holding */
	pthread_barrier_t start, end;
	unsigned nt;
	_Atomic int stop;
	/* waiter's observations */
	int w_inside, w_granted;
	unsigned long w_slots[MAXT]; /* prot->slot[] read right after Wait */
	_Atomic int w_done;
};

struct racer {
	struct ra *s;
	unsigned id;
	uint64_t rng;
	unsigned long accesses; /* this round's writes to prot->slot[id] */
};

static void *racer_main(void *p)
{
	struct racer *r = p;
	struct ra *s = r->s;
	const struct conform_family *f = s->g->f;

	for (;;) {
		pthread_barrier_wait(&s->start);
		if (atomic_load(&s->stop))
			return NULL;
		r->accesses = 0;
		for (;;) {
			uint64_t x = conform_rand(&r->rng);
			ULONG n = s->mode == RACE_EX ? gen_counts[x % 5]
				  : (x & 1)          ? gen_counts[(x >> 1) % 4]
						     : 0;
			BOOLEAN ok = n ? f->acquire_ex(s->obj, n) : f->acquire(s->obj);

			if (!ok)
				break;
			atomic_fetch_add_explicit(&s->inside, 1, s->mo);
			atomic_fetch_add_explicit(&s->granted, (int)(n ? n : 1), s->mo);
			if (atomic_load_explicit(&s->down, s->mo))
				atomic_store(&s->late, 1);
			/* a write under protection */
			GEN_STORE(&s->prot->slot[r->id], GEN_LOAD(&s->prot->slot[r->id], s->plain) + 1,
				  s->plain);
			r->accesses++;
			gen_spin_random(&r->rng, 8);
			atomic_fetch_sub_explicit(&s->inside, 1, s->mo);
			if (s->mode == RACE_EX && n > 1 && n <= 7) {
				/* one unit at a time, with delays */
				for (ULONG u = 0; u < n; u++) {
					atomic_fetch_sub_explicit(&s->granted, 1, s->mo);
					f->release(s->obj);
					gen_spin_random(&r->rng, 6);
				}
			} else {
				atomic_fetch_sub_explicit(&s->granted, (int)(n ? n : 1), s->mo);
				if (n)
					f->release_ex(s->obj, n);
				else
					f->release(s->obj);
			}
		}
		pthread_barrier_wait(&s->end);
	}
}

/* Free the protected object the moment Wait returns (ASan then catches a
 * holder still writing to it).  Not in a TSan build's untagged variant:
 * with a backend TSan cannot see into, nothing would order the holders'
 * last writes before the free, and TSan would report a race that the
 * backend may well not have. */
static bool race_free_at_once(const struct ra *s)
{
	return s->plain || !gen_tsan_build();
}

static void *race_waiter(void *p)
{
	struct ra *s = p;

	s->g->f->wait(s->obj);
	atomic_store_explicit(&s->down, 1, s->mo);
	s->w_inside = atomic_load_explicit(&s->inside, s->mo);
	s->w_granted = atomic_load_explicit(&s->granted, s->mo);
	/* reads of the holders' writes: with s->plain, ordered only by the
	 * backend's Release -> Wait (TSan reports a race otherwise) */
	for (unsigned i = 0; i < s->nt; i++)
		s->w_slots[i] = GEN_LOAD(&s->prot->slot[i], s->plain);
	if (race_free_at_once(s)) {
		free(s->prot);
		s->prot = NULL;
	}
	atomic_store_explicit(&s->w_done, 1, memory_order_release);
	return NULL;
}

static void acquire_race(const struct gen *g, enum race_mode mode, bool plain,
			 unsigned long base, const char *c_main)
{
	const char *c7 = mode == RACE_LIFE ? c_main : gen_cl(g, "WAIT-007");
	const char *c8 = mode == RACE_LIFE ? c_main : gen_cl(g, "WAIT-008");
	const char *c1 = mode == RACE_LIFE ? c_main : "CONCEPT-001";
	struct gen_budget bud;
	unsigned nt = conform_ncpu() < 2 ? 2 : conform_ncpu() > MAXT ? MAXT : conform_ncpu();
	struct ra *s = calloc(1, sizeof(*s));
	struct racer rc[MAXT];
	pthread_t t[MAXT];
	uint64_t rng = conform_seed();

	if (s == NULL)
		conform_unresolved("out of memory");
	s->g = g;
	s->mode = mode;
	s->plain = plain;
	s->mo = plain ? memory_order_relaxed : memory_order_seq_cst;
	s->nt = nt;
	pthread_barrier_init(&s->start, NULL, nt + 1);
	pthread_barrier_init(&s->end, NULL, nt + 1);
	for (unsigned i = 0; i < nt; i++) {
		rc[i] = (struct racer){s, i, conform_seed() ^ (0x9e3779b97f4a7c15ull * (i + 1)), 0};
		gen_spawn(&t[i], gen_cpu_of(i), racer_main, &rc[i]);
	}
	gen_budget_init(&bud, conform_iterations(base));
	for (unsigned long round = 1; gen_budget_next(&bud); round++) {
		pthread_t tw;

		s->obj = g->f->create(g->how);
		s->prot = gen_prot_new(nt);
		atomic_store(&s->inside, 0);
		atomic_store(&s->granted, 0);
		atomic_store(&s->down, 0);
		atomic_store(&s->w_done, 0);
		pthread_barrier_wait(&s->start);
		gen_spin_random(&rng, 14); /* Wait starts at a random moment */
		gen_spawn(&tw, gen_cpu_of((unsigned)round), race_waiter, s);
		if (!gen_await(&s->w_done, 1, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(mode == RACE_EX ? c_main : c7,
				     "Wait did not return within %.1f s while %d units were granted "
				     "and not yet released (round %lu)%s",
				     CONFORM_RETURN_TIMEOUT_NS / 1e9, atomic_load(&s->granted), round,
				     mode == RACE_EX ? ": a failed AcquireEx must add nothing, a "
						       "successful one exactly Count" : "");
		pthread_join(tw, NULL);
		if (s->w_inside != 0 || s->w_granted != 0)
			conform_fail(mode == RACE_EX ? c_main : c7,
				     "Wait returned while %d holders were inside their protected "
				     "access holding %d units (round %lu); required: only after "
				     "every granted unit was released", s->w_inside, s->w_granted, round);
		/* the racers stop at their first FALSE */
		pthread_barrier_wait(&s->end);
		free(s->prot); /* NULL if the waiter freed it */
		if (atomic_load(&s->late))
			conform_fail(c7, "an Acquire/AcquireEx held protection after Wait returned "
				     "(round %lu); required: every TRUE is waited for, none is "
				     "granted after Wait returned", round);
		for (unsigned i = 0; i < nt; i++)
			if (s->w_slots[i] != rc[i].accesses)
				conform_fail(c8, "holder %u made %lu writes under protection but the "
					     "owner saw %lu right after Wait returned (round %lu)", i,
					     rc[i].accesses, s->w_slots[i], round);
		gen_expect_refused(g, s->obj, c1, "after Wait returned (run down)");
		g->f->destroy(s->obj);
	}
	atomic_store(&s->stop, 1);
	pthread_barrier_wait(&s->start);
	for (unsigned i = 0; i < nt; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&s->start);
	pthread_barrier_destroy(&s->end);
	free(s);
}

static void wait_007(const struct gen *g)
{
	acquire_race(g, RACE_MIXED, false, 60, gen_cl(g, "WAIT-007"));
}

GEN_TEST3(plain_wait_007_every_grant_waited_for, ca_wait_007_every_grant_waited_for, wait_007,
	  "PLAIN-WAIT-007 PLAIN-WAIT-008 CONCEPT-001", "CA-WAIT-007 CA-WAIT-008 CONCEPT-001",
	  GEN_ACQEX | GEN_RELEX, CONFORM_CONCURRENT)

static void acqex_003(const struct gen *g)
{
	acquire_race(g, RACE_EX, false, 60, gen_cl(g, "ACQEX-003"));
}

GEN_TEST3(plain_acqex_003_all_or_nothing_racing_wait,
	  ca_acqex_003_all_or_nothing_racing_wait, acqex_003,
	  "PLAIN-ACQEX-003 PLAIN-WAIT-007 PLAIN-WAIT-008 CONCEPT-001",
	  "CA-ACQEX-003 CA-WAIT-007 CA-WAIT-008 CONCEPT-001", GEN_ACQEX | GEN_RELEX,
	  CONFORM_CONCURRENT)

/* WAIT-008 exactly: the same race, run where TSan sees the backend's
 * atomics; a Release that is not a release operation (or a Wait that
 * does not acquire) shows as a data race on prot->slot[]. */
static void wait_008(const struct gen *g)
{
	gen_need_tsan_backend();
	acquire_race(g, RACE_MIXED, true, 30, gen_cl(g, "WAIT-008"));
}

GEN_TEST3(plain_wait_008_holders_writes_visible_tsan, ca_wait_008_holders_writes_visible_tsan,
	  wait_008, "PLAIN-WAIT-008", "CA-WAIT-008", GEN_ACQEX | GEN_RELEX,
	  CONFORM_CONCURRENT | CONFORM_NEEDS_TSAN)

/* LIFE-001 (CA: one lifecycle per creation path): create, accessors
 * Acquire/Release around their accesses, the owner Waits, then frees the
 * protected object and the run-down object at once. */
static void life_001(const struct gen *g)
{
	acquire_race(g, RACE_LIFE, false, 30, gen_cl(g, "LIFE-001"));
}

CONFORM_TEST(plain_life_001_lifecycle, "PLAIN-LIFE-001", GEN_NEEDS_P(GEN_ACQEX | GEN_RELEX),
	     CONFORM_CONCURRENT)
{
	life_001(&gen_plain);
}
END_TEST

CONFORM_TEST(ca_life_001_lifecycle_allocate, "CA-LIFE-001", GEN_NEEDS_CA(GEN_ACQEX | GEN_RELEX),
	     CONFORM_CONCURRENT)
{
	life_001(&gen_ca);
}
END_TEST

CONFORM_TEST(ca_life_002_lifecycle_buffer, "CA-LIFE-002", GEN_NEEDS_CAB(GEN_ACQEX | GEN_RELEX),
	     CONFORM_CONCURRENT)
{
	life_001(&gen_cab);
}
END_TEST
