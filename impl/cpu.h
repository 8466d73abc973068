/*
 * impl/cpu.h - processor number and processor count.
 *
 * The processor number is read from the thread's rseq area (glibc 2.35+
 * registers one per thread and exports __rseq_offset/__rseq_size), which
 * costs one load.  It falls back to libc's sched_getcpu() when rseq is not
 * registered (old glibc, GLIBC_TUNABLES=glibc.pthread.rseq=0, seccomp) and
 * whenever sched_getcpu is interposed (the inject/ shims preloaded), so a
 * shim that perturbs processor numbers is always obeyed: rd_cpu_init()
 * compares the sched_getcpu the program sees with libc's own.
 *
 * The processor count comes from sysconf(_SC_NPROCESSORS_CONF), through
 * libc, so the shims can change it too; it is asked once per process.
 */
#ifndef RUNDOWN_IMPL_CPU_H
#define RUNDOWN_IMPL_CPU_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

/* Offset of the rseq cpu_id field from the thread pointer, or 0 when the
 * rseq fast path is off (set once, before any ref can exist). */
extern ptrdiff_t rd_cpu_rseq_cpu_id_off __attribute__((visibility("hidden")));

/* sched_getcpu() through libc; 0 if the kernel cannot tell.  Out of line
 * and cold, so the rseq path of rd_cpu_current() needs no stack frame. */
unsigned rd_cpu_current_slow(void) __attribute__((cold, visibility("hidden")));

/* Current processor number; 0 if the kernel cannot tell. */
static inline unsigned rd_cpu_current(void)
{
	int cpu;

	if (__builtin_expect(rd_cpu_rseq_cpu_id_off != 0, 1)) {
		/* rseq cpu_id: written by the kernel on every migration of this
		 * thread; any value read is a processor this thread ran on. */
		cpu = *(volatile const int32_t *)((char *)__builtin_thread_pointer() +
						  rd_cpu_rseq_cpu_id_off);
		if (__builtin_expect(cpu >= 0, 1))
			return (unsigned)cpu;
	}
	return rd_cpu_current_slow();
}

/* Configured processors (>= 1), capped at RD_CPU_MAX. */
unsigned rd_cpu_count(void) __attribute__((visibility("hidden")));

/* How rd_cpu_current() reads the processor: "rseq" or "sched_getcpu". */
const char *rd_cpu_source(void) __attribute__((visibility("hidden")));

/*
 * The cache-aware family's path (cache_aware.c), chosen by rd_cpu_init()
 * before any ref exists.  rd_ca_fast_ok: the rseq + membarrier fast path
 * is usable in this process.  rd_ca_fast: the path that objects
 * initialized from now on take (each object records it at Initialize and
 * keeps it for life); equal to rd_ca_fast_ok unless rd_ca_select_path()
 * (benchmark and tests, statically linked: these names are hidden) asked
 * for the atomic path.
 */
extern int rd_ca_fast_ok __attribute__((visibility("hidden")));
extern int rd_ca_fast __attribute__((visibility("hidden")));

/* "rseq+membarrier", or "atomic (why)". */
const char *rd_ca_path(void) __attribute__((visibility("hidden")));

/* Objects initialized from now on take the fast path if fast and it is
 * usable, else the atomic path.  Returns the path taken (1 fast). */
int rd_ca_select_path(int fast) __attribute__((visibility("hidden")));

/* membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ), registering again in
 * a fork()ed child; aborts if the kernel refuses (fast path only). */
void rd_ca_membarrier(void) __attribute__((visibility("hidden")));

#define RD_CPU_MAX 4096u

#endif /* RUNDOWN_IMPL_CPU_H */
