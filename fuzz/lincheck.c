/*
 * fuzz/lincheck.c - real threads on one object, a recorded history, and a
 * linearizability check against the sequential model.
 *
 * A round: K accessor threads run random sessions (Acquire or AcquireEx(n);
 * if TRUE, a short hold, then Release/ReleaseEx giving back the n units,
 * possibly in two parts) while the owner thread, after a random delay,
 * calls Wait, then Acquire (which must fail) and maybe Completed.  Every
 * call is recorded with CLOCK_MONOTONIC timestamps taken just before and
 * just after it: intervals only get wider, so the check has no false
 * positives.  Between rounds the owner reinitializes (sequentially).
 *
 * The check is Wing & Gong's search with Lowe's memoisation (as in
 * Porcupine): repeatedly pick an op that is minimal in real-time order
 * among those not yet linearized, apply it to the model, backtrack on a
 * wrong result; memoise (linearized set, model state).  Wait blocks, so it
 * is two events sharing its interval: WaitBegin (run-down starts: later
 * Acquires fail) and WaitEnd (legal only once the count is zero; after
 * WaitBegin).  A Wait that does not return once every unit is released is
 * reported as a hang, not searched.
 *
 * On failure the history is shrunk before it is printed: a failed Acquire,
 * or a granted Acquire with its Releases, is dropped while the rest is
 * still not linearizable.  Dropping such ops keeps a linearizable history
 * linearizable (they leave started/down alone and add +n then -n to the
 * count), so a smaller failing history still proves the failure.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fuzz/lincheck.h"
#include "fuzz/model.h"

#define RD_LC_MAX_THREADS 8
#define RD_LC_MAX_EVENTS 120
#define RD_LC_PER_THREAD 24

enum rd_lc_kind { LC_ACQ, LC_REL, LC_WAIT_BEGIN, LC_WAIT_END, LC_COMPLETED };

struct rd_lc_ev {
	uint8_t thread;
	uint8_t kind;
	uint8_t result; /* Acquire: 0/1 */
	uint8_t session;
	uint32_t n;
	uint64_t inv, resp;
};

struct rd_lc_thread {
	pthread_t th;
	unsigned id;
	uint64_t rng;
	unsigned nev;
	struct rd_lc_ev ev[RD_LC_PER_THREAD];
	struct rd_lc_shared *sh;
};

struct rd_lc_shared {
	const struct rundown_backend *b;
	enum rundown_family fam;
	void *obj;
	unsigned k;
	_Atomic uint32_t round; /* bumped by the main thread to start a round */
	_Atomic uint32_t done;  /* accessors that finished the round */
	_Atomic uint32_t owner_done;
	_Atomic int quit;
	uint64_t t0;
	struct rd_lc_thread t[RD_LC_MAX_THREADS + 1]; /* last one: owner */
};

static uint64_t rd_lc_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rd_lc_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static void rd_lc_spin(uint64_t *rng, unsigned max)
{
	unsigned n = (unsigned)(rd_lc_rand(rng) % (max + 1u));

	for (volatile unsigned i = 0; i < n; i++)
		;
}

static BOOLEAN rd_lc_acquire(const struct rd_lc_shared *sh, uint32_t n)
{
	if (sh->fam == RUNDOWN_FAM_PLAIN)
		return n == 1 ? sh->b->ExAcquireRundownProtection(sh->obj)
			      : sh->b->ExAcquireRundownProtectionEx(sh->obj, n);
	return n == 1 ? sh->b->ExAcquireRundownProtectionCacheAware(sh->obj)
		      : sh->b->ExAcquireRundownProtectionCacheAwareEx(sh->obj, n);
}

static void rd_lc_release(const struct rd_lc_shared *sh, uint32_t n)
{
	if (sh->fam == RUNDOWN_FAM_PLAIN) {
		if (n == 1)
			sh->b->ExReleaseRundownProtection(sh->obj);
		else
			sh->b->ExReleaseRundownProtectionEx(sh->obj, n);
	} else {
		if (n == 1)
			sh->b->ExReleaseRundownProtectionCacheAware(sh->obj);
		else
			sh->b->ExReleaseRundownProtectionCacheAwareEx(sh->obj, n);
	}
}

static struct rd_lc_ev *rd_lc_rec(struct rd_lc_thread *t, uint8_t kind, uint32_t n, uint8_t session)
{
	struct rd_lc_ev *e = &t->ev[t->nev++];

	e->thread = (uint8_t)t->id;
	e->kind = kind;
	e->n = n;
	e->session = session;
	e->result = 0;
	return e;
}

static void rd_lc_accessor_round(struct rd_lc_thread *t)
{
	struct rd_lc_shared *sh = t->sh;
	unsigned budget = (RD_LC_MAX_EVENTS - 4) / sh->k;
	unsigned sessions = 1 + (unsigned)(rd_lc_rand(&t->rng) % 4u);

	if (budget > RD_LC_PER_THREAD)
		budget = RD_LC_PER_THREAD;
	for (unsigned s = 0; s < sessions && t->nev + 3 <= budget; s++) {
		uint32_t n = rd_lc_rand(&t->rng) % 3u ? 1u : 1u + (uint32_t)(rd_lc_rand(&t->rng) % 4u);
		struct rd_lc_ev *e = rd_lc_rec(t, LC_ACQ, n, (uint8_t)s);
		BOOLEAN r;

		rd_lc_spin(&t->rng, 3000);
		e->inv = rd_lc_now();
		r = rd_lc_acquire(sh, n);
		e->resp = rd_lc_now();
		e->result = r != 0;
		if (!r)
			continue;
		rd_lc_spin(&t->rng, 3000);
		if (n > 1 && rd_lc_rand(&t->rng) % 2u) {
			uint32_t k = 1 + (uint32_t)(rd_lc_rand(&t->rng) % (n - 1));

			e = rd_lc_rec(t, LC_REL, k, (uint8_t)s);
			e->inv = rd_lc_now();
			rd_lc_release(sh, k);
			e->resp = rd_lc_now();
			n -= k;
			rd_lc_spin(&t->rng, 1000);
		}
		e = rd_lc_rec(t, LC_REL, n, (uint8_t)s);
		e->inv = rd_lc_now();
		rd_lc_release(sh, n);
		e->resp = rd_lc_now();
	}
}

static void rd_lc_owner_round(struct rd_lc_thread *t)
{
	struct rd_lc_shared *sh = t->sh;
	struct rd_lc_ev *wb = rd_lc_rec(t, LC_WAIT_BEGIN, 0, 0);
	struct rd_lc_ev *we = rd_lc_rec(t, LC_WAIT_END, 0, 0);
	struct rd_lc_ev *e;

	rd_lc_spin(&t->rng, 20000);
	wb->inv = rd_lc_now();
	if (sh->fam == RUNDOWN_FAM_PLAIN)
		sh->b->ExWaitForRundownProtectionRelease(sh->obj);
	else
		sh->b->ExWaitForRundownProtectionReleaseCacheAware(sh->obj);
	wb->resp = rd_lc_now();
	we->inv = wb->inv;
	we->resp = wb->resp;
	e = rd_lc_rec(t, LC_ACQ, 1, 0);
	e->inv = rd_lc_now();
	e->result = rd_lc_acquire(sh, 1) != 0;
	e->resp = rd_lc_now();
	if (e->result) /* give it back so the round can end cleanly */
		rd_lc_release(sh, 1);
}

static void *rd_lc_main(void *arg)
{
	struct rd_lc_thread *t = arg;
	struct rd_lc_shared *sh = t->sh;
	uint32_t seen = 0;

	for (;;) {
		uint32_t r;

		/* Acquire: pairs with the main thread's release of round (the
		 * object and the reset of nev happen-before the round). */
		while ((r = atomic_load_explicit(&sh->round, memory_order_acquire)) == seen)
			sched_yield();
		seen = r;
		if (atomic_load_explicit(&sh->quit, memory_order_relaxed))
			return NULL;
		if (t->id == sh->k)
			rd_lc_owner_round(t);
		else
			rd_lc_accessor_round(t);
		/* Release: the events recorded happen-before the check. */
		if (t->id == sh->k)
			atomic_store_explicit(&sh->owner_done, 1, memory_order_release);
		else
			atomic_fetch_add_explicit(&sh->done, 1, memory_order_release);
	}
}

/* ------------------------------------------------------------------ */
/* the check                                                           */
/* ------------------------------------------------------------------ */

typedef unsigned __int128 rd_bits;

struct rd_lc_state {
	uint64_t count;
	bool started, down;
};

struct rd_lc_memo {
	rd_bits bits;
	uint64_t count;
	uint8_t flags; /* bit0 started, bit1 down, bit7 used */
};

#define RD_LC_MEMO (1u << 16)

struct rd_lc_check {
	const struct rd_lc_ev *ev;
	unsigned n;
	rd_bits all;
	struct rd_lc_memo *memo;
	unsigned long nodes;
	bool gave_up;
};

static bool rd_lc_memo_seen(struct rd_lc_check *c, rd_bits bits, const struct rd_lc_state *s)
{
	uint64_t h = (uint64_t)bits ^ (uint64_t)(bits >> 64) * UINT64_C(0x9e3779b97f4a7c15) ^
		     s->count * UINT64_C(0xff51afd7ed558ccd) ^ (uint64_t)(s->started | s->down << 1);
	uint8_t flags = (uint8_t)(0x80u | s->started | s->down << 1);

	h ^= h >> 29;
	for (unsigned i = 0; i < 64; i++) {
		struct rd_lc_memo *m = &c->memo[(h + i) & (RD_LC_MEMO - 1)];

		if (!(m->flags & 0x80u)) {
			m->bits = bits;
			m->count = s->count;
			m->flags = flags;
			return false;
		}
		if (m->bits == bits && m->count == s->count && m->flags == flags)
			return true;
	}
	return false; /* table crowded: search on without memo */
}

/* Apply event e to s; false if the model forbids it or the result differs. */
static bool rd_lc_apply(const struct rd_lc_ev *e, struct rd_lc_state *s, bool wait_begun)
{
	switch (e->kind) {
	case LC_ACQ:
		if (e->result != !s->started)
			return false;
		if (e->result)
			s->count += e->n;
		return true;
	case LC_REL:
		if (s->count < e->n)
			return false;
		s->count -= e->n;
		return true;
	case LC_WAIT_BEGIN:
		s->started = true;
		if (s->count == 0)
			s->down = true;
		return true;
	case LC_WAIT_END:
		if (!wait_begun || s->count != 0)
			return false;
		s->down = true;
		return true;
	case LC_COMPLETED:
		return s->down;
	}
	return false;
}

static bool rd_lc_search(struct rd_lc_check *c, rd_bits done, struct rd_lc_state s)
{
	uint64_t min_resp = UINT64_MAX;

	if (done == c->all)
		return true;
	if (++c->nodes > 2000000u) {
		c->gave_up = true;
		return true;
	}
	if (rd_lc_memo_seen(c, done, &s))
		return false;
	for (unsigned i = 0; i < c->n; i++)
		if (!(done >> i & 1u) && c->ev[i].resp < min_resp)
			min_resp = c->ev[i].resp;
	for (unsigned i = 0; i < c->n; i++) {
		struct rd_lc_state t = s;
		bool begun = false;

		if (done >> i & 1u || c->ev[i].inv > min_resp)
			continue;
		if (c->ev[i].kind == LC_WAIT_END) /* WaitBegin is the event before it */
			begun = i > 0 && (done >> (i - 1) & 1u);
		if (!rd_lc_apply(&c->ev[i], &t, begun))
			continue;
		if (rd_lc_search(c, done | (rd_bits)1 << i, t))
			return true;
	}
	return false;
}

static bool rd_lc_linearizable(const struct rd_lc_ev *ev, unsigned n, bool *gave_up)
{
	static struct rd_lc_memo memo[RD_LC_MEMO];
	struct rd_lc_check c = {.ev = ev, .n = n, .memo = memo};
	bool ok;

	memset(memo, 0, sizeof(memo));
	c.all = n >= 128 ? ~(rd_bits)0 : ((rd_bits)1 << n) - 1;
	ok = rd_lc_search(&c, 0, (struct rd_lc_state){0, false, false});
	*gave_up = c.gave_up;
	return ok;
}

static int rd_lc_cmp(const void *a, const void *b)
{
	const struct rd_lc_ev *x = a, *y = b;

	if (x->inv != y->inv)
		return x->inv < y->inv ? -1 : 1;
	return x->kind < y->kind ? -1 : x->kind > y->kind; /* WaitBegin before WaitEnd */
}

static const char *rd_lc_name(enum rundown_family f, const struct rd_lc_ev *e)
{
	switch (e->kind) {
	case LC_ACQ:
		return e->n == 1 ? rundown_op_name(f, RUNDOWN_OP_ACQUIRE)
				 : rundown_op_name(f, RUNDOWN_OP_ACQUIRE_EX);
	case LC_REL:
		return e->n == 1 ? rundown_op_name(f, RUNDOWN_OP_RELEASE)
				 : rundown_op_name(f, RUNDOWN_OP_RELEASE_EX);
	case LC_WAIT_BEGIN:
		return "Wait(begin)";
	case LC_WAIT_END:
		return "Wait(end)";
	default:
		return rundown_op_name(f, RUNDOWN_OP_COMPLETED);
	}
}

static void rd_lc_print(enum rundown_family f, const struct rd_lc_ev *ev, unsigned n, uint64_t t0,
			unsigned owner)
{
	printf("%6s %-14s %5s %-6s %12s %12s\n", "thread", "op", "args", "result", "start(ns)",
	       "end(ns)");
	for (unsigned i = 0; i < n; i++) {
		const struct rd_lc_ev *e = &ev[i];
		char th[16];

		if (e->thread == owner)
			snprintf(th, sizeof(th), "owner");
		else
			snprintf(th, sizeof(th), "%u", e->thread);
		printf("%6s %-14s %5" PRIu32 " %-6s %12" PRIu64 " %12" PRIu64 "\n", th, rd_lc_name(f, e),
		       e->kind == LC_ACQ || e->kind == LC_REL ? e->n : 0,
		       e->kind == LC_ACQ ? (e->result ? "TRUE" : "FALSE") : "-", e->inv - t0,
		       e->resp - t0);
	}
}

/* Drop accessor sessions while the history stays non-linearizable. */
static unsigned rd_lc_shrink(struct rd_lc_ev *ev, unsigned n, unsigned owner)
{
	static struct rd_lc_ev cand[RD_LC_MAX_EVENTS];
	bool again = true;

	while (again) {
		again = false;
		for (unsigned i = 0; i < n; i++) {
			unsigned m = 0;
			bool gave_up;

			if (ev[i].kind != LC_ACQ || ev[i].thread == owner)
				continue;
			for (unsigned j = 0; j < n; j++)
				if (!(ev[j].thread == ev[i].thread && ev[j].session == ev[i].session &&
				      ev[j].kind != LC_WAIT_BEGIN && ev[j].kind != LC_WAIT_END))
					cand[m++] = ev[j];
			if (!rd_lc_linearizable(cand, m, &gave_up) && !gave_up) {
				memcpy(ev, cand, m * sizeof(*ev));
				n = m;
				again = true;
				break;
			}
		}
	}
	return n;
}

/* ------------------------------------------------------------------ */

int rundown_lincheck_campaign(const struct rundown_backend *b,
			      const struct rundown_lincheck_opts *o)
{
	static struct rd_lc_shared sh;
	static struct rd_lc_ev hist[RD_LC_MAX_EVENTS];
	static EX_RUNDOWN_REF plain_ref;
	uint32_t miss = rundown_backend_missing(b);
	bool plain_ok = (miss & 0xffu) == 0, ca_ok = (miss & 0x7ff00u) == 0;
	uint64_t rng = o->seed ? o->seed : 1, start = rd_lc_now(), rounds = 0, gave_ups = 0;
	uint64_t end = start + (uint64_t)(o->seconds * 1e9);
	int rc = 0;

	if (!plain_ok && !ca_ok) {
		fprintf(stderr, "rundown-fuzz: the backend lacks routines of every family\n");
		return 2;
	}
	sh.b = b;
	sh.k = o->threads < 1 ? 1 : o->threads > RD_LC_MAX_THREADS ? RD_LC_MAX_THREADS : o->threads;
	for (unsigned i = 0; i <= sh.k; i++) {
		sh.t[i].id = i;
		sh.t[i].sh = &sh;
		sh.t[i].rng = rng + 0x1234567u * (i + 1);
		if (pthread_create(&sh.t[i].th, NULL, rd_lc_main, &sh.t[i]) != 0) {
			fprintf(stderr, "rundown-fuzz: cannot create threads\n");
			return 2;
		}
	}
	printf("rundown-fuzz: concurrent: %u accessor threads + owner, seed %" PRIu64 ", %.0f s against %s\n",
	       sh.k, o->seed, o->seconds, b->path);
	while (rd_lc_now() < end) {
		bool ca = ca_ok && (!plain_ok || rd_lc_rand(&rng) % 2u);
		void *cabuf = NULL;
		unsigned n = 0;
		uint64_t deadline;
		bool lin, gave_up;

		sh.fam = ca ? RUNDOWN_FAM_CA : RUNDOWN_FAM_PLAIN;
		if (!ca) {
			b->ExInitializeRundownProtection(&plain_ref);
			sh.obj = &plain_ref;
		} else if (rd_lc_rand(&rng) % 2u) {
			sh.obj = b->ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 0x6c52644cu);
			if (sh.obj == NULL)
				continue;
		} else {
			size_t size = b->ExSizeOfRundownProtectionCacheAware();
			unsigned off = (unsigned)(rd_lc_rand(&rng) % 64u);

			cabuf = malloc(off + size + 1);
			if (cabuf == NULL)
				continue;
			sh.obj = (char *)cabuf + off;
			b->ExInitializeRundownProtectionCacheAware(sh.obj, size);
		}
		for (unsigned i = 0; i <= sh.k; i++)
			sh.t[i].nev = 0;
		atomic_store_explicit(&sh.done, 0, memory_order_relaxed);
		atomic_store_explicit(&sh.owner_done, 0, memory_order_relaxed);
		sh.t0 = rd_lc_now();
		/* Release: object and resets before the threads start. */
		atomic_fetch_add_explicit(&sh.round, 1, memory_order_release);
		deadline = UINT64_MAX;
		for (;;) {
			uint32_t d = atomic_load_explicit(&sh.done, memory_order_acquire);
			uint32_t od = atomic_load_explicit(&sh.owner_done, memory_order_acquire);

			if (d == sh.k && od)
				break;
			/* Accessors all done, so every unit is released: Wait is due. */
			if (d == sh.k && deadline == UINT64_MAX)
				deadline = rd_lc_now() + 2000000000u;
			if (rd_lc_now() > deadline) {
				printf("rundown-fuzz: concurrent: Wait did not return within 2 s after "
				       "every granted unit was released (round %" PRIu64 ", %s)\n",
				       rounds, ca ? "cache-aware" : "plain");
				fflush(stdout);
				_exit(1);
			}
			sched_yield();
		}
		for (unsigned i = 0; i <= sh.k; i++)
			for (unsigned j = 0; j < sh.t[i].nev; j++)
				hist[n++] = sh.t[i].ev[j];
		qsort(hist, n, sizeof(hist[0]), rd_lc_cmp);
		lin = rd_lc_linearizable(hist, n, &gave_up);
		gave_ups += gave_up;
		rounds++;
		if (!lin) {
			printf("rundown-fuzz: concurrent: history of round %" PRIu64
			       " (%s) is not linearizable with respect to the model\n",
			       rounds, ca ? "cache-aware" : "plain");
			n = rd_lc_shrink(hist, n, sh.k);
			printf("shortest failing history found (%u events; Wait split into begin/end):\n", n);
			rd_lc_print(sh.fam, hist, n, sh.t0, sh.k);
			rc = 1;
			break;
		}
		/* Reuse or retire the object (sequential: every thread is idle). */
		if (sh.fam == RUNDOWN_FAM_PLAIN) {
			if (rd_lc_rand(&rng) % 2u)
				b->ExRundownCompleted(sh.obj);
			b->ExReInitializeRundownProtection(sh.obj);
		} else if (cabuf == NULL) {
			b->ExFreeCacheAwareRundownProtection(sh.obj);
		} else {
			free(cabuf);
		}
	}
	if (rc == 0)
		printf("rundown-fuzz: concurrent: %" PRIu64 " rounds linearizable in %.1f s%s\n", rounds,
		       (double)(rd_lc_now() - start) / 1e9,
		       gave_ups ? " (some searches hit the node limit and were not decided)" : "");
	fflush(stdout);
	if (rc != 0)
		_exit(rc); /* threads may be stuck in the backend */
	atomic_store_explicit(&sh.quit, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sh.round, 1, memory_order_release);
	for (unsigned i = 0; i <= sh.k; i++)
		pthread_join(sh.t[i].th, NULL);
	return rc;
}
