/*
 * fuzz/ops.c - decoding of fuzz inputs and the deterministic executor.
 *
 * The ops run one after another, so a run is deterministic.  A Wait the
 * model says returns at once (nothing held, or already run down) is called
 * on the calling thread under a watchdog thread.  A Wait that must block
 * is called on the calling thread too, and the baton passes to a
 * persistent partner thread (created once per executor) for as long as
 * the Wait blocks:
 *
 *	the partner first waits until the caller is inside Wait and either
 *	sleeps (rd_caller_state: its /proc wchan names a futex function,
 *	else its stat says S) or has burnt 0.5 ms of CPU in
 *	it (a busy-waiting backend), and checks that it has not returned;
 *	then it runs the ops that follow (Acquires must fail; at WaitPoll it
 *	lets a woken Wait settle the same way, bounded by block_settle_ms,
 *	unless nothing was called since the Wait was seen asleep or busy; after any
 *	other step it only looks, one load), until the Release
 *	that gives back the last unit.  That step is recorded, the watchdog
 *	armed (the Wait must return within return_timeout_ms) and the baton
 *	given back before Release is called: the caller goes on as soon as
 *	its Wait returns, as the owner of a ref may.
 *
 * So a blocking Wait costs two thread switches (into the partner when the
 * Wait sleeps, back when the last Release wakes it) and one /proc read.
 * A Wait that does not return is reported by the watchdog, which records
 * the divergence and calls on_hang (the process cannot go on: its calling
 * thread is stuck in the backend).
 *
 * Handshakes are futex words with a Dekker pair each (sleeping flag
 * stored, then the other side's word loaded, both seq_cst), so neither
 * side makes a syscall while the other is spinning.
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
#include <sys/utsname.h>
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
/* threads, futexes, the state of the caller's Wait                    */
/* ------------------------------------------------------------------ */

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

/* Spin with sched_yield before sleeping: the other thread may share this CPU. */
#define RD_SPIN 64

/* Guard bytes around the caller's object, and their value. */
#define RD_GUARD_BYTES 64
#define RD_GUARD 0x5a

/* Spread: migrations per input at most (each costs tens of microseconds). */
#define RD_MAX_MIGRATIONS 8
#define RD_MAX_BLOCKING_WAITS 2

/* This thread: where spread pinned it (-1: not pinned). */
static _Thread_local int rd_tl_cpu = -1;
static _Thread_local bool rd_tl_partner; /* this is a partner thread */
/* The partner gave the baton back early (rd_release_last): it must not
 * touch the executor any more in this turn. */
static _Thread_local bool rd_tl_handed_back;

/* Sleep until *w != old, or (ms != 0) ms pass.  *sleeping is the Dekker
 * flag the waker reads after changing *w (both seq_cst). */
static void rd_sleep_while(_Atomic uint32_t *w, uint32_t old, _Atomic uint32_t *sleeping,
			   unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};

	atomic_store(sleeping, 1);
	if (atomic_load(w) == old)
		rd_futex(w, FUTEX_WAIT, old, ms ? &ts : NULL);
	atomic_store(sleeping, 0);
}

/* Change *w (seq_cst RMW: a release of what was written before), then wake
 * a sleeper (Dekker with rd_sleep_while). */
static void rd_bump_wake(_Atomic uint32_t *w, _Atomic uint32_t *sleeping)
{
	atomic_fetch_add(w, 1);
	if (atomic_load(sleeping))
		rd_futex(w, FUTEX_WAKE, INT32_MAX, NULL);
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

/* The Wait that the calling thread is in (x->wphase). */
enum rd_wphase { RD_W_NONE, RD_W_IN, RD_W_RETURNED };

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
	bool fam_ok[2]; /* the backend has every routine of the family (x->b is fixed) */
	struct rundown_model m;
	enum rundown_family fam;
	/* The plain object, between guard bytes (RD_GUARD) that no routine
	 * may write (PLAIN-INIT-003). */
	_Alignas(64) struct {
		unsigned char before[RD_GUARD_BYTES];
		EX_RUNDOWN_REF ref;
		unsigned char after[RD_GUARD_BYTES];
	} plain;
	void *obj;     /* the object passed to the routines */
	/* Caller buffer of a CA object made by Initialize: cabuf_off guard
	 * bytes, the cabuf_size bytes of the object, RD_GUARD_BYTES guard
	 * bytes (CA-SIZE-002). */
	unsigned char *cabuf;
	size_t cabuf_off, cabuf_size;
	uint32_t wait_step; /* step of the pending WaitStart */
	long wait_row;      /* its row */

	/* Where the program is: next op, teardown stage; stop: leave the op
	 * loop (a blocking Wait to enter, or the partner's turn is over). */
	size_t pc;
	unsigned tstage;
	bool stop;
	bool enter_wait;   /* caller: the op loop stopped at a blocking WaitStart */
	long due_row;      /* partner: the row at which the Wait must return */
	uint64_t extra;    /* units the backend granted when the model said FALSE */
	bool settled_seen;  /* partner: the Wait was seen settled (asleep or busy), no call since */

	/* The partner: a persistent thread that runs the ops while the
	 * calling thread is in a Wait that must block.  The baton: seq
	 * (bumped by the caller, the partner sleeps on it) and back (set to
	 * seq by the partner when its turn is over, the caller sleeps on it);
	 * everything the op loop touches is handed over with it. */
	bool partner_up;
	pthread_t partner;
	int partner_cpu; /* the CPU the partner is kept on (-1: none) */
	_Atomic uint32_t seq, back;
	_Atomic uint32_t partner_sleeping, caller_sleeping;
	_Atomic int partner_quit;
	/* The caller's Wait (enum rd_wphase): IN before the call, RETURNED
	 * after it (seq_cst stores; the partner loads it with acquire). */
	_Atomic uint32_t wphase;
	int caller_tid, statfd, wchanfd; /* /proc of the caller, for the partner */
	clockid_t caller_clock;          /* its CPU-time clock; caller_clock_ok if valid */
	bool caller_clock_ok;

	/* Watchdog of a Wait that must return (odd: one is outstanding):
	 * armed by the caller around a Wait that must return at once, or by
	 * the partner when it gives back the baton at the step that must
	 * release a blocked Wait; disarmed by the caller. */
	_Atomic uint64_t wd_seq;
	_Atomic long wd_row;
	_Atomic int wd_quit;
	bool wd_running;
	pthread_t wd;

	/* spread */
	int cpus[64];
	unsigned ncpus;
	cpu_set_t orig_cpus;
	/* Where rd_unpin puts a thread back: the home CPU (pin_home), else
	 * orig_cpus.  Never written after rundown_exec_new. */
	cpu_set_t home_cpus;
	bool homed; /* the calling thread was pinned to its home CPU */
	unsigned nmig; /* migrations in this input */
	unsigned nblock; /* blocking Waits in this input */
	uint64_t busy_until[64]; /* spread skips cpus[i] until then (ns) */

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
static void rd_run_ops(struct rundown_exec *x);
static void rd_unpin(const cpu_set_t *orig);

static void *rd_watchdog_main(void *arg)
{
	struct rundown_exec *x = arg;
	uint64_t last = 0, since = 0;

	while (!atomic_load_explicit(&x->wd_quit, memory_order_relaxed)) {
		/* Acquire: pairs with the arming RMW (release), so the rows
		 * written before it are visible here. */
		uint64_t s = atomic_load_explicit(&x->wd_seq, memory_order_acquire);
		uint64_t now = rd_now_ns();
		struct timespec ts = {0, 100000000}; /* a poll period, not synchronisation */

		if (!(s & 1u) || s != last) {
			last = s;
			since = now;
		} else if (now - since >= (uint64_t)x->o.return_timeout_ms * 1000000u) {
			struct rd_row *r = &x->rows[atomic_load_explicit(&x->wd_row,
									 memory_order_relaxed)];

			if (x->div_row < 0) {
				r->got_wait = RD_OBS_HUNG;
				rd_diverge(x, r, r->e.wait_rule,
					   "the Wait started at step %" PRIu32
					   " did not return within %u ms",
					   x->wait_step, x->o.return_timeout_ms);
			}
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

/* Arm the watchdog for the Wait of row `row' (seq_cst RMW: a release). */
static void rd_wd_arm(struct rundown_exec *x, long row)
{
	if (!x->wd_running) {
		if (pthread_create(&x->wd, NULL, rd_watchdog_main, x) != 0) {
			fprintf(stderr, "rundown-fuzz: cannot start the watchdog thread\n");
			abort();
		}
		x->wd_running = true;
	}
	atomic_store_explicit(&x->wd_row, row, memory_order_relaxed);
	atomic_fetch_add(&x->wd_seq, 1);
}

static void rd_wd_disarm(struct rundown_exec *x)
{
	if (atomic_load_explicit(&x->wd_seq, memory_order_relaxed) & 1u)
		atomic_fetch_add_explicit(&x->wd_seq, 1, memory_order_relaxed);
}

/* ---- the partner's view of the caller's Wait ---- */

static bool rd_wait_returned(struct rundown_exec *x)
{
	/* Acquire: pairs with the caller's store after its Wait returned. */
	return atomic_load_explicit(&x->wphase, memory_order_acquire) == RD_W_RETURNED;
}

/*
 * State letter of the caller thread (R, S, D, ...), or 0 if unknown.
 *
 * First from .../wchan (1.6 us here against 2.7 for stat; a blocking Wait
 * costs one or two of these reads): since Linux 5.16 it names a function
 * only while the thread is blocked and off the run queue (not running,
 * not waking, not queued, all read under the thread's pi_lock), and a
 * thread blocked in a futex wait sleeps interruptibly, so a name with
 * "futex" in it is what stat reports as S.  Anything else (0 while the
 * thread runs, waits for a CPU, has been woken, or sleeps but is still
 * queued for a delayed dequeue; a sleep elsewhere, which stat may report
 * as D; no symbol names) is asked of stat.  Older kernels named the
 * function of a thread being woken too: there stat alone (rd_caller_files).
 *
 * Not from .../syscall (1.7 us): it reports a thread that a wake-up from
 * another CPU has not yet put on a run queue (TASK_WAKING) as blocked in
 * its futex, where stat says R, so a Wait woken early by a Release would
 * be taken for asleep (mutant early-wakeup).
 */
static char rd_caller_state(const struct rundown_exec *x)
{
	char buf[512];
	ssize_t n;
	char *p;

	if (x->wchanfd >= 0 && (n = pread(x->wchanfd, buf, 64, 0)) > 0) {
		buf[n] = '\0';
		if (strstr(buf, "futex") != NULL)
			return 'S';
	}
	if (x->statfd < 0 || (n = pread(x->statfd, buf, sizeof(buf) - 1, 0)) <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p[2] : 0;
}

/*
 * CPU time the caller has run, in ns (0 if unknown).  From its CPU-time
 * clock, which the kernel brings up to date when read (the running
 * thread's runtime is accounted first).  Not from .../schedstat: that one
 * is accounted at ticks and context switches only, so two reads a few
 * microseconds apart can differ by a whole tick (4 ms measured here) of a
 * thread that runs on another CPU; rd_settle would take a caller that is
 * still on its way into Wait for one busy-waiting in it.
 */
static uint64_t rd_caller_cpu_ns(const struct rundown_exec *x)
{
	struct timespec ts;

	if (!x->caller_clock_ok || clock_gettime(x->caller_clock, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * CPU time a caller must burn in Wait, seen from the partner, to be taken
 * for busy-waiting in it.  It has a handful of instructions to run between
 * storing RD_W_IN and entering the backend's Wait, whose prologue before
 * run-down takes effect is some hundred instructions in any design seen:
 * microseconds even under a sanitizer.  500 us is a hundredfold margin
 * over that, and the cost of each settle of a busy-waiting Wait (it was
 * 2 ms: 104 execs/s against a backend whose Wait spins, 20 s, seed 3).
 */
#define RD_BUSY_NS 500000u

enum rd_settle { RD_SETTLE_BLOCKED, RD_SETTLE_RETURNED, RD_SETTLE_BUSY, RD_SETTLE_TIMEOUT };

/*
 * Let the caller's Wait reach a resting point: returned, asleep inside
 * Wait (its /proc stat says S: between the store of RD_W_IN and the call
 * the caller never sleeps), or busy-waiting inside it (RD_BUSY_NS of CPU
 * there).  Bounded by ms.
 */
static enum rd_settle rd_settle(struct rundown_exec *x, unsigned ms)
{
	uint64_t deadline = rd_now_ns() + (uint64_t)ms * 1000000u;
	uint64_t cpu0 = 0;
	bool have_cpu0 = false;

	for (unsigned i = 0;; i++) {
		char st;

		if (rd_wait_returned(x))
			return RD_SETTLE_RETURNED;
		st = rd_caller_state(x);
		if (st == 'S') /* asleep in Wait, or back after returning */
			return rd_wait_returned(x) ? RD_SETTLE_RETURNED : RD_SETTLE_BLOCKED;
		if (!have_cpu0) {
			cpu0 = rd_caller_cpu_ns(x);
			have_cpu0 = true;
		} else if (cpu0 != 0 && rd_caller_cpu_ns(x) - cpu0 >= RD_BUSY_NS) {
			return rd_wait_returned(x) ? RD_SETTLE_RETURNED : RD_SETTLE_BUSY;
		}
		if ((i & 15u) == 15u && rd_now_ns() >= deadline)
			return rd_wait_returned(x) ? RD_SETTLE_RETURNED : RD_SETTLE_TIMEOUT;
		sched_yield();
	}
}

/* ---- the partner thread ---- */

static void rd_partner_turn(struct rundown_exec *x);

static void *rd_partner_main(void *arg)
{
	struct rundown_exec *x = arg;
	uint32_t last = 0;

	rd_tl_partner = true;
	for (;;) {
		/* Acquire: the baton (everything the caller wrote before). */
		uint32_t s = atomic_load_explicit(&x->seq, memory_order_acquire);

		/* Spin only if the caller may run on another CPU: on a shared
		 * one (homed) each yield hands the CPU to the caller and gets
		 * it back at the next tick, a switch pair per yield, for a
		 * baton that comes one input or more later. */
		for (int i = 0; s == last && !x->homed && i < RD_SPIN; i++) {
			sched_yield();
			s = atomic_load_explicit(&x->seq, memory_order_acquire);
		}
		while (s == last) {
			rd_sleep_while(&x->seq, last, &x->partner_sleeping, 0);
			s = atomic_load_explicit(&x->seq, memory_order_acquire);
		}
		last = s;
		if (atomic_load_explicit(&x->partner_quit, memory_order_relaxed))
			return NULL;
		rd_partner_turn(x);
		/* Give the baton back (seq_cst RMW: a release), unless the
		 * last Release already did. */
		if (rd_tl_handed_back)
			rd_tl_handed_back = false;
		else
			rd_bump_wake(&x->back, &x->caller_sleeping);
	}
}

static void rd_partner_stop(struct rundown_exec *x)
{
	if (!x->partner_up)
		return;
	atomic_store_explicit(&x->partner_quit, 1, memory_order_relaxed);
	atomic_fetch_add(&x->seq, 1);
	rd_futex(&x->seq, FUTEX_WAKE, 1, NULL);
	pthread_join(x->partner, NULL);
	x->partner_up = false;
}

/* This thread's id, asked once per thread and again in a forked child
 * (the thread that forks is a new thread there). */
static _Thread_local int rd_tl_tid;
static pthread_once_t rd_tid_once = PTHREAD_ONCE_INIT;

static void rd_tid_forget(void)
{
	rd_tl_tid = 0;
}

static void rd_tid_atfork(void)
{
	pthread_atfork(NULL, NULL, rd_tid_forget);
}

static int rd_gettid(void)
{
	if (rd_tl_tid == 0) {
		pthread_once(&rd_tid_once, rd_tid_atfork);
		rd_tl_tid = (int)syscall(SYS_gettid);
	}
	return rd_tl_tid;
}

/* Linux 5.16 or later: .../wchan names a function only for a thread that
 * is blocked, not being woken (rd_caller_state). */
static bool rd_wchan_exact(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;

	return uname(&u) == 0 && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
	       (major > 5 || (major == 5 && minor >= 16));
}

static void rd_caller_files_close(struct rundown_exec *x)
{
	if (x->statfd >= 0)
		close(x->statfd);
	if (x->wchanfd >= 0)
		close(x->wchanfd);
	x->statfd = x->wchanfd = -1;
	x->caller_clock_ok = false;
}

/* The caller's /proc files (the executor may be run from another thread). */
static void rd_caller_files(struct rundown_exec *x)
{
	char path[64];
	int tid = rd_gettid();

	if (tid == x->caller_tid)
		return;
	rd_caller_files_close(x);
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	x->statfd = open(path, O_RDONLY | O_CLOEXEC);
	x->caller_clock_ok = pthread_getcpuclockid(pthread_self(), &x->caller_clock) == 0;
	if (rd_wchan_exact()) {
		snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", tid);
		x->wchanfd = open(path, O_RDONLY | O_CLOEXEC);
	}
	x->caller_tid = tid;
}

/*
 * The op loop stopped at a WaitStart that must block: pass the baton to
 * the partner, call Wait here, and when it has returned wait for the baton
 * to come back.  The partner checks that this Wait blocks, runs the ops
 * that follow, and gives the baton back at the step that must release the
 * Wait (arming the watchdog: it must return within return_timeout_ms), or
 * at a divergence (after releasing what is outstanding).
 */
static void rd_enter_wait(struct rundown_exec *x)
{
	const struct rundown_backend *b = &x->b;
	enum rundown_family fam = x->fam;
	void *obj = x->obj;
	uint32_t s;

	if (!x->partner_up) {
		if (pthread_create(&x->partner, NULL, rd_partner_main, x) != 0) {
			fprintf(stderr, "rundown-fuzz: cannot start the partner thread\n");
			abort();
		}
		x->partner_up = true;
		x->partner_cpu = -1;
	}
	/* Keep the partner on this thread's CPU: the baton then passes
	 * without waking another CPU (and one core is all it takes). */
	if (x->ncpus > 1) {
		int cpu = sched_getcpu();

		if (cpu >= 0 && cpu != x->partner_cpu) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			x->partner_cpu =
				pthread_setaffinity_np(x->partner, sizeof(set), &set) == 0 ? cpu : -1;
		}
	}
	rd_caller_files(x);
	x->due_row = -1;
	x->stop = false;
	atomic_store(&x->wphase, RD_W_IN);
	/* Pass the baton (seq_cst RMW: a release of the rows and the model). */
	rd_bump_wake(&x->seq, &x->partner_sleeping);
	if (fam == RUNDOWN_FAM_PLAIN)
		b->ExWaitForRundownProtectionRelease(obj);
	else
		b->ExWaitForRundownProtectionReleaseCacheAware(obj);
	atomic_store(&x->wphase, RD_W_RETURNED);
	s = atomic_load_explicit(&x->seq, memory_order_relaxed);
	/* Acquire: pairs with the partner's bump of back. */
	for (int i = 0; atomic_load_explicit(&x->back, memory_order_acquire) != s && i < RD_SPIN; i++)
		sched_yield();
	while (atomic_load_explicit(&x->back, memory_order_acquire) != s)
		rd_sleep_while(&x->back, s - 1u, &x->caller_sleeping, 0);
	rd_wd_disarm(x);
	atomic_store_explicit(&x->wphase, RD_W_NONE, memory_order_relaxed);
	if (x->due_row >= 0 && x->rows[x->due_row].got_wait == RD_OBS_NONE)
		x->rows[x->due_row].got_wait = RD_OBS_RETURNED;
	x->stop = false;
}

/* The partner's turn: the Wait of x->wait_row must block; run the ops. */
static void rd_partner_turn(struct rundown_exec *x)
{
	struct rd_row *r = &x->rows[x->wait_row];
	enum rd_settle s = rd_settle(x, x->o.return_timeout_ms);

	r->got_wait = s == RD_SETTLE_RETURNED ? RD_OBS_RETURNED
		      : s == RD_SETTLE_BUSY   ? RD_OBS_BUSY
		      : s == RD_SETTLE_TIMEOUT ? RD_OBS_PRESUMED
					       : RD_OBS_BLOCKED;
	x->settled_seen = s == RD_SETTLE_BLOCKED || s == RD_SETTLE_BUSY;
	if (s == RD_SETTLE_RETURNED)
		rd_diverge(x, r, r->e.wait_rule,
			   "the Wait started at step %" PRIu32 " returned while %" PRIu64
			   " unit%s still held",
			   x->wait_step, x->m.count, x->m.count == 1 ? " is" : "s are");
	else
		rd_run_ops(x);
	if (rd_tl_handed_back)
		return; /* the usual end: rd_release_last */
	rd_unpin(&x->home_cpus);
	if (!rd_wait_returned(x)) {
		/* A divergence: get the caller out of its Wait, release what is
		 * outstanding.  If it still does not return, the watchdog
		 * reports it (after the divergence, which stays the first). */
		uint64_t held = x->m.count + x->extra;

		if (held > 0 && held <= UINT32_MAX) {
			const struct rundown_backend *b = &x->b;

			if (x->fam == RUNDOWN_FAM_PLAIN)
				b->ExReleaseRundownProtectionEx(x->obj, (ULONG)held);
			else
				b->ExReleaseRundownProtectionCacheAwareEx(x->obj, (ULONG)held);
		}
		rd_wd_arm(x, x->div_row);
	}
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

/*
 * pin_home: keep the calling thread on the CPU it runs on now, and the
 * partner with it (rd_enter_wait), for the executor's life.  Left free,
 * the scheduler moves the caller to the idle CPU whenever the partner
 * wakes it, and the next blocking Wait migrates the partner after it: a
 * campaign on two CPUs ran at a third of its speed on one.  Spread still
 * moves an op to another CPU, and rd_unpin brings it back home.
 */
static void rd_home(struct rundown_exec *x)
{
	int cpu;
	cpu_set_t set;

	if (!x->o.pin_home || x->ncpus < 2)
		return;
	cpu = x->o.home_cpu > 0 ? x->o.home_cpu - 1 : sched_getcpu();
	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &x->orig_cpus))
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		return;
	x->home_cpus = set;
	x->homed = true;
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
	x->statfd = x->wchanfd = -1;
	x->caller_clock_ok = false;
	x->fam_ok[RUNDOWN_FAM_PLAIN] = rd_family_supported(x, RUNDOWN_FAM_PLAIN);
	x->fam_ok[RUNDOWN_FAM_CA] = rd_family_supported(x, RUNDOWN_FAM_CA);
	if (sched_getaffinity(0, sizeof(x->orig_cpus), &x->orig_cpus) == 0)
		for (int c = 0; c < CPU_SETSIZE && x->ncpus < 64; c++)
			if (CPU_ISSET(c, &x->orig_cpus))
				x->cpus[x->ncpus++] = c;
	x->home_cpus = x->orig_cpus;
	rd_home(x);
	return x;
}

void rundown_exec_free(struct rundown_exec *x)
{
	if (x == NULL)
		return;
	rd_partner_stop(x);
	if (x->homed) /* the caller's CPUs back (rundown_exec_free runs on it) */
		sched_setaffinity(0, sizeof(x->orig_cpus), &x->orig_cpus);
	if (x->wd_running) {
		atomic_store_explicit(&x->wd_quit, 1, memory_order_relaxed);
		pthread_join(x->wd, NULL);
	}
	rd_caller_files_close(x);
	free(x->cabuf);
	free(x);
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

/*
 * Spread: run an Acquire or Release of logical thread t on CPU t mod ncpu
 * (the ops that pick a per-CPU slot; the others touch every slot or none).
 * At most RD_MAX_MIGRATIONS migrations per input; then ops run where the
 * thread is.  A migration that takes over 2 ms means the CPU is busy (a
 * real-time task may hold it for long): spread leaves that CPU alone for
 * a second.  rd_unpin gives the thread its home CPU (or its original CPUs)
 * back.
 */
static void rd_pin(struct rundown_exec *x, enum rundown_op_kind kind, unsigned thread)
{
	unsigned i;
	int cpu;
	cpu_set_t set;
	uint64_t t0, t1;

	if (!x->prog.spread || !x->o.allow_spread || x->ncpus < 2 || x->model_only ||
	    x->fam != RUNDOWN_FAM_CA || kind > RUNDOWN_OP_RELEASE_EX)
		return;
	i = thread % x->ncpus;
	cpu = x->cpus[i];
	if (cpu == rd_tl_cpu || x->nmig >= RD_MAX_MIGRATIONS)
		return;
	t0 = rd_now_ns();
	if (t0 < x->busy_until[i])
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	x->nmig++;
	if (rd_tl_partner)
		x->partner_cpu = -1; /* rd_unpin gives it all CPUs back */
	if (sched_setaffinity(0, sizeof(set), &set) == 0)
		rd_tl_cpu = cpu;
	t1 = rd_now_ns();
	if (t1 - t0 > 2000000u)
		x->busy_until[i] = t1 + 1000000000u;
}

static void rd_unpin(const cpu_set_t *orig)
{
	if (rd_tl_cpu < 0)
		return;
	sched_setaffinity(0, sizeof(*orig), orig);
	rd_tl_cpu = -1;
}

#define RD_POOL_TAG 0x5264667au /* 'zfdR' */

static void rd_create(struct rundown_exec *x, struct rd_row *r, bool *created)
{
	const struct rundown_backend *b = &x->b;

	*created = true;
	if (x->fam == RUNDOWN_FAM_PLAIN) {
		memset(&x->plain, RD_GUARD, sizeof(x->plain));
		memset(&x->plain.ref, 0xa5, sizeof(x->plain.ref)); /* opaque: no assumption */
		if (!x->model_only)
			b->ExInitializeRundownProtection(&x->plain.ref);
		x->obj = &x->plain.ref;
		return;
	}
	free(x->cabuf); /* a run-down caller buffer, no longer referenced */
	x->cabuf = NULL;
	x->obj = NULL;
	if (!(r->arg & RUNDOWN_CREATE_INIT)) {
		static const POOL_TYPE pools[3] = {NonPagedPool, PagedPool, NonPagedPoolNx};

		x->obj = x->model_only ? (void *)&x->plain.ref
				       : b->ExAllocateCacheAwareRundownProtection(pools[r->arg % 3u],
										  RD_POOL_TAG);
		*created = x->obj != NULL;
		r->got_ret = x->obj != NULL;
		return;
	}
	r->size = x->model_only ? 64 : b->ExSizeOfRundownProtectionCacheAware();
	/* off guard bytes, the object, RD_GUARD_BYTES guard bytes, each
	 * checked after every op (rd_check_bounds); under ASan a write
	 * further out hits the block's redzone.  The block starts a 64-byte
	 * line, so the object's alignment is the input's (off), the same in
	 * every process: a backend that writes out of bounds only at some
	 * alignments replays. */
	x->cabuf_off = r->arg & 63u;
	x->cabuf_size = r->size;
	if (posix_memalign((void **)&x->cabuf, 64, x->cabuf_off + r->size + RD_GUARD_BYTES) != 0) {
		x->cabuf = NULL;
		*created = false;
		return;
	}
	memset(x->cabuf, RD_GUARD, x->cabuf_off + r->size + RD_GUARD_BYTES);
	x->obj = x->cabuf + x->cabuf_off;
	if (!x->model_only)
		b->ExInitializeRundownProtectionCacheAware(x->obj, r->size);
}

/* The first of the n bytes at p that is not RD_GUARD, or NULL.  This runs
 * after every op: the usual case is one branch-free pass (vectorised). */
static const unsigned char *rd_guard_hit(const unsigned char *p, size_t n)
{
	unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(p[i] ^ RD_GUARD);
	if (diff == 0)
		return NULL;
	while (*p == RD_GUARD)
		p++;
	return p;
}

/*
 * After a call: no guard byte around the caller's object changed
 * (PLAIN-INIT-003, CA-SIZE-002).  An Allocate-d object is the backend's
 * own memory: nothing to check.  Reports the first changed byte.
 */
static void rd_check_bounds(struct rundown_exec *x, struct rd_row *r)
{
	const unsigned char *lo, *hi, *hit;
	size_t nlo, nhi;

	if (x->model_only || x->div_row >= 0 || x->obj == NULL)
		return;
	if (x->fam == RUNDOWN_FAM_PLAIN) {
		lo = x->plain.before;
		nlo = sizeof(x->plain.before);
		hi = x->plain.after;
		nhi = sizeof(x->plain.after);
	} else if (x->cabuf != NULL) {
		lo = x->cabuf;
		nlo = x->cabuf_off;
		hi = x->cabuf + x->cabuf_off + x->cabuf_size;
		nhi = RD_GUARD_BYTES;
	} else {
		return;
	}
	if ((hit = rd_guard_hit(lo, nlo)) != NULL)
		rd_diverge(x, r, RUNDOWN_RULE_IN_BOUNDS,
			   "the byte %td before the object was written (0x%02x, was 0x%02x)",
			   (const unsigned char *)x->obj - hit, *hit, RD_GUARD);
	else if ((hit = rd_guard_hit(hi, nhi)) != NULL)
		rd_diverge(x, r, RUNDOWN_RULE_IN_BOUNDS,
			   "the byte %td past the end of the object's %zu bytes was written (0x%02x, was 0x%02x)",
			   hit - hi, x->fam == RUNDOWN_FAM_PLAIN ? sizeof(EX_RUNDOWN_REF) : x->cabuf_size,
			   *hit, RD_GUARD);
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

/*
 * The partner's Release (or ReleaseEx) that gives back the last unit while
 * the caller is in Wait: the end of the partner's turn.  Everything the
 * step records is written first, then the watchdog is armed and the baton
 * given back, and only then is Release called, with nothing of the
 * executor touched after it: the caller goes on as soon as its Wait
 * returns, while this thread may still be inside Release, as the owner of
 * a ref may (the documents make the last Release's unblocking of Wait the
 * end of its access to the ref).  The caller marks the row returned; the
 * watchdog reports a Wait that does not return in return_timeout_ms.
 */
static void rd_release_last(struct rundown_exec *x, struct rd_row *r, ULONG n, bool ex)
{
	const struct rundown_backend *b = &x->b;
	void (*rel)(PEX_RUNDOWN_REF) = b->ExReleaseRundownProtection;
	void (*rel_ex)(PEX_RUNDOWN_REF, ULONG) = b->ExReleaseRundownProtectionEx;
	void (*rel_ca)(PEX_RUNDOWN_REF_CACHE_AWARE) = b->ExReleaseRundownProtectionCacheAware;
	void (*rel_ca_ex)(PEX_RUNDOWN_REF_CACHE_AWARE, ULONG) =
		b->ExReleaseRundownProtectionCacheAwareEx;
	bool plain = x->fam == RUNDOWN_FAM_PLAIN;
	void *obj = x->obj;
	const cpu_set_t *home = &x->home_cpus; /* never written after rundown_exec_new */

	r->count_after = x->m.count;
	x->due_row = (long)(r - x->rows);
	x->stop = true;
	rd_wd_arm(x, x->due_row);
	rd_tl_handed_back = true;
	/* The baton back (seq_cst RMW: a release of the rows and the model). */
	rd_bump_wake(&x->back, &x->caller_sleeping);
	if (plain && ex)
		rel_ex(obj, n);
	else if (plain)
		rel(obj);
	else if (ex)
		rel_ca_ex(obj, n);
	else
		rel_ca(obj);
	rd_unpin(home);
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
	/*
	 * A blocking Wait costs thread switches and a check that the caller
	 * sleeps (tens of microseconds against about one for any other op):
	 * at most RD_MAX_BLOCKING_WAITS per input, later ones are skipped
	 * like an op the model forbids.  The teardown's Wait never blocks.
	 */
	if (kind == RUNDOWN_OP_WAIT_START && !immediate) {
		if (x->nblock >= RD_MAX_BLOCKING_WAITS)
			return;
		x->nblock++;
	}
	r = &x->rows[x->nrows];
	*r = (struct rd_row){.step = (uint32_t)x->nrows, .thread = (uint8_t)thread,
			     .kind = (uint8_t)kind, .teardown = teardown, .arg = arg, .n = n,
			     .got_ret = -1};
	x->nrows++;
	if (kind != RUNDOWN_OP_WAIT_POLL)
		x->settled_seen = false; /* a call to the backend */
	if (x->o.progress != NULL)
		*x->o.progress = r->step;
	rd_pin(x, kind, thread);
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
		if (!x->model_only && r->e.wait == RUNDOWN_WAIT_RETURNED) {
			rd_release_last(x, r, (ULONG)n, kind == RUNDOWN_OP_RELEASE_EX);
			return;
		}
		if (!x->model_only)
			rd_call_release(x, (ULONG)n, kind == RUNDOWN_OP_RELEASE_EX);
		break;
	case RUNDOWN_OP_WAIT_START:
		x->wait_step = r->step;
		x->wait_row = (long)(r - x->rows);
		if (!x->model_only && immediate) {
			/* Must return at once: call it here, under the watchdog. */
			rd_wd_arm(x, x->wait_row);
			if (x->fam == RUNDOWN_FAM_PLAIN)
				b->ExWaitForRundownProtectionRelease(x->obj);
			else
				b->ExWaitForRundownProtectionReleaseCacheAware(x->obj);
			rd_wd_disarm(x);
		} else if (!x->model_only) {
			/* Must block: this thread calls it once the op loop has
			 * stopped (rd_enter_wait); the partner checks the rest. */
			x->enter_wait = true;
			x->stop = true;
			r->count_after = x->m.count;
			return;
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
	else if (r->e.ret == RUNDOWN_RET_FALSE && r->got_ret != 0) {
		x->extra += n;
		rd_diverge(x, r, r->e.ret_rule, "expected FALSE, got %d (granted)", r->got_ret);
	}
	rd_check_bounds(x, r);

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
	case RUNDOWN_WAIT_RETURNED: /* a Wait that returns at once */
		r->got_wait = RD_OBS_RETURNED;
		break;
	case RUNDOWN_WAIT_BLOCKED: {
		enum rd_settle s;

		/* A WaitPoll settles the Wait (a call may have woken it),
		 * but only looks when nothing was called since it was seen
		 * asleep. */
		if (kind == RUNDOWN_OP_WAIT_POLL && !x->settled_seen)
			s = rd_settle(x, x->o.block_settle_ms);
		else
			s = rd_wait_returned(x) ? RD_SETTLE_RETURNED : RD_SETTLE_BLOCKED;
		r->got_wait = s == RD_SETTLE_RETURNED ? RD_OBS_RETURNED
			      : s == RD_SETTLE_BUSY   ? RD_OBS_BUSY
								: RD_OBS_BLOCKED;
		if (kind == RUNDOWN_OP_WAIT_POLL)
			x->settled_seen = s == RD_SETTLE_BLOCKED || s == RD_SETTLE_BUSY;
		if (s == RD_SETTLE_RETURNED)
			rd_diverge(x, r, r->e.wait_rule,
				   "the Wait started at step %" PRIu32
				   " returned while %" PRIu64 " unit%s still held",
				   x->wait_step, x->m.count, x->m.count == 1 ? " is" : "s are");
		break;
	}
	}
}

/* Run the program from x->pc, then the teardown (no Wait left blocked, no
 * allocated object left), until the end, a divergence or a stop. */
static void rd_run_ops(struct rundown_exec *x)
{
	const struct rundown_prog *p = &x->prog;

	while (!x->stop && x->div_row < 0) {
		if (x->pc < p->nops) {
			const struct rundown_op *op = &p->ops[x->pc++];

			rd_exec_op(x, (enum rundown_op_kind)op->kind, op->thread, op->arg, false);
			if (rd_tl_handed_back)
				return;
			continue;
		}
		if (!x->m.live)
			return;
		switch (x->tstage++) {
		case 0:
			if (x->m.count > 0 && (x->m.waiting || x->m.allocated))
				rd_exec_op(x, RUNDOWN_OP_RELEASE_EX, 0, RUNDOWN_ARG_ALL, true);
			if (rd_tl_handed_back)
				return;
			break;
		case 1:
			if (x->m.allocated && !x->m.down)
				rd_exec_op(x, RUNDOWN_OP_WAIT_START, 0, 0, true);
			break;
		case 2:
			if (x->m.allocated)
				rd_exec_op(x, RUNDOWN_OP_FREE, 0, 0, true);
			break;
		default:
			return;
		}
	}
}

enum rundown_exec_status rundown_exec_run(struct rundown_exec *x, const uint8_t *data, size_t len)
{
	struct rundown_prog *p = &x->prog;

	x->nrows = 0;
	x->div_row = -1;
	x->div_rule = RUNDOWN_RULE_NONE;
	x->divmsg[0] = '\0';
	rundown_decode(data, len, p);
	x->fam = p->family;
	if (!x->fam_ok[x->fam])
		return RUNDOWN_EXEC_SKIPPED;
	rundown_model_init(&x->m, x->fam);
	x->pc = 0;
	x->tstage = 0;
	x->nmig = 0;
	x->nblock = 0;
	x->stop = false;
	x->enter_wait = false;
	x->due_row = -1;
	x->extra = 0;

	rd_exec_op(x, RUNDOWN_OP_CREATE, 0,
		   p->ca_init ? RUNDOWN_CREATE_INIT | p->misalign : 0u, false);
	for (;;) {
		rd_run_ops(x);
		if (!x->enter_wait)
			break;
		x->enter_wait = false;
		rd_enter_wait(x);
	}
	rd_unpin(&x->home_cpus);
	if (x->nrows > 0) /* the last call may be a Release after the last op */
		rd_check_bounds(x, &x->rows[x->nrows - 1]);
	if (x->div_row >= 0) {
		if (!x->m.allocated) {
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
