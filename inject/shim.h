/*
 * inject/shim.h - internals shared by the shim's files (shim.c: start-up,
 * PRNG, log, scheduling, IRQL; shim_alloc.c; shim_cpu.c; shim_sync.c).
 *
 * Every interposer is
 *
 *	if (__builtin_expect(rd_flags != 0, 0))
 *		<slow path: rd_hook(), decisions>
 *	return RD_REAL(fn)(args);
 *
 * so with no feature on the cost is one predictable branch on a global
 * word plus the indirect call.  rd_flags is written once, in the
 * constructor (and by rundown_inject_alloc_configure), before the program
 * starts threads; readers use relaxed loads.
 *
 * Real functions are resolved lazily with dlsym(RTLD_NEXT) (glibc >= 2.34
 * answers the default version, e.g. pthread_cond_wait@@GLIBC_2.3.2, and a
 * sanitizer runtime's unversioned interceptor when it comes next), all at
 * once on first need: interposers
 * can run before our constructor (other libraries' constructors, ld.so).
 * While a thread resolves, its allocations come from a static arena
 * (dlsym may calloc), never freed to libc.
 */
#ifndef RUNDOWN_INJECT_SHIM_H
#define RUNDOWN_INJECT_SHIM_H

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/select.h>
#include <poll.h>
#include <time.h>

#include "inject/inject.h"
#include "inject/spec.h"

#define RD_EXPORT __attribute__((visibility("default")))
#define RD_HIDDEN __attribute__((visibility("hidden")))
#define RD_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* The one branch of the fast path: is any feature on? */
#define RD_ON() RD_UNLIKELY(atomic_load_explicit(&rd_flags, memory_order_relaxed) != 0)
#define RD_FLAGS() atomic_load_explicit(&rd_flags, memory_order_relaxed)

/* The functions we call through; X(name, type-of-pointer, version or NULL). */
#define RD_REAL_FUNCS(X)                                                              \
	X(malloc, void *(*)(size_t), NULL)                                            \
	X(calloc, void *(*)(size_t, size_t), NULL)                                    \
	X(realloc, void *(*)(void *, size_t), NULL)                                   \
	X(free, void (*)(void *), NULL)                                               \
	X(posix_memalign, int (*)(void **, size_t, size_t), NULL)                     \
	X(aligned_alloc, void *(*)(size_t, size_t), NULL)                             \
	X(memalign, void *(*)(size_t, size_t), NULL)                                  \
	X(valloc, void *(*)(size_t), NULL)                                            \
	X(sched_getcpu, int (*)(void), NULL)                                          \
	X(getcpu, int (*)(unsigned *, unsigned *), NULL)                              \
	X(sysconf, long (*)(int), NULL)                                               \
	X(get_nprocs, int (*)(void), NULL)                                            \
	X(get_nprocs_conf, int (*)(void), NULL)                                       \
	X(syscall, long (*)(long, ...), NULL)                                         \
	X(sched_yield, int (*)(void), NULL)                                           \
	X(nanosleep, int (*)(const struct timespec *, struct timespec *), NULL)       \
	X(clock_nanosleep, int (*)(clockid_t, int, const struct timespec *,          \
				   struct timespec *), NULL)                           \
	X(usleep, int (*)(useconds_t), NULL)                                          \
	X(sleep, unsigned (*)(unsigned), NULL)                                        \
	X(read, ssize_t (*)(int, void *, size_t), NULL)                               \
	X(poll, int (*)(struct pollfd *, nfds_t, int), NULL)                          \
	X(select, int (*)(int, fd_set *, fd_set *, fd_set *, struct timeval *), NULL) \
	X(pthread_create, int (*)(pthread_t *, const pthread_attr_t *,               \
				  void *(*)(void *), void *), NULL)                    \
	X(pthread_mutex_lock, int (*)(pthread_mutex_t *), NULL)                       \
	X(pthread_mutex_trylock, int (*)(pthread_mutex_t *), NULL)                    \
	X(pthread_mutex_timedlock, int (*)(pthread_mutex_t *,                        \
					   const struct timespec *), NULL)             \
	X(pthread_mutex_unlock, int (*)(pthread_mutex_t *), NULL)                     \
	X(pthread_cond_wait, int (*)(pthread_cond_t *, pthread_mutex_t *), NULL) \
	X(pthread_cond_timedwait, int (*)(pthread_cond_t *, pthread_mutex_t *,       \
					  const struct timespec *), NULL)     \
	X(pthread_cond_signal, int (*)(pthread_cond_t *), NULL)              \
	X(pthread_cond_broadcast, int (*)(pthread_cond_t *), NULL)           \
	X(pthread_rwlock_rdlock, int (*)(pthread_rwlock_t *), NULL)                   \
	X(pthread_rwlock_wrlock, int (*)(pthread_rwlock_t *), NULL)                   \
	X(pthread_rwlock_tryrdlock, int (*)(pthread_rwlock_t *), NULL)                \
	X(pthread_rwlock_trywrlock, int (*)(pthread_rwlock_t *), NULL)                \
	X(pthread_rwlock_unlock, int (*)(pthread_rwlock_t *), NULL)                   \
	X(sem_wait, int (*)(sem_t *), NULL)                                           \
	X(sem_timedwait, int (*)(sem_t *, const struct timespec *), NULL)             \
	X(sem_trywait, int (*)(sem_t *), NULL)                                        \
	X(sem_post, int (*)(sem_t *), NULL)

struct rd_real {
#define RD_REAL_FIELD(name, type, version) __typeof__(type) name;
	RD_REAL_FUNCS(RD_REAL_FIELD)
#undef RD_REAL_FIELD
};

extern struct rd_real rd_real RD_HIDDEN;
void rd_resolve_all(void) RD_HIDDEN;

#define RD_REAL(name) \
	(__builtin_expect(rd_real.name != NULL, 1) ? rd_real.name : (rd_resolve_all(), rd_real.name))

/* Internal feature bits: the public ones (inject.h) plus derived ones. */
#define RD_F_SCHED (RUNDOWN_INJECT_F_YIELD | RUNDOWN_INJECT_F_DELAY | \
		    RUNDOWN_INJECT_F_CHAOS | RUNDOWN_INJECT_F_PCT)

extern _Atomic unsigned rd_flags RD_HIDDEN;
extern struct rundown_inject_cfg rd_cfg RD_HIDDEN;

/* Per-thread state; static TLS (initial-exec: no allocation on access). */
struct rd_thread {
	uint64_t rng;            /* splitmix64 state */
	uint64_t calls;          /* interposed calls on the slow path */
	uint32_t index;          /* creation index: 0 main, 1.. by pthread_create */
	uint8_t inited;
	uint8_t in_shim;         /* inside the shim's own slow path */
	uint8_t resolving;       /* inside rd_resolve_all(): allocate from the arena */
	uint8_t pct_fifo;
	unsigned alloc_armed;    /* armed-window depth */
	unsigned irql_depth;     /* DISPATCH_LEVEL depth */
	const char *irql_routine;
	int last_cpu;            /* last virtual processor number, -1 none */
	int pct_prio;            /* PCT priority, higher runs first */
	int pct_slot;            /* index + 1 in the PCT thread table, 0 none */
	uint8_t pct_exempt;      /* the runner's parent: above every test thread */
};

extern __thread struct rd_thread rd_self
	__attribute__((tls_model("initial-exec"))) RD_HIDDEN;

/* Kinds of interposed calls, for the IRQL check. */
enum rd_kind {
	RD_K_PLAIN,    /* may run at DISPATCH_LEVEL */
	RD_K_BLOCKING, /* may block: a violation at DISPATCH_LEVEL */
	RD_K_ALLOC,    /* allocation: a warning at DISPATCH_LEVEL */
};

/* Shared counters, one cache line apart from rd_flags is not worth it here. */
struct rd_counters {
#define RD_CTR(name) _Atomic uint64_t name;
	RD_CTR(calls) RD_CTR(sched_getcpu_calls) RD_CTR(ncpu_queries) RD_CTR(cpu_virtualised)
	RD_CTR(yields) RD_CTR(delays) RD_CTR(starvations) RD_CTR(pct_changes)
	RD_CTR(alloc_calls) RD_CTR(alloc_eligible) RD_CTR(alloc_faults)
	RD_CTR(alloc_untracked) RD_CTR(futex_waits) RD_CTR(futex_spurious)
	RD_CTR(futex_eintr) RD_CTR(cond_waits) RD_CTR(cond_spurious) RD_CTR(sem_eintr)
	RD_CTR(irql_violations) RD_CTR(irql_alloc_warnings) RD_CTR(pct_demotions)
#undef RD_CTR
	_Atomic int64_t alloc_live;
};

extern struct rd_counters rd_ctr RD_HIDDEN;
#define RD_COUNT(name) atomic_fetch_add_explicit(&rd_ctr.name, 1, memory_order_relaxed)

/* The calling thread's state, set up on first use. */
struct rd_thread *rd_thread_self(void) RD_HIDDEN;

/*
 * Slow-path entry of an interposed call: counts it, checks IRQL, perturbs
 * the schedule.  Returns the thread, or NULL when the call comes from the
 * shim itself (then the caller must make no decision).
 */
struct rd_thread *rd_hook(const char *site, enum rd_kind kind) RD_HIDDEN;

/* A decision: 1 with probability ppb / 1e9, drawn from the thread's PRNG. */
int rd_chance(struct rd_thread *t, uint32_t ppb) RD_HIDDEN;
uint64_t rd_rand(struct rd_thread *t) RD_HIDDEN;

/* Log "site call# thread decision [value]" when log= is set. */
void rd_log(struct rd_thread *t, const char *site, const char *decision, int64_t value,
	    int has_value) RD_HIDDEN;

/* Message to stderr with one write(2): "rundown-inject: " parts... "\n";
 * the list of strings ends with NULL. */
void rd_say(const char *first, ...) __attribute__((sentinel)) RD_HIDDEN;

/* The canonical spec in force (reproduce line). */
extern char rd_canon[] RD_HIDDEN;

/* Feature bits of a cfg. */
unsigned rd_features_of(const struct rundown_inject_cfg *c) RD_HIDDEN;

/* Sleep or spin for ns nanoseconds without going through the interposers. */
void rd_pause_ns(uint64_t ns) RD_HIDDEN;

/* Allocation side (shim_alloc.c). */
void rd_alloc_init(void) RD_HIDDEN;
int rd_in_arena(const void *p) RD_HIDDEN;
int rd_alloc_bypassed(void) RD_HIDDEN;
void *rd_arena_alloc(size_t size, size_t align) RD_HIDDEN;

/* PCT (shim_pct.c). */
void rd_thread_seed(struct rd_thread *t, uint32_t index) RD_HIDDEN;
void rd_pct_init(void) RD_HIDDEN;
void rd_pct_thread(struct rd_thread *t) RD_HIDDEN;
void rd_pct_thread_exit(struct rd_thread *t) RD_HIDDEN;
void rd_pct_watchdog_start(void) RD_HIDDEN;
void rd_pct(struct rd_thread *t, const char *site) RD_HIDDEN;
/* sched_yield() under PCT; returns 0 when the real one should run instead. */
int rd_pct_yield(struct rd_thread *t) RD_HIDDEN;
/* -1 unknown, 0 emulated with yields, 1 SCHED_FIFO on one CPU. */
int rd_pct_fifo_mode(void) RD_HIDDEN;

/* CPU side (shim_cpu.c). */
void rd_cpu_init(void) RD_HIDDEN;
/* The processor number the program is told, given the real one. */
int rd_cpu_virtual(struct rd_thread *t, int real, const char *site) RD_HIDDEN;

#endif /* RUNDOWN_INJECT_SHIM_H */
