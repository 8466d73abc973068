/*
 * impl/cpu.h - processor number and processor count, through libc.
 *
 * Both go through libc's sched_getcpu() and sysconf() on purpose: the
 * inject/ shims interpose those calls to simulate migrations, hot-added
 * processors and odd processor counts.
 */
#ifndef RUNDOWN_IMPL_CPU_H
#define RUNDOWN_IMPL_CPU_H

#include <sched.h>

/* Current processor number; 0 if the kernel cannot tell. */
static inline unsigned rd_cpu_current(void)
{
	int cpu = sched_getcpu();

	return cpu < 0 ? 0u : (unsigned)cpu;
}

/* Configured processors (>= 1), capped at RD_CPU_MAX. */
unsigned rd_cpu_count(void);

#define RD_CPU_MAX 4096u

#endif /* RUNDOWN_IMPL_CPU_H */
