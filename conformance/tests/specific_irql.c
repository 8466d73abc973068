/*
 * conformance/tests/specific_irql.c - the DISPATCH_LEVEL guarantees of
 * Acquire/AcquireEx/Release/ReleaseEx, mapped to user mode (IRQL-001..006):
 *
 *   - never block: every call returns within a time limit in every state
 *     (made on a helper thread; the test thread watches the clock, so a
 *     blocking backend is a FAIL naming the clause, not a HUNG test);
 *   - async-signal-safe: a signal handler that interrupted one of these
 *     calls calls them on the same object; the interrupted thread and the
 *     handler must both finish (a lock inside Acquire deadlocks here);
 *   - a Release made in a handler that interrupted the owner's Wait counts.
 *
 * When the inject shim is preloaded (--inject irql), every call is also
 * bracketed with rundown_inject_irql_enter/leave, and a blocking call the
 * shim saw inside one (even an uncontended mutex) fails the test.
 * Handlers use only atomics, the backend routines under test and the
 * shim's async-signal-safe brackets.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "inject/inject.h"

#include "conformance/tests/specific_util.h"

#define NEEDS_IRQL_PLAIN                                                               \
	(CONFORM_NEEDS_PLAIN | RUNDOWN_BIT(ExAcquireRundownProtectionEx) |                \
	 RUNDOWN_BIT(ExReleaseRundownProtectionEx) | RUNDOWN_BIT(ExRundownCompleted) |    \
	 RUNDOWN_BIT(ExReInitializeRundownProtection))
#define NEEDS_IRQL_CA                                                                  \
	(CONFORM_NEEDS_CA | RUNDOWN_BIT(ExAcquireRundownProtectionCacheAwareEx) |         \
	 RUNDOWN_BIT(ExReleaseRundownProtectionCacheAwareEx) |                            \
	 RUNDOWN_BIT(ExRundownCompletedCacheAware) |                                      \
	 RUNDOWN_BIT(ExReInitializeRundownProtectionCacheAware))

/* ---- the inject shim's DISPATCH_LEVEL brackets, if preloaded ---- */

static rundown_inject_irql_enter_fn rd_irql_enter;
static rundown_inject_void_fn rd_irql_leave;
static rundown_inject_stats_fn rd_irql_stats;

static void rd_irql_find(void)
{
	*(void **)&rd_irql_enter = dlsym(RTLD_DEFAULT, "rundown_inject_irql_enter");
	*(void **)&rd_irql_leave = dlsym(RTLD_DEFAULT, "rundown_inject_irql_leave");
	*(void **)&rd_irql_stats = dlsym(RTLD_DEFAULT, "rundown_inject_stats");
	if (!rd_irql_enter || !rd_irql_leave) {
		rd_irql_enter = NULL;
		rd_irql_leave = NULL;
	}
}

static uint64_t rd_irql_violations(void)
{
	struct rundown_inject_stats s;

	if (!rd_irql_stats)
		return 0;
	memset(&s, 0, sizeof(s));
	rd_irql_stats(&s, sizeof(s));
	return s.irql_violations;
}

enum rd_op { OP_ACQ, OP_ACQ_EX, OP_REL, OP_REL_EX };
static const char *const rd_op_name[] = {"Acquire", "AcquireEx(2)", "Release", "ReleaseEx(2)"};

/* One call, bracketed as DISPATCH_LEVEL for the shim; async-signal-safe. */
static BOOLEAN rd_call(const struct conform_family *f, void *o, enum rd_op op)
{
	BOOLEAN r = TRUE;

	if (rd_irql_enter)
		rd_irql_enter(rd_op_name[op]);
	switch (op) {
	case OP_ACQ: r = f->acquire(o); break;
	case OP_ACQ_EX: r = f->acquire_ex(o, 2); break;
	case OP_REL: f->release(o); break;
	case OP_REL_EX: f->release_ex(o, 2); break;
	}
	if (rd_irql_leave)
		rd_irql_leave();
	return r;
}

/* ---- IRQL-001 / IRQL-004: never block ---- */

struct rd_timed {
	const struct conform_family *f;
	void *obj;
	enum rd_op op;
	BOOLEAN result;
	_Atomic bool done;
};

static void *rd_timed_main(void *p)
{
	struct rd_timed *t = p;

	t->result = rd_call(t->f, t->obj, t->op);
	atomic_store_explicit(&t->done, true, memory_order_release); /* pairs with rd_timed's load */
	return NULL;
}

/* Make one call on a helper thread; FAIL if it does not return in time. */
static BOOLEAN rd_timed(const struct conform_family *f, void *o, enum rd_op op, const char *clause,
			const char *state)
{
	struct rd_timed t = {.f = f, .obj = o, .op = op};
	uint64_t end = conform_now_ns() + CONFORM_RETURN_TIMEOUT_NS;
	pthread_t tid;

	atomic_init(&t.done, false);
	conform_thread_start(&tid, rd_timed_main, &t);
	while (!atomic_load_explicit(&t.done, memory_order_acquire)) {
		if (conform_now_ns() > end)
			conform_fail(clause, "%s %s did not return within 2 s (%s); required never to wait",
				     f->name, rd_op_name[op], state);
		sched_yield();
	}
	conform_thread_join(tid);
	return t.result;
}

static void rd_never_block(const struct conform_family *f, const char *clause)
{
	void *o;
	struct conform_waiter w;
	uint64_t end;

	rd_irql_find();
	for (int how = 0; how < (f == &conform_ca ? 2 : 1); how++) {
		o = f->create(how ? CONFORM_MAKE_BUFFER : CONFORM_MAKE_DEFAULT);
		/* live */
		for (int op = OP_ACQ; op <= OP_REL_EX; op++)
			(void)rd_timed(f, o, (enum rd_op)op, clause, "object live, nothing held");
		(void)rd_timed(f, o, OP_ACQ, clause, "object live");
		(void)rd_timed(f, o, OP_ACQ_EX, clause, "object live, 1 unit held");
		/* Wait blocking on 3 units */
		conform_waiter_start(&w, f, o);
		end = conform_now_ns() + CONFORM_RETURN_TIMEOUT_NS;
		while (rd_timed(f, o, OP_ACQ, clause, "Wait called, 3 units held")) {
			(void)rd_timed(f, o, OP_REL, clause, "Wait called, 4 units held");
			if (conform_now_ns() > end)
				conform_fail(clause, "%s: Acquire still TRUE 2 s after Wait was called", f->name);
		}
		(void)rd_timed(f, o, OP_ACQ_EX, clause, "Wait blocked, 3 units held");
		(void)rd_timed(f, o, OP_REL, clause, "Wait blocked, 3 units held");
		(void)rd_timed(f, o, OP_REL_EX, clause, "Wait blocked, the last 2 units: the release that ends it");
		if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(clause, "%s: Wait did not return within 2 s of the last release", f->name);
		/* run down, then completed */
		(void)rd_timed(f, o, OP_ACQ, clause, "run down");
		(void)rd_timed(f, o, OP_ACQ_EX, clause, "run down");
		f->completed(o);
		(void)rd_timed(f, o, OP_ACQ, clause, "run down and completed");
		(void)rd_timed(f, o, OP_ACQ_EX, clause, "run down and completed");
		f->reinit(o);
		if (rd_timed(f, o, OP_ACQ, clause, "reinitialized"))
			(void)rd_timed(f, o, OP_REL, clause, "reinitialized, 1 unit held");
		conform_waiter_start(&w, f, o);
		if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(clause, "%s: Wait with nothing held did not return within 2 s", f->name);
		f->destroy(o);
	}
	conform_assert(rd_irql_violations() == 0, clause,
		       "the inject shim saw %llu blocking call(s) inside %s Acquire/Release (DISPATCH_LEVEL); "
		       "required none", (unsigned long long)rd_irql_violations(), f->name);
}

CONFORM_TEST(irql_001_plain_never_block, "IRQL-001", NEEDS_IRQL_PLAIN, 0)
{
	rd_never_block(&conform_plain, "IRQL-001");
}
END_TEST

CONFORM_TEST(irql_004_ca_never_block, "IRQL-004", NEEDS_IRQL_CA | CONFORM_NEEDS_CA_BUFFER, 0)
{
	rd_never_block(&conform_ca, "IRQL-004");
}
END_TEST

/* ---- IRQL-002 / IRQL-005: a handler interrupting a call calls again ---- */

static const struct conform_family *_Atomic rd_sig_f;
static void *_Atomic rd_sig_obj;
static _Atomic unsigned long rd_sig_handled;
static _Atomic unsigned long rd_sig_entered;
static _Atomic int rd_sig_bad;        /* handler: Acquire FALSE on an open object */
static _Atomic int rd_loop_stop;
static _Atomic unsigned long rd_loop_progress;
static _Atomic int rd_loop_bad;

#define RD_HANDLER_TIMEOUT_NS 5000000000ull
/* TSan runs a deferred handler late and slowly, on a loaded machine more
 * so: more time there before a handler that started counts as stuck. */
#if defined(__SANITIZE_THREAD__)
#define RD_HANDLER_SLACK_NS 8000000000ull
#else
#define RD_HANDLER_SLACK_NS 0ull
#endif

static void rd_nested_handler(int sig)
{
	const struct conform_family *f = atomic_load(&rd_sig_f);
	void *o = atomic_load(&rd_sig_obj);
	int saved = errno;

	(void)sig;
	atomic_fetch_add(&rd_sig_entered, 1);
	if (f && o) {
		if (rd_call(f, o, OP_ACQ))
			rd_call(f, o, OP_REL);
		else
			atomic_store(&rd_sig_bad, 1);
		if (rd_call(f, o, OP_ACQ_EX))
			rd_call(f, o, OP_REL_EX);
		else
			atomic_store(&rd_sig_bad, 1);
	}
	atomic_fetch_add(&rd_sig_handled, 1);
	errno = saved;
}

static void *rd_loop_main(void *p)
{
	(void)p;
	const struct conform_family *f = atomic_load(&rd_sig_f);
	void *o = atomic_load(&rd_sig_obj);

	while (!atomic_load_explicit(&rd_loop_stop, memory_order_relaxed)) {
		if (!rd_call(f, o, OP_ACQ) || !rd_call(f, o, OP_ACQ_EX)) {
			atomic_store(&rd_loop_bad, 1);
			break;
		}
		rd_call(f, o, OP_REL);
		rd_call(f, o, OP_REL_EX);
		atomic_fetch_add_explicit(&rd_loop_progress, 1, memory_order_relaxed);
	}
	return NULL;
}

static void rd_install(int sig, void (*h)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		conform_unresolved("sigaction failed");
}

static void rd_nested(const struct conform_family *f, const char *clause)
{
	unsigned long nsig = conform_iterations(2000);
	uint64_t rng = conform_seed() | 1;
	pthread_t loop;
	struct conform_waiter w;
	uint64_t budget;
	void *o;

	rd_irql_find();
	for (int how = 0; how < (f == &conform_ca ? 2 : 1); how++) {
		o = f->create(how ? CONFORM_MAKE_BUFFER : CONFORM_MAKE_DEFAULT);
		atomic_store(&rd_sig_f, f);
		atomic_store(&rd_sig_obj, o);
		atomic_store(&rd_loop_stop, 0);
		rd_install(SIGUSR1, rd_nested_handler);
		conform_thread_start(&loop, rd_loop_main, NULL);
		budget = conform_now_ns() + 150000000ull * (conform_iterations(1) > 6 ? 6 : conform_iterations(1));
		for (unsigned long i = 0; i < nsig; i++) {
			unsigned long before = atomic_load(&rd_sig_handled);

			if (i >= 256 && conform_now_ns() > budget)
				break; /* time budget of the profile spent */
			/* Generous: TSan defers a signal to the thread's next
			 * intercepted call, and a loaded 2-core machine under
			 * sched-heavy may not run the thread for a while. */
			uint64_t end = conform_now_ns() + RD_HANDLER_TIMEOUT_NS;

			conform_spin((unsigned)(conform_rand(&rng) % 1500)); /* land anywhere in the loop */
			if (pthread_kill(loop, SIGUSR1) != 0)
				conform_unresolved("pthread_kill failed");
			while (atomic_load(&rd_sig_handled) == before) {
#if defined(__SANITIZE_THREAD__)
				/* TSan defers a signal until the thread enters one of its
				 * interceptors, which a loop of Acquire/Release may never
				 * do: an undelivered signal is no verdict. */
				if (conform_now_ns() > end && atomic_load(&rd_sig_entered) == before)
					conform_unresolved("%s: the signal was not delivered within 5 s "
							   "(ThreadSanitizer defers it; run in a non-TSan build)",
							   f->name);
#endif
				if (conform_now_ns() > end)
					conform_fail(clause, "%s: a signal handler calling Acquire/Release on the object "
						     "whose Acquire/Release it interrupted made no progress for 5 s (signal "
						     "%lu; deadlock: not async-signal-safe); required to complete",
						     f->name, i + 1);
				sched_yield();
			}
			if (atomic_load(&rd_loop_bad))
				conform_fail(clause, "%s: Acquire in the interrupted thread returned FALSE on an "
					     "object no one runs down; required TRUE", f->name);
		}
		/*
		 * The interrupted thread must finish too: with the signals
		 * stopped it completes another pair within the time limit
		 * (under load it may have spent the whole signalling phase
		 * inside handlers, so progress during it proves nothing).
		 */
		unsigned long seen = atomic_load(&rd_loop_progress);
		uint64_t end = conform_now_ns() + CONFORM_RETURN_TIMEOUT_NS;

		while (atomic_load(&rd_loop_progress) == seen && !atomic_load(&rd_loop_bad)) {
			if (conform_now_ns() > end)
				conform_fail(clause, "%s: the thread whose Acquire/Release the handlers "
					     "interrupted completed no pair within 2 s after the last signal "
					     "(stuck: not async-signal-safe); required to complete", f->name);
			sched_yield();
		}
		atomic_store(&rd_loop_stop, 1);
		conform_thread_join(loop);
		atomic_store(&rd_sig_obj, NULL);
		conform_assert(!atomic_load(&rd_loop_bad), clause,
			       "%s: Acquire in the interrupted thread returned FALSE on an object no one runs "
			       "down; required TRUE", f->name);
		conform_assert(!atomic_load(&rd_sig_bad), clause,
			       "%s: Acquire in a signal handler that interrupted Acquire/Release returned FALSE on "
			       "an object no one runs down; required TRUE", f->name);
		/* The count is exact afterwards: nothing held, so Wait returns. */
		conform_waiter_start(&w, f, o);
		if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(clause, "%s: after interrupted Acquire/Release pairs, all balanced, Wait did "
				     "not return within 2 s (count not exact)", f->name);
		conform_assert(!f->acquire(o), clause, "%s: Acquire after Wait returned TRUE; required FALSE",
			       f->name);
		f->destroy(o);
	}
	conform_assert(rd_irql_violations() == 0, clause,
		       "the inject shim saw %llu blocking call(s) inside %s Acquire/Release (DISPATCH_LEVEL); "
		       "required none", (unsigned long long)rd_irql_violations(), f->name);
}

CONFORM_TEST(irql_002_plain_signal_handler_nested_calls, "IRQL-002", NEEDS_IRQL_PLAIN, CONFORM_CONCURRENT)
{
	rd_nested(&conform_plain, "IRQL-002");
}
END_TEST

CONFORM_TEST(irql_005_ca_signal_handler_nested_calls, "IRQL-005", NEEDS_IRQL_CA | CONFORM_NEEDS_CA_BUFFER,
	     CONFORM_CONCURRENT)
{
	rd_nested(&conform_ca, "IRQL-005");
}
END_TEST

/* ---- IRQL-003 / IRQL-006: the last release in a handler on the owner ---- */

static _Atomic int rd_h_started;
static _Atomic int rd_h_done;
static _Atomic int rd_h_acquired; /* the handler's Acquire returned TRUE */

static void rd_owner_handler(int sig)
{
	const struct conform_family *f = atomic_load(&rd_sig_f);
	void *o = atomic_load(&rd_sig_obj);
	int saved = errno;

	(void)sig;
	atomic_store(&rd_h_started, 1);
	if (rd_call(f, o, OP_ACQ)) {
		atomic_store(&rd_h_acquired, 1);
		rd_call(f, o, OP_REL);
	}
	rd_call(f, o, OP_REL); /* the unit handed over from another thread: the last */
	atomic_store(&rd_h_done, 1);
	errno = saved;
}

static void *rd_hand_main(void *p)
{
	const struct conform_family *f = atomic_load(&rd_sig_f);

	*(BOOLEAN *)p = f->acquire(atomic_load(&rd_sig_obj));
	return NULL;
}

static void rd_release_in_owner_handler(const struct conform_family *f, const char *clause)
{
	unsigned long rounds = conform_iterations(3) > 12 ? 12 : conform_iterations(3);

	rd_irql_find();
	rd_install(SIGUSR2, rd_owner_handler);
	for (unsigned long r = 0; r < rounds; r++) {
		void *o = f->create((r & 1) ? CONFORM_MAKE_BUFFER : CONFORM_MAKE_DEFAULT);
		struct conform_waiter w;
		BOOLEAN got = FALSE;
		pthread_t hand;
		uint64_t end;

		atomic_store(&rd_sig_f, f);
		atomic_store(&rd_sig_obj, o);
		atomic_store(&rd_h_started, 0);
		atomic_store(&rd_h_done, 0);
		atomic_store(&rd_h_acquired, 0);
		conform_thread_start(&hand, rd_hand_main, &got); /* another thread takes the unit */
		conform_thread_join(hand);
		if (!got)
			conform_fail(clause, "%s: Acquire on a new object returned FALSE; required TRUE", f->name);
		conform_waiter_start(&w, f, o);
		if (!conform_rundown_visible(f, o, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(clause, "%s: Acquire still TRUE 2 s after Wait was called", f->name);
		/* Give Wait time to go to sleep (observation only: any point
		 * inside Wait is a valid place for the interruption). */
		if (!conform_waiter_still_blocked(&w, conform_window_ns()))
			conform_fail(clause, "%s: Wait returned while a unit was held; required to block", f->name);
		if (pthread_kill(w.tid, SIGUSR2) != 0)
			conform_unresolved("pthread_kill failed");
		end = conform_now_ns() + CONFORM_RETURN_TIMEOUT_NS;
		while (!atomic_load(&rd_h_done)) {
			/* ThreadSanitizer defers a signal to a thread blocked in a raw
			 * futex syscall until the call returns: no delivery, no verdict. */
			if (conform_now_ns() > end && !atomic_load(&rd_h_started))
				conform_unresolved("%s: the signal to the thread blocked in Wait was not delivered "
						   "within 2 s (ThreadSanitizer defers it; run in a non-TSan build)",
						   f->name);
			if (conform_now_ns() > end + RD_HANDLER_SLACK_NS)
				conform_fail(clause, "%s: the signal handler that interrupted Wait did not finish its "
					     "Acquire/Release within %.0f s; required never to wait", f->name,
					     (double)(CONFORM_RETURN_TIMEOUT_NS + RD_HANDLER_SLACK_NS) / 1e9);
			sched_yield();
		}
		if (!conform_waiter_join(&w, CONFORM_RETURN_TIMEOUT_NS))
			conform_fail(clause, "%s: Wait did not return within 2 s after a signal handler that "
				     "interrupted it released the last unit; required the release to count",
				     f->name);
		conform_assert(!atomic_load(&rd_h_acquired), clause,
			       "%s: Acquire in a handler interrupting Wait returned TRUE; required FALSE once the "
			       "Wait has started", f->name);
		f->destroy(o);
	}
	conform_assert(rd_irql_violations() == 0, clause,
		       "the inject shim saw %llu blocking call(s) inside %s Acquire/Release (DISPATCH_LEVEL); "
		       "required none", (unsigned long long)rd_irql_violations(), f->name);
}

CONFORM_TEST(irql_003_plain_release_in_handler_ends_wait, "IRQL-003", NEEDS_IRQL_PLAIN, CONFORM_CONCURRENT)
{
	rd_release_in_owner_handler(&conform_plain, "IRQL-003");
}
END_TEST

CONFORM_TEST(irql_006_ca_release_in_handler_ends_wait, "IRQL-006", NEEDS_IRQL_CA | CONFORM_NEEDS_CA_BUFFER,
	     CONFORM_CONCURRENT)
{
	rd_release_in_owner_handler(&conform_ca, "IRQL-006");
}
END_TEST
