/*
 * inject/inject.h - the control API of the preloaded shim
 * (librundown-inject.so); installed as <rundown/inject.h>.
 *
 * A program does not link the shim: it is LD_PRELOADed, or not.  So call
 * these through dlsym(RTLD_DEFAULT, name) (the typedefs below), which
 * finds them exactly when the shim is loaded; a NULL answer means "no shim".
 *
 *	rundown_inject_irql_enter(routine) / rundown_inject_irql_leave()
 *		Mark the calling thread as "at DISPATCH_LEVEL inside routine"
 *		(nests).  With irql=record|abort in RUNDOWN_INJECT, a blocking
 *		call made meanwhile (mutex lock, condition/futex/semaphore wait,
 *		sleep, blocking I/O) is a violation; an allocation a warning.
 *	rundown_inject_alloc_arm() / rundown_inject_alloc_disarm()
 *		Open/close the calling thread's armed window (nests): alloc=...,
 *		scope=armed fails only allocations inside it, and the shim keeps
 *		the set of blocks allocated inside it that are still live.
 *	rundown_inject_alloc_configure(value)
 *		Replace the alloc= clause at run time (value as after "alloc=",
 *		e.g. "nth:3,scope=armed") and reset the call and fault counters.
 *		0, or -1 with the parser's message on stderr.
 *	rundown_inject_stats(out, size)
 *		Copy the counters below (size = sizeof *out; older callers with a
 *		smaller struct get a prefix).
 *	rundown_inject_spec(buf, len)
 *		The canonical spec in force, seed included: the reproduce line.
 *	rundown_inject_irql_first(buf, len)
 *		The first IRQL violation, "<call> inside <routine>" (e.g.
 *		"pthread_mutex_lock inside ExAcquireRundownProtection"), or ""
 *		when none; returns the length needed, like rundown_inject_spec.
 *	rundown_inject_cpu_virtual()
 *		1 if RUNDOWN_INJECT makes up processor numbers or the processor
 *		count (cpu=, ncpu=) or cannot be parsed, else 0.  Callable at any
 *		time, before the shim's constructor too (it reads the
 *		environment itself): a library that reads the processor number
 *		from the rseq area (librundown's fast path) asks it at start-up
 *		and keeps to sched_getcpu() only when the shim changes answers.
 *
 * All are async-signal-safe except alloc_configure and cpu_virtual.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_INJECT_H
#define RUNDOWN_INJECT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rundown_inject_stats {
	uint64_t seed;               /* the seed in force */
	uint64_t features;           /* RUNDOWN_INJECT_F_* */
	uint64_t calls;              /* interposed calls that took the slow path */
	uint64_t sched_getcpu_calls; /* sched_getcpu() + getcpu() + syscall(SYS_getcpu) */
	uint64_t ncpu_queries;       /* sysconf(NPROCESSORS), get_nprocs[_conf]() */
	uint64_t cpu_virtualised;    /* processor numbers the shim made up */
	uint64_t yields, delays, starvations, pct_changes;
	uint64_t alloc_calls;        /* allocation calls seen (any scope) */
	uint64_t alloc_eligible;     /* of which eligible for a fault */
	uint64_t alloc_faults;       /* NULL returned on purpose */
	int64_t alloc_live;          /* blocks allocated in armed windows, not freed */
	uint64_t alloc_untracked;    /* armed blocks the bounded table could not hold */
	uint64_t alloc_bypassed;     /* 1: malloc is bound to another allocator (sanitizer) */
	uint64_t futex_waits, futex_spurious, futex_eintr;
	uint64_t cond_waits, cond_spurious, sem_eintr;
	uint64_t irql_violations;    /* blocking calls while at DISPATCH_LEVEL */
	uint64_t irql_alloc_warnings;/* allocations while at DISPATCH_LEVEL */
	uint64_t pct_fifo;           /* 1: PCT runs with SCHED_FIFO on one CPU */
	uint64_t pct_demotions;      /* PCT watchdog: stalls broken by demoting to SCHED_OTHER */
};

/* Feature bits (stats.features). */
#define RUNDOWN_INJECT_F_YIELD (1u << 0)
#define RUNDOWN_INJECT_F_DELAY (1u << 1)
#define RUNDOWN_INJECT_F_CHAOS (1u << 2)
#define RUNDOWN_INJECT_F_PCT (1u << 3)
#define RUNDOWN_INJECT_F_CPU (1u << 4)
#define RUNDOWN_INJECT_F_NCPU (1u << 5)
#define RUNDOWN_INJECT_F_ALLOC (1u << 6)
#define RUNDOWN_INJECT_F_FUTEX (1u << 7)
#define RUNDOWN_INJECT_F_IRQL (1u << 8)
#define RUNDOWN_INJECT_F_LOG (1u << 9)

void rundown_inject_irql_enter(const char *routine);
void rundown_inject_irql_leave(void);
void rundown_inject_alloc_arm(void);
void rundown_inject_alloc_disarm(void);
int rundown_inject_alloc_configure(const char *value);
int rundown_inject_stats(struct rundown_inject_stats *out, size_t size);
size_t rundown_inject_spec(char *buf, size_t len);
size_t rundown_inject_irql_first(char *buf, size_t len);
void rundown_inject_pct_exempt(void);
int rundown_inject_cpu_virtual(void);

typedef void (*rundown_inject_irql_enter_fn)(const char *routine);
typedef void (*rundown_inject_void_fn)(void);
typedef int (*rundown_inject_alloc_configure_fn)(const char *value);
typedef int (*rundown_inject_stats_fn)(struct rundown_inject_stats *out, size_t size);
typedef size_t (*rundown_inject_spec_fn)(char *buf, size_t len);
typedef int (*rundown_inject_cpu_virtual_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_INJECT_H */
