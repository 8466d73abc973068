/*
 * inject/shim_cpu.c - CPU virtualisation: the processor number the program
 * reads (sched_getcpu, getcpu, syscall(SYS_getcpu)) and the processor count
 * it is told (sysconf(_SC_NPROCESSORS_CONF/ONLN), get_nprocs[_conf]).
 *
 * sched_getcpu() first asks the real one, then runs the hook: a delay drawn
 * there lands between "read my processor" and "use its slot", the window
 * where a real migration hurts.
 *
 * Bypass: glibc 2.35+ answers sched_getcpu() from the rseq area; a backend
 * that reads rseq (or uses RDPID/RDTSCP, or the vDSO) itself never calls
 * us.  sched_getcpu_calls in rundown_inject_stats() lets the runner see
 * that (README.md, "rseq").
 */
#include "config.h"

#include <stdlib.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "inject/shim.h"

static unsigned rd_real_ncpu = 1;

void rd_cpu_init(void)
{
	long n = RD_REAL(sysconf)(_SC_NPROCESSORS_CONF);

	rd_real_ncpu = n < 1 ? 1u : (unsigned)n;
}

/* Parses the environment itself: librundown's constructor may run before
 * ours (unrelated libraries are initialized in reverse load order). */
RD_EXPORT int rundown_inject_cpu_virtual(void)
{
	const char *spec = getenv("RUNDOWN_INJECT");
	struct rundown_inject_cfg cfg;
	char err[256];

	if (spec == NULL || *spec == '\0')
		return 0;
	if (rundown_inject_parse(spec, &cfg, err, sizeof err) != 0)
		return 1; /* the constructor reports it; assume the worst */
	return (rd_features_of(&cfg) & (RUNDOWN_INJECT_F_CPU | RUNDOWN_INJECT_F_NCPU)) != 0;
}

static unsigned rd_ncpu(void)
{
	return rd_cfg.ncpu ? rd_cfg.ncpu : rd_real_ncpu;
}

int rd_cpu_virtual(struct rd_thread *t, int real, const char *site)
{
	unsigned n = rd_ncpu();
	int c;

	RD_COUNT(sched_getcpu_calls);
	if (t == NULL || !(RD_FLAGS() & (RUNDOWN_INJECT_F_CPU | RUNDOWN_INJECT_F_NCPU)))
		return real;
	switch (rd_cfg.cpu.mode) {
	case RUNDOWN_INJECT_CPU_RANDOM:
		c = (int)(rd_rand(t) % n);
		break;
	case RUNDOWN_INJECT_CPU_MIGRATE:
		if (n < 2) { /* no other processor: alternate with a hot-added one */
			c = t->last_cpu == 0 ? 1 : 0;
			break;
		}
		c = (int)(rd_rand(t) % (n - 1u));
		if (t->last_cpu >= 0 && c >= t->last_cpu)
			c++; /* uniform over the n-1 others; never the previous answer */
		break;
	case RUNDOWN_INJECT_CPU_HOTPLUG:
		if (rd_chance(t, rd_cfg.cpu.p))
			c = (int)(n + rd_rand(t) % rd_cfg.cpu.span);
		else
			c = (int)(rd_rand(t) % n);
		break;
	case RUNDOWN_INJECT_CPU_FIXED:
		c = (int)rd_cfg.cpu.n;
		break;
	default: /* ncpu= alone: keep the real number inside the reported count */
		c = real < 0 ? 0 : (int)((unsigned)real % n);
		break;
	}
	t->last_cpu = c;
	RD_COUNT(cpu_virtualised);
	rd_log(t, site, "cpu", c, 1);
	return c;
}

RD_EXPORT int sched_getcpu(void)
{
	int real = RD_REAL(sched_getcpu)();

	if (RD_ON() && real >= 0)
		return rd_cpu_virtual(rd_hook("sched_getcpu", RD_K_PLAIN), real, "sched_getcpu");
	return real;
}

RD_EXPORT int getcpu(unsigned *cpu, unsigned *node)
{
	int r;

	if (RD_UNLIKELY(rd_real.getcpu == NULL))
		rd_resolve_all();
	r = rd_real.getcpu(cpu, node);
	if (RD_ON() && r == 0 && cpu != NULL)
		*cpu = (unsigned)rd_cpu_virtual(rd_hook("getcpu", RD_K_PLAIN), (int)*cpu, "getcpu");
	return r;
}

RD_EXPORT long sysconf(int name)
{
	if (RD_ON() && (RD_FLAGS() & RUNDOWN_INJECT_F_NCPU) &&
	    (name == _SC_NPROCESSORS_CONF || name == _SC_NPROCESSORS_ONLN)) {
		RD_COUNT(ncpu_queries);
		return (long)rd_cfg.ncpu;
	}
	return RD_REAL(sysconf)(name);
}

RD_EXPORT int get_nprocs(void)
{
	if (RD_ON() && (RD_FLAGS() & RUNDOWN_INJECT_F_NCPU)) {
		RD_COUNT(ncpu_queries);
		return (int)rd_cfg.ncpu;
	}
	return RD_REAL(get_nprocs)();
}

RD_EXPORT int get_nprocs_conf(void)
{
	if (RD_ON() && (RD_FLAGS() & RUNDOWN_INJECT_F_NCPU)) {
		RD_COUNT(ncpu_queries);
		return (int)rd_cfg.ncpu;
	}
	return RD_REAL(get_nprocs_conf)();
}
