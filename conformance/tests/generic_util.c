/*
 * conformance/tests/generic_util.c - helpers of the family-generic tests
 * (generic_util.h).
 */
#include "config.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/tests/generic_util.h"

const struct gen gen_plain = {&conform_plain, CONFORM_MAKE_DEFAULT, false};
const struct gen gen_ca = {&conform_ca, CONFORM_MAKE_DEFAULT, true};
const struct gen gen_cab = {&conform_ca, CONFORM_MAKE_BUFFER, true};

const ULONG gen_counts[7] = {1, 2, 3, 7, 64, 4096, 65535};

/* suffix, plain id, CA id: the areas are numbered in each family's
 * document order (clauses.tsv), so the pairs are listed, not computed. */
static const char *const gen_map[][3] = {
	{"INIT-001", "PLAIN-INIT-001", "CA-INIT-001"},
	{"INIT-005", "PLAIN-INIT-005", "CA-INIT-004"},
	{"REINIT-001", "PLAIN-REINIT-001", "CA-REINIT-001"},
	{"REINIT-002", "PLAIN-REINIT-002", "CA-REINIT-002"},
	{"REINIT-003", "PLAIN-REINIT-003", "CA-REINIT-003"},
	{"REINIT-004", "PLAIN-REINIT-004", "CA-REINIT-005"},
	{"REINIT-005", "PLAIN-REINIT-005", "CA-REINIT-006"},
	{"REINIT-006", "PLAIN-REINIT-006", "CA-REINIT-007"},
	{"ACQ-001", "PLAIN-ACQ-001", "CA-ACQ-001"},
	{"ACQ-002", "PLAIN-ACQ-002", "CA-ACQ-002"},
	{"ACQ-003", "PLAIN-ACQ-003", "CA-ACQ-003"},
	{"ACQ-004", "PLAIN-ACQ-004", "CA-ACQ-006"},
	{"ACQ-005", "PLAIN-ACQ-005", "CA-ACQ-007"},
	{"ACQ-006", "PLAIN-ACQ-006", "CA-ACQ-004"},
	{"ACQ-007", "PLAIN-ACQ-007", "CA-ACQ-005"},
	{"ACQEX-001", "PLAIN-ACQEX-001", "CA-ACQEX-001"},
	{"ACQEX-002", "PLAIN-ACQEX-002", "CA-ACQEX-002"},
	{"ACQEX-003", "PLAIN-ACQEX-003", "CA-ACQEX-003"},
	{"ACQEX-004", "PLAIN-ACQEX-004", "CA-ACQEX-004"},
	{"ACQEX-005", "PLAIN-ACQEX-005", "CA-ACQEX-005"},
	{"REL-001", "PLAIN-REL-001", "CA-REL-001"},
	{"REL-002", "PLAIN-REL-002", "CA-REL-002"},
	{"RELEX-001", "PLAIN-RELEX-001", "CA-RELEX-001"},
	{"RELEX-002", "PLAIN-RELEX-002", "CA-RELEX-002"},
	{"WAIT-001", "PLAIN-WAIT-001", "CA-WAIT-001"},
	{"WAIT-002", "PLAIN-WAIT-002", "CA-WAIT-002"},
	{"WAIT-003", "PLAIN-WAIT-003", "CA-WAIT-003"},
	{"WAIT-004", "PLAIN-WAIT-004", "CA-WAIT-004"},
	{"WAIT-005", "PLAIN-WAIT-005", "CA-WAIT-005"},
	{"WAIT-006", "PLAIN-WAIT-006", "CA-WAIT-006"},
	{"WAIT-007", "PLAIN-WAIT-007", "CA-WAIT-007"},
	{"WAIT-008", "PLAIN-WAIT-008", "CA-WAIT-008"},
	{"DONE-001", "PLAIN-DONE-001", "CA-DONE-001"},
	{"DONE-002", "PLAIN-DONE-002", "CA-DONE-002"},
	/* lifecycles: CA has one per creation path and puts "no Completed"
	 * reuse under CA-REINIT-002 (see CA-REINIT-004's note) */
	{"LIFE-002", "PLAIN-LIFE-002", "CA-LIFE-003"},
	{"LIFE-003", "PLAIN-LIFE-003", "CA-REINIT-002"},
	{"CONCEPT-001", "CONCEPT-001", "CONCEPT-001"},
	{"CONCEPT-002", "CONCEPT-002", "CONCEPT-002"},
	{"CONCEPT-005", "CONCEPT-005", "CONCEPT-005"},
	{"CONCEPT-006", "CONCEPT-006", "CONCEPT-006"},
};

const char *gen_cl(const struct gen *g, const char *suffix)
{
	if (strcmp(suffix, "LIFE-001") == 0)
		return !g->ca ? "PLAIN-LIFE-001"
		       : g->how == CONFORM_MAKE_BUFFER ? "CA-LIFE-002" : "CA-LIFE-001";
	for (size_t i = 0; i < sizeof(gen_map) / sizeof(gen_map[0]); i++)
		if (strcmp(gen_map[i][0], suffix) == 0)
			return gen_map[i][g->ca ? 2 : 1];
	conform_unresolved("test bug: no clause for suffix %s", suffix);
}

/* ---- calls under a deadline ---- */

void gen_waiter_start(struct conform_waiter *w, const struct gen *g, void *obj, int cpu)
{
	cpu_set_t saved;
	bool pinned = false;

	/* A new thread inherits its creator's affinity: pin ourselves for
	 * the pthread_create only. */
	if (cpu >= 0 && pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0)
		pinned = conform_pin((unsigned)cpu);
	conform_waiter_start(w, g->f, obj);
	if (pinned)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
}

void gen_expect_returns(struct conform_waiter *w, const char *clause, const char *what)
{
	uint64_t t = CONFORM_RETURN_TIMEOUT_NS;

	if (!conform_waiter_join(w, t))
		conform_fail(clause, "Wait did not return within %.1f s %s",
			     (double)t / 1e9, what);
}

void gen_expect_blocked(struct conform_waiter *w, const char *clause, const char *what)
{
	uint64_t win = conform_window_ns();

	if (!conform_waiter_still_blocked(w, win))
		conform_fail(clause, "Wait returned %s; required: it blocks until the last release "
			     "(observation window %.0f ms)", what, (double)win / 1e6);
}

/* The first calls of a test run on a watched thread, so a backend that
 * blocks FAILs with the clause; later ones are direct calls (a thread per
 * call makes long loops slow on a loaded machine; a backend that blocks
 * only later is then HUNG, still a failure). */
static unsigned gen_watched_left = 16;

static bool gen_watch(void)
{
	if (gen_watched_left == 0)
		return false;
	gen_watched_left--;
	return true;
}

void gen_wait_now(const struct gen *g, void *obj, const char *clause, const char *what)
{
	struct conform_waiter w;

	if (!gen_watch()) {
		g->f->wait(obj);
		return;
	}
	conform_waiter_start(&w, g->f, obj);
	gen_expect_returns(&w, clause, what);
}

struct gen_call {
	const struct gen *g;
	void *obj;
};

static void gen_do_completed(void *arg)
{
	struct gen_call *c = arg;

	c->g->f->completed(c->obj);
}

void gen_completed_now(const struct gen *g, void *obj, const char *clause, const char *what)
{
	struct gen_call c = {g, obj};

	if (!gen_watch()) {
		g->f->completed(obj);
		return;
	}
	if (!gen_run_on(-1, gen_do_completed, &c))
		conform_fail(clause, "RundownCompleted did not return within %.1f s %s",
			     CONFORM_RETURN_TIMEOUT_NS / 1e9, what);
}

void gen_expect_refused(const struct gen *g, void *obj, const char *clause, const char *what)
{
	BOOLEAN r = g->f->acquire(obj);

	if (r == TRUE)
		g->f->release(obj);
	conform_assert(r == FALSE, clause, "Acquire returned %u %s; required FALSE (0)", (unsigned)r,
		       what);
}

void gen_expect_refused_ex(const struct gen *g, void *obj, ULONG n, const char *clause,
			   const char *what)
{
	BOOLEAN r = g->f->acquire_ex(obj, n);

	if (r == TRUE)
		g->f->release_ex(obj, n);
	conform_assert(r == FALSE, clause, "AcquireEx(%lu) returned %u %s; required FALSE (0)",
		       (unsigned long)n, (unsigned)r, what);
}

void gen_expect_granted(const struct gen *g, void *obj, const char *clause, const char *what)
{
	BOOLEAN r = g->f->acquire(obj);

	conform_assert(r == TRUE, clause, "Acquire returned %u %s; required TRUE (1)", (unsigned)r,
		       what);
}

void gen_expect_granted_ex(const struct gen *g, void *obj, ULONG n, const char *clause,
			   const char *what)
{
	BOOLEAN r = g->f->acquire_ex(obj, n);

	conform_assert(r == TRUE, clause, "AcquireEx(%lu) returned %u %s; required TRUE (1)",
		       (unsigned long)n, (unsigned)r, what);
}

bool gen_rundown_visible_ex(const struct gen *g, void *obj, ULONG n, uint64_t timeout_ns)
{
	uint64_t end = conform_now_ns() + timeout_ns;

	for (;;) {
		if (!g->f->acquire_ex(obj, n))
			return true;
		g->f->release_ex(obj, n);
		if (conform_now_ns() >= end)
			return false;
		sched_yield();
	}
}

/* ---- threads ---- */

int gen_cpu_of(unsigned i)
{
	unsigned n = conform_ncpu();
	cpu_set_t set;
	unsigned k = 0;

	if (n < 2 || sched_getaffinity(0, sizeof(set), &set) != 0)
		return -1;
	i %= n;
	for (unsigned c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set) && k++ == i)
			return (int)c;
	return -1;
}

struct gen_spawn_arg {
	int cpu;
	void *(*fn)(void *);
	void *arg;
};

void gen_spawn(pthread_t *t, int cpu, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	cpu_set_t set;

	pthread_attr_init(&attr);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET((unsigned)cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (pthread_create(t, &attr, fn, arg) != 0)
		conform_unresolved("pthread_create failed");
	pthread_attr_destroy(&attr);
}

struct gen_run {
	void (*fn)(void *);
	void *arg;
	_Atomic int done; /* release: the caller sees what fn did */
};

static void *gen_run_main(void *p)
{
	struct gen_run *r = p;

	r->fn(r->arg);
	atomic_store_explicit(&r->done, 1, memory_order_release);
	return NULL;
}

bool gen_run_on(int cpu, void (*fn)(void *), void *arg)
{
	struct gen_run *r = malloc(sizeof(*r));
	pthread_t t;

	if (r == NULL)
		conform_unresolved("out of memory");
	r->fn = fn;
	r->arg = arg;
	atomic_init(&r->done, 0);
	gen_spawn(&t, cpu, gen_run_main, r);
	if (!gen_await(&r->done, 1, CONFORM_RETURN_TIMEOUT_NS)) {
		/* the thread is stuck in the backend: leave it (the test fails) */
		pthread_detach(t);
		return false;
	}
	pthread_join(t, NULL);
	free(r);
	return true;
}

void gen_spin(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#else
		atomic_signal_fence(memory_order_seq_cst);
#endif
	}
}

void gen_spin_random(uint64_t *rng, unsigned maxlog)
{
	uint64_t r = conform_rand(rng);
	unsigned k = (unsigned)(r % (maxlog + 1u));

	gen_spin((unsigned)((r >> 16) & ((1u << k) - 1u)));
}

bool gen_await(_Atomic int *flag, int value, uint64_t timeout_ns)
{
	uint64_t end = conform_now_ns() + timeout_ns;
	unsigned spins = conform_ncpu() > 1 ? 0 : 64; /* spin only with a CPU to spare */

	while (atomic_load_explicit(flag, memory_order_acquire) != value) {
		if (++spins < 64) {
			gen_spin(8);
			continue;
		}
		if (conform_now_ns() >= end)
			return false;
		sched_yield();
	}
	return true;
}

struct gen_prot *gen_prot_new(unsigned nslots)
{
	struct gen_prot *p = calloc(1, sizeof(*p) + nslots * sizeof(p->slot[0]));

	if (p == NULL)
		conform_unresolved("out of memory");
	p->nslots = nslots;
	return p;
}

bool gen_tsan_build(void)
{
#if defined(__SANITIZE_THREAD__)
	return true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}

void gen_need_tsan_backend(void)
{
	if (gen_tsan_build() && !B->tsan_instrumented)
		conform_unresolved("exact memory-ordering check needs a TSan-instrumented backend "
				   "(this backend is not: its synchronisation is invisible to TSan)");
}

void gen_budget_init(struct gen_budget *b, unsigned long max)
{
	/* quick: 2.5 s, full: 12.5 s (the window scales with the profile and
	 * --timeout-multiplier; the runner's timeout is 10 s x 4 in full) */
	b->end = conform_now_ns() + 125 * conform_window_ns();
	b->max = max;
	b->done = 0;
}

bool gen_budget_next(struct gen_budget *b)
{
	if (b->done >= b->max)
		return false;
	if (b->done >= 3 && conform_now_ns() >= b->end)
		return false;
	b->done++;
	return true;
}
