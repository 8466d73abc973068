/*
 * conformance/inject_ctl.c - validation of --inject/--inject-spec, the
 * re-exec under the shim, the rerun selection and the rseq probe
 * (inject_ctl.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inject/inject.h"

#include "conformance/inject_ctl.h"

/* Set in the environment of the re-executed runner (the spec it expects). */
#define RD_MARK "RUNDOWN_CONFORM_INJECTED"

static int rd_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rd_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static void rd_add_prof(struct conform_inject *in, const char *name, bool cpu)
{
	const struct rundown_inject_profile *p = rundown_inject_profile_find(name);

	if (!p || in->nprof == CONFORM_INJECT_MAXPROF)
		return;
	for (size_t i = 0; i < in->nprof; i++)
		if (in->prof[i] == p)
			return;
	in->prof_cpu[in->nprof] = cpu;
	in->prof[in->nprof++] = p;
}

static bool rd_profile_is_cpu(const struct rundown_inject_profile *p)
{
	struct rundown_inject_cfg c;

	return rundown_inject_parse(p->spec, &c, NULL, 0) == 0 && (c.cpu.mode != RUNDOWN_INJECT_CPU_OFF || c.ncpu);
}

int conform_inject_setup(struct conform_inject *in, const char *names, const char *spec, uint64_t seed,
			 char *err, size_t errlen)
{
	char joined[RUNDOWN_INJECT_SPEC_MAX], perr[512];
	const struct rundown_inject_cfg *c = &in->cfg;

	memset(in, 0, sizeof(*in));
	joined[0] = '\0';
	if (names && *names) {
		if (strlen(names) >= sizeof(in->names))
			return rd_err(err, errlen, "--inject: profile list too long");
		snprintf(in->names, sizeof(in->names), "%s", names);
		if (rundown_inject_profile_expand(names, joined, sizeof(joined), perr, sizeof(perr)) != 0)
			return rd_err(err, errlen, "--inject %s: %s", names, perr);
	}
	if (spec && *spec) {
		size_t n = strlen(joined);

		snprintf(in->user_spec, sizeof(in->user_spec), "%s", spec);
		if (n + 1 + strlen(spec) >= sizeof(joined))
			return rd_err(err, errlen, "--inject-spec: spec longer than %zu bytes", sizeof(joined) - 1);
		snprintf(joined + n, sizeof(joined) - n, "%s%s", n ? ";" : "", spec);
	}
	if (rundown_inject_parse(joined, &in->cfg, perr, sizeof(perr)) != 0) {
		if (names && *names && spec && *spec)
			return rd_err(err, errlen, "--inject %s with --inject-spec '%s': %s", names, spec, perr);
		if (spec && *spec)
			return rd_err(err, errlen, "--inject-spec '%s': %s", spec, perr);
		return rd_err(err, errlen, "--inject %s: %s", names ? names : "", perr);
	}
	if (!rundown_inject_cfg_active(&in->cfg))
		return rd_err(err, errlen, "%s turns no feature on (nothing to inject)",
			      spec && *spec ? "--inject-spec" : "--inject");
	if (!in->cfg.have_seed) {
		in->cfg.seed = seed;
		in->cfg.have_seed = 1;
	}
	in->seed = in->cfg.seed;
	if (rundown_inject_format(&in->cfg, in->spec, sizeof(in->spec)) >= sizeof(in->spec))
		return rd_err(err, errlen, "canonical spec longer than %zu bytes", sizeof(in->spec) - 1);
	in->cpu = c->cpu.mode != RUNDOWN_INJECT_CPU_OFF || c->ncpu != 0;
	if (in->names[0] && in->user_spec[0])
		snprintf(in->label, sizeof(in->label), "%s+spec", in->names);
	else
		snprintf(in->label, sizeof(in->label), "%s", in->names[0] ? in->names : "spec");

	/* The profiles that decide what reruns. */
	for (const char *s = in->names; *s;) {
		size_t n = strcspn(s, ",");
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), s);
		const struct rundown_inject_profile *p = rundown_inject_profile_find(name);
		if (p)
			rd_add_prof(in, name, rd_profile_is_cpu(p));
		s += n;
		if (*s == ',')
			s++;
	}
	if (in->user_spec[0]) {
		struct rundown_inject_cfg u;

		rundown_inject_parse(in->user_spec, &u, NULL, 0); /* parsed above as part of joined */
		if (u.yield.p || u.delay.p || u.chaos.on || u.pct.on)
			rd_add_prof(in, "sched-light", false);
		if (u.cpu.mode != RUNDOWN_INJECT_CPU_OFF || u.ncpu)
			rd_add_prof(in, "migrate", true);
		if (u.alloc.mode != RUNDOWN_INJECT_ALLOC_OFF)
			rd_add_prof(in, "alloc-fail", false);
		if (u.futex.spurious_p || u.futex.eintr_p)
			rd_add_prof(in, "spurious-wakeup", false);
		if (u.irql != RUNDOWN_INJECT_IRQL_OFF)
			rd_add_prof(in, "irql", false);
	}
	in->on = true;
	return 0;
}

/* ---- re-exec ---- */

struct rd_rt {
	char path[4096];
	bool asan;
};

static int rd_find_rt(struct dl_phdr_info *info, size_t size, void *data)
{
	struct rd_rt *rt = data;
	const char *base;

	(void)size;
	if (!info->dlpi_name || !*info->dlpi_name)
		return 0;
	base = strrchr(info->dlpi_name, '/');
	base = base ? base + 1 : info->dlpi_name;
	if (strncmp(base, "libasan.so", 10) == 0 || strncmp(base, "libtsan.so", 10) == 0) {
		snprintf(rt->path, sizeof(rt->path), "%s", info->dlpi_name);
		rt->asan = base[3] == 'a';
		return 1;
	}
	return 0;
}

static bool rd_has_shim_spec(const char *want)
{
	rundown_inject_spec_fn spec;
	char have[RUNDOWN_INJECT_SPEC_MAX];

	*(void **)&spec = dlsym(RTLD_DEFAULT, "rundown_inject_spec");
	if (!spec)
		return false;
	spec(have, sizeof(have));
	return strcmp(have, want) == 0;
}

/* Append item to a colon-separated variable unless it is already there. */
static int rd_setenv_list(const char *var, const char *item, bool first)
{
	const char *old = getenv(var);
	char *v;
	int r;

	if (old && *old) {
		size_t n = strlen(item);

		for (const char *p = old; *p;) {
			size_t k = strcspn(p, ": ");

			if (k == n && memcmp(p, item, n) == 0)
				return 0;
			p += k;
			p += strspn(p, ": ");
		}
		if (asprintf(&v, first ? "%s:%s" : "%s:%s", first ? item : old, first ? old : item) < 0)
			return -1;
	} else {
		v = strdup(item);
		if (!v)
			return -1;
	}
	r = setenv(var, v, 1);
	free(v);
	return r;
}

int conform_inject_exec(const struct conform_inject *in, int argc, char **argv, char *const *extra_argv,
			const char *build_tree_shim, const char *installed_shim, const char *lsan_supp, char *err,
			size_t errlen)
{
	const char *shim = getenv("RUNDOWN_INJECT_SHIM"), *mark = getenv(RD_MARK);
	struct rd_rt rt = {.path = "", .asan = false};
	char preload[8400];
	char **nargv;
	size_t nextra = 0;

	if (rd_has_shim_spec(in->spec))
		return 0;
	if (mark && strcmp(mark, in->spec) == 0) {
		if (!dlsym(RTLD_DEFAULT, "rundown_inject_spec"))
			return rd_err(err, errlen, "re-executed with LD_PRELOAD=%s but the inject shim is not loaded "
				      "(see the dynamic loader's message above)", getenv("LD_PRELOAD") ?
				      getenv("LD_PRELOAD") : "");
		return rd_err(err, errlen, "the inject shim runs with another spec than RUNDOWN_INJECT='%s' "
			      "(is RUNDOWN_INJECT overridden?)", in->spec);
	}
	if (!shim || !*shim)
		shim = build_tree_shim && access(build_tree_shim, R_OK) == 0 ? build_tree_shim : installed_shim;
	if (access(shim, R_OK) != 0)
		return rd_err(err, errlen, "no inject shim at %s: %s (set RUNDOWN_INJECT_SHIM=PATH)", shim,
			      strerror(errno));
	dl_iterate_phdr(rd_find_rt, &rt);
	/* shim first, runtime second (rundown-inject-env's default order) */
	if (rt.path[0])
		snprintf(preload, sizeof(preload), "%s:%s", shim, rt.path);
	else
		snprintf(preload, sizeof(preload), "%s", shim);
	if (rd_setenv_list("LD_PRELOAD", preload, true) != 0 || setenv("RUNDOWN_INJECT", in->spec, 1) != 0 ||
	    setenv(RD_MARK, in->spec, 1) != 0)
		return rd_err(err, errlen, "setenv: %s", strerror(errno));
	if (rt.asan && rd_setenv_list("ASAN_OPTIONS", "verify_asan_link_order=0", false) != 0)
		return rd_err(err, errlen, "setenv: %s", strerror(errno));
	if (rt.asan && lsan_supp && access(lsan_supp, R_OK) == 0) {
		const char *lo = getenv("LSAN_OPTIONS");
		char item[4200];

		snprintf(item, sizeof(item), "suppressions=%s:print_suppressions=0", lsan_supp);
		if (lo && strstr(lo, "suppressions="))
			fprintf(stderr, "rundown-conform: note: LSAN_OPTIONS has suppressions already; add those of %s "
					"(dlopen allocations seen through the shim)\n", lsan_supp);
		else if (rd_setenv_list("LSAN_OPTIONS", item, false) != 0)
			return rd_err(err, errlen, "setenv: %s", strerror(errno));
	}
	if (in->cpu && rd_setenv_list("GLIBC_TUNABLES", "glibc.pthread.rseq=0", false) != 0)
		return rd_err(err, errlen, "setenv: %s", strerror(errno));
	while (extra_argv && extra_argv[nextra])
		nextra++;
	nargv = calloc((size_t)argc + nextra + 1, sizeof(*nargv));
	if (!nargv)
		return rd_err(err, errlen, "out of memory");
	for (int i = 0; i < argc; i++)
		nargv[i] = argv[i];
	for (size_t i = 0; i < nextra; i++)
		nargv[argc + i] = extra_argv[i];
	fflush(stdout);
	fflush(stderr);
	execv("/proc/self/exe", nargv);
	free(nargv);
	return rd_err(err, errlen, "cannot re-execute /proc/self/exe: %s", strerror(errno));
}

/* ---- what reruns ---- */

bool conform_inject_affects(const struct conform_inject *in, const char *id, const char *kind, bool concurrent,
			    bool *cpu_only)
{
	bool any = false, other = false;

	for (size_t i = 0; i < in->nprof; i++) {
		const struct rundown_inject_profile *p = in->prof[i];

		if (rundown_inject_profile_affects(p, id, kind) ||
		    (concurrent && rundown_inject_profile_affects(p, id, "concurrent"))) {
			any = true;
			if (!in->prof_cpu[i])
				other = true;
		}
	}
	if (cpu_only)
		*cpu_only = any && !other;
	return any;
}

/* ---- shim access ---- */

bool conform_inject_stats(struct rundown_inject_stats *s)
{
	rundown_inject_stats_fn f;

	memset(s, 0, sizeof(*s));
	*(void **)&f = dlsym(RTLD_DEFAULT, "rundown_inject_stats");
	if (!f)
		return false;
	f(s, sizeof(*s));
	return true;
}

void conform_inject_alloc_arm(void)
{
	rundown_inject_void_fn f;

	*(void **)&f = dlsym(RTLD_DEFAULT, "rundown_inject_alloc_arm");
	if (f)
		f();
}

void conform_inject_alloc_disarm(void)
{
	rundown_inject_void_fn f;

	*(void **)&f = dlsym(RTLD_DEFAULT, "rundown_inject_alloc_disarm");
	if (f)
		f();
}

void conform_inject_pct_exempt(void)
{
	rundown_inject_void_fn f;

	*(void **)&f = dlsym(RTLD_DEFAULT, "rundown_inject_pct_exempt");
	if (f)
		f();
}

/* ---- rseq probe ---- */

int conform_inject_cpu_probe(const struct rundown_backend *b)
{
	struct rundown_inject_stats s;
	pid_t pid;
	int st;

	if (!conform_inject_stats(&s) || !b->ExAcquireRundownProtectionCacheAware ||
	    !b->ExReleaseRundownProtectionCacheAware)
		return -1;
	if (!(b->ExSizeOfRundownProtectionCacheAware && b->ExInitializeRundownProtectionCacheAware) &&
	    !b->ExAllocateCacheAwareRundownProtection)
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		PEX_RUNDOWN_REF_CACHE_AWARE r = NULL;
		uint64_t before;

		alarm(10);
		if (b->ExSizeOfRundownProtectionCacheAware && b->ExInitializeRundownProtectionCacheAware) {
			SIZE_T n = b->ExSizeOfRundownProtectionCacheAware();

			r = aligned_alloc(64, (n + 63) / 64 * 64);
			if (r)
				b->ExInitializeRundownProtectionCacheAware(r, n);
		} else {
			r = b->ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 0x626f7250u);
		}
		if (!r)
			_exit(4);
		conform_inject_stats(&s);
		before = s.sched_getcpu_calls;
		for (int i = 0; i < 16; i++) {
			if (b->ExAcquireRundownProtectionCacheAware(r))
				b->ExReleaseRundownProtectionCacheAware(r);
		}
		conform_inject_stats(&s);
		_exit(s.sched_getcpu_calls > before ? 0 : 3);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
		return 0;
	return -1;
}
