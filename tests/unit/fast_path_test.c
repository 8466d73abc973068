/*
 * tests/unit/fast_path_test.c - the cache-aware family's rseq + membarrier
 * fast path (impl/cache_aware.c, "The fast path"): which path the process
 * took, every fallback reason forced in a re-executed child (RUNDOWN_NO_RSEQ,
 * GLIBC_TUNABLES=glibc.pthread.rseq=0, membarrier refused by seccomp,
 * sched_getcpu interposed by the inject/ shim), and the behaviour of both
 * paths, each test run once on an object of the process's default path
 * and once on an object made on the atomic path (rd_ca_select_path(0)):
 * releases on another processor than the acquire, the shared ovf word of
 * processors >= nslots, a Wait that blocks, and a signal storm (timer
 * signals whose handler Acquires/Releases the object the interrupted
 * loop is Acquiring/Releasing, so sections abort, against an owner
 * cycling Wait/ReInitialize).
 *
 * Linked with librundown statically: rd_ca_path() and rd_ca_select_path()
 * are hidden in librundown.so.
 *
 * Re-executed children: argv[1] == "--child", argv[2] = the prefix that
 * rd_ca_path() must start with; the child also runs a short functional
 * check and exits 0 on success.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rundown/ex_rundown_ref_cache_aware.h>

#include "impl/cache_aware.h" /* layout: nslots, fast, for the ovf test */
#include "impl/cpu.h"         /* rd_ca_path, rd_ca_select_path */
#include "tests/unit/unit.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(__SANITIZE_THREAD__)
#define __SANITIZE_THREAD__ 1
#endif
#if __has_feature(address_sanitizer) && !defined(__SANITIZE_ADDRESS__)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif

static char self[4096];
static cpu_set_t allowed;

static bool fast(void)
{
	return strcmp(rd_ca_path(), "rseq+membarrier") == 0;
}

static int pin(int nth)
{
	int seen = 0;
	cpu_set_t one;

	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed) && seen++ == nth) {
			CPU_ZERO(&one);
			CPU_SET(c, &one);
			return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0 ? c : -1;
		}
	return -1;
}

static void unpin(void)
{
	pthread_setaffinity_np(pthread_self(), sizeof allowed, &allowed);
}

/* Loop index i: 0 the process's default path, 1 the atomic path. */
static PEX_RUNDOWN_REF_CACHE_AWARE alloc_on(int i, ULONG tag)
{
	int was = rd_ca_fast;
	PEX_RUNDOWN_REF_CACHE_AWARE r;

	rd_ca_select_path(i == 0 && was);
	r = ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, tag);
	rd_ca_select_path(was);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(rd_ca_hdr(r)->fast, (unsigned)(i == 0 && was));
	return r;
}

static void init_on(int i, PEX_RUNDOWN_REF_CACHE_AWARE r, SIZE_T size)
{
	int was = rd_ca_fast;

	rd_ca_select_path(i == 0 && was);
	ExInitializeRundownProtectionCacheAware(r, size);
	rd_ca_select_path(was);
}

/* A short functional check of whichever path is active. */
static int smoke(void)
{
	PEX_RUNDOWN_REF_CACHE_AWARE r = ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 1);

	if (r == NULL)
		return 1;
	for (int i = 0; i < 1000; i++) {
		if (!ExAcquireRundownProtectionCacheAware(r) ||
		    !ExAcquireRundownProtectionCacheAwareEx(r, 5))
			return 2;
		ExReleaseRundownProtectionCacheAwareEx(r, 5);
		ExReleaseRundownProtectionCacheAware(r);
	}
	ExWaitForRundownProtectionReleaseCacheAware(r);
	if (ExAcquireRundownProtectionCacheAware(r))
		return 3;
	ExReInitializeRundownProtectionCacheAware(r);
	if (!ExAcquireRundownProtectionCacheAware(r))
		return 4;
	ExReleaseRundownProtectionCacheAware(r);
	ExWaitForRundownProtectionReleaseCacheAware(r);
	ExFreeCacheAwareRundownProtection(r);
	return 0;
}

static int child(const char *want)
{
	const char *got = rd_ca_path();
	int rc;

	if (strncmp(got, want, strlen(want)) != 0) {
		fprintf(stderr, "fast_path_test child: path '%s', want prefix '%s'\n", got, want);
		return 10;
	}
	rc = smoke();
	if (rc != 0)
		fprintf(stderr, "fast_path_test child: smoke failed (%d) on '%s'\n", rc, got);
	return rc;
}

enum how { PLAIN_ENV, NO_MEMBARRIER };

/* Re-execute this program with extra environment; its exit status. */
static int reexec(const char *want, const char *env1, const char *env2, enum how how)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		char *argv[] = {self, (char *)"--child", (char *)want, NULL};

		if (env1 != NULL)
			putenv((char *)env1);
		if (env2 != NULL)
			putenv((char *)env2);
		if (how == NO_MEMBARRIER) {
			/* membarrier(2) -> ENOSYS, as under a seccomp policy. */
			struct sock_filter f[] = {
				BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					 offsetof(struct seccomp_data, nr)),
				BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_membarrier, 0, 1),
				BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
				BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			};
			struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};

			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
			    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
				_exit(77);
		}
		execv(self, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(path_is_reported)
{
	const char *p = rd_ca_path();

	printf("fast_path_test: cache-aware fast path: %s\n", p);
	ck_assert(strcmp(p, "rseq+membarrier") == 0 || strncmp(p, "atomic (", 8) == 0);
#if defined(__SANITIZE_THREAD__)
	ck_assert_msg(strncmp(p, "atomic (ThreadSanitizer", 23) == 0, "TSan build: %s", p);
#elif defined(__x86_64__)
	if (getenv("RUNDOWN_NO_RSEQ") != NULL)
		ck_assert_msg(strstr(p, "RUNDOWN_NO_RSEQ") != NULL, "%s", p);
#endif
	/* Stable: asked again, the same answer. */
	ck_assert_str_eq(p, rd_ca_path());
}
END_TEST

START_TEST(fallback_no_rseq_env)
{
#if defined(__SANITIZE_THREAD__)
	ck_assert_int_eq(reexec("atomic (ThreadSanitizer", "RUNDOWN_NO_RSEQ=1", NULL, PLAIN_ENV), 0);
#else
	ck_assert_int_eq(reexec("atomic (RUNDOWN_NO_RSEQ", "RUNDOWN_NO_RSEQ=1", NULL, PLAIN_ENV), 0);
#endif
}
END_TEST

START_TEST(fallback_glibc_rseq_off)
{
#if defined(__SANITIZE_THREAD__)
	const char *want = "atomic (ThreadSanitizer";
#else
	const char *want = "atomic (rseq not registered";
#endif
	ck_assert_int_eq(reexec(want, "GLIBC_TUNABLES=glibc.pthread.rseq=0", "RUNDOWN_NO_RSEQ",
				PLAIN_ENV), 0);
}
END_TEST

START_TEST(fallback_no_membarrier)
{
	int rc;
#if defined(__SANITIZE_THREAD__)
	const char *want = "atomic (ThreadSanitizer";
#else
	const char *want = fast() ? "atomic (membarrier" : "atomic (";
#endif
	rc = reexec(want, NULL, NULL, NO_MEMBARRIER);
	if (rc == 77) {
		printf("fast_path_test: seccomp not available: no-membarrier case skipped\n");
		return;
	}
	ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(fallback_sched_getcpu_interposed)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	printf("fast_path_test: sanitizer build: LD_PRELOAD case skipped\n");
#else
	static char preload[4200];
	const char *top = getenv("top_builddir");

	snprintf(preload, sizeof preload, "LD_PRELOAD=%s/inject/.libs/librundown-inject.so",
		 top != NULL ? top : ".");
	if (access(preload + strlen("LD_PRELOAD="), R_OK) != 0) {
		printf("fast_path_test: %s not built: interposition case skipped\n", preload);
		return;
	}
	/* The shim virtualises processors only under cpu= or ncpu=; in its
	 * other profiles the fast path runs under it. */
	ck_assert_int_eq(reexec(fast() ? "atomic (sched_getcpu is interposed" : "atomic (", preload,
				"RUNDOWN_INJECT=cpu=migrate", PLAIN_ENV), 0);
	ck_assert_int_eq(reexec(fast() ? "atomic (sched_getcpu is interposed" : "atomic (", preload,
				"RUNDOWN_INJECT=ncpu=3", PLAIN_ENV), 0);
	ck_assert_int_eq(reexec(fast() ? "rseq+membarrier" : "atomic (", preload,
				"RUNDOWN_INJECT=sched=yield:p=0.3;irql=record", PLAIN_ENV), 0);
	ck_assert_int_eq(reexec(fast() ? "rseq+membarrier" : "atomic (", preload, NULL,
				PLAIN_ENV), 0);
#endif
}
END_TEST

START_TEST(fast_path_enabled_when_possible)
{
	/* On this project's machines (x86-64, glibc >= 2.35, Linux >= 5.10)
	 * the default build must take the fast path unless told not to. */
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
	if (getenv("RUNDOWN_NO_RSEQ") == NULL && getenv("LD_PRELOAD") == NULL &&
	    getenv("GLIBC_TUNABLES") == NULL)
		ck_assert_msg(fast(), "fast path off: %s", rd_ca_path());
#endif
	ck_assert_int_eq(smoke(), 0);
}
END_TEST

/* The path is per object: objects made after rd_ca_select_path(0) are on
 * the atomic path, the others keep theirs, and both work side by side. */
START_TEST(paths_side_by_side)
{
	PEX_RUNDOWN_REF_CACHE_AWARE a = alloc_on(1, 5), d = alloc_on(0, 6);

	ck_assert_uint_eq(rd_ca_hdr(a)->fast, 0);
	ck_assert_uint_eq(rd_ca_hdr(d)->fast, (unsigned)rd_ca_fast_ok);
	for (int i = 0; i < 100; i++) {
		ck_assert(ExAcquireRundownProtectionCacheAwareEx(a, 2));
		ck_assert(ExAcquireRundownProtectionCacheAwareEx(d, 3));
		ExReleaseRundownProtectionCacheAware(a);
		ExReleaseRundownProtectionCacheAwareEx(d, 3);
		ExReleaseRundownProtectionCacheAware(a);
	}
	ExWaitForRundownProtectionReleaseCacheAware(a);
	ck_assert(!ExAcquireRundownProtectionCacheAware(a));
	ck_assert(ExAcquireRundownProtectionCacheAware(d));
	ExReleaseRundownProtectionCacheAware(d);
	ExWaitForRundownProtectionReleaseCacheAware(d);
	ck_assert(!ExAcquireRundownProtectionCacheAware(d));
	ExFreeCacheAwareRundownProtection(a);
	ExFreeCacheAwareRundownProtection(d);
}
END_TEST

/* Acquire on one processor, Release on the other: shares go negative. */
struct xcpu {
	PEX_RUNDOWN_REF_CACHE_AWARE r;
	int cpu;
	ULONG n;
};

static void *release_on(void *arg)
{
	struct xcpu *x = arg;

	pin(x->cpu);
	for (ULONG i = 0; i < x->n; i++)
		ExReleaseRundownProtectionCacheAware(x->r);
	return NULL;
}

START_TEST(release_on_other_cpu_then_wait)
{
	PEX_RUNDOWN_REF_CACHE_AWARE r = alloc_on(_i, 2);
	struct xcpu x = {r, 1, 1000};
	pthread_t t;

	if (CPU_COUNT(&allowed) < 2)
		x.cpu = 0;
	pin(0);
	for (ULONG i = 0; i < x.n; i++)
		ck_assert(ExAcquireRundownProtectionCacheAware(r));
	ck_assert_int_eq(pthread_create(&t, NULL, release_on, &x), 0);
	pthread_join(t, NULL);
	/* All released (on the other processor): Wait returns at once. */
	ExWaitForRundownProtectionReleaseCacheAware(r);
	ck_assert(!ExAcquireRundownProtectionCacheAware(r));
	ExReInitializeRundownProtectionCacheAware(r);
	/* Held on 0, half released on 1 before Wait, half after. */
	for (ULONG i = 0; i < x.n; i++)
		ck_assert(ExAcquireRundownProtectionCacheAwareEx(r, 3));
	for (ULONG i = 0; i < x.n; i++)
		ExReleaseRundownProtectionCacheAwareEx(r, 2);
	x.n = 1000;
	ck_assert_int_eq(pthread_create(&t, NULL, release_on, &x), 0);
	ExWaitForRundownProtectionReleaseCacheAware(r); /* returns after the thread's last */
	pthread_join(t, NULL);
	ck_assert(!ExAcquireRundownProtectionCacheAware(r));
	unpin();
	ExFreeCacheAwareRundownProtection(r);
}
END_TEST

/* A buffer with one 64-byte slot: processor 1 (>= nslots) uses ovf. */
#define ONE_SLOT_SIZE (((sizeof(struct rd_ca_hdr) + 63) & ~(size_t)63) + 64)
START_TEST(ovf_word_for_processors_beyond_slots)
{
	_Alignas(64) unsigned char buf[ONE_SLOT_SIZE + 64];
	PEX_RUNDOWN_REF_CACHE_AWARE r = (PEX_RUNDOWN_REF_CACHE_AWARE)(void *)buf;
	struct xcpu x = {r, 1, 100};
	pthread_t t;

	memset(buf, 0xa5, sizeof buf);
	init_on(_i, r, ONE_SLOT_SIZE);
	ck_assert_uint_eq(rd_ca_hdr(r)->nslots, 1);
	ck_assert_uint_eq(rd_ca_hdr(r)->stride_shift, 6);
	for (size_t i = ONE_SLOT_SIZE; i < sizeof buf; i++)
		ck_assert_uint_eq(buf[i], 0xa5); /* nothing written beyond RunRefSize */
	if (CPU_COUNT(&allowed) < 2)
		x.cpu = 0;
	/* Acquire on 1 (ovf), release on 0 (slot), and the reverse. */
	pin(x.cpu);
	for (int i = 0; i < 100; i++)
		ck_assert(ExAcquireRundownProtectionCacheAware(r));
	x.cpu = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, release_on, &x), 0);
	pthread_join(t, NULL);
	pin(0);
	for (int i = 0; i < 100; i++)
		ck_assert(ExAcquireRundownProtectionCacheAware(r));
	x.cpu = CPU_COUNT(&allowed) < 2 ? 0 : 1;
	x.n = 99;
	ck_assert_int_eq(pthread_create(&t, NULL, release_on, &x), 0);
	pthread_join(t, NULL);
	/* One unit outstanding: Wait must block until it is released. */
	x.n = 1;
	ck_assert_int_eq(pthread_create(&t, NULL, release_on, &x), 0);
	ExWaitForRundownProtectionReleaseCacheAware(r);
	pthread_join(t, NULL);
	ck_assert(!ExAcquireRundownProtectionCacheAware(r));
	ExReInitializeRundownProtectionCacheAware(r);
	ck_assert(ExAcquireRundownProtectionCacheAware(r));
	ExReleaseRundownProtectionCacheAware(r);
	ExWaitForRundownProtectionReleaseCacheAware(r);
	unpin();
	for (size_t i = ONE_SLOT_SIZE; i < sizeof buf; i++)
		ck_assert_uint_eq(buf[i], 0xa5);
}
END_TEST

/* A buffer too small for a 64-byte slot gets the compact layout (8-byte
 * slots), which the fast path does not serve: the atomic path, correct. */
START_TEST(compact_object_takes_atomic_path)
{
	_Alignas(64) unsigned char buf[sizeof(struct rd_ca_hdr) + 16 + 64];
	PEX_RUNDOWN_REF_CACHE_AWARE r = (PEX_RUNDOWN_REF_CACHE_AWARE)(void *)buf;

	memset(buf, 0xa5, sizeof buf);
	ExInitializeRundownProtectionCacheAware(r, sizeof(struct rd_ca_hdr) + 16);
	ck_assert_uint_eq(rd_ca_hdr(r)->stride_shift, 3);
	ck_assert_uint_eq(rd_ca_hdr(r)->nslots, 2);
	ck_assert_uint_eq(rd_ca_hdr(r)->fast, 0);
	ck_assert_uint_eq(atomic_load(&rd_ca_hdr(r)->open_nslots), 0);
	for (int i = 0; i < 100; i++)
		ck_assert(ExAcquireRundownProtectionCacheAwareEx(r, 2));
	for (int i = 0; i < 100; i++)
		ExReleaseRundownProtectionCacheAwareEx(r, 2);
	ExWaitForRundownProtectionReleaseCacheAware(r);
	ck_assert(!ExAcquireRundownProtectionCacheAware(r));
	ExReInitializeRundownProtectionCacheAware(r);
	ck_assert(ExAcquireRundownProtectionCacheAware(r));
	ExReleaseRundownProtectionCacheAware(r);
	for (size_t i = sizeof(struct rd_ca_hdr) + 16; i < sizeof buf; i++)
		ck_assert_uint_eq(buf[i], 0xa5);
}
END_TEST

/* A Wait that blocks: returns only after the holder's Release. */
static void *waiter_thread(void *arg)
{
	void **a = arg;

	ExWaitForRundownProtectionReleaseCacheAware(a[0]);
	atomic_store_explicit((atomic_bool *)a[1], true, memory_order_release);
	return NULL;
}

START_TEST(wait_blocks_then_fails_acquires)
{
	PEX_RUNDOWN_REF_CACHE_AWARE r = alloc_on(_i, 3);
	atomic_bool returned = false;
	void *a[2] = {r, &returned};
	pthread_t t;
	uint64_t end;

	ck_assert(ExAcquireRundownProtectionCacheAware(r));
	ck_assert_int_eq(pthread_create(&t, NULL, waiter_thread, a), 0);
	/* Once the Wait has switched the object, Acquire fails. */
	end = rd_test_now_ns() + RD_TEST_DEADLINE_NS;
	while (ExAcquireRundownProtectionCacheAware(r)) {
		ExReleaseRundownProtectionCacheAware(r);
		ck_assert(rd_test_now_ns() < end);
		sched_yield();
	}
	ck_assert(rd_test_stays_clear(&returned, RD_TEST_WINDOW_NS));
	ExReleaseRundownProtectionCacheAware(r);
	pthread_join(t, NULL);
	ck_assert(atomic_load(&returned));
	ExFreeCacheAwareRundownProtection(r);
}
END_TEST

/*
 * Signal storm.  A CLOCK_MONOTONIC timer fires every 20 us on each
 * holder thread; the handler Acquires/Releases the object (nesting inside
 * the holder's own critical sections), while the holder loops Acquire ->
 * check -> Release and the owner cycles Wait -> check -> ReInitialize.
 * Holders mark "inside"; the owner, after Wait returns, must see inside
 * == 0 and sets "down" until its ReInitialize; a holder that holds
 * protection must never see "down".
 */
static PEX_RUNDOWN_REF_CACHE_AWARE storm_ref;
static atomic_int storm_inside;
static atomic_bool storm_down, storm_stop;
static atomic_ulong storm_handler_ok, storm_handler_fail, storm_bad, storm_pairs;

static void storm_hold(void)
{
	atomic_fetch_add_explicit(&storm_inside, 1, memory_order_relaxed);
	if (atomic_load_explicit(&storm_down, memory_order_relaxed))
		atomic_fetch_add_explicit(&storm_bad, 1, memory_order_relaxed);
	atomic_fetch_sub_explicit(&storm_inside, 1, memory_order_relaxed);
}

static void storm_handler(int sig)
{
	int e = errno;

	(void)sig;
	if (ExAcquireRundownProtectionCacheAwareEx(storm_ref, 2)) {
		storm_hold();
		ExReleaseRundownProtectionCacheAwareEx(storm_ref, 2);
		atomic_fetch_add_explicit(&storm_handler_ok, 1, memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(&storm_handler_fail, 1, memory_order_relaxed);
	}
	errno = e;
}

static void *storm_holder(void *arg)
{
	unsigned long *ok = arg;
	struct sigevent sev = {0};
	struct itimerspec its = {{0, 20000}, {0, 20000}};
	timer_t tm;

	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = SIGRTMIN;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	ck_assert_int_eq(timer_create(CLOCK_MONOTONIC, &sev, &tm), 0);
	ck_assert_int_eq(timer_settime(tm, 0, &its, NULL), 0);
	while (!atomic_load_explicit(&storm_stop, memory_order_relaxed)) {
		if (ExAcquireRundownProtectionCacheAware(storm_ref)) {
			storm_hold();
			ExReleaseRundownProtectionCacheAware(storm_ref);
			(*ok)++;
			atomic_fetch_add_explicit(&storm_pairs, 1, memory_order_relaxed);
		}
	}
	timer_delete(tm);
	return NULL;
}

START_TEST(signal_storm)
{
	struct sigaction sa = {0};
	pthread_t h[2];
	unsigned long ok[2] = {0, 0}, cycles = 0;
	const char *env = getenv("RUNDOWN_STORM_MS");
	uint64_t end = rd_test_now_ns() +
		       (uint64_t)(env != NULL ? strtoul(env, NULL, 0) : 1500) * 1000000ull;

	storm_ref = alloc_on(_i, 4);
	atomic_store(&storm_stop, false);
	atomic_store(&storm_bad, 0);
	atomic_store(&storm_handler_ok, 0);
	atomic_store(&storm_handler_fail, 0);
	sa.sa_handler = storm_handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGRTMIN, &sa, NULL), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&h[i], NULL, storm_holder, &ok[i]), 0);
	while (rd_test_now_ns() < end) {
		ExWaitForRundownProtectionReleaseCacheAware(storm_ref);
		if (atomic_load_explicit(&storm_inside, memory_order_relaxed) != 0)
			atomic_fetch_add_explicit(&storm_bad, 1000000, memory_order_relaxed);
		atomic_store_explicit(&storm_down, true, memory_order_relaxed);
		sched_yield(); /* let holders try (and fail) while it is down */
		atomic_store_explicit(&storm_down, false, memory_order_relaxed);
		ExReInitializeRundownProtectionCacheAware(storm_ref);
		cycles++;
		/* Open for a while: until the holders made 4096 pairs, or 2 ms. */
		{
			unsigned long p0 = atomic_load_explicit(&storm_pairs, memory_order_relaxed);
			uint64_t open_end = rd_test_now_ns() + 2000000;

			while (atomic_load_explicit(&storm_pairs, memory_order_relaxed) - p0 < 4096 &&
			       rd_test_now_ns() < open_end)
				;
		}
	}
	atomic_store(&storm_stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(h[i], NULL);
	ExWaitForRundownProtectionReleaseCacheAware(storm_ref);
	printf("fast_path_test: storm on the %s path: %lu owner cycles, %lu+%lu holder pairs, %lu handler "
	       "pairs, %lu handler failures, process path %s\n",
	       rd_ca_hdr(storm_ref)->fast ? "fast" : "atomic", cycles, ok[0], ok[1], atomic_load(&storm_handler_ok),
	       atomic_load(&storm_handler_fail), rd_ca_path());
	ck_assert_uint_eq(atomic_load(&storm_bad), 0);
	ck_assert_uint_gt(atomic_load(&storm_handler_ok), 0);
	signal(SIGRTMIN, SIG_IGN);
	ExFreeCacheAwareRundownProtection(storm_ref);
}
END_TEST

static Suite *fast_path_suite(void)
{
	Suite *s = suite_create("fast_path");
	TCase *tc = tcase_create("path");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, path_is_reported);
	tcase_add_test(tc, fast_path_enabled_when_possible);
	tcase_add_test(tc, fallback_no_rseq_env);
	tcase_add_test(tc, fallback_glibc_rseq_off);
	tcase_add_test(tc, fallback_no_membarrier);
	tcase_add_test(tc, fallback_sched_getcpu_interposed);
	tcase_add_test(tc, paths_side_by_side);
	tcase_add_loop_test(tc, release_on_other_cpu_then_wait, 0, 2);
	tcase_add_loop_test(tc, ovf_word_for_processors_beyond_slots, 0, 2);
	tcase_add_test(tc, compact_object_takes_atomic_path);
	tcase_add_loop_test(tc, wait_blocks_then_fails_acquires, 0, 2);
	tcase_add_loop_test(tc, signal_storm, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	SRunner *sr;
	int failed;
	ssize_t n;

	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		return child(argv[2]);
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return 99;
	self[n] = '\0';
	sched_getaffinity(0, sizeof allowed, &allowed);
	sr = srunner_create(fast_path_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
