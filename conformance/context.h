/*
 * conformance/context.h - the runner's side of conform.h: it fills in the
 * context that the tests read (conform_seed(), conform_iterations(), ...).
 *
 * Everything here is set in the runner process before libcheck forks a
 * test, so each child inherits it; nothing is shared back.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_CONTEXT_H
#define RUNDOWN_CONTEXT_H

#include <stdint.h>

#include "conformance/catalog.h"
#include "conformance/conform.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Message prefix of conform_unresolved(); the runner maps it to UNRESOLVED. */
#define CONFORM_UNRESOLVED_PREFIX "UNRESOLVED: "

struct conform_settings {
	const struct rundown_catalog *catalog; /* may be NULL */
	uint64_t seed;                         /* run seed (--seed) */
	const char *profile;                   /* "quick", "full", "abi" */
	unsigned long iter_scale;              /* profile scale x --repeat */
	double timeout_multiplier;             /* --timeout-multiplier */
};

void conform_context_setup(const struct conform_settings *s);
/* The test about to run (NULL: none); conform_seed() derives from it. */
void conform_context_enter(const struct conform_test *t);
/* The seed conform_seed() returns inside test `name` for run seed `seed`. */
uint64_t conform_test_seed(uint64_t seed, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_CONTEXT_H */
