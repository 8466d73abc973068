/*
 * fuzz/lincheck.h - concurrent harness with a linearizability check.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_FUZZ_LINCHECK_H
#define RUNDOWN_FUZZ_LINCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "conformance/backend.h"

struct rundown_lincheck_opts {
	double seconds;
	uint64_t seed;
	unsigned threads; /* accessor threads (1..8); the owner is one more */
	bool verbose;
};

/* Rounds of real threads on one object until seconds have passed or a
 * history is not linearizable.  Returns 0, 1 (failure, printed), or 2. */
int rundown_lincheck_campaign(const struct rundown_backend *b,
			      const struct rundown_lincheck_opts *o);

#endif /* RUNDOWN_FUZZ_LINCHECK_H */
