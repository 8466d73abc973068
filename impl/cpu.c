/*
 * impl/cpu.c - processor count for sizing cache-aware refs.
 */
#include "config.h"

#include <unistd.h>

#include "impl/cpu.h"

unsigned rd_cpu_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	if (n < 1)
		return 1;
	if ((unsigned long)n > RD_CPU_MAX)
		return RD_CPU_MAX;
	return (unsigned)n;
}
