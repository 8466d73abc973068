/*
 * inject/shim_pct.c - sched=pct: the PCT scheduler and its watchdog.
 *
 * PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS 2010): each
 * thread gets a random initial priority >= d; d-1 change points are drawn
 * in [1, k] over the global step count (interposed calls); at change point
 * i the running thread drops to priority i.  A strict priority scheduler
 * then finds any bug of depth d with probability >= 1/(n k^(d-1)).
 *
 * Strict priorities come from the kernel: every thread is confined to one
 * CPU under SCHED_FIFO (priority 1 + PCT priority).  Without permission
 * (not root, no CAP_SYS_NICE, or a container that forbids it) we say so
 * and emulate: a thread yields at its interposed calls with a probability
 * that grows as its priority falls.
 *
 * The watchdog.  Under SCHED_FIFO on one CPU a thread that spins without
 * making any interposed call (a busy-wait on an atomic flag that a lower
 * thread is to set) starves every lower thread for ever: strict PCT turns
 * a legal spin into a livelock, and the test into a false HUNG.  Each
 * process with two or more PCT threads therefore runs one watchdog
 * thread, SCHED_FIFO at the top priority and not confined, which samples
 * the step count every RD_PCT_TICK_NS.  When no interposed call happened
 * for RD_PCT_STALL_TICKS ticks (on the PCT CPU only the highest runnable
 * thread runs, so nobody made progress), it demotes every PCT thread of
 * the process to SCHED_OTHER: the kernel's fair scheduler then lets the
 * starved thread run, which ends the spin.  Once RD_PCT_RESUME_STEPS more
 * steps have been made the watchdog restores every thread's priority.
 * The demotions are counted (stats.pct_demotions) and logged; they only
 * ever lift the scheduler's restriction, so they cannot hide a bug, only
 * make PCT less strict for a few milliseconds.
 *
 * The bound.  PCT's guarantee covers executions of at most k steps; a
 * test whose threads loop through interposed calls (accessors retrying a
 * refused Acquire while a low-priority owner is to finish its Wait) runs
 * for ever under strict priorities.  As CHESS and Coyote fall back to a
 * fair scheduler past the bound, the step that exceeds k demotes every
 * thread of the process to SCHED_OTHER for good (each forked test child
 * counts its own steps from the fork).
 *
 * The thread table holds the kernel tids of the PCT threads, so that the
 * watchdog can change another thread's policy.  A tid is checked with
 * tgkill(pid, tid, 0) before use (a thread that left by pthread_exit
 * leaves its entry behind; the check keeps the watchdog from touching a
 * thread of another process that reuses the number).
 *
 * Processes.  The watchdog is started by the thread that creates the
 * process's second thread, before that one exists: the creator is running
 * then, so it can finish the handshake some runtimes make with a new
 * thread (ASan's pthread_create waits for the thread to register, and the
 * thread waits for its creator) before any new thread can starve it.  It
 * never starts in a process that has only one thread, so that a
 * single-threaded parent that forks test children (the conformance
 * runner under libcheck) stays single-threaded (TSan refuses new threads
 * after a multi-threaded fork).  That parent calls
 * rundown_inject_pct_exempt(): it runs above every test thread and
 * unconfined, so its timeouts fire even when a child's thread spins; its
 * children re-enter PCT in the fork handler.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "inject/shim.h"

#define RD_PCT_SPREAD 64u
#define RD_PCT_MAX_THREADS 1024
#define RD_PCT_TICK_NS 2000000ull      /* 2 ms */
#define RD_PCT_STALL_TICKS 5           /* 10 ms without a step: a stall */
#define RD_PCT_RESUME_STEPS 64u

static uint64_t rd_pct_points[32];     /* change points, set in rd_pct_init */
static _Atomic uint64_t rd_pct_step;
static int rd_pct_fifo = -1;           /* -1 unknown, 0 emulated, 1 SCHED_FIFO */
static cpu_set_t rd_pct_all;           /* the affinity the process started with */

/*
 * The thread table: tid 0 is a free entry.  A thread writes its own
 * entry's prio; the watchdog reads it to restore.  rd_pct_demoted is
 * written by the watchdog only; threads read it before setting their own
 * policy so that a change point during a demotion does not re-promote one
 * thread (a race that the next stall would undo anyway).
 */
static struct {
	_Atomic pid_t tid;
	_Atomic int prio;
} rd_pct_tab[RD_PCT_MAX_THREADS];
static _Atomic int rd_pct_demoted;     /* 0 no, 1 by the watchdog, RD_PCT_OVER for good */
#define RD_PCT_OVER 2
static void rd_pct_set_all(int demote);
static _Atomic int rd_pct_wd_started;  /* in this process; cleared in the fork child */
static _Atomic int rd_pct_full_said;

int rd_pct_fifo_mode(void)
{
	return rd_pct_fifo;
}

static pid_t rd_gettid(void)
{
	return (pid_t)RD_REAL(syscall)(SYS_gettid);
}

/* Is tid a live thread of this process? */
static int rd_pct_alive(pid_t tid)
{
	return RD_REAL(syscall)(SYS_tgkill, (long)getpid(), (long)tid, 0L) == 0;
}

/*
 * The raw system call, not pthread_setschedparam(): that one takes the
 * thread's descriptor lock, which glibc may hold around the very malloc
 * that brought us here (pthread_getattr_np -> realloc, seen under ASan).
 */
static int rd_set_policy(pid_t tid, int policy, int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	return RD_REAL(syscall)(SYS_sched_setscheduler, (long)tid, (long)policy, &sp) == 0 ? 0 : errno;
}

/*
 * A thread sets its own policy, then re-reads rd_pct_demoted; a demoter
 * stores rd_pct_demoted, then sets every thread's policy (both seq_cst,
 * and the system calls order them too).  Either the thread sees the flag
 * and demotes itself, or the demoter's change comes after the thread's:
 * no thread stays SCHED_FIFO after a demotion.
 */
static void rd_pct_recheck(void)
{
	if (atomic_load(&rd_pct_demoted))
		rd_set_policy(0, SCHED_OTHER, 0);
}

static void rd_pct_apply(struct rd_thread *t)
{
	int e;

	if (t->pct_slot)
		atomic_store_explicit(&rd_pct_tab[t->pct_slot - 1].prio, t->pct_prio, memory_order_relaxed);
	if (rd_pct_fifo == 0 || atomic_load_explicit(&rd_pct_demoted, memory_order_relaxed))
		return;
	e = rd_set_policy(0, SCHED_FIFO, 1 + t->pct_prio);
	if (e != 0) {
		rd_pct_fifo = 0;
		rd_say("sched=pct: cannot use SCHED_FIFO (", strerror(e),
		       "): running PCT with emulated priorities (yields); strict PCT needs root "
		       "or CAP_SYS_NICE", NULL);
		return;
	}
	rd_pct_recheck();
}

static void rd_pct_register(struct rd_thread *t)
{
	pid_t tid = rd_gettid();

	t->pct_slot = 0;
	for (int i = 0; i < RD_PCT_MAX_THREADS; i++) {
		pid_t cur = atomic_load_explicit(&rd_pct_tab[i].tid, memory_order_relaxed);

		if (cur != 0 && rd_pct_alive(cur))
			continue;
		if (atomic_compare_exchange_strong_explicit(&rd_pct_tab[i].tid, &cur, tid,
							    memory_order_relaxed, memory_order_relaxed)) {
			t->pct_slot = i + 1;
			return;
		}
	}
	if (!atomic_exchange_explicit(&rd_pct_full_said, 1, memory_order_relaxed))
		rd_say("sched=pct: more than 1024 live threads; the watchdog does not see the rest", NULL);
}

void rd_pct_thread(struct rd_thread *t)
{
	cpu_set_t set;

	t->pct_prio = (int)rd_cfg.pct.d + 1 + (int)(rd_rand(t) % RD_PCT_SPREAD);
	rd_pct_register(t);
	if (rd_pct_fifo != 0) {
		CPU_ZERO(&set);
		CPU_SET(rd_cfg.pct.cpu, &set);
		if (sched_setaffinity(0, sizeof set, &set) != 0) {
			rd_pct_fifo = 0;
			rd_say("sched=pct: cannot confine threads to one CPU (", strerror(errno),
			       "): running PCT with emulated priorities (yields)", NULL);
		}
	}
	rd_pct_apply(t);
	if (rd_pct_fifo == -1)
		rd_pct_fifo = 1;
}

void rd_pct_thread_exit(struct rd_thread *t)
{
	if (t->pct_slot)
		atomic_store_explicit(&rd_pct_tab[t->pct_slot - 1].tid, 0, memory_order_relaxed);
	t->pct_slot = 0;
}

void rd_pct(struct rd_thread *t, const char *site)
{
	uint64_t step;

	if (t->pct_exempt)
		return; /* the runner's parent: not a test thread */
	step = atomic_fetch_add_explicit(&rd_pct_step, 1, memory_order_relaxed) + 1;
	if (RD_UNLIKELY(step == rd_cfg.pct.k + 1u)) {
		/* The PCT bound is spent: fair scheduling from here on. */
		atomic_store(&rd_pct_demoted, RD_PCT_OVER);
		rd_log(t, site, "pct-over", (int64_t)step, 1);
		if (rd_pct_fifo == 1)
			rd_pct_set_all(1);
		return;
	}
	if (step > rd_cfg.pct.k)
		return;
	for (unsigned i = 0; i + 1 < rd_cfg.pct.d; i++) {
		if (rd_pct_points[i] == step) {
			t->pct_prio = (int)i + 1;
			RD_COUNT(pct_changes);
			rd_log(t, site, "pct-change", t->pct_prio, 1);
			rd_pct_apply(t);
		}
	}
	if (rd_pct_fifo == 0) {
		uint32_t top = rd_cfg.pct.d + 1 + RD_PCT_SPREAD;
		uint32_t ppb = (uint32_t)((uint64_t)RUNDOWN_INJECT_PPB * (top - (uint32_t)t->pct_prio) /
					  top);

		if (rd_chance(t, ppb)) {
			rd_log(t, site, "pct-yield", 0, 0);
			RD_REAL(sched_yield)();
		}
	}
}

/* A yield under SCHED_FIFO only rotates equals: drop to the bottom for it. */
int rd_pct_yield(struct rd_thread *t)
{
	if (rd_pct_fifo != 1 || rd_self.pct_exempt || t->pct_exempt || atomic_load_explicit(&rd_pct_demoted, memory_order_relaxed))
		return 0;
	rd_set_policy(0, SCHED_FIFO, 1);
	RD_REAL(sched_yield)();
	rd_set_policy(0, SCHED_FIFO, 1 + t->pct_prio);
	rd_pct_recheck();
	return 1;
}

/* ---------------------------------------------------------------- watchdog */

/*
 * Threads PCT does not know: a sanitizer runtime's own (TSan's background
 * thread, cloned during the program's first pthread_create, inherits the
 * creator's SCHED_FIFO priority and the PCT CPU).  No restore reaches
 * them, they are in no table; without this a demoted test thread would
 * wait behind such a thread on the PCT CPU.  Each demotion also puts every
 * thread that runs SCHED_FIFO below the top priority (the watchdog and an
 * exempt thread run at the top) and is not in the table back to
 * SCHED_OTHER, for good.  A test thread caught between its creation and
 * its registration is demoted with the rest and sets its own policy when
 * it registers (rd_pct_apply reads rd_pct_demoted).  Only the policy: its
 * affinity is left for the thread's own rd_pct_thread.  Raw system calls,
 * no allocation.
 */
static void rd_pct_demote_strays(void)
{
	char buf[2048];
	long n;
	int top = sched_get_priority_max(SCHED_FIFO);
	int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	while ((n = RD_REAL(syscall)(SYS_getdents64, (long)fd, buf, (long)sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			const struct dirent64 *d = (const struct dirent64 *)(buf + off);
			pid_t tid = (pid_t)strtol(d->d_name, NULL, 10);
			struct sched_param sp;
			int known = 0;

			off += d->d_reclen;
			if (tid <= 0 || RD_REAL(syscall)(SYS_sched_getscheduler, (long)tid) != SCHED_FIFO ||
			    RD_REAL(syscall)(SYS_sched_getparam, (long)tid, &sp) != 0 || sp.sched_priority >= top)
				continue;
			for (int i = 0; i < RD_PCT_MAX_THREADS && !known; i++)
				known = atomic_load_explicit(&rd_pct_tab[i].tid, memory_order_relaxed) == tid;
			if (!known)
				rd_set_policy(tid, SCHED_OTHER, 0);
		}
	}
	close(fd);
}

/* Every live PCT thread to SCHED_OTHER (demote) or back to its priority. */
static void rd_pct_set_all(int demote)
{
	if (demote)
		rd_pct_demote_strays();
	for (int i = 0; i < RD_PCT_MAX_THREADS; i++) {
		pid_t tid = atomic_load_explicit(&rd_pct_tab[i].tid, memory_order_relaxed);

		if (tid == 0 || !rd_pct_alive(tid))
			continue;
		if (demote)
			rd_set_policy(tid, SCHED_OTHER, 0);
		else
			rd_set_policy(tid, SCHED_FIFO,
				      1 + atomic_load_explicit(&rd_pct_tab[i].prio, memory_order_relaxed));
	}
}

static void rd_pct_sleep(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };

	while (RD_REAL(nanosleep)(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *rd_pct_watchdog(void *arg)
{
	struct rd_thread *t = &rd_self;
	uint64_t last = atomic_load_explicit(&rd_pct_step, memory_order_relaxed), resume_at = 0;
	unsigned idle = 0;

	(void)arg;
	/* Never a PCT thread, never perturbed: every interposed call of ours
	 * goes straight to the real function. */
	rd_thread_seed(t, UINT32_MAX - 1u);
	t->in_shim = 1;
	/* Again, for runtimes whose pthread_create drops the attributes
	 * (seen under ASan); ASan's also runs the new thread before the
	 * creator goes on, so this is reached. */
	sched_setaffinity(0, sizeof rd_pct_all, &rd_pct_all);
	rd_set_policy(0, SCHED_FIFO, sched_get_priority_max(SCHED_FIFO));
	for (;;) {
		uint64_t now;

		rd_pct_sleep(RD_PCT_TICK_NS);
		now = atomic_load_explicit(&rd_pct_step, memory_order_relaxed);
		if (now != last) {
			int one = 1;

			idle = 0;
			if (atomic_load(&rd_pct_demoted) == RD_PCT_OVER)
				break; /* fair for good: nothing left to watch */
			if (now >= resume_at && atomic_compare_exchange_strong(&rd_pct_demoted, &one, 0)) {
				rd_log(t, "watchdog", "pct-restore", (int64_t)now, 1);
				rd_pct_set_all(0);
				if (atomic_load(&rd_pct_demoted) != 0)
					rd_pct_set_all(1); /* the bound passed meanwhile */
			}
		} else if (++idle >= RD_PCT_STALL_TICKS) {
			int zero = 0;

			idle = 0;
			if (atomic_compare_exchange_strong(&rd_pct_demoted, &zero, 1)) {
				RD_COUNT(pct_demotions);
				rd_log(t, "watchdog", "pct-demote", (int64_t)now, 1);
			}
			/* Idempotent: a thread may have set FIFO while we demoted. */
			rd_pct_set_all(1);
			resume_at = now + RD_PCT_RESUME_STEPS;
		}
		last = now;
	}
	return NULL;
}

void rd_pct_watchdog_start(void)
{
	pthread_attr_t a;
	pthread_t th;
	int expected = 0;

	if (rd_pct_fifo != 1 || rd_self.pct_exempt ||
	    !atomic_compare_exchange_strong_explicit(&rd_pct_wd_started, &expected, 1, memory_order_relaxed,
						     memory_order_relaxed))
		return;
	/*
	 * Policy and affinity set by the creator, before the watchdog runs:
	 * inherited, they would be the creating thread's, and a spinning
	 * thread of the same priority would keep the watchdog from ever
	 * running to change them.
	 */
	struct sched_param sp = { .sched_priority = sched_get_priority_max(SCHED_FIFO) };

	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&a, SCHED_FIFO);
	pthread_attr_setschedparam(&a, &sp);
	pthread_attr_setaffinity_np(&a, sizeof rd_pct_all, &rd_pct_all);
	if (RD_REAL(pthread_create)(&th, &a, rd_pct_watchdog, NULL) != 0)
		rd_say("sched=pct: cannot start the watchdog thread: a thread that spins without an "
		       "interposed call starves lower ones (HUNG)", NULL);
	pthread_attr_destroy(&a);
}

/* ---------------------------------------------------------------- set-up */

static void rd_pct_fork_child(void)
{
	struct rd_thread *t = &rd_self;

	/* Only the forking thread exists here; the watchdog did not survive. */
	for (int i = 0; i < RD_PCT_MAX_THREADS; i++)
		atomic_store_explicit(&rd_pct_tab[i].tid, 0, memory_order_relaxed);
	atomic_store_explicit(&rd_pct_wd_started, 0, memory_order_relaxed);
	atomic_store_explicit(&rd_pct_demoted, 0, memory_order_relaxed);
	atomic_store_explicit(&rd_pct_step, 0, memory_order_relaxed); /* a new execution */
	if (!t->inited)
		return;
	if (t->pct_exempt) {
		t->pct_exempt = 0;
		rd_pct_thread(t); /* a test child of the exempt parent: back into PCT */
	} else {
		rd_pct_register(t);
	}
}

void rd_pct_init(void)
{
	struct rd_thread g = { 0 };

	rd_thread_seed(&g, UINT32_MAX); /* the change points' own stream */
	for (unsigned i = 0; i + 1 < rd_cfg.pct.d; i++)
		rd_pct_points[i] = 1u + rd_rand(&g) % rd_cfg.pct.k;
	if (sched_getaffinity(0, sizeof rd_pct_all, &rd_pct_all) != 0) {
		CPU_ZERO(&rd_pct_all);
		CPU_SET(rd_cfg.pct.cpu, &rd_pct_all);
	}
	pthread_atfork(NULL, NULL, rd_pct_fork_child);
}

RD_EXPORT void rundown_inject_pct_exempt(void)
{
	struct rd_thread *t = rd_thread_self();

	if (!(RD_FLAGS() & RUNDOWN_INJECT_F_PCT))
		return;
	t->pct_exempt = 1;
	rd_pct_thread_exit(t);
	if (rd_pct_fifo != 1)
		return;
	sched_setaffinity(0, sizeof rd_pct_all, &rd_pct_all);
	rd_set_policy(0, SCHED_FIFO, sched_get_priority_max(SCHED_FIFO));
}
