/*
 * inject/shim_sync.c - synchronisation and blocking calls: the pthread
 * mutex/cond/rwlock calls, semaphores, futex through syscall(), sleeps and
 * blocking I/O.  Each is a scheduling-perturbation point and, when it can
 * block, an IRQL check point.  Injected outcomes are legal ones only:
 *
 *	FUTEX_WAIT[_BITSET]  returns 0 without sleeping (a spurious wakeup:
 *	                     futex(2) callers must recheck) or -1/EINTR.
 *	pthread_cond_[timed]wait  returns 0 at once with the mutex still held
 *	                     (POSIX allows spurious wakeups); never EINTR,
 *	                     which POSIX forbids there.
 *	sem_wait, sem_timedwait  -1/EINTR (POSIX: interrupted by a signal).
 *
 * glibc's own futex calls (inside pthread_*) are inline syscalls that no
 * shim can see; their spurious wakeups are injected at the pthread level.
 */
#include "config.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inject/shim.h"

#ifndef FUTEX_CMD_MASK
#define FUTEX_CMD_MASK ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

/* ---------------------------------------------------------------- syscall() */

static long rd_futex(const long *a, long nr)
{
	int cmd = (int)a[1] & FUTEX_CMD_MASK;
	int wait = cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET;
	int blocking = wait || cmd == FUTEX_LOCK_PI || cmd == FUTEX_WAIT_REQUEUE_PI
#ifdef FUTEX_LOCK_PI2
		       || cmd == FUTEX_LOCK_PI2
#endif
		;
	struct rd_thread *t = rd_hook(wait ? "futex-wait" : blocking ? "futex-lock" : "futex",
				      blocking ? RD_K_BLOCKING : RD_K_PLAIN);

	if (wait && t != NULL && (RD_FLAGS() & RUNDOWN_INJECT_F_FUTEX)) {
		RD_COUNT(futex_waits);
		if (rd_chance(t, rd_cfg.futex.spurious_p)) {
			RD_COUNT(futex_spurious);
			rd_log(t, "futex-wait", "spurious", 0, 0);
			return 0;
		}
		if (rd_chance(t, rd_cfg.futex.eintr_p)) {
			RD_COUNT(futex_eintr);
			rd_log(t, "futex-wait", "eintr", 0, 0);
			errno = EINTR;
			return -1;
		}
	}
	return RD_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/*
 * syscall() is variadic: forward six argument words, as the kernel ABI
 * takes at most six (reading unpassed ones reads dead registers or stack
 * slots the caller owns, which is what every syscall() shim does).
 */
RD_EXPORT long syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (RD_ON()) {
		switch (nr) {
		case SYS_futex:
			return rd_futex(a, nr);
		case SYS_getcpu: {
			long r = RD_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
			unsigned *cpu = (unsigned *)a[0];

			if (r == 0 && cpu != NULL)
				*cpu = (unsigned)rd_cpu_virtual(rd_hook("getcpu", RD_K_PLAIN),
								(int)*cpu, "getcpu");
			return r;
		}
		case SYS_futex_waitv:
		case SYS_nanosleep:
		case SYS_clock_nanosleep:
		case SYS_read:
		case SYS_poll:
		case SYS_ppoll:
		case SYS_select:
		case SYS_pselect6:
		case SYS_epoll_wait:
		case SYS_epoll_pwait:
			rd_hook("syscall-blocking", RD_K_BLOCKING);
			break;
		case SYS_sched_yield:
			rd_hook("syscall-sched_yield", RD_K_PLAIN);
			break;
		default:
			break;
		}
	}
	return RD_REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* ---------------------------------------------------------------- pthread */

/* An interposer that only hooks: perturbation and the IRQL check. */
#define RD_HOOKED(ret, name, kind, params, args)                \
	RD_EXPORT ret name params                               \
	{                                                       \
		if (RD_ON())                                    \
			rd_hook(#name, kind);                   \
		return RD_REAL(name) args;                      \
	}

RD_HOOKED(int, pthread_mutex_lock, RD_K_BLOCKING, (pthread_mutex_t *m), (m))
RD_HOOKED(int, pthread_mutex_trylock, RD_K_PLAIN, (pthread_mutex_t *m), (m))
RD_HOOKED(int, pthread_mutex_timedlock, RD_K_BLOCKING,
	  (pthread_mutex_t *m, const struct timespec *ts), (m, ts))
RD_HOOKED(int, pthread_mutex_unlock, RD_K_PLAIN, (pthread_mutex_t *m), (m))
RD_HOOKED(int, pthread_cond_signal, RD_K_PLAIN, (pthread_cond_t *c), (c))
RD_HOOKED(int, pthread_cond_broadcast, RD_K_PLAIN, (pthread_cond_t *c), (c))
RD_HOOKED(int, pthread_rwlock_rdlock, RD_K_BLOCKING, (pthread_rwlock_t *l), (l))
RD_HOOKED(int, pthread_rwlock_wrlock, RD_K_BLOCKING, (pthread_rwlock_t *l), (l))
RD_HOOKED(int, pthread_rwlock_tryrdlock, RD_K_PLAIN, (pthread_rwlock_t *l), (l))
RD_HOOKED(int, pthread_rwlock_trywrlock, RD_K_PLAIN, (pthread_rwlock_t *l), (l))
RD_HOOKED(int, pthread_rwlock_unlock, RD_K_PLAIN, (pthread_rwlock_t *l), (l))
RD_HOOKED(int, sem_trywait, RD_K_PLAIN, (sem_t *s), (s))
RD_HOOKED(int, sem_post, RD_K_PLAIN, (sem_t *s), (s))
RD_HOOKED(int, nanosleep, RD_K_BLOCKING, (const struct timespec *req, struct timespec *rem),
	  (req, rem))
RD_HOOKED(int, clock_nanosleep, RD_K_BLOCKING,
	  (clockid_t clk, int flags, const struct timespec *req, struct timespec *rem),
	  (clk, flags, req, rem))
RD_HOOKED(int, usleep, RD_K_BLOCKING, (useconds_t us), (us))
RD_HOOKED(unsigned, sleep, RD_K_BLOCKING, (unsigned s), (s))
RD_HOOKED(ssize_t, read, RD_K_BLOCKING, (int fd, void *buf, size_t n), (fd, buf, n))
RD_HOOKED(int, poll, RD_K_BLOCKING, (struct pollfd *fds, nfds_t n, int timeout),
	  (fds, n, timeout))
RD_HOOKED(int, select, RD_K_BLOCKING,
	  (int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv), (n, r, w, e, tv))

/* 1 if this condition wait should return at once (spuriously). */
static int rd_cond_spurious(const char *site)
{
	struct rd_thread *t = rd_hook(site, RD_K_BLOCKING);

	if (t == NULL || !(RD_FLAGS() & RUNDOWN_INJECT_F_FUTEX))
		return 0;
	RD_COUNT(cond_waits);
	if (!rd_chance(t, rd_cfg.futex.spurious_p))
		return 0;
	RD_COUNT(cond_spurious);
	rd_log(t, site, "spurious", 0, 0);
	return 1;
}

RD_EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (RD_ON() && rd_cond_spurious("pthread_cond_wait"))
		return 0;
	return RD_REAL(pthread_cond_wait)(c, m);
}

RD_EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				     const struct timespec *ts)
{
	if (RD_ON() && rd_cond_spurious("pthread_cond_timedwait"))
		return 0;
	return RD_REAL(pthread_cond_timedwait)(c, m, ts);
}

/* 1 if this semaphore wait should fail with EINTR. */
static int rd_sem_eintr(const char *site)
{
	struct rd_thread *t = rd_hook(site, RD_K_BLOCKING);

	if (t == NULL || !(RD_FLAGS() & RUNDOWN_INJECT_F_FUTEX) ||
	    !rd_chance(t, rd_cfg.futex.eintr_p))
		return 0;
	RD_COUNT(sem_eintr);
	rd_log(t, site, "eintr", 0, 0);
	errno = EINTR;
	return 1;
}

RD_EXPORT int sem_wait(sem_t *s)
{
	if (RD_ON() && rd_sem_eintr("sem_wait"))
		return -1;
	return RD_REAL(sem_wait)(s);
}

RD_EXPORT int sem_timedwait(sem_t *s, const struct timespec *ts)
{
	if (RD_ON() && rd_sem_eintr("sem_timedwait"))
		return -1;
	return RD_REAL(sem_timedwait)(s, ts);
}
