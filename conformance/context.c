/*
 * conformance/context.c - what a conformance test can ask (conform.h), and
 * its verdicts.
 *
 * Verdicts go through libcheck: conform_fail_at() and conform_unresolved()
 * end in _ck_assert_failed(), so in fork mode the child reports a failure
 * with file and line and exits, and in CK_FORK=no mode it longjmps back
 * into libcheck.  UNRESOLVED is a libcheck failure whose message starts
 * with CONFORM_UNRESOLVED_PREFIX; the runner maps it.
 *
 * Seeds: each test gets seed = mix(run seed, hash(test name)), so running
 * one test alone (--clause ID --seed N) reproduces the seed it had in the
 * full run, whatever else was selected.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conformance/context.h"

const struct rundown_backend *B;

static struct conform_settings rd_settings = {
	.catalog = NULL, .seed = 1, .profile = "quick", .iter_scale = 1, .timeout_multiplier = 1.0};
static const struct conform_test *rd_current;

void conform_context_setup(const struct conform_settings *s)
{
	rd_settings = *s;
	if (rd_settings.iter_scale == 0)
		rd_settings.iter_scale = 1;
	if (!(rd_settings.timeout_multiplier > 0))
		rd_settings.timeout_multiplier = 1.0;
	if (!rd_settings.profile)
		rd_settings.profile = "quick";
}

void conform_context_enter(const struct conform_test *t)
{
	rd_current = t;
}

/* splitmix64 finaliser: a bijection with good avalanche. */
static uint64_t rd_mix64(uint64_t z)
{
	z += UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t conform_test_seed(uint64_t seed, const char *name)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)name; p && *p; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	return rd_mix64(seed ^ rd_mix64(h));
}

uint64_t conform_seed(void)
{
	return rd_current ? conform_test_seed(rd_settings.seed, rd_current->name) : rd_settings.seed;
}

unsigned long conform_iterations(unsigned long base)
{
	unsigned long s = rd_settings.iter_scale;

	if (base == 0)
		base = 1;
	return base > (unsigned long)-1 / s ? (unsigned long)-1 : base * s;
}

uint64_t conform_window_ns(void)
{
	/* Long enough for a wrongly returning Wait to be seen on a loaded
	 * machine; a longer window only finds more, never fails spuriously. */
	double base = strcmp(rd_settings.profile, "quick") == 0 ? 20e6 : 100e6;

	return (uint64_t)(base * rd_settings.timeout_multiplier);
}

const char *conform_profile(void)
{
	return rd_settings.profile;
}

uint64_t conform_rand(uint64_t *state)
{
	uint64_t x = *state;

	if (x == 0) /* xorshift's one fixed point: reseed from the test's seed */
		x = rd_mix64(conform_seed()) | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

uint64_t conform_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

const char *conform_clause_text(const char *id)
{
	const struct rundown_clause *c =
		rd_settings.catalog && id ? rundown_catalog_find(rd_settings.catalog, id) : NULL;

	return c ? c->requirement : "(clause not in the catalog)";
}

void conform_fail_at(const char *file, int line, const char *clause, const char *fmt, ...)
{
	char msg[2048];
	const struct rundown_clause *c;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c = rd_settings.catalog && clause ? rundown_catalog_find(rd_settings.catalog, clause) : NULL;
	if (c)
		_ck_assert_failed(file, line, "Failed", "%s: %s [clause: \"%s\"] (seed %llu)", clause, msg,
				  c->requirement, (unsigned long long)conform_seed());
	_ck_assert_failed(file, line, "Failed", "%s: %s (seed %llu)", clause ? clause : "?", msg,
			  (unsigned long long)conform_seed());
}

void conform_unresolved(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	_ck_assert_failed(__FILE__, __LINE__, "Failed", CONFORM_UNRESOLVED_PREFIX "%s (seed %llu)", msg,
			  (unsigned long long)conform_seed());
}
