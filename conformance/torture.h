/*
 * conformance/torture.h - rundown-conform --torture: a soak test in the
 * spirit of Linux's rcutorture and locktorture.
 *
 * Per family (plain, cache-aware, or both at once), N reader threads loop
 *	Acquire -> check the protected object's magic and generation, write
 *	into it, hold it for a random time, check again -> Release
 * while one owner thread loops
 *	Wait -> no reader inside (atomic counter), Acquire now fails ->
 *	poison and replace the object (generation + 1) -> [Completed] ->
 *	ReInitialize
 * (Completed on every other cycle).  The load stutters (runs, pauses,
 * resumes), threads are moved across processors (sched_setaffinity), and
 * any inject profile can be layered on.  The generation invariant: no
 * run-down completes while a reference taken before it is still held;
 * readers check that the generation they saw at Acquire is unchanged until
 * their Release, the owner bumps it only after Wait.  Any violation, an
 * IRQL violation recorded by the shim, or a Wait/reader that makes no
 * progress within the watchdog period is a FAILURE.
 *
 * Output: a parameter line, periodic statistics lines, then one last line,
 * `SUCCESS` or `FAILURE`.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_TORTURE_H
#define RUNDOWN_TORTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "conformance/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

struct conform_inject;

struct conform_torture_opts {
	uint64_t duration_ns;  /* 0: 30 s */
	unsigned readers;      /* per family; 0: the processor count, at least 2 */
	uint64_t stutter_ns;   /* run period (pause: a quarter of it); 0: no stutter */
	bool stutter_set;      /* else min(3 s, duration / 4) */
	uint64_t shuffle_ns;   /* affinity change period; 0: none */
	bool shuffle_set;      /* else 100 ms */
	uint64_t stats_ns;     /* 0: 1 s, or 5 s for runs over 30 s */
	const char *family;    /* NULL: both; "plain"; "cache-aware" */
	uint64_t seed;
	double tmult;          /* watchdog multiplier (sanitizer builds: x3) */
	bool verbose;
	const char *backend_path, *command;
	const char *reproduce; /* printed after the FAILURE line, or NULL */
	const struct conform_inject *inject; /* NULL: no shim */
	bool cpu_bypass;       /* the runner's probe: CA reads the CPU without the shim */
	bool tsan_plain_ok;    /* plain accesses to the object are fine (not TSan, or an instrumented backend) */
};

/* "30s", "500ms", "2m", "100us", "1000ns", bare "30" = seconds.  0 or -1. */
int conform_parse_duration(const char *s, uint64_t *ns);

/* Run; fills in the defaults of *o.  0 SUCCESS, 1 FAILURE, 2 usage (the
 * backend lacks what a requested family needs). */
int conform_torture_run(const struct rundown_backend *b, struct conform_torture_opts *o);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_TORTURE_H */
