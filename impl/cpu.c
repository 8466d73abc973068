/*
 * impl/cpu.c - processor count, and the choice of how to read the
 * processor number (see cpu.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#if HAVE_SYS_RSEQ_H
#include <sys/rseq.h>
#endif
#if HAVE_LINUX_MEMBARRIER_H
#include <linux/membarrier.h>
#endif

#include "impl/cpu.h"
#include "impl/rseq.h"

ptrdiff_t rd_cpu_rseq_cpu_id_off;
int rd_ca_fast_ok;
int rd_ca_fast;
static char rd_ca_why[160] = "atomic (not selected yet)";

#if RD_HAVE_RSEQ_CS && HAVE_LINUX_MEMBARRIER_H && defined(SYS_membarrier)
#define RD_CAN_FAST 1
/* Through libc's syscall(), like futex.h, so the inject/ shims see it. */
static int rd_membarrier(int cmd)
{
	return (int)syscall(SYS_membarrier, cmd, 0u, 0);
}
#else
#define RD_CAN_FAST 0
#endif

static void rd_ca_atomic_because(const char *why, const char *detail)
{
	snprintf(rd_ca_why, sizeof(rd_ca_why), "atomic (%s%s%s)", why, detail ? ": " : "",
		 detail ? detail : "");
}

/*
 * Once, from rd_cpu_init: may the cache-aware family use the rseq +
 * membarrier fast path?  Needs the rseq cpu_id source (rseq registered by
 * glibc, sched_getcpu not interposed, RUNDOWN_NO_RSEQ unset, not TSan),
 * x86-64, and membarrier offering and registering PRIVATE_EXPEDITED_RSEQ
 * (old kernel, seccomp: no).  Plain PRIVATE_EXPEDITED is not enough: a
 * section that read OPEN before Wait's state change must be aborted by
 * the IPI, not merely fenced, or its add would land after Wait's sum.
 */
static void rd_ca_select(void)
{
#if !RD_CAN_FAST
#if defined(__SANITIZE_THREAD__)
	rd_ca_atomic_because("ThreadSanitizer build: TSan models neither rseq nor membarrier",
			     NULL);
#else
	rd_ca_atomic_because("no rseq critical section or membarrier for this build", NULL);
#endif
#else
	char detail[96];
	int q;

	if (rd_cpu_rseq_cpu_id_off == 0) {
		if (getenv("RUNDOWN_NO_RSEQ") != NULL)
			rd_ca_atomic_because("RUNDOWN_NO_RSEQ is set", NULL);
#if HAVE_DECL___RSEQ_SIZE
		else if (__rseq_size < RD_RSEQ_MIN_SIZE) {
			snprintf(detail, sizeof(detail), "__rseq_size %u", (unsigned)__rseq_size);
			rd_ca_atomic_because("rseq not registered by glibc", detail);
		}
#endif
		else
			rd_ca_atomic_because("sched_getcpu is interposed (inject shims?) or rseq "
					     "registration failed", NULL);
		return;
	}
	q = rd_membarrier(MEMBARRIER_CMD_QUERY);
	if (q < 0 || !(q & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ)) {
		snprintf(detail, sizeof(detail), "%s",
			 q < 0 ? strerror(errno) : "PRIVATE_EXPEDITED_RSEQ not offered");
		rd_ca_atomic_because("membarrier unavailable", detail);
		return;
	}
	if (rd_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ) != 0) {
		snprintf(detail, sizeof(detail), "%s", strerror(errno));
		rd_ca_atomic_because("membarrier REGISTER_PRIVATE_EXPEDITED_RSEQ failed", detail);
		return;
	}
	rd_ca_fast_ok = 1;
	rd_ca_fast = 1;
	snprintf(rd_ca_why, sizeof(rd_ca_why), "rseq+membarrier");
#endif
}

const char *rd_ca_path(void)
{
	return rd_ca_fast ? "rseq+membarrier" : rd_ca_why;
}

int rd_ca_select_path(int fast)
{
	rd_ca_fast = fast && rd_ca_fast_ok;
	return rd_ca_fast;
}

#if RD_CAN_FAST
void rd_ca_membarrier(void)
{
	int saved = errno;

	for (;;) {
		if (rd_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) == 0)
			break;
		if (errno == EPERM) {
			/* Not registered: a child of fork() (the registration
			 * belongs to the parent's mm).  Register and retry. */
			if (rd_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ) == 0)
				continue;
		} else if (errno == EINTR || errno == EAGAIN || errno == ENOMEM) {
			struct timespec ts = {0, 100000};

			nanosleep(&ts, NULL);
			continue;
		}
		/* The fast path cannot be correct without it, and objects
		 * initialized on it cannot change path: refuse loudly. */
		fprintf(stderr, "librundown: membarrier(PRIVATE_EXPEDITED_RSEQ): %s\n",
			strerror(errno));
		abort();
	}
	errno = saved;
}
#else
void rd_ca_membarrier(void)
{
	abort(); /* never called: rd_ca_fast stays 0 */
}
#endif

/*
 * Runs when librundown is loaded, before any ref exists.  The rseq path is
 * taken only if (1) glibc registered rseq for this process, (2) the
 * sched_getcpu that the program resolves is libc's own (not a preloaded
 * shim: dladdr names the object that defines it), and (3) RUNDOWN_NO_RSEQ
 * is not set in the environment.  Without
 * TSan: the TSan runtime does not model the kernel's writes to the rseq
 * area, so the TSan build always calls sched_getcpu().
 */
/*
 * sched_getcpu is not libc's.  The inject/ shim interposes it in every
 * profile but changes its answers only under cpu= or ncpu=; it says so
 * through rundown_inject_cpu_virtual() (inject.h), which reads the
 * environment itself, so this may run before the shim's constructor.
 * Any other interposer is trusted to mean it.
 */
#if HAVE_SYS_RSEQ_H && HAVE_DECL___RSEQ_OFFSET && HAVE_DECL___RSEQ_SIZE && \
	!defined(__SANITIZE_THREAD__)
static int rd_cpu_interposer_is_transparent(void)
{
	int (*virt)(void);

	*(void **)&virt = dlsym(RTLD_DEFAULT, "rundown_inject_cpu_virtual");
	return virt != NULL && virt() == 0;
}
#endif

static void rd_cpu_pick(void)
{
#if HAVE_SYS_RSEQ_H && HAVE_DECL___RSEQ_OFFSET && HAVE_DECL___RSEQ_SIZE && \
	!defined(__SANITIZE_THREAD__)
	Dl_info where;
	const char *base;
	void *seen;
	int32_t cpu;

	if (__rseq_size < 8 || getenv("RUNDOWN_NO_RSEQ") != NULL)
		return;
	/* Who defines the sched_getcpu the program sees?  dladdr allocates
	 * nothing (dlopen of libc would, and its block looks leaked to LSan
	 * under malloc interposers). */
	seen = dlsym(RTLD_DEFAULT, "sched_getcpu");
	if (seen == NULL || dladdr(seen, &where) == 0 || where.dli_fname == NULL)
		return;
	base = strrchr(where.dli_fname, '/');
	base = base ? base + 1 : where.dli_fname;
	if (strncmp(base, "libc.so", 7) != 0 && !rd_cpu_interposer_is_transparent())
		return; /* interposed: always ask the interposer */
	cpu = *(volatile const int32_t *)((char *)__builtin_thread_pointer() + __rseq_offset +
					  offsetof(struct rseq, cpu_id));
	if (cpu < 0)
		return; /* registration failed */
	rd_cpu_rseq_cpu_id_off = __rseq_offset + (ptrdiff_t)offsetof(struct rseq, cpu_id);
#endif
}

/* Runs when librundown is loaded, before any ref exists. */
__attribute__((constructor)) static void rd_cpu_init(void)
{
	rd_cpu_pick();
	rd_ca_select();
}

unsigned rd_cpu_current_slow(void)
{
	int cpu = sched_getcpu();

	return cpu < 0 ? 0u : (unsigned)cpu;
}

const char *rd_cpu_source(void)
{
	return rd_cpu_rseq_cpu_id_off != 0 ? "rseq" : "sched_getcpu";
}

/*
 * The configured count is fixed for the life of the process (the kernel's
 * possible mask, or the shim's ncpu=): ask once.  glibc reads it from
 * /sys on every sysconf() call, which would dominate Size and Allocate.
 * Relaxed is enough: every thread computes the same value.
 */
static _Atomic unsigned rd_cpu_count_cached;

unsigned rd_cpu_count(void)
{
	unsigned c = atomic_load_explicit(&rd_cpu_count_cached, memory_order_relaxed);
	long n;

	if (c != 0)
		return c;
	n = sysconf(_SC_NPROCESSORS_CONF);
	if (n < 1)
		c = 1;
	else if ((unsigned long)n > RD_CPU_MAX)
		c = RD_CPU_MAX;
	else
		c = (unsigned)n;
	atomic_store_explicit(&rd_cpu_count_cached, c, memory_order_relaxed);
	return c;
}
