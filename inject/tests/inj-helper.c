/*
 * inject/tests/inj-helper.c - a small program the shim tests preload the
 * shim into; each mode exercises one interposed behaviour and prints what
 * it saw (the scripts in this directory check the output).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "inject/inject.h"

static void *volatile rd_sink;

static int rd_stats(struct rundown_inject_stats *s)
{
	rundown_inject_stats_fn fn = (rundown_inject_stats_fn)dlsym(RTLD_DEFAULT,
								     "rundown_inject_stats");

	memset(s, 0, sizeof *s);
	if (fn == NULL) {
		fprintf(stderr, "inj-helper: the shim is not preloaded\n");
		exit(99);
	}
	return fn(s, sizeof *s);
}

static int mode_decisions(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

	for (int i = 0; i < 200; i++) {
		rd_sink = malloc(32);
		free(rd_sink);
		rd_sink = (void *)(intptr_t)sched_getcpu();
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
		sched_yield();
	}
	return 0;
}

static int mode_ncpu(void)
{
	printf("%ld %ld %d %d\n", sysconf(_SC_NPROCESSORS_CONF), sysconf(_SC_NPROCESSORS_ONLN),
	       get_nprocs(), get_nprocs_conf());
	return 0;
}

static int mode_migrate(void)
{
	struct rundown_inject_stats s;
	int same = 0;

	for (int i = 0; i < 1000; i++) {
		int a = sched_getcpu(), b = sched_getcpu();

		same += a == b;
	}
	rd_stats(&s);
	printf("same=%d calls=%llu\n", same, (unsigned long long)s.sched_getcpu_calls);
	return same == 0 && s.sched_getcpu_calls == 2000 ? 0 : 1;
}

static int mode_alloc(int n, int armed)
{
	rundown_inject_void_fn arm = (rundown_inject_void_fn)dlsym(RTLD_DEFAULT,
								   "rundown_inject_alloc_arm");
	rundown_inject_void_fn disarm = (rundown_inject_void_fn)dlsym(RTLD_DEFAULT,
								      "rundown_inject_alloc_disarm");

	if (arm == NULL || disarm == NULL)
		return 99;
	for (int i = 1; i <= n; i++) {
		errno = 0;
		if (armed)
			arm();
		rd_sink = malloc(24);
		if (armed)
			disarm();
		printf("%s%s", i > 1 ? " " : "", rd_sink ? "ok" : errno == ENOMEM ? "ENOMEM" : "NULL");
		free(rd_sink);
	}
	printf("\n");
	return 0;
}

static int mode_futex(void)
{
	uint32_t word = 0;
	struct timespec rel = { 10, 0 };
	long r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);

	printf("futex %ld %s\n", r, r == 0 ? "0" : strerror(errno));
	return 0;
}

static int mode_cond(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&m);
	r = pthread_cond_timedwait(&c, &m, &ts);
	/* Still holding the mutex: trylock must fail. */
	printf("cond %d held=%d\n", r, pthread_mutex_trylock(&m) == EBUSY);
	pthread_mutex_unlock(&m);
	return 0;
}

static int mode_irql(void)
{
	rundown_inject_irql_enter_fn enter =
		(rundown_inject_irql_enter_fn)dlsym(RTLD_DEFAULT, "rundown_inject_irql_enter");
	rundown_inject_void_fn leave =
		(rundown_inject_void_fn)dlsym(RTLD_DEFAULT, "rundown_inject_irql_leave");
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct rundown_inject_stats s;

	if (enter == NULL || leave == NULL)
		return 99;
	pthread_mutex_lock(&m); /* outside: fine */
	pthread_mutex_unlock(&m);
	enter("ExAcquireRundownProtection");
	pthread_mutex_trylock(&m); /* never blocks: fine */
	pthread_mutex_unlock(&m);
	pthread_mutex_lock(&m);    /* the violation */
	pthread_mutex_unlock(&m);
	rd_sink = malloc(8);       /* a warning */
	leave();
	free(rd_sink);
	rd_stats(&s);
	printf("violations=%llu alloc_warnings=%llu\n", (unsigned long long)s.irql_violations,
	       (unsigned long long)s.irql_alloc_warnings);
	return 0;
}

struct rd_shared {
	pthread_mutex_t m;
	long counter;
};

static void *rd_worker(void *p)
{
	struct rd_shared *sh = p;

	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&sh->m);
		sh->counter++;
		pthread_mutex_unlock(&sh->m);
		if (i % 50 == 0)
			sched_yield();
	}
	return NULL;
}

static int mode_threads(void)
{
	struct rd_shared sh = { PTHREAD_MUTEX_INITIALIZER, 0 };
	struct rundown_inject_stats s;
	pthread_t t[3];

	for (int i = 0; i < 3; i++)
		if (pthread_create(&t[i], NULL, rd_worker, &sh) != 0)
			return 1;
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	rd_stats(&s);
	printf("counter=%ld pct_fifo=%llu pct_changes=%llu starvations=%llu yields=%llu "
	       "delays=%llu\n", sh.counter, (unsigned long long)s.pct_fifo,
	       (unsigned long long)s.pct_changes, (unsigned long long)s.starvations,
	       (unsigned long long)s.yields, (unsigned long long)s.delays);
	return sh.counter == 900 ? 0 : 1;
}

/*
 * A spinner busy-waits, with no interposed call, for a flag that a thread
 * created after it sets.  Under strict PCT priorities on one CPU a
 * spinner above the setter starves it for ever unless the shim's watchdog
 * demotes them; 20 rounds, fresh threads (fresh priorities) each.
 */
static _Atomic int rd_flag;

static void *rd_spinner(void *p)
{
	(void)p;
	while (!atomic_load_explicit(&rd_flag, memory_order_acquire))
		;
	return NULL;
}

static void *rd_setter(void *p)
{
	(void)p;
	atomic_store_explicit(&rd_flag, 1, memory_order_release);
	return NULL;
}

static int mode_spin(void)
{
	struct rundown_inject_stats s;

	for (int i = 0; i < 20; i++) {
		pthread_t a, b;

		atomic_store(&rd_flag, 0);
		if (pthread_create(&a, NULL, rd_spinner, NULL) != 0)
			return 1;
		usleep(500);
		if (pthread_create(&b, NULL, rd_setter, NULL) != 0)
			return 1;
		pthread_join(a, NULL);
		pthread_join(b, NULL);
	}
	rd_stats(&s);
	printf("rounds=20 pct_fifo=%llu pct_demotions=%llu\n", (unsigned long long)s.pct_fifo,
	       (unsigned long long)s.pct_demotions);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "noop";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (strcmp(mode, "noop") == 0)
		return 0;
	if (strcmp(mode, "decisions") == 0)
		return mode_decisions();
	if (strcmp(mode, "ncpu") == 0)
		return mode_ncpu();
	if (strcmp(mode, "migrate") == 0)
		return mode_migrate();
	if (strcmp(mode, "alloc") == 0)
		return mode_alloc(argc > 2 ? atoi(argv[2]) : 5,
				  argc > 3 && strcmp(argv[3], "armed") == 0);
	if (strcmp(mode, "futex") == 0)
		return mode_futex();
	if (strcmp(mode, "cond") == 0)
		return mode_cond();
	if (strcmp(mode, "irql") == 0)
		return mode_irql();
	if (strcmp(mode, "threads") == 0)
		return mode_threads();
	if (strcmp(mode, "spin") == 0)
		return mode_spin();
	if (strcmp(mode, "exit") == 0)
		return argc > 2 ? atoi(argv[2]) : 1;
	fprintf(stderr, "inj-helper: unknown mode %s\n", mode);
	return 2;
}
