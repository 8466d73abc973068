/*
 * fuzz/seeds.h - the built-in seed inputs (documented lifecycles).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_FUZZ_SEEDS_H
#define RUNDOWN_FUZZ_SEEDS_H

#include <stddef.h>
#include <stdint.h>

struct rundown_seed {
	const char *name;
	const uint8_t *data;
	size_t len;
};

const struct rundown_seed *rundown_seeds(size_t *n);

#endif /* RUNDOWN_FUZZ_SEEDS_H */
