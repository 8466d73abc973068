/*
 * inject/profiles.c - the named inject profiles of rundown-conform --inject.
 *
 * A profile is a spec (without seed: the runner adds its own) and the
 * clauses it can affect, so the runner reruns only those.  Clause ids are
 * FAMILY-AREA-NNN (conformance/clauses.tsv); the patterns below name
 * families and areas, not single clauses, so new clauses are covered.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "inject/spec.h"

static const struct rundown_inject_profile rd_profiles[] = {
	{ "sched-light", "sched=yield:p=0.05;sched=delay:p=0.01,max=20us", "*", "concurrent",
	  "occasional yields and short delays at every interposed call" },
	{ "sched-heavy", "sched=yield:p=0.3;sched=delay:p=0.1,max=200us", "*", "concurrent",
	  "frequent yields and delays up to 200us at every interposed call" },
	{ "pct", "sched=pct:d=3,k=20000", "*", "concurrent",
	  "PCT: random thread priorities with 2 change points, one CPU, SCHED_FIFO" },
	{ "chaos", "sched=chaos:min=1ms,max=20ms", "*", "concurrent",
	  "rr-chaos-style starvation of a random thread for growing periods" },
	{ "migrate", "cpu=migrate", "CA-*", NULL,
	  "sched_getcpu() changes between any two calls of a thread (migration)" },
	{ "hotplug", "cpu=hotplug:p=0.3,span=64", "CA-*", NULL,
	  "sched_getcpu() sometimes at or beyond the processor count (hot-add)" },
	{ "ncpu-1", "ncpu=1;cpu=random", "CA-*", NULL,
	  "one processor reported; processor numbers in [0, 1)" },
	{ "ncpu-3", "ncpu=3;cpu=random", "CA-*", NULL,
	  "three processors (not a power of two); random processor numbers" },
	{ "ncpu-1024", "ncpu=1024;cpu=random", "CA-*", NULL,
	  "1024 processors reported; random processor numbers below 1024" },
	{ "alloc-fail", "alloc=p:0.5,scope=armed", "CA-ALLOC*", NULL,
	  "half of the allocations inside armed windows (Allocate) fail" },
	{ "spurious-wakeup", "futex=spurious:p=0.5;futex=eintr:p=0.1", "*-WAIT-*", NULL,
	  "FUTEX_WAIT and condition waits return early; EINTR from FUTEX_WAIT and sem_wait" },
	{ "irql", "irql=record", "IRQL-*", NULL,
	  "blocking calls inside Acquire/Release (DISPATCH_LEVEL) are violations" },
};

#define RD_NPROFILES (sizeof rd_profiles / sizeof rd_profiles[0])

const struct rundown_inject_profile *rundown_inject_profiles(size_t *count)
{
	*count = RD_NPROFILES;
	return rd_profiles;
}

const struct rundown_inject_profile *rundown_inject_profile_find(const char *name)
{
	for (size_t i = 0; i < RD_NPROFILES; i++)
		if (strcmp(rd_profiles[i].name, name) == 0)
			return &rd_profiles[i];
	return NULL;
}

const char *rundown_inject_profile(const char *name)
{
	const struct rundown_inject_profile *p = rundown_inject_profile_find(name);

	return p ? p->spec : NULL;
}

/* Nonzero if word is one of the comma-separated items of list. */
static int rd_list_has(const char *list, const char *word, int glob)
{
	char item[128];

	while (*list != '\0') {
		size_t n = strcspn(list, ",");

		if (n < sizeof item) {
			memcpy(item, list, n);
			item[n] = '\0';
			if (glob ? fnmatch(item, word, 0) == 0 : strcmp(item, word) == 0)
				return 1;
		}
		list += n;
		if (*list == ',')
			list++;
	}
	return 0;
}

int rundown_inject_profile_affects(const struct rundown_inject_profile *p,
				   const char *clause_id, const char *kind)
{
	if (!rd_list_has(p->targets, clause_id, 1))
		return 0;
	if (p->kinds == NULL || kind == NULL)
		return 1;
	return rd_list_has(p->kinds, kind, 0);
}

int rundown_inject_profile_expand(const char *names, char *out, size_t outlen, char *err,
				  size_t errlen)
{
	struct rundown_inject_cfg cfg;
	char name[64], perr[256];
	size_t used = 0;
	const char *s = names;

	if (outlen == 0)
		return -1;
	out[0] = '\0';
	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		const struct rundown_inject_profile *p = NULL;
		int w;

		if (n > 0 && n < sizeof name) {
			memcpy(name, s, n);
			name[n] = '\0';
			p = rundown_inject_profile_find(name);
		}
		if (p == NULL) {
			size_t count;
			const struct rundown_inject_profile *all = rundown_inject_profiles(&count);
			int k = snprintf(err, errlen, "unknown inject profile '%.*s' (profiles:",
					 (int)(n < 64 ? n : 64), s);

			for (size_t i = 0; i < count && k > 0 && (size_t)k < errlen; i++)
				k += snprintf(err + k, errlen - (size_t)k, " %s", all[i].name);
			if (k > 0 && (size_t)k < errlen)
				snprintf(err + k, errlen - (size_t)k, ")");
			return -1;
		}
		w = snprintf(out + used, outlen - used, "%s%s", used ? ";" : "", p->spec);
		if (w < 0 || (size_t)w >= outlen - used) {
			snprintf(err, errlen, "expanded spec longer than %zu bytes", outlen - 1);
			return -1;
		}
		used += (size_t)w;
		s += n;
		if (*s == ',')
			s++;
	}
	if (rundown_inject_parse(out, &cfg, perr, sizeof perr) != 0) {
		snprintf(err, errlen, "profiles '%s' do not combine: %s", names, perr);
		return -1;
	}
	return 0;
}
