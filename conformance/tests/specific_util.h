/*
 * conformance/tests/specific_util.h - helpers shared by the specific_*.c
 * conformance tests (cache-aware storage, cross-CPU, IRQL, ABI): CPU lists,
 * a full CA lifecycle on several CPUs, the "independent objects" driver,
 * leak and growth checks.  Everything reports through conform_fail with
 * the clause the caller names.
 */
#ifndef RUNDOWN_CONFORM_SPECIFIC_UTIL_H
#define RUNDOWN_CONFORM_SPECIFIC_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "conformance/tests/family.h"

/* The CPU numbers this process may run on, at most max of them. */
unsigned conform_cpu_ids(unsigned *ids, unsigned max);

/* pthread_create or conform_unresolved; join. */
void conform_thread_start(pthread_t *t, void *(*fn)(void *), void *arg);
void conform_thread_join(pthread_t t);

/* Busy work of about n steps that touches no shared memory. */
void conform_spin(unsigned n);

/* Resident set size in KiB (/proc/self/statm), or -1; under TSan the
 * heap in use instead (its shadow memory grows the resident set). */
long conform_rss_kb(void);

/*
 * A leak check by growth of conform_rss_kb() over n cycles: n and the
 * limit in KiB.  The heap measure of TSan is exact (a leak of one 32-byte
 * chunk per cycle shows after 4000 cycles), and TSan makes each cycle
 * slow: fewer cycles there.
 */
#if defined(__SANITIZE_THREAD__)
#define CONFORM_LEAK_CYCLES(n) ((n) > 4000ul ? 4000ul : (n))
#define CONFORM_LEAK_LIMIT_KB 64
#else
#define CONFORM_LEAK_CYCLES(n) (n)
#define CONFORM_LEAK_LIMIT_KB 1024
#endif

/* LeakSanitizer: -1 if this build has none, 0 no leak, 1 leaks reported. */
int conform_leak_check(void);

/*
 * A full cache-aware lifecycle on an initialized object: acquire/release
 * (single and Ex) on a thread pinned to each CPU, units held across, a
 * contended Wait ended by releases made on other CPUs, Completed,
 * ReInitialize, acquires on every CPU again, an uncontended Wait.  Fails
 * with clause and what (a description of the object) on any wrong result.
 */
void conform_ca_lifecycle(void *obj, const char *clause, const char *what);

/*
 * n objects of family f driven into different states at once (kinds
 * assigned round robin from kind_offset: open with holders, draining with
 * a blocked Wait, run down, completed and reinitialized); each must behave
 * per its own history while the others change.  Leaves every object run
 * down (Wait returned, nothing held).
 */
void conform_independent(const struct conform_family *f, void **objs, unsigned n,
			 unsigned kind_offset, const char *clause, const char *what);

#endif /* RUNDOWN_CONFORM_SPECIFIC_UTIL_H */
