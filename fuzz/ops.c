/*
 * fuzz/ops.c - decoding of fuzz inputs and the deterministic executor.
 *
 * Everything but Wait runs on the calling thread, one op after another, so
 * a run is deterministic.  A Wait may block, so it runs on a persistent
 * helper thread (created once per executor, not per input) and is split
 * into what the model can say about it:
 *
 *	must return     (nothing held, already run down, or the Release that
 *	                 gave back the last unit): the executor waits up to
 *	                 return_timeout_ms for it, else "Wait did not return";
 *	must be blocked (units outstanding): at WaitStart the executor waits
 *	                 until the helper is inside Wait and either sleeps
 *	                 (/proc/self/task/TID/stat says S) or has burnt 2 ms of
 *	                 CPU in it (a busy-waiting backend), then checks that
 *	                 it has not returned.  Acquires after that must fail.
 *	                 At WaitPoll it lets a woken Wait settle the same way
 *	                 (bounded by block_settle_ms); after any other step it
 *	                 only looks (one load).
 *
 * Handshakes with the helper are two futex words with a Dekker pair each
 * (sleeping flag stored, then the other side's word loaded, both seq_cst),
 * so neither side makes a syscall while the other is spinning.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fuzz/ops.h"

/* ------------------------------------------------------------------ */
/* decoding                                                            */
/* ------------------------------------------------------------------ */

static const struct {
	uint8_t kind;
	uint8_t has_arg;
	uint8_t all;
} rd_opcodes[16] = {
	[0x0] = {RUNDOWN_OP_ACQUIRE, 0, 0},    [0x1] = {RUNDOWN_OP_ACQUIRE_EX, 1, 0},
	[0x2] = {RUNDOWN_OP_RELEASE, 0, 0},    [0x3] = {RUNDOWN_OP_RELEASE_EX, 1, 0},
	[0x4] = {RUNDOWN_OP_WAIT_START, 0, 0}, [0x5] = {RUNDOWN_OP_WAIT_POLL, 0, 0},
	[0x6] = {RUNDOWN_OP_COMPLETED, 0, 0},  [0x7] = {RUNDOWN_OP_REINIT, 0, 0},
	[0x8] = {RUNDOWN_OP_CREATE, 1, 0},     [0x9] = {RUNDOWN_OP_FREE, 0, 0},
	[0xA] = {RUNDOWN_OP_ACQUIRE, 0, 0},    [0xB] = {RUNDOWN_OP_RELEASE, 0, 0},
	[0xC] = {RUNDOWN_OP_ACQUIRE_EX, 1, 0}, [0xD] = {RUNDOWN_OP_RELEASE_EX, 1, 0},
	[0xE] = {RUNDOWN_OP_RELEASE_EX, 0, 1}, [0xF] = {RUNDOWN_OP_WAIT_POLL, 0, 0},
};

uint32_t rundown_decode_count(uint8_t c)
{
	return c < 0xC0 ? (uint32_t)c + 1u : UINT32_C(1) << ((c - 0xC0u) % 31u);
}

void rundown_decode(const uint8_t *data, size_t len, struct rundown_prog *p)
{
	uint8_t h = len ? data[0] : 0;
	size_t i = 1;

	p->family = (h & RUNDOWN_HDR_CA) ? RUNDOWN_FAM_CA : RUNDOWN_FAM_PLAIN;
	p->nthreads = ((h >> 1) & 3u) + 1u;
	p->spread = (h & RUNDOWN_HDR_SPREAD) == RUNDOWN_HDR_SPREAD;
	p->ca_init = (h & RUNDOWN_HDR_CA_INIT) != 0;
	p->misalign = ((h >> 5) & 3u) * 17u;
	p->nops = 0;
	while (i < len && p->nops < RUNDOWN_FUZZ_MAX_OPS) {
		struct rundown_op *op = &p->ops[p->nops++];
		uint8_t b = data[i];
		uint8_t a = 0;

		op->off = (uint32_t)i++;
		op->kind = rd_opcodes[b >> 4].kind;
		op->thread = (uint8_t)((b & 15u) % p->nthreads);
		if (rd_opcodes[b >> 4].has_arg && i < len)
			a = data[i++];
		op->len = (uint32_t)i - op->off;
		switch (op->kind) {
		case RUNDOWN_OP_ACQUIRE_EX:
		case RUNDOWN_OP_RELEASE_EX:
			op->arg = rd_opcodes[b >> 4].all ? RUNDOWN_ARG_ALL : rundown_decode_count(a);
			break;
		case RUNDOWN_OP_CREATE:
			op->arg = a;
			break;
		default:
			op->arg = 1;
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* the Wait helper thread                                              */
/* ------------------------------------------------------------------ */

enum rd_phase { RD_PH_IDLE, RD_PH_POSTED, RD_PH_IN_WAIT, RD_PH_RETURNED };

struct rd_helper {
	pthread_t th;
	_Atomic uint32_t seq;   /* jobs posted; futex the helper sleeps on */
	_Atomic uint32_t phase; /* enum rd_phase; futex the executor sleeps on */
	_Atomic uint32_t helper_sleeping;
	_Atomic uint32_t main_sleeping;
	_Atomic int tid;
	_Atomic int quit;
	int statfd, schedfd;
	/* The job: written before seq is bumped (seq_cst RMW, a release),
	 * read after the helper's acquire load of seq. */
	const struct rundown_backend *b;
	enum rundown_family fam;
	void *obj;
};

static long rd_futex(_Atomic uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, (void *)w, op | FUTEX_PRIVATE_FLAG, val, ts, NULL, 0);
}

static uint64_t rd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Spin with sched_yield: the other thread may share this CPU. */
#define RD_SPIN 64

static void *rd_helper_main(void *arg)
{
	struct rd_helper *h = arg;
	uint32_t last = 0;

	atomic_store_explicit(&h->tid, (int)syscall(SYS_gettid), memory_order_release);
	for (;;) {
		uint32_t s = atomic_load_explicit(&h->seq, memory_order_acquire);

		for (int i = 0; s == last && i < RD_SPIN; i++) {
			sched_yield();
			s = atomic_load_explicit(&h->seq, memory_order_acquire);
		}
		while (s == last) {
			/* Dekker with rd_helper_post: sleeping, then seq. */
			atomic_store(&h->helper_sleeping, 1);
			s = atomic_load(&h->seq);
			if (s == last)
				rd_futex(&h->seq, FUTEX_WAIT, last, NULL);
			atomic_store(&h->helper_sleeping, 0);
			s = atomic_load_explicit(&h->seq, memory_order_acquire);
		}
		last = s;
		if (atomic_load_explicit(&h->quit, memory_order_relaxed))
			return NULL;
		atomic_store_explicit(&h->phase, RD_PH_IN_WAIT, memory_order_release);
		if (h->fam == RUNDOWN_FAM_PLAIN)
			h->b->ExWaitForRundownProtectionRelease(h->obj);
		else
			h->b->ExWaitForRundownProtectionReleaseCacheAware(h->obj);
		/* Dekker with rd_helper_wait_returned: phase, then main_sleeping. */
		atomic_store(&h->phase, RD_PH_RETURNED);
		if (atomic_load(&h->main_sleeping))
			rd_futex(&h->phase, FUTEX_WAKE, INT32_MAX, NULL);
	}
}

static struct rd_helper *rd_helper_new(void)
{
	struct rd_helper *h = calloc(1, sizeof(*h));
	char path[64];
	int tid;

	if (h == NULL)
		return NULL;
	h->statfd = h->schedfd = -1;
	if (pthread_create(&h->th, NULL, rd_helper_main, h) != 0) {
		free(h);
		return NULL;
	}
	while ((tid = atomic_load_explicit(&h->tid, memory_order_acquire)) == 0)
		sched_yield();
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	h->statfd = open(path, O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	h->schedfd = open(path, O_RDONLY | O_CLOEXEC);
	return h;
}

static void rd_helper_post(struct rd_helper *h, const struct rundown_backend *b,
			   enum rundown_family fam, void *obj)
{
	h->b = b;
	h->fam = fam;
	h->obj = obj;
	atomic_store_explicit(&h->phase, RD_PH_POSTED, memory_order_relaxed);
	/* seq_cst RMW: publishes the job (release) and orders before the
	 * load of helper_sleeping (Dekker with rd_helper_main). */
	atomic_fetch_add(&h->seq, 1);
	if (atomic_load(&h->helper_sleeping))
		rd_futex(&h->seq, FUTEX_WAKE, 1, NULL);
}

/* Stop an idle helper (not one stuck in a Wait: that one is leaked). */
static void rd_helper_stop(struct rd_helper *h)
{
	atomic_store_explicit(&h->quit, 1, memory_order_relaxed);
	atomic_fetch_add(&h->seq, 1);
	rd_futex(&h->seq, FUTEX_WAKE, 1, NULL);
	pthread_join(h->th, NULL);
	if (h->statfd >= 0)
		close(h->statfd);
	if (h->schedfd >= 0)
		close(h->schedfd);
	free(h);
}

static bool rd_helper_returned(struct rd_helper *h)
{
	/* Acquire: pairs with the helper's store after Wait returned. */
	return atomic_load_explicit(&h->phase, memory_order_acquire) == RD_PH_RETURNED;
}

static bool rd_helper_wait_returned(struct rd_helper *h, unsigned ms)
{
	uint64_t deadline;

	for (int i = 0; i < RD_SPIN; i++) {
		if (rd_helper_returned(h))
			return true;
		sched_yield();
	}
	deadline = rd_now_ns() + (uint64_t)ms * 1000000u;
	for (;;) {
		uint32_t p;
		uint64_t now = rd_now_ns();
		struct timespec ts;

		atomic_store(&h->main_sleeping, 1);
		p = atomic_load(&h->phase);
		if (p == RD_PH_RETURNED || now >= deadline) {
			atomic_store(&h->main_sleeping, 0);
			return p == RD_PH_RETURNED;
		}
		ts.tv_sec = (time_t)((deadline - now) / 1000000000u);
		ts.tv_nsec = (long)((deadline - now) % 1000000000u);
		rd_futex(&h->phase, FUTEX_WAIT, p, &ts);
		atomic_store(&h->main_sleeping, 0);
	}
}

/* State letter of the helper thread (R, S, D, ...), or 0 if unknown. */
static char rd_helper_task_state(const struct rd_helper *h)
{
	char buf[512];
	ssize_t n;
	char *p;

	if (h->statfd < 0 || (n = pread(h->statfd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : 0;
}

/* CPU time the helper has run, in ns (0 if unknown). */
static uint64_t rd_helper_cpu_ns(const struct rd_helper *h)
{
	char buf[128];
	ssize_t n;

	if (h->schedfd < 0 || (n = pread(h->schedfd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	return strtoull(buf, NULL, 10);
}

enum rd_settle { RD_SETTLE_BLOCKED, RD_SETTLE_RETURNED, RD_SETTLE_BUSY, RD_SETTLE_TIMEOUT };

/*
 * Let the Wait on the helper reach a resting point: returned, asleep inside
 * Wait, or busy-waiting inside it (2 ms of CPU there).  Bounded by ms.
 */
static enum rd_settle rd_helper_settle(struct rd_helper *h, unsigned ms)
{
	uint64_t deadline = rd_now_ns() + (uint64_t)ms * 1000000u;
	uint64_t cpu0 = 0;
	bool have_cpu0 = false;

	for (unsigned i = 0;; i++) {
		uint32_t p = atomic_load_explicit(&h->phase, memory_order_acquire);

		if (p == RD_PH_RETURNED)
			return RD_SETTLE_RETURNED;
		if (p == RD_PH_IN_WAIT) {
			char st = rd_helper_task_state(h);

			if (st == 'S') /* asleep: in Wait, or back after returning */
				return rd_helper_returned(h) ? RD_SETTLE_RETURNED : RD_SETTLE_BLOCKED;
			if (!have_cpu0) {
				cpu0 = rd_helper_cpu_ns(h);
				have_cpu0 = true;
			} else if (cpu0 != 0 && rd_helper_cpu_ns(h) - cpu0 >= 2000000u) {
				return rd_helper_returned(h) ? RD_SETTLE_RETURNED : RD_SETTLE_BUSY;
			}
		}
		if ((i & 15u) == 15u && rd_now_ns() >= deadline)
			return rd_helper_returned(h) ? RD_SETTLE_RETURNED : RD_SETTLE_TIMEOUT;
		sched_yield();
	}
}

/* ------------------------------------------------------------------ */
/* the executor                                                        */
/* ------------------------------------------------------------------ */

enum rd_obs {
	RD_OBS_NONE,
	RD_OBS_BLOCKED,  /* the pending Wait has not returned */
	RD_OBS_BUSY,     /* ... and burns CPU in it (busy-waiting backend) */
	RD_OBS_PRESUMED, /* ... and did not settle in time: presumed blocked */
	RD_OBS_RETURNED, /* the Wait returned */
	RD_OBS_HUNG,     /* the Wait did not return in time */
};

struct rd_row {
	uint32_t step;
	uint8_t thread;
	uint8_t kind;
	bool teardown;
	bool diverged;
	uint32_t arg;  /* as decoded (Create arg) */
	uint64_t n;    /* Count actually passed */
	struct rundown_expect e;
	int got_ret;   /* -1 none; BOOLEAN value; pointer != NULL */
	uint8_t got_wait;
	uint64_t count_after; /* model count after the step */
	size_t size;          /* CA Size, for Create by Initialize */
};

struct rundown_exec {
	struct rundown_backend b;
	struct rundown_exec_opts o;
	bool model_only;
	bool poisoned;
	struct rd_helper *h;
	struct rundown_model m;
	enum rundown_family fam;
	_Alignas(64) EX_RUNDOWN_REF plain;
	void *obj;     /* the object passed to the routines */
	void *cabuf;   /* caller buffer of a CA object made by Initialize */
	uint32_t wait_step; /* step of the pending WaitStart */
	/* watchdog of Waits called on this thread: odd = inside one */
	_Atomic uint64_t direct_seq;
	_Atomic int wd_quit;
	bool wd_running;
	pthread_t wd;
	/* spread */
	int cpus[64];
	unsigned ncpus;
	int cur_cpu;
	cpu_set_t orig_cpus;
	bool pinned;
	/* the last run */
	struct rundown_prog prog;
	size_t nrows;
	struct rd_row rows[RUNDOWN_FUZZ_MAX_OPS + 8];
	long div_row;
	enum rundown_rule_id div_rule;
	char divmsg[512];
};

static void rd_diverge(struct rundown_exec *x, struct rd_row *r, enum rundown_rule_id rule,
		       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void *rd_watchdog_main(void *arg)
{
	struct rundown_exec *x = arg;
	uint64_t last = 0, since = 0;

	while (!atomic_load_explicit(&x->wd_quit, memory_order_relaxed)) {
		/* Acquire: pairs with the increment before the Wait call, so
		 * the rows written before it are visible here. */
		uint64_t s = atomic_load_explicit(&x->direct_seq, memory_order_acquire);
		uint64_t now = rd_now_ns();
		struct timespec ts = {0, 100000000}; /* a poll period, not synchronisation */

		if (!(s & 1u) || s != last) {
			last = s;
			since = now;
		} else if (now - since >= (uint64_t)x->o.return_timeout_ms * 1000000u) {
			struct rd_row *r = &x->rows[x->nrows - 1];

			r->got_wait = RD_OBS_HUNG;
			rd_diverge(x, r, r->e.wait_rule, "Wait did not return within %u ms",
				   x->o.return_timeout_ms);
			if (x->o.on_hang != NULL)
				x->o.on_hang(x, x->o.on_hang_arg);
			rundown_exec_print(x, stderr);
			fflush(NULL);
			abort();
		}
		nanosleep(&ts, NULL);
	}
	return NULL;
}

struct rundown_exec *rundown_exec_new(const struct rundown_backend *b,
				      const struct rundown_exec_opts *o)
{
	struct rundown_exec *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	if (b != NULL)
		x->b = *b;
	else
		x->model_only = true;
	if (o != NULL)
		x->o = *o;
	if (x->o.return_timeout_ms == 0)
		x->o.return_timeout_ms = 2000;
	if (x->o.block_settle_ms == 0)
		x->o.block_settle_ms = 10;
	x->cur_cpu = -1;
	if (sched_getaffinity(0, sizeof(x->orig_cpus), &x->orig_cpus) == 0)
		for (int c = 0; c < CPU_SETSIZE && x->ncpus < 64; c++)
			if (CPU_ISSET(c, &x->orig_cpus))
				x->cpus[x->ncpus++] = c;
	return x;
}

bool rundown_exec_poisoned(const struct rundown_exec *x)
{
	return x->poisoned;
}

void rundown_exec_free(struct rundown_exec *x)
{
	if (x == NULL)
		return;
	if (x->h != NULL && !x->poisoned)
		rd_helper_stop(x->h);
	if (x->wd_running) {
		atomic_store_explicit(&x->wd_quit, 1, memory_order_relaxed);
		pthread_join(x->wd, NULL);
	}
	if (x->pinned)
		sched_setaffinity(0, sizeof(x->orig_cpus), &x->orig_cpus);
	if (!x->poisoned)
		free(x->cabuf);
	free(x);
}

static bool rd_family_supported(const struct rundown_exec *x, enum rundown_family f)
{
	uint32_t miss;

	if (x->model_only)
		return true;
	miss = rundown_backend_missing(&x->b);
#define RD_FAM_MASK(ret, name, params, args, family) \
	| (RUNDOWN_FAM_##family == f ? RUNDOWN_BIT(name) : 0u)
	return (miss & (0u RUNDOWN_ROUTINES(RD_FAM_MASK))) == 0;
#undef RD_FAM_MASK
}

static void rd_diverge(struct rundown_exec *x, struct rd_row *r, enum rundown_rule_id rule,
		       const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->div_row >= 0)
		return;
	r->diverged = true;
	x->div_row = (long)(r - x->rows);
	x->div_rule = rule;
	n = snprintf(x->divmsg, sizeof(x->divmsg), "step %" PRIu32 " (thread %u, %s): ", r->step,
		     r->thread, rundown_op_name(x->fam, (enum rundown_op_kind)r->kind));
	if (n < 0 || (size_t)n >= sizeof(x->divmsg))
		return;
	va_start(ap, fmt);
	vsnprintf(x->divmsg + n, sizeof(x->divmsg) - (size_t)n, fmt, ap);
	va_end(ap);
}

static void rd_pin(struct rundown_exec *x, unsigned thread)
{
	int cpu;
	cpu_set_t set;

	/* Only the CA family has per-CPU state worth spreading over. */
	if (!x->prog.spread || !x->o.allow_spread || x->ncpus < 2 || x->model_only ||
	    x->fam != RUNDOWN_FAM_CA)
		return;
	cpu = x->cpus[thread % x->ncpus];
	if (cpu == x->cur_cpu)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) == 0) {
		x->cur_cpu = cpu;
		x->pinned = true;
	}
}

#define RD_POOL_TAG 0x5264667au /* 'zfdR' */

static void rd_create(struct rundown_exec *x, struct rd_row *r, bool *created)
{
	const struct rundown_backend *b = &x->b;

	*created = true;
	if (x->fam == RUNDOWN_FAM_PLAIN) {
		memset(&x->plain, 0xa5, sizeof(x->plain)); /* opaque: no assumption */
		if (!x->model_only)
			b->ExInitializeRundownProtection(&x->plain);
		x->obj = &x->plain;
		return;
	}
	free(x->cabuf); /* a run-down caller buffer, no longer referenced */
	x->cabuf = NULL;
	x->obj = NULL;
	if (!(r->arg & RUNDOWN_CREATE_INIT)) {
		static const POOL_TYPE pools[3] = {NonPagedPool, PagedPool, NonPagedPoolNx};

		x->obj = x->model_only ? (void *)&x->plain
				       : b->ExAllocateCacheAwareRundownProtection(pools[r->arg % 3u],
										  RD_POOL_TAG);
		*created = x->obj != NULL;
		r->got_ret = x->obj != NULL;
		return;
	}
	r->size = x->model_only ? 64 : b->ExSizeOfRundownProtectionCacheAware();
	/* Exactly off + size bytes, so ASan sees any write past the size. */
	x->cabuf = malloc((r->arg & 63u) + r->size + (r->size == 0));
	if (x->cabuf == NULL) {
		*created = false;
		return;
	}
	memset(x->cabuf, 0x5a, (r->arg & 63u) + r->size);
	x->obj = (char *)x->cabuf + (r->arg & 63u);
	if (!x->model_only)
		b->ExInitializeRundownProtectionCacheAware(x->obj, r->size);
}

static BOOLEAN rd_call_acquire(struct rundown_exec *x, ULONG n, bool ex)
{
	const struct rundown_backend *b = &x->b;

	if (x->fam == RUNDOWN_FAM_PLAIN)
		return ex ? b->ExAcquireRundownProtectionEx(x->obj, n)
			  : b->ExAcquireRundownProtection(x->obj);
	return ex ? b->ExAcquireRundownProtectionCacheAwareEx(x->obj, n)
		  : b->ExAcquireRundownProtectionCacheAware(x->obj);
}

static void rd_call_release(struct rundown_exec *x, ULONG n, bool ex)
{
	const struct rundown_backend *b = &x->b;

	if (x->fam == RUNDOWN_FAM_PLAIN) {
		if (ex)
			b->ExReleaseRundownProtectionEx(x->obj, n);
		else
			b->ExReleaseRundownProtection(x->obj);
	} else {
		if (ex)
			b->ExReleaseRundownProtectionCacheAwareEx(x->obj, n);
		else
			b->ExReleaseRundownProtectionCacheAware(x->obj);
	}
}

/* Run one op (skipped when the model says it is undefined here). */
static void rd_exec_op(struct rundown_exec *x, enum rundown_op_kind kind, unsigned thread,
		       uint32_t arg, bool teardown)
{
	const struct rundown_backend *b = &x->b;
	uint64_t n = 1;
	bool created = true;
	struct rd_row *r;
	BOOLEAN got = 0;
	bool immediate;

	switch (kind) {
	case RUNDOWN_OP_ACQUIRE_EX:
		n = arg;
		break;
	case RUNDOWN_OP_RELEASE:
		if (x->m.count == 0)
			return;
		break;
	case RUNDOWN_OP_RELEASE_EX:
		if (x->m.count == 0)
			return;
		n = arg == RUNDOWN_ARG_ALL || arg > x->m.count ? x->m.count : arg;
		break;
	case RUNDOWN_OP_CREATE:
		/* The model's Count for Create: 1 = Allocate, 0 = Initialize. */
		n = x->fam == RUNDOWN_FAM_CA && !(arg & RUNDOWN_CREATE_INIT);
		break;
	default:
		break;
	}
	if (!rundown_model_legal(&x->m, kind, n))
		return;
	immediate = kind == RUNDOWN_OP_WAIT_START && (x->m.down || x->m.count == 0);
	r = &x->rows[x->nrows];
	*r = (struct rd_row){.step = (uint32_t)x->nrows, .thread = (uint8_t)thread,
			     .kind = (uint8_t)kind, .teardown = teardown, .arg = arg, .n = n,
			     .got_ret = -1};
	x->nrows++;
	if (x->o.progress != NULL)
		*x->o.progress = r->step;
	rd_pin(x, thread);
	/* The model first (but Create, which needs to know whether an object
	 * came back): the watchdog of a hanging Wait reports its rule. */
	if (kind != RUNDOWN_OP_CREATE)
		rundown_model_step(&x->m, kind, n, true, &r->e);

	switch (kind) {
	case RUNDOWN_OP_CREATE:
		rd_create(x, r, &created);
		break;
	case RUNDOWN_OP_ACQUIRE:
	case RUNDOWN_OP_ACQUIRE_EX:
		got = x->model_only ? r->e.ret == RUNDOWN_RET_TRUE
				    : rd_call_acquire(x, (ULONG)n, kind == RUNDOWN_OP_ACQUIRE_EX);
		r->got_ret = got;
		break;
	case RUNDOWN_OP_RELEASE:
	case RUNDOWN_OP_RELEASE_EX:
		if (!x->model_only)
			rd_call_release(x, (ULONG)n, kind == RUNDOWN_OP_RELEASE_EX);
		break;
	case RUNDOWN_OP_WAIT_START:
		x->wait_step = r->step;
		if (!x->model_only && immediate) {
			/* Must return at once: call it here, under the watchdog. */
			if (!x->wd_running) {
				if (pthread_create(&x->wd, NULL, rd_watchdog_main, x) != 0) {
					fprintf(stderr, "rundown-fuzz: cannot start the watchdog thread\n");
					abort();
				}
				x->wd_running = true;
			}
			/* Release: the rows so far are visible to the watchdog. */
			atomic_fetch_add_explicit(&x->direct_seq, 1, memory_order_release);
			if (x->fam == RUNDOWN_FAM_PLAIN)
				b->ExWaitForRundownProtectionRelease(x->obj);
			else
				b->ExWaitForRundownProtectionReleaseCacheAware(x->obj);
			atomic_fetch_add_explicit(&x->direct_seq, 1, memory_order_relaxed);
		} else if (!x->model_only) {
			if (x->h == NULL && (x->h = rd_helper_new()) == NULL) {
				fprintf(stderr, "rundown-fuzz: cannot start the Wait helper thread\n");
				abort();
			}
			rd_helper_post(x->h, b, x->fam, x->obj);
		}
		break;
	case RUNDOWN_OP_WAIT_POLL:
		break;
	case RUNDOWN_OP_COMPLETED:
		if (!x->model_only) {
			if (x->fam == RUNDOWN_FAM_PLAIN)
				b->ExRundownCompleted(x->obj);
			else
				b->ExRundownCompletedCacheAware(x->obj);
		}
		break;
	case RUNDOWN_OP_REINIT:
		if (!x->model_only) {
			if (x->fam == RUNDOWN_FAM_PLAIN)
				b->ExReInitializeRundownProtection(x->obj);
			else
				b->ExReInitializeRundownProtectionCacheAware(x->obj);
		}
		break;
	case RUNDOWN_OP_FREE:
		if (!x->model_only)
			b->ExFreeCacheAwareRundownProtection(x->obj);
		x->obj = NULL;
		break;
	case RUNDOWN_OP_NR:
		break;
	}

	if (kind == RUNDOWN_OP_CREATE)
		rundown_model_step(&x->m, kind, n, created, &r->e);
	r->count_after = x->m.count;

	/* The result. */
	if (r->e.ret == RUNDOWN_RET_TRUE && r->got_ret == 0)
		rd_diverge(x, r, r->e.ret_rule, "expected TRUE, got FALSE (%" PRIu64 " unit%s held before)",
			   x->m.count - n, x->m.count - n == 1 ? "" : "s");
	else if (r->e.ret == RUNDOWN_RET_TRUE && r->got_ret != 1)
		rd_diverge(x, r, r->e.ret_rule, "expected TRUE (1), got %d", r->got_ret);
	else if (r->e.ret == RUNDOWN_RET_FALSE && r->got_ret != 0)
		rd_diverge(x, r, r->e.ret_rule, "expected FALSE, got %d (granted)", r->got_ret);

	/* The Wait. */
	if (x->model_only) {
		r->got_wait = r->e.wait == RUNDOWN_WAIT_BLOCKED    ? RD_OBS_BLOCKED
			      : r->e.wait == RUNDOWN_WAIT_RETURNED ? RD_OBS_RETURNED
								   : RD_OBS_NONE;
		return;
	}
	switch (r->e.wait) {
	case RUNDOWN_WAIT_NONE:
		break;
	case RUNDOWN_WAIT_RETURNED:
		if (immediate || rd_helper_wait_returned(x->h, x->o.return_timeout_ms)) {
			r->got_wait = RD_OBS_RETURNED;
			break;
		}
		r->got_wait = RD_OBS_HUNG;
		rd_diverge(x, r, r->e.wait_rule,
			   "the Wait started at step %" PRIu32 " did not return within %u ms",
			   x->wait_step, x->o.return_timeout_ms);
		break;
	case RUNDOWN_WAIT_BLOCKED: {
		enum rd_settle s;

		if (kind == RUNDOWN_OP_WAIT_START)
			s = rd_helper_settle(x->h, x->o.return_timeout_ms);
		else if (kind == RUNDOWN_OP_WAIT_POLL)
			s = rd_helper_settle(x->h, x->o.block_settle_ms);
		else
			s = rd_helper_returned(x->h) ? RD_SETTLE_RETURNED : RD_SETTLE_BLOCKED;
		r->got_wait = s == RD_SETTLE_RETURNED ? RD_OBS_RETURNED
			      : s == RD_SETTLE_BUSY   ? RD_OBS_BUSY
			      : s == RD_SETTLE_TIMEOUT && kind == RUNDOWN_OP_WAIT_START
				      ? RD_OBS_PRESUMED
				      : RD_OBS_BLOCKED;
		if (s == RD_SETTLE_RETURNED)
			rd_diverge(x, r, r->e.wait_rule,
				   "the Wait started at step %" PRIu32
				   " returned while %" PRIu64 " unit%s still held",
				   x->wait_step, x->m.count, x->m.count == 1 ? " is" : "s are");
		break;
	}
	}
}

/* After a divergence: get the helper out of the backend if we can. */
static void rd_cleanup_after_divergence(struct rundown_exec *x)
{
	uint32_t p;

	if (x->h == NULL || x->model_only)
		return;
	if (x->rows[x->div_row].got_wait == RD_OBS_HUNG) {
		x->poisoned = true; /* it already had its time to return */
		return;
	}
	p = atomic_load_explicit(&x->h->phase, memory_order_acquire);
	if (p != RD_PH_POSTED && p != RD_PH_IN_WAIT)
		return;
	if (x->m.count > 0 && x->m.count <= UINT32_MAX)
		rd_call_release(x, (ULONG)x->m.count, true);
	if (!rd_helper_wait_returned(x->h, x->o.return_timeout_ms))
		x->poisoned = true; /* the helper is stuck in the backend */
}

enum rundown_exec_status rundown_exec_run(struct rundown_exec *x, const uint8_t *data, size_t len)
{
	struct rundown_prog *p = &x->prog;

	x->nrows = 0;
	x->div_row = -1;
	x->div_rule = RUNDOWN_RULE_NONE;
	x->divmsg[0] = '\0';
	if (x->poisoned) {
		snprintf(x->divmsg, sizeof(x->divmsg),
			 "executor poisoned: an earlier Wait never returned");
		return RUNDOWN_EXEC_DIVERGED;
	}
	rundown_decode(data, len, p);
	x->fam = p->family;
	if (!rd_family_supported(x, x->fam))
		return RUNDOWN_EXEC_SKIPPED;
	rundown_model_init(&x->m, x->fam);

	rd_exec_op(x, RUNDOWN_OP_CREATE, 0,
		   p->ca_init ? RUNDOWN_CREATE_INIT | p->misalign : 0u, false);
	for (size_t i = 0; i < p->nops && x->div_row < 0; i++)
		rd_exec_op(x, (enum rundown_op_kind)p->ops[i].kind, p->ops[i].thread,
			   p->ops[i].arg, false);
	if (x->div_row < 0 && x->m.live) {
		/* Teardown: no Wait left blocked, no allocated object left. */
		if (x->m.count > 0 && (x->m.waiting || x->m.allocated))
			rd_exec_op(x, RUNDOWN_OP_RELEASE_EX, 0, RUNDOWN_ARG_ALL, true);
		if (x->m.allocated && x->div_row < 0) {
			if (!x->m.down)
				rd_exec_op(x, RUNDOWN_OP_WAIT_START, 0, 0, true);
			if (x->div_row < 0)
				rd_exec_op(x, RUNDOWN_OP_FREE, 0, 0, true);
		}
	}
	if (x->div_row >= 0) {
		rd_cleanup_after_divergence(x);
		if (!x->poisoned && !x->m.allocated) {
			free(x->cabuf);
			x->cabuf = NULL;
		} else {
			x->cabuf = NULL; /* leaked: the backend may still use it */
		}
		return RUNDOWN_EXEC_DIVERGED;
	}
	free(x->cabuf);
	x->cabuf = NULL;
	return RUNDOWN_EXEC_OK;
}

const char *rundown_exec_divergence(const struct rundown_exec *x)
{
	return x->divmsg;
}

unsigned rundown_exec_signature(const struct rundown_exec *x)
{
	if (x->div_row < 0)
		return 0;
	return (unsigned)x->rows[x->div_row].kind << 8 | (unsigned)x->div_rule;
}

/* ---- printing ---- */

static const char *rd_obs_name(uint8_t o)
{
	switch (o) {
	case RD_OBS_BLOCKED: return "Wait blocked";
	case RD_OBS_BUSY: return "Wait blocked (busy)";
	case RD_OBS_PRESUMED: return "Wait presumed blocked";
	case RD_OBS_RETURNED: return "Wait returned";
	case RD_OBS_HUNG: return "Wait did not return";
	default: return "";
	}
}

static void rd_fmt_args(const struct rundown_exec *x, const struct rd_row *r, char *buf, size_t n)
{
	switch (r->kind) {
	case RUNDOWN_OP_ACQUIRE_EX:
	case RUNDOWN_OP_RELEASE_EX:
		snprintf(buf, n, "%" PRIu64, r->n);
		break;
	case RUNDOWN_OP_CREATE:
		if (x->fam == RUNDOWN_FAM_PLAIN)
			snprintf(buf, n, "-");
		else if (r->arg & RUNDOWN_CREATE_INIT)
			snprintf(buf, n, "Size=%zu,+%u", r->size, r->arg & 63u);
		else
			snprintf(buf, n, "Allocate(%s)",
				 (const char *[]){"NonPaged", "Paged", "NonPagedNx"}[r->arg % 3u]);
		break;
	default:
		snprintf(buf, n, "-");
		break;
	}
}

static void rd_fmt_expect(const struct rd_row *r, char *buf, size_t n)
{
	static const char *const ret[] = {"", "FALSE", "TRUE", "object|NULL"};
	static const char *const wait[] = {"", "Wait blocked", "Wait returns"};
	const char *a = ret[r->e.ret], *w = wait[r->e.wait];

	snprintf(buf, n, "%s%s%s", a, *a && *w ? "; " : "", *a || *w ? w : "-");
}

static void rd_fmt_got(const struct rundown_exec *x, const struct rd_row *r, char *buf, size_t n)
{
	const char *a = "", *w = rd_obs_name(r->got_wait);

	if (r->got_ret >= 0) {
		if (r->kind == RUNDOWN_OP_CREATE)
			a = r->got_ret ? "object" : "NULL";
		else
			a = r->got_ret == 1 ? "TRUE" : r->got_ret == 0 ? "FALSE" : "BOOLEAN>1";
	}
	(void)x;
	snprintf(buf, n, "%s%s%s", a, *a && *w ? "; " : "", *a || *w ? w : "-");
}

void rundown_exec_print(const struct rundown_exec *x, FILE *out)
{
	char args[48], exp[48], got[48];

	fprintf(out, "%s, %u logical thread%s%s\n",
		x->fam == RUNDOWN_FAM_CA ? "cache-aware" : "plain", x->prog.nthreads,
		x->prog.nthreads == 1 ? "" : "s", x->prog.spread ? ", spread over CPUs" : "");
	fprintf(out, "%5s %3s %-15s %-20s %5s  %-26s %-26s %s\n", "step", "thr", "op", "args",
		"count", "expected", "got", "clause");
	for (size_t i = 0; i < x->nrows; i++) {
		const struct rd_row *r = &x->rows[i];

		rd_fmt_args(x, r, args, sizeof(args));
		rd_fmt_expect(r, exp, sizeof(exp));
		rd_fmt_got(x, r, got, sizeof(got));
		fprintf(out, "%5" PRIu32 " %3u %-15s %-20s %5" PRIu64 "  %-26s %-26s %s%s\n", r->step,
			r->thread, rundown_op_name(x->fam, (enum rundown_op_kind)r->kind), args,
			r->count_after, exp, got,
			r->diverged ? rundown_rule_clause(x->div_rule, x->fam) : "",
			r->teardown ? (r->diverged ? " (teardown)" : "(teardown)") : "");
	}
	if (x->div_row >= 0) {
		const struct rundown_rule *rule = rundown_rule(x->div_rule);

		fprintf(out, "first divergence: %s\n  clause %s: %s\n", x->divmsg,
			rundown_rule_clause(x->div_rule, x->fam), rule->text);
	}
}

void rundown_prog_print_model(const uint8_t *data, size_t len, uint32_t crash_step,
			      const char *why, FILE *out)
{
	struct rundown_exec *x = rundown_exec_new(NULL, NULL);

	if (x == NULL)
		return;
	rundown_exec_run(x, data, len);
	if (crash_step < x->nrows) {
		struct rd_row *r = &x->rows[crash_step];

		r->got_wait = RD_OBS_NONE;
		r->got_ret = -1;
		x->nrows = crash_step + 1;
		rd_diverge(x, r, RUNDOWN_RULE_CRASH, "%s", why);
	}
	rundown_exec_print(x, out);
	if (crash_step >= x->nrows)
		fprintf(out, "first divergence: %s (after the last step)\n  %s\n", why,
			rundown_rule(RUNDOWN_RULE_CRASH)->text);
	rundown_exec_free(x);
}
