/*
 * impl/cpu.c - processor count, and the choice of how to read the
 * processor number (see cpu.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if HAVE_SYS_RSEQ_H
#include <sys/rseq.h>
#endif

#include "impl/cpu.h"

ptrdiff_t rd_cpu_rseq_cpu_id_off;

/*
 * Runs when librundown is loaded, before any ref exists.  The rseq path is
 * taken only if (1) glibc registered rseq for this process, (2) the
 * sched_getcpu that the program resolves is libc's own (not a preloaded
 * shim: dladdr names the object that defines it), and (3) RUNDOWN_NO_RSEQ
 * is not set in the environment.  Without
 * TSan: the TSan runtime does not model the kernel's writes to the rseq
 * area, so the TSan build always calls sched_getcpu().
 */
__attribute__((constructor)) static void rd_cpu_init(void)
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
	if (strncmp(base, "libc.so", 7) != 0)
		return; /* interposed: always ask the interposer */
	cpu = *(volatile const int32_t *)((char *)__builtin_thread_pointer() + __rseq_offset +
					  offsetof(struct rseq, cpu_id));
	if (cpu < 0)
		return; /* registration failed */
	rd_cpu_rseq_cpu_id_off = __rseq_offset + (ptrdiff_t)offsetof(struct rseq, cpu_id);
#endif
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

unsigned rd_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	if (n < 1)
		return 1;
	if ((unsigned long)n > RD_CPU_MAX)
		return RD_CPU_MAX;
	return (unsigned)n;
}
