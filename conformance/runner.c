/*
 * conformance/runner.c - rundown-conform: run the conformance tests against
 * a backend and give a verdict per clause of the catalog.
 *
 * How a run goes:
 *
 *   1. Options, the catalog, the --expect-fail list; then the backend is
 *      loaded (backend.c: file checks, dlopen, dlsym) and B points at it.
 *   2. Selection.  A clause is selected by --family and --clause; a test
 *      (an entry of the conform_tests section, see conform.h) runs when it
 *      names a selected clause, its flags fit the profile and the backend
 *      exports every routine in its `needs` mask.
 *   3. One libcheck SRunner holds one TCase per test, in section order.
 *      The test is added as a loop test over [k, k+1), so the child is
 *      called with _i = k and the trampoline knows which test it runs (it
 *      sets the context conform_seed() reads).  An unchecked fixture, which
 *      libcheck runs in this process around each TCase, times the test and
 *      prints the progress line; it also implements --fail-fast, by failing
 *      the setup of every later TCase so it is not forked at all (those
 *      appear in check.xml/check.tap as setup failures "not run").
 *   4. Each test's libcheck result becomes an outcome (rd_outcome_of), the
 *      outcome is attributed to the test's clauses (rd_attribute), each
 *      clause takes the worst over its tests, then --expect-fail turns
 *      failures into XFAIL and passes into XPASS.
 *   5. Table, counts, `N passed, N failed`, DIR/results.tsv.
 *
 * --inject/--inject-spec (inject_ctl.c): validated first, then the runner
 * re-executes itself under the shim (LD_PRELOAD, RUNDOWN_INJECT with the
 * seed, GLIBC_TUNABLES for CPU profiles); step 2 then keeps only the tests
 * naming a clause a profile can affect (the rest: UNTESTED "not affected by
 * profile X"), the CPU profiles' clauses become UNRESOLVED if the backend
 * reads the processor without sched_getcpu(), and under irql the backend's
 * Acquire/Release(+Ex) pointers are wrapped (irql_wrap.c): the trampoline
 * fails a test during which the shim recorded a blocking call.
 * --torture (torture.c) loads the backend and runs the soak instead.
 *
 * Exit: 0 when no clause is FAIL/HUNG/SIGNALED/XPASS, 1 otherwise, 2 for
 * usage and load errors (RUNDOWN_EXIT_USAGE).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conformance/backend.h"
#include "conformance/catalog.h"
#include "conformance/conform.h"
#include "conformance/context.h"
#include "conformance/results.h"
#include "conformance/inject_ctl.h"
#include "conformance/irql_wrap.h"
#include "conformance/torture.h"
#include "inject/inject.h"

#ifndef RD_PKGDATADIR
#define RD_PKGDATADIR "/usr/local/share/rundown-cts"
#endif
#ifndef RD_ABS_TOP_SRCDIR
#define RD_ABS_TOP_SRCDIR ""
#endif
#ifndef RD_ABS_TOP_BUILDDIR
#define RD_ABS_TOP_BUILDDIR ""
#endif
#ifndef RD_BUILD_SANITIZERS
#define RD_BUILD_SANITIZERS "none"
#endif
#ifndef RD_PKGLIBDIR
#define RD_PKGLIBDIR "/usr/local/lib/rundown-cts"
#endif
#ifndef RD_LIBDIR
#define RD_LIBDIR "/usr/local/lib"
#endif

#if defined(__SANITIZE_THREAD__)
#define RD_RUNNER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RD_RUNNER_TSAN 1
#endif
#endif
#ifndef RD_RUNNER_TSAN
#define RD_RUNNER_TSAN 0
#endif

#if RD_RUNNER_TSAN
/*
 * TSan reads its options once, at process start, so setting TSAN_OPTIONS
 * here would not reach the forked tests.  This hook supplies defaults that
 * TSAN_OPTIONS can still override: stop at the first report, with an exit
 * status the runner recognises (rd_outcome_of).
 */
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "halt_on_error=1:exitcode=66";
}
#endif
#define RD_TSAN_EXIT 66
#define RD_LSAN_EXIT 23

/* No test registered: the section bounds must still resolve. */
#pragma weak __start_conform_tests
#pragma weak __stop_conform_tests

#define RD_DEFAULT_TIMEOUT_S 10u
#define RD_FULL_SCALE 20ul
#define RD_SAN_TIMEOUT_SCALE 3.0

static const char *const rd_tsan_hint =
	"exact memory-ordering check needs a TSan-instrumented backend (rebuild it with "
	"-fsanitize=thread and run the TSan build of rundown-conform)";

/* ------------------------------------------------------------------ */
/* Options */

struct rd_opts {
	const char *backend, *profile, *family, *seed_s, *expect_file, *prefix, *out, *catalog, *report;
	const char **globs;
	size_t nglobs;
	char *inject, *inject_spec;
	uint64_t seed;
	bool seed_given, fail_fast, list, list_tests, verbose, torture;
	unsigned long repeat;
	unsigned jobs;
	double tmult;
	struct conform_torture_opts t; /* --torture and its options */
	bool t_opt;                    /* a torture-only option was given */
};

enum {
	OPT_BACKEND = 'b', OPT_HELP = 'h', OPT_VERBOSE = 'v',
	OPT_PROFILE = 256, OPT_FAMILY, OPT_CLAUSE, OPT_SEED, OPT_REPEAT, OPT_FAIL_FAST, OPT_TMULT,
	OPT_EXPECT, OPT_PREFIX, OPT_OUT, OPT_LIST, OPT_LIST_TESTS, OPT_CATALOG, OPT_JOBS, OPT_REPORT,
	OPT_INJECT, OPT_INJECT_SPEC, OPT_TORTURE, OPT_DURATION, OPT_READERS, OPT_STUTTER, OPT_SHUFFLE,
	OPT_STATS_INTERVAL,
};

static const struct option rd_long_options[] = {
	{"backend", required_argument, NULL, OPT_BACKEND},
	{"profile", required_argument, NULL, OPT_PROFILE},
	{"family", required_argument, NULL, OPT_FAMILY},
	{"clause", required_argument, NULL, OPT_CLAUSE},
	{"seed", required_argument, NULL, OPT_SEED},
	{"repeat", required_argument, NULL, OPT_REPEAT},
	{"fail-fast", no_argument, NULL, OPT_FAIL_FAST},
	{"timeout-multiplier", required_argument, NULL, OPT_TMULT},
	{"expect-fail", required_argument, NULL, OPT_EXPECT},
	{"symbol-prefix", required_argument, NULL, OPT_PREFIX},
	{"out", required_argument, NULL, OPT_OUT},
	{"list", no_argument, NULL, OPT_LIST},
	{"list-tests", no_argument, NULL, OPT_LIST_TESTS},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"catalog", required_argument, NULL, OPT_CATALOG},
	{"jobs", required_argument, NULL, OPT_JOBS},
	{"report", required_argument, NULL, OPT_REPORT},
	{"inject", required_argument, NULL, OPT_INJECT},
	{"inject-spec", required_argument, NULL, OPT_INJECT_SPEC},
	{"torture", no_argument, NULL, OPT_TORTURE},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"readers", required_argument, NULL, OPT_READERS},
	{"stutter", required_argument, NULL, OPT_STUTTER},
	{"shuffle", required_argument, NULL, OPT_SHUFFLE},
	{"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static void rd_usage(FILE *fp)
{
	size_t np;
	const struct rundown_inject_profile *pr = rundown_inject_profiles(&np);
	const char *text ="Usage: rundown-conform --backend PATH.so [OPTION]...\n"
	      "       rundown-conform --torture [--backend PATH.so] [TORTURE OPTION]...\n"
	      "       rundown-conform --list | --list-tests [--catalog FILE]\n"
	      "Run the run-down protection conformance tests against a backend (a shared\n"
	      "object exporting the 19 wdm.h routines) and give a verdict per clause of the\n"
	      "catalog.  Every test runs in its own process (libcheck fork mode).\n"
	      "\n"
	      "  -b, --backend PATH.so      the backend to test (required to run)\n"
	      "      --symbol-prefix P      resolve P<name> instead of <name> for each routine\n"
	      "      --profile NAME         quick (default): skip slow tests, few iterations;\n"
	      "                             full: every test, 20x the iterations;\n"
	      "                             abi: full plus the Windows-encoding (ABI) tests\n"
	      "      --family NAME          plain, cache-aware (or ca) or all (default)\n"
	      "      --clause ID|GLOB       only these clauses (fnmatch, repeatable)\n"
	      "      --seed N               run seed (default: random, printed); each test\n"
	      "                             derives its own from it and its name\n"
	      "      --repeat N             multiply the iterations of concurrent tests (and\n"
	      "                             their timeouts) by N\n"
	      "      --timeout-multiplier X scale timeouts (base 10 s per test, x3 in a sanitizer\n"
	      "                             build) and the observation windows; CK_TIMEOUT_MULTIPLIER\n"
	      "                             in the environment multiplies again\n"
	      "      --fail-fast            stop after the first failing test (results are still\n"
	      "                             written; tests not run are UNTESTED)\n"
	      "      --expect-fail FILE     lines `CLAUSE-ID [reason]`, `#` comments: a listed\n"
	      "                             clause that fails is XFAIL, one that passes XPASS\n"
	      "      --out DIR              write DIR/results.tsv, DIR/check.xml, DIR/check.tap\n"
	      "      --report DIR           as --out, then render DIR/index.html, junit.xml,\n"
	      "                             summary.md and results.json with rundown-report\n"
	      "      --catalog FILE         the clause catalog (default: the build tree's, else\n"
	      "                             " RD_PKGDATADIR "/clauses.tsv)\n"
	      "      --jobs N               accepted; tests run one at a time for now\n"
	      "      --inject PROFILE[,..]  rerun, under the inject shim, the clauses these profiles\n"
	      "                             can affect (below); the others are UNTESTED\n"
	      "      --inject-spec STRING   the same with a raw RUNDOWN_INJECT spec (inject/README.md);\n"
	      "                             with --inject it is appended to the profiles' spec\n"
	      "      --list                 list the catalog's clauses and the tests of each\n"
	      "      --list-tests           list the tests: name<TAB>clause ids<TAB>flags\n"
	      "  -v, --verbose              more detail: backend facts, every test's message\n"
	      "  -h, --help                 this text\n"
	      "\n"
	      "Torture mode (rcutorture/locktorture style; --inject, --seed, --family,\n"
	      "--backend and --timeout-multiplier apply; default backend: librundown):\n"
	      "      --torture              readers loop Acquire, check and write the protected\n"
	      "                             object, Release; an owner loops Wait, checks no reader\n"
	      "                             is inside, replaces the object (new generation),\n"
	      "                             [Completed], ReInitialize.  Ends with SUCCESS (exit 0)\n"
	      "                             or FAILURE (exit 1)\n"
	      "      --duration D           how long (default 30s; D: N[ns|us|ms|s|m], bare N = s)\n"
	      "      --readers N            reader threads per family (default: processors, >= 2)\n"
	      "      --stutter D            run D, pause D/4, repeat (default min(3s, duration/4);\n"
	      "                             0: never pause)\n"
	      "      --shuffle D            move every thread to a random processor each D\n"
	      "                             (default 100ms; 0: never)\n"
	      "      --stats-interval D     statistics line period (default 1s, 5s above 30s)\n"
	      "\n"
	      "Inject profiles (--inject; rerun: the clauses each can affect):\n"
	      "%PROFILES%"
	      "The runner re-executes itself with LD_PRELOAD=librundown-inject.so (before a\n"
	      "sanitizer runtime), RUNDOWN_INJECT=<canonical spec, seed=--seed> and, for the\n"
	      "profiles that perturb processor numbers (migrate, hotplug, ncpu-*),\n"
	      "GLIBC_TUNABLES=glibc.pthread.rseq=0.  A backend that reads the processor without\n"
	      "calling sched_getcpu() (rseq, RDPID) cannot be perturbed: the runner warns and\n"
	      "reports the clauses only those profiles target UNRESOLVED.  Under irql, every\n"
	      "Acquire/Release(+Ex) call is bracketed as DISPATCH_LEVEL: a blocking call inside\n"
	      "fails the test (IRQL-001 plain, IRQL-004 cache-aware).  RUNDOWN_INJECT_SHIM=PATH\n"
	      "overrides the shim's location.\n"
	      "\n"
	      "Outcomes (per clause, the worst over its tests): FAIL, SIGNALED (crashed),\n"
	      "HUNG (timed out), UNRESOLVED (no verdict: a test could not set up its\n"
	      "conditions, or a memory-ordering test ran without a TSan-instrumented backend),\n"
	      "XPASS, XFAIL, PASS; UNSUPPORTED (the backend lacks a routine the tests need),\n"
	      "UNTESTED (undefined by the documents, not testable in user mode, not in the\n"
	      "profile, or no test).\n"
	      "\n"
	      "The last line is `N passed, N failed`: passed counts PASS and XFAIL clauses,\n"
	      "failed counts FAIL, HUNG, SIGNALED and XPASS clauses.\n"
	      "Exit status: 0 when no clause failed (UNRESOLVED, UNSUPPORTED and UNTESTED do\n"
	      "not fail a run), 1 when a clause is FAIL, HUNG, SIGNALED or XPASS (an expected\n"
	      "failure that passes must be taken off the list), 2 for usage and load errors.\n"
	      "\n"
	      "Environment: CK_FORK=no runs the tests inside this process, for a debugger\n"
	      "(then a crash or a hang stops the run, and timeouts are not enforced).\n"
	      "top_srcdir: take the catalog from $top_srcdir/conformance/clauses.tsv.\n"
	      "CK_RUN_SUITE, CK_RUN_CASE, CK_INCLUDE_TAGS, CK_EXCLUDE_TAGS are ignored: use --clause.\n";
	const char *cut = strstr(text, "%PROFILES%");

	fwrite(text, 1, (size_t)(cut - text), fp);
	for (size_t i = 0; i < np; i++) {
		fprintf(fp, "  %-16s %s\n  %-16s   spec %s; reruns %s%s%s\n", pr[i].name, pr[i].summary, "", pr[i].spec,
			pr[i].targets, pr[i].kinds ? ", kind " : "", pr[i].kinds ? pr[i].kinds : "");
	}
	fputs(cut + strlen("%PROFILES%"), fp);
}

__attribute__((noreturn, format(printf, 1, 2))) static void rd_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("rundown-conform: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'rundown-conform --help'.\n", stderr);
	exit(RUNDOWN_EXIT_USAGE);
}

static unsigned long rd_parse_ulong(const char *opt, const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (!s || !*s || *s == '-' || *s == '+')
		rd_usage_error("%s: '%s' is not a number", opt, s ? s : "");
	v = strtoul(s, &end, 10);
	if (*end || errno)
		rd_usage_error("%s: '%s' is not a number", opt, s);
	if (v < min || v > max)
		rd_usage_error("%s: %s is out of range (%lu..%lu)", opt, s, min, max);
	return v;
}

static void rd_parse_options(struct rd_opts *o, int argc, char **argv)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->profile = "quick";
	o->repeat = 1;
	o->jobs = 1;
	o->tmult = 1.0;
	o->globs = calloc((size_t)argc, sizeof(*o->globs));
	if (!o->globs)
		rd_usage_error("out of memory");
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:hv", rd_long_options, NULL)) != -1) {
		switch (c) {
		case OPT_BACKEND: o->backend = optarg; break;
		case OPT_PROFILE:
			if (strcmp(optarg, "quick") && strcmp(optarg, "full") && strcmp(optarg, "abi"))
				rd_usage_error("--profile: unknown profile '%s' (quick, full or abi)", optarg);
			o->profile = optarg;
			break;
		case OPT_FAMILY:
			if (strcmp(optarg, "plain") == 0)
				o->family = "plain";
			else if (strcmp(optarg, "cache-aware") == 0 || strcmp(optarg, "ca") == 0)
				o->family = "cache-aware";
			else if (strcmp(optarg, "all") == 0 || strcmp(optarg, "both") == 0)
				o->family = NULL;
			else
				rd_usage_error("--family: unknown family '%s' (plain, cache-aware or all)", optarg);
			break;
		case OPT_CLAUSE:
			if (!*optarg)
				rd_usage_error("--clause: empty pattern");
			o->globs[o->nglobs++] = optarg;
			break;
		case OPT_SEED: {
			char *end;

			errno = 0;
			if (!*optarg || *optarg == '-' || *optarg == '+')
				rd_usage_error("--seed: '%s' is not a non-negative integer", optarg);
			o->seed = strtoull(optarg, &end, 0);
			if (*end || errno)
				rd_usage_error("--seed: '%s' is not a non-negative integer", optarg);
			o->seed_given = true;
			break;
		}
		case OPT_REPEAT: o->repeat = rd_parse_ulong("--repeat", optarg, 1, 1000000); break;
		case OPT_FAIL_FAST: o->fail_fast = true; break;
		case OPT_TMULT: {
			char *end;

			errno = 0;
			o->tmult = strtod(optarg, &end);
			if (end == optarg || *end || errno || !isfinite(o->tmult) || o->tmult <= 0 || o->tmult > 1000)
				rd_usage_error("--timeout-multiplier: '%s' is not a number in (0, 1000]", optarg);
			break;
		}
		case OPT_EXPECT: o->expect_file = optarg; break;
		case OPT_PREFIX: o->prefix = optarg; break;
		case OPT_OUT: o->out = optarg; break;
		case OPT_LIST: o->list = true; break;
		case OPT_LIST_TESTS: o->list_tests = true; break;
		case OPT_VERBOSE: o->verbose = true; break;
		case OPT_CATALOG: o->catalog = optarg; break;
		case OPT_JOBS: o->jobs = (unsigned)rd_parse_ulong("--jobs", optarg, 1, 1024); break;
		case OPT_REPORT: o->report = optarg; break;
		case OPT_INJECT: { /* repeatable: the lists join */
			char *n = NULL;

			if (!*optarg)
				rd_usage_error("--inject: empty profile list");
			if (asprintf(&n, "%s%s%s", o->inject ? o->inject : "", o->inject ? "," : "", optarg) < 0)
				rd_usage_error("out of memory");
			free(o->inject);
			o->inject = n;
			break;
		}
		case OPT_INJECT_SPEC: { /* repeatable: the specs join */
			char *n = NULL;

			if (asprintf(&n, "%s%s%s", o->inject_spec ? o->inject_spec : "", o->inject_spec ? ";" : "",
				     optarg) < 0)
				rd_usage_error("out of memory");
			free(o->inject_spec);
			o->inject_spec = n;
			break;
		}
		case OPT_TORTURE: o->torture = true; break;
		case OPT_DURATION:
			if (conform_parse_duration(optarg, &o->t.duration_ns) != 0 || o->t.duration_ns == 0)
				rd_usage_error("--duration: '%s' is not a duration (N[ns|us|ms|s|m], N > 0)", optarg);
			o->t_opt = true;
			break;
		case OPT_READERS:
			o->t.readers = (unsigned)rd_parse_ulong("--readers", optarg, 1, 1024);
			o->t_opt = true;
			break;
		case OPT_STUTTER:
			if (conform_parse_duration(optarg, &o->t.stutter_ns) != 0)
				rd_usage_error("--stutter: '%s' is not a duration", optarg);
			o->t.stutter_set = true;
			o->t_opt = true;
			break;
		case OPT_SHUFFLE:
			if (conform_parse_duration(optarg, &o->t.shuffle_ns) != 0)
				rd_usage_error("--shuffle: '%s' is not a duration", optarg);
			o->t.shuffle_set = true;
			o->t_opt = true;
			break;
		case OPT_STATS_INTERVAL:
			if (conform_parse_duration(optarg, &o->t.stats_ns) != 0 || o->t.stats_ns == 0)
				rd_usage_error("--stats-interval: '%s' is not a duration > 0", optarg);
			o->t_opt = true;
			break;
		case OPT_HELP:
			rd_usage(stdout);
			exit(0);
		case ':': rd_usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt && optopt < 256)
				rd_usage_error("unknown option '-%c'", optopt);
			rd_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		rd_usage_error("unexpected argument '%s'", argv[optind]);
	if (o->report) {
		if (o->out && strcmp(o->out, o->report) != 0)
			rd_usage_error("--report DIR and --out DIR name different directories");
		o->out = o->report;
	}
	if (o->t_opt && !o->torture)
		rd_usage_error("--duration, --readers, --stutter, --shuffle and --stats-interval need --torture");
	if (o->torture && (o->list || o->list_tests || o->nglobs || o->expect_file || o->out))
		rd_usage_error("--torture does not take --list, --list-tests, --clause, --expect-fail, --out or "
			       "--report");
	if (!o->list && !o->list_tests && !o->backend && !o->torture)
		rd_usage_error("--backend PATH.so is required");
}

/* ------------------------------------------------------------------ */
/* Small helpers */

/* Strings that live until the end of the run. */
static char **rd_pool;
static size_t rd_pool_n, rd_pool_cap;

static char *rd_keep(char *s)
{
	if (!s) {
		fputs("rundown-conform: out of memory\n", stderr);
		exit(RUNDOWN_EXIT_USAGE);
	}
	if (rd_pool_n == rd_pool_cap) {
		char **n;

		rd_pool_cap = rd_pool_cap ? 2 * rd_pool_cap : 256;
		n = realloc(rd_pool, rd_pool_cap * sizeof(*n));
		if (!n) {
			fputs("rundown-conform: out of memory\n", stderr);
			exit(RUNDOWN_EXIT_USAGE);
		}
		rd_pool = n;
	}
	rd_pool[rd_pool_n++] = s;
	return s;
}

__attribute__((format(printf, 1, 2))) static char *rd_strf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return rd_keep(s);
}

static void rd_pool_free(void)
{
	for (size_t i = 0; i < rd_pool_n; i++)
		free(rd_pool[i]);
	free(rd_pool);
	rd_pool = NULL;
	rd_pool_n = rd_pool_cap = 0;
}

/* Next space-separated id of a list: start, with its length; NULL at end. */
static const char *rd_next_id(const char **p, size_t *len)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t' || *s == ',')
		s++;
	if (!*s)
		return NULL;
	*len = strcspn(s, " \t,");
	*p = s + *len;
	return s;
}

static bool rd_list_has(const char *list, const char *id)
{
	size_t len, idlen = strlen(id);

	for (const char *p = list, *s; (s = rd_next_id(&p, &len));)
		if (len == idlen && memcmp(s, id, len) == 0)
			return true;
	return false;
}

static const char *rd_flags_string(unsigned f)
{
	static char buf[128];
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {{CONFORM_CONCURRENT, "concurrent"}, {CONFORM_ABI, "abi"},	 {CONFORM_NEEDS_TSAN, "needs-tsan"},
		     {CONFORM_SLOW, "slow"},		 {CONFORM_NEEDS_FAULTS, "needs-faults"}};

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & names[i].bit)
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", buf[0] ? "," : "", names[i].name);
	return buf[0] ? buf : "-";
}

/* Quote for a shell command line, only when needed. */
static char *rd_shell_quote(const char *s)
{
	size_t n = 3;
	char *q, *w;

	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./=,:+@%") == strlen(s))
		return rd_strf("%s", s);
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	q = w = malloc(n);
	if (!q)
		return rd_keep(NULL);
	*w++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(w, "'\\''", 4);
			w += 4;
		} else {
			*w++ = *p;
		}
	}
	*w++ = '\'';
	*w = '\0';
	return rd_keep(q);
}

/* ------------------------------------------------------------------ */
/* Tests, clauses */

static const struct conform_test *rd_section_begin(void)
{
	return __start_conform_tests;
}

static size_t rd_section_count(void)
{
	if (!__start_conform_tests || !__stop_conform_tests)
		return 0;
	return (size_t)(__stop_conform_tests - __start_conform_tests);
}

enum rd_state { RD_NOT_SELECTED, RD_SKIP_PROFILE, RD_SKIP_MISSING, RD_SKIP_STOPPED, RD_SKIP_INJECT, RD_RUN };

struct rd_test {
	const struct conform_test *t;
	enum rd_state state;
	const char *skip_msg;
	bool done;
	enum rundown_outcome outcome; /* of the test, before --expect-fail */
	const char *message;
	const char *fail_clause; /* the clause a FAIL message names, or NULL */
	uint64_t start_ns, dur_ms, seed;
	TTest ttest; /* the trampoline, under the test's name */
};

struct rd_clause {
	const char *id;
	const struct rundown_clause *c; /* NULL: named by a test, not in the catalog */
	bool selected;
	bool expected;
	const char *expect_reason;
	enum rundown_outcome outcome;
	const char *message;
	unsigned nrun;
	bool inj_affected;  /* --inject: some profile can affect it */
	bool inj_bypassed;  /* --inject: only CPU profiles affect it, and the backend bypasses the shim */
};

static struct rd_opts rd_o;
static struct rd_test *rd_tests;
static size_t rd_ntests;
static struct rd_clause *rd_clauses;
static size_t rd_nclauses;
static struct rundown_backend rd_backend;
static struct rundown_catalog rd_catalog;
static bool rd_tsan_exact;

/* --inject */
static struct conform_inject rd_inj;
static bool rd_irql_wrapped;
static bool rd_cpu_bypass; /* the backend reads the processor without sched_getcpu() */
static const char *const rd_bypass_msg =
	"backend reads the processor without sched_getcpu (rseq?): the profile cannot perturb it";

/* Progress and --fail-fast state, in this process (libcheck's parent). */
static SRunner *rd_sr;
static size_t *rd_order; /* indices into rd_tests, in TCase order */
static size_t rd_norder;
static size_t rd_cursor = SIZE_MAX;
static bool rd_stop;

static struct rd_clause *rd_clause_find(const char *id)
{
	for (size_t i = 0; i < rd_nclauses; i++)
		if (strcmp(rd_clauses[i].id, id) == 0)
			return &rd_clauses[i];
	return NULL;
}

static bool rd_glob_selected(const char *id)
{
	if (rd_o.nglobs == 0)
		return true;
	for (size_t i = 0; i < rd_o.nglobs; i++)
		if (fnmatch(rd_o.globs[i], id, 0) == 0)
			return true;
	return false;
}

/* Clauses of the catalog, then ids that tests name and the catalog lacks. */
static void rd_build_clauses(bool warn)
{
	size_t cap = rd_catalog.n + 16;

	rd_clauses = calloc(cap, sizeof(*rd_clauses));
	if (!rd_clauses)
		rd_usage_error("out of memory");
	for (size_t i = 0; i < rd_catalog.n; i++) {
		struct rd_clause *k = &rd_clauses[rd_nclauses++];

		k->id = rd_catalog.clauses[i].id;
		k->c = &rd_catalog.clauses[i];
	}
	for (size_t t = 0; t < rd_ntests; t++) {
		size_t len;

		for (const char *p = rd_tests[t].t->clauses, *s; p && (s = rd_next_id(&p, &len));) {
			char *id = rd_strf("%.*s", (int)len, s);

			if (rd_clause_find(id))
				continue;
			if (warn)
				fprintf(stderr, "rundown-conform: warning: test %s names %s, which is not in %s\n",
					rd_tests[t].t->name, id, rd_catalog.path);
			if (rd_nclauses == cap) {
				struct rd_clause *n = realloc(rd_clauses, 2 * cap * sizeof(*n));

				if (!n)
					rd_usage_error("out of memory");
				memset(n + cap, 0, cap * sizeof(*n));
				rd_clauses = n;
				cap *= 2;
			}
			rd_clauses[rd_nclauses++].id = id;
		}
	}
}

static void rd_select_clauses(void)
{
	for (size_t i = 0; i < rd_nclauses; i++) {
		struct rd_clause *k = &rd_clauses[i];

		k->selected = rd_glob_selected(k->id) &&
			      (k->c ? rundown_clause_in_family(k->c, rd_o.family) : rd_o.family == NULL);
	}
	for (size_t g = 0; g < rd_o.nglobs; g++) {
		bool any = false;

		for (size_t i = 0; i < rd_nclauses && !any; i++)
			any = fnmatch(rd_o.globs[g], rd_clauses[i].id, 0) == 0;
		if (!any)
			rd_usage_error("--clause %s: no clause of %s matches", rd_o.globs[g], rd_catalog.path);
	}
}

static bool rd_test_selected(const struct conform_test *t)
{
	size_t len;

	for (const char *p = t->clauses, *s; p && (s = rd_next_id(&p, &len));) {
		char id[128];
		struct rd_clause *k;

		snprintf(id, sizeof(id), "%.*s", (int)len, s);
		k = rd_clause_find(id);
		if (k && k->selected)
			return true;
	}
	return false;
}

static const char *rd_missing_names(uint32_t mask)
{
	char buf[1024] = "";

	for (unsigned i = 0; i < RUNDOWN_ID_COUNT; i++)
		if (mask & (UINT32_C(1) << i))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", buf[0] ? ", " : "",
				 rundown_routine_name(i));
	return rd_strf("%s", buf);
}

static void rd_select_tests(void)
{
	uint32_t missing = rundown_backend_missing(&rd_backend);
	bool abi = strcmp(rd_o.profile, "abi") == 0, quick = strcmp(rd_o.profile, "quick") == 0;

	for (size_t i = 0; i < rd_ntests; i++) {
		struct rd_test *x = &rd_tests[i];
		const struct conform_test *t = x->t;
		bool all_abi = true, any = false;
		size_t len;

		if (!rd_test_selected(t)) {
			x->state = RD_NOT_SELECTED;
			continue;
		}
		for (const char *p = t->clauses, *s; p && (s = rd_next_id(&p, &len));) {
			char id[128];
			struct rd_clause *k;

			snprintf(id, sizeof(id), "%.*s", (int)len, s);
			k = rd_clause_find(id);
			if (k && k->selected) {
				any = true;
				all_abi &= k->c && k->c->profile == RUNDOWN_CPROFILE_ABI;
			}
		}
		if (((t->flags & CONFORM_ABI) || (any && all_abi)) && !abi) {
			x->state = RD_SKIP_PROFILE;
			x->skip_msg = rd_strf("not in profile %s (an ABI test: use --profile abi)", rd_o.profile);
		} else if ((t->flags & CONFORM_SLOW) && quick) {
			x->state = RD_SKIP_PROFILE;
			x->skip_msg = rd_strf("not in profile quick (a slow test: use --profile full)");
		} else if (t->needs & missing) {
			x->state = RD_SKIP_MISSING;
			x->skip_msg = rd_strf("backend lacks %s", rd_missing_names(t->needs & missing));
		} else {
			x->state = RD_RUN;
		}
		if (rd_inj.on && x->state == RD_RUN) {
			bool run = false, bypassed = false;

			for (const char *p = t->clauses, *s; p && (s = rd_next_id(&p, &len));) {
				char id[128];
				struct rd_clause *k;
				bool cpu_only = false;

				snprintf(id, sizeof(id), "%.*s", (int)len, s);
				k = rd_clause_find(id);
				if (!k || !k->selected ||
				    !conform_inject_affects(&rd_inj, id, k->c ? k->c->kind_s : NULL,
							    (t->flags & CONFORM_CONCURRENT) != 0, &cpu_only))
					continue;
				k->inj_affected = true;
				if (cpu_only && rd_cpu_bypass) {
					k->inj_bypassed = true;
					bypassed = true;
				} else {
					run = true;
				}
			}
			if (!run) {
				x->state = RD_SKIP_INJECT;
				x->skip_msg = bypassed ? rd_bypass_msg
						       : rd_strf("not affected by %s %s", strchr(rd_inj.label, ',') ?
									   "profiles" : "profile", rd_inj.label);
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* libcheck results -> outcomes */

static enum rundown_outcome rd_outcome_of(int rtype, const char *msg, const char **out_msg)
{
	int sig, status;

	*out_msg = msg;
	switch (rtype) {
	case CK_PASS: *out_msg = NULL; return RUNDOWN_PASS;
	case CK_FAILURE:
		if (msg && strncmp(msg, CONFORM_UNRESOLVED_PREFIX, strlen(CONFORM_UNRESOLVED_PREFIX)) == 0) {
			*out_msg = msg + strlen(CONFORM_UNRESOLVED_PREFIX);
			return RUNDOWN_UNRESOLVED;
		}
		return RUNDOWN_FAIL;
	case CK_ERROR:
		if (!msg)
			return RUNDOWN_FAIL;
		if (strstr(msg, "Test timeout expired")) {
			*out_msg = rd_strf("timed out (%s)", msg);
			return RUNDOWN_HUNG;
		}
		if (sscanf(msg, "Received signal %d", &sig) == 1) {
			const char *abbrev = sigabbrev_np(sig);

			*out_msg = abbrev ? rd_strf("SIG%s: %s (signal %d)", abbrev, strsignal(sig), sig)
					  : rd_strf("signal %d (%s)", sig, msg);
			return RUNDOWN_SIGNALED;
		}
		if (sscanf(msg, "Early exit with return value %d", &status) == 1) {
			if (status == RD_TSAN_EXIT && RD_RUNNER_TSAN)
				*out_msg = rd_strf("ThreadSanitizer report, a data race or other TSan error (exit status %d; "
						   "the report is on stderr)", status);
			else if (status == RD_LSAN_EXIT && strcmp(RD_BUILD_SANITIZERS, "none") != 0)
				*out_msg = rd_strf("LeakSanitizer report: memory leaked (exit status %d; the report is on "
						   "stderr)", status);
			else if (strcmp(RD_BUILD_SANITIZERS, "none") != 0)
				*out_msg = rd_strf("%s (in a sanitizer build: probably a sanitizer report, see stderr)", msg);
			else
				*out_msg = rd_strf("the test exited early: %s", msg);
		}
		return RUNDOWN_FAIL;
	default: *out_msg = rd_strf("libcheck result type %d: %s", rtype, msg ? msg : "-"); return RUNDOWN_FAIL;
	}
}

/* The clause a failure message names first ("ID: ..."), if the test has it. */
static const char *rd_fail_clause(const struct conform_test *t, const char *msg)
{
	size_t len;

	if (!msg)
		return NULL;
	len = strcspn(msg, ":");
	if (msg[len] != ':' || len == 0 || len >= 128 || !rundown_clause_id_valid(msg, len))
		return NULL;
	char *id = rd_strf("%.*s", (int)len, msg);
	return rd_list_has(t->clauses, id) ? id : NULL;
}

/* The outcome of the test as the progress line shows it. */
static enum rundown_outcome rd_test_shown(const struct rd_test *x)
{
	size_t len;
	bool all_expected = true, any_expected = false;

	for (const char *p = x->t->clauses, *s; (s = rd_next_id(&p, &len));) {
		char id[128];
		struct rd_clause *k;

		snprintf(id, sizeof(id), "%.*s", (int)len, s);
		k = rd_clause_find(id);
		if (!k || !k->selected)
			continue;
		if (k->expected)
			any_expected = true;
		else
			all_expected = false;
	}
	if (rundown_outcome_is_bad(x->outcome)) {
		struct rd_clause *k = x->fail_clause ? rd_clause_find(x->fail_clause) : NULL;

		if (k ? k->expected : (any_expected && all_expected))
			return RUNDOWN_XFAIL;
	} else if (x->outcome == RUNDOWN_PASS && any_expected) {
		return RUNDOWN_XPASS;
	}
	return x->outcome;
}

static void rd_record(struct rd_test *x, int rtype, const char *msg)
{
	const char *m;

	x->outcome = rd_outcome_of(rtype, msg, &m);
	x->message = m ? rd_strf("%s", m) : NULL;
	if (x->outcome == RUNDOWN_PASS && (x->t->flags & CONFORM_NEEDS_TSAN) && !rd_tsan_exact) {
		x->outcome = RUNDOWN_UNRESOLVED;
		x->message = rd_tsan_hint;
	}
	if (x->outcome == RUNDOWN_FAIL)
		x->fail_clause = rd_fail_clause(x->t, x->message);
	x->done = true;
}

/* ------------------------------------------------------------------ */
/* The run */

static pid_t rd_parent_pid; /* the runner, when tests run in forked children */

static void rd_trampoline(int k)
{
	const struct conform_test *t = rd_tests[k].t;

	/* A test child never outlives the runner (a killed runner must not
	 * leave a spinning, perhaps real-time, child behind). */
	if (rd_parent_pid && getpid() != rd_parent_pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != rd_parent_pid)
			_exit(1);
	}
	conform_context_enter(t);
	t->ttest->fn(0);
	if (rd_irql_wrapped) {
		const char *clause = NULL;
		char what[256];
		uint64_t n = conform_irql_violations(&clause, what, sizeof(what));

		if (n)
			conform_fail(clause, "IRQL violation: %s at DISPATCH_LEVEL (%llu blocking call(s) inside "
				     "Acquire/Release recorded by the inject shim; backtrace on stderr); required "
				     "never to block", what, (unsigned long long)n);
	}
}

/* Unchecked fixtures: run in this process, before and after each TCase. */
static void rd_tc_setup(void)
{
	struct rd_test *x;

	rd_cursor = rd_cursor == SIZE_MAX ? 0 : rd_cursor + 1;
	x = &rd_tests[rd_order[rd_cursor]];
	fflush(stdout); /* nothing buffered may be duplicated by the fork */
	fflush(stderr);
	if (rd_stop) {
		x->state = RD_SKIP_STOPPED;
		x->skip_msg = "not run: --fail-fast stopped the run";
		ck_abort_msg("not run: --fail-fast stopped the run");
	}
	x->seed = conform_test_seed(rd_o.seed, x->t->name);
	x->start_ns = conform_now_ns();
}

static void rd_tc_teardown(void)
{
	struct rd_test *x = &rd_tests[rd_order[rd_cursor]];
	int n = srunner_ntests_run(rd_sr);
	TestResult **trs = srunner_results(rd_sr);
	enum rundown_outcome shown;
	const char *name = x->t->name;
	char clauses[256];

	x->dur_ms = (conform_now_ns() - x->start_ns) / 1000000u;
	for (int i = n - 1; i >= 0; i--) {
		if (strcmp(tr_tcname(trs[i]), name) == 0) {
			rd_record(x, tr_rtype(trs[i]), tr_msg(trs[i]));
			break;
		}
	}
	free(trs);
	if (!x->done) {
		x->outcome = RUNDOWN_FAIL;
		x->message = "no result from libcheck";
		x->done = true;
	}
	shown = rd_test_shown(x);
	snprintf(clauses, sizeof(clauses), "%s", x->t->clauses);
	printf("[%*zu/%zu] %-5s %s  (%s) %.2fs\n", snprintf(NULL, 0, "%zu", rd_norder), rd_cursor + 1, rd_norder,
	       rundown_outcome_name(shown), name, clauses, (double)x->dur_ms / 1000.0);
	if (x->message && (shown != RUNDOWN_PASS || rd_o.verbose))
		printf("        %s\n", x->message);
	fflush(stdout);
	if (rd_o.fail_fast && (rundown_outcome_is_failure(shown)))
		rd_stop = true;
}

static void rd_run_tests(void)
{
	Suite *s = suite_create("rundown-conform");
	double base_scale = rd_o.tmult * (strcmp(RD_BUILD_SANITIZERS, "none") != 0 ? RD_SAN_TIMEOUT_SCALE : 1.0) *
			    (double)rd_o.repeat * (strcmp(rd_o.profile, "quick") == 0 ? 1.0 : 4.0);
	const char *fork_env = getenv("CK_FORK");
	const struct rundown_inject_cfg *ic = &rd_inj.cfg;

	if (rd_inj.on && (ic->yield.p || ic->delay.p || ic->chaos.on || ic->pct.on))
		base_scale *= 3.0; /* perturbed schedules are slower, never wrong */
	bool nofork = fork_env && strcmp(fork_env, "no") == 0;
	char xml[4200], tap[4200];

	rd_order = calloc(rd_ntests + 1, sizeof(*rd_order));
	if (!rd_order)
		rd_usage_error("out of memory");
	for (size_t i = 0; i < rd_ntests; i++) {
		struct rd_test *x = &rd_tests[i];
		TCase *tc;

		if (x->state != RD_RUN)
			continue;
		rd_order[rd_norder++] = i;
		x->ttest.name = x->t->name;
		x->ttest.fn = rd_trampoline;
		x->ttest.file = x->t->ttest->file;
		x->ttest.line = x->t->ttest->line;
		tc = tcase_create(x->t->name);
		tcase_set_timeout(tc, (double)(x->t->timeout_s ? x->t->timeout_s : RD_DEFAULT_TIMEOUT_S) * base_scale);
		tcase_add_unchecked_fixture(tc, rd_tc_setup, rd_tc_teardown);
		_tcase_add_test(tc, &x->ttest, 0, 0, (int)i, (int)i + 1);
		suite_add_tcase(s, tc);
	}
	rd_sr = srunner_create(s);
	if (nofork) {
		fputs("rundown-conform: CK_FORK=no: tests run inside this process (no timeouts; a crash stops the run)\n",
		      stderr);
	} else {
		srunner_set_fork_status(rd_sr, CK_FORK);
		rd_parent_pid = getpid();
		if (rd_inj.on && ic->pct.on)
			conform_inject_pct_exempt(); /* our timeouts fire however a test's threads spin */
	}
	if (rd_o.out) { /* libcheck keeps the pointers: two buffers, alive until srunner_free */
		snprintf(xml, sizeof(xml), "%s/check.xml", rd_o.out);
		srunner_set_xml(rd_sr, xml);
		snprintf(tap, sizeof(tap), "%s/check.tap", rd_o.out);
		srunner_set_tap(rd_sr, tap);
	}
	/* --clause is the filter; libcheck's own would desynchronise rd_order. */
	unsetenv("CK_RUN_SUITE");
	unsetenv("CK_RUN_CASE");
	unsetenv("CK_INCLUDE_TAGS");
	unsetenv("CK_EXCLUDE_TAGS");
	if (rd_norder)
		srunner_run(rd_sr, NULL, NULL, CK_SILENT);
	srunner_free(rd_sr);
	rd_sr = NULL;
}

/* ------------------------------------------------------------------ */
/* Verdicts per clause */

struct rd_rows {
	struct rundown_result_row *v;
	size_t n, cap;
};

static void rd_row_add(struct rd_rows *r, const struct rundown_result_row *row)
{
	if (r->n == r->cap) {
		struct rundown_result_row *n;

		r->cap = r->cap ? 2 * r->cap : 256;
		n = realloc(r->v, r->cap * sizeof(*n));
		if (!n)
			rd_usage_error("out of memory");
		r->v = n;
	}
	r->v[r->n++] = *row;
}

static const char *rd_inject_args(void)
{
	if (!rd_inj.on)
		return "";
	return rd_strf("%s%s%s%s", rd_inj.names[0] ? " --inject " : "",
		       rd_inj.names[0] ? rd_shell_quote(rd_inj.names) : "", rd_inj.user_spec[0] ? " --inject-spec " : "",
		       rd_inj.user_spec[0] ? rd_shell_quote(rd_inj.user_spec) : "");
}

static const char *rd_reproduce(const char *clause)
{
	return rd_strf("rundown-conform --backend %s%s%s --profile %s%s --seed %llu --clause %s",
		       rd_shell_quote(rd_o.backend), rd_o.prefix ? " --symbol-prefix " : "",
		       rd_o.prefix ? rd_shell_quote(rd_o.prefix) : "", rd_o.profile, rd_inject_args(),
		       (unsigned long long)rd_o.seed, clause);
}

/* Why no test ran for a clause. */
static enum rundown_outcome rd_not_run(const struct rd_clause *k, const char **why)
{
	const char *missing = NULL, *profile = NULL, *stopped = NULL, *inject = NULL;
	bool named = false;

	if (k->c && k->c->kind == RUNDOWN_KIND_UNDEFINED) {
		*why = rd_strf("undefined by the documents: %s", k->c->note);
		return RUNDOWN_UNTESTED;
	}
	if (k->c && k->c->check == RUNDOWN_CHECK_UNTESTABLE) {
		*why = rd_strf("not testable in user mode: %s", k->c->note);
		return RUNDOWN_UNTESTED;
	}
	if (k->c && k->c->profile == RUNDOWN_CPROFILE_ABI && strcmp(rd_o.profile, "abi") != 0) {
		*why = rd_strf("not in profile %s (an ABI clause: use --profile abi)", rd_o.profile);
		return RUNDOWN_UNTESTED;
	}
	for (size_t i = 0; i < rd_ntests; i++) {
		const struct rd_test *x = &rd_tests[i];

		if (!rd_list_has(x->t->clauses, k->id))
			continue;
		named = true;
		if (x->state == RD_SKIP_MISSING && !missing)
			missing = x->skip_msg;
		else if (x->state == RD_SKIP_PROFILE && !profile)
			profile = x->skip_msg;
		else if (x->state == RD_SKIP_STOPPED && !stopped)
			stopped = x->skip_msg;
		else if (x->state == RD_SKIP_INJECT && !inject)
			inject = x->skip_msg;
	}
	if (missing) {
		*why = missing;
		return RUNDOWN_UNSUPPORTED;
	}
	if (k->inj_bypassed) {
		*why = rd_bypass_msg;
		return RUNDOWN_UNRESOLVED;
	}
	if (inject && !stopped && !k->inj_affected) {
		*why = rd_strf("not affected by %s %s", strchr(rd_inj.label, ',') ? "profiles" : "profile",
			       rd_inj.label);
		return RUNDOWN_UNTESTED;
	}
	*why = stopped ? stopped : profile ? profile : named ? "not run" : "no test names this clause";
	return RUNDOWN_UNTESTED;
}

static void rd_verdicts(struct rd_rows *rows)
{
	/* A test run for the selected clauses that failed on another of its
	 * clauses found a violation of that one: report it too. */
	for (size_t i = 0; i < rd_ntests; i++) {
		const struct rd_test *x = &rd_tests[i];
		struct rd_clause *k;

		if (x->done && x->state == RD_RUN && x->outcome == RUNDOWN_FAIL && x->fail_clause &&
		    (k = rd_clause_find(x->fail_clause)) && !k->selected)
			k->selected = true;
	}
	for (size_t ci = 0; ci < rd_nclauses; ci++) {
		struct rd_clause *k = &rd_clauses[ci];
		size_t first_row = rows->n;
		int worst = -1;

		if (!k->selected)
			continue;
		for (size_t i = 0; i < rd_ntests; i++) {
			const struct rd_test *x = &rd_tests[i];
			struct rundown_result_row row = {0};

			if (!x->done || x->state != RD_RUN || !rd_list_has(x->t->clauses, k->id))
				continue;
			row.clause = k->id;
			row.test = x->t->name;
			row.outcome = x->outcome;
			row.message = x->message;
			/* A FAIL that names another clause of the test: the test
			 * stopped there, so this clause got no verdict from it. */
			if (x->outcome == RUNDOWN_FAIL && x->fail_clause && strcmp(x->fail_clause, k->id) != 0) {
				row.outcome = RUNDOWN_UNRESOLVED;
				row.message = rd_strf("not checked: the test stopped at a failure of %s", x->fail_clause);
			}
			row.duration_ms = x->dur_ms;
			row.has_seed = true;
			row.seed = x->seed;
			row.reproduce = rd_reproduce(k->id);
			rd_row_add(rows, &row);
			k->nrun++;
			if (rundown_outcome_rank(row.outcome) > worst) {
				worst = rundown_outcome_rank(row.outcome);
				k->outcome = row.outcome;
				k->message = row.message;
			}
		}
		if (k->nrun == 0) {
			struct rundown_result_row row = {0};

			k->outcome = rd_not_run(k, &k->message);
			row.clause = k->id;
			row.outcome = k->outcome;
			row.message = k->message;
			rd_row_add(rows, &row);
			continue;
		}
		if (!k->expected)
			continue;
		/* --expect-fail: the clause's verdict, then its rows. */
		if (rundown_outcome_is_bad(k->outcome)) {
			k->message = rd_strf("expected failure (%s%s%s): %s %s", "listed in --expect-fail",
					     k->expect_reason ? ": " : "", k->expect_reason ? k->expect_reason : "",
					     rundown_outcome_name(k->outcome), k->message ? k->message : "");
			k->outcome = RUNDOWN_XFAIL;
		} else if (k->outcome == RUNDOWN_PASS) {
			k->outcome = RUNDOWN_XPASS;
			k->message = rd_strf("unexpected pass: listed in %s%s%s", rd_o.expect_file,
					     k->expect_reason ? ": " : "", k->expect_reason ? k->expect_reason : "");
		}
		for (size_t r = first_row; r < rows->n; r++) {
			struct rundown_result_row *row = &rows->v[r];

			if (rundown_outcome_is_bad(row->outcome)) {
				row->message = rd_strf("expected failure: %s %s", rundown_outcome_name(row->outcome),
						       row->message ? row->message : "");
				row->outcome = RUNDOWN_XFAIL;
			} else if (row->outcome == RUNDOWN_PASS && k->outcome == RUNDOWN_XPASS) {
				row->outcome = RUNDOWN_XPASS;
				row->message = k->message;
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* --expect-fail FILE */

static void rd_load_expect(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	ssize_t len;

	if (!fp) {
		fprintf(stderr, "rundown-conform: --expect-fail %s: %s\n", path, strerror(errno));
		exit(RUNDOWN_EXIT_USAGE);
	}
	while ((len = getline(&line, &cap, fp)) >= 0) {
		char *p = line, *id, *reason;
		size_t idlen;
		struct rd_clause *k;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		id = p;
		idlen = strcspn(p, " \t");
		reason = p + idlen;
		if (*reason)
			*reason++ = '\0';
		while (*reason == ' ' || *reason == '\t')
			reason++;
		if (!rundown_clause_id_valid(id, idlen)) {
			fprintf(stderr, "rundown-conform: %s:%u: malformed expect-fail line: '%s' is not a clause id\n",
				path, lineno, id);
			free(line);
			fclose(fp);
			exit(RUNDOWN_EXIT_USAGE);
		}
		k = rd_clause_find(id);
		if (!k) {
			fprintf(stderr, "rundown-conform: warning: %s:%u: %s is not in the catalog\n", path, lineno, id);
			continue;
		}
		k->expected = true;
		k->expect_reason = *reason ? rd_strf("%s", reason) : NULL;
	}
	free(line);
	fclose(fp);
}

/* ------------------------------------------------------------------ */
/* Catalog location */

static bool rd_readable(const char *p)
{
	return access(p, R_OK) == 0;
}

static const char *rd_default_catalog(void)
{
	const char *top = getenv("top_srcdir");
	char self[4096];
	ssize_t n;

	if (top && *top) {
		const char *p = rd_strf("%s/conformance/clauses.tsv", top);

		if (rd_readable(p))
			return p;
	}
	/* Run from the build tree: the source tree's catalog is the current one. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0 && RD_ABS_TOP_BUILDDIR[0]) {
		size_t bl = strlen(RD_ABS_TOP_BUILDDIR);

		self[n] = '\0';
		if (strncmp(self, RD_ABS_TOP_BUILDDIR, bl) == 0 && self[bl] == '/' &&
		    rd_readable(RD_ABS_TOP_SRCDIR "/conformance/clauses.tsv"))
			return RD_ABS_TOP_SRCDIR "/conformance/clauses.tsv";
	}
	if (rd_readable(RD_PKGDATADIR "/clauses.tsv") || !RD_ABS_TOP_SRCDIR[0] ||
	    !rd_readable(RD_ABS_TOP_SRCDIR "/conformance/clauses.tsv"))
		return RD_PKGDATADIR "/clauses.tsv";
	return RD_ABS_TOP_SRCDIR "/conformance/clauses.tsv";
}

/* ------------------------------------------------------------------ */
/* Listing and printing */

static void rd_list_tests(void)
{
	for (size_t i = 0; i < rd_ntests; i++) {
		const struct conform_test *t = rd_tests[i].t;

		printf("%s\t%s\t%s\n", t->name, t->clauses && *t->clauses ? t->clauses : "-", rd_flags_string(t->flags));
	}
}

static void rd_list_clauses(void)
{
	printf("# clause\tfamily\tkind\tcheck\tprofile\ttests\n");
	for (size_t ci = 0; ci < rd_nclauses; ci++) {
		const struct rd_clause *k = &rd_clauses[ci];
		bool first = true;

		if (!k->selected)
			continue;
		if (k->c)
			printf("%s\t%s\t%s\t%s\t%s\t", k->id, k->c->family_s, k->c->kind_s, k->c->check_s,
			       k->c->profile_s);
		else
			printf("%s\t?\t?\t?\t?\t", k->id);
		for (size_t i = 0; i < rd_ntests; i++) {
			if (rd_list_has(rd_tests[i].t->clauses, k->id)) {
				printf("%s%s", first ? "" : ",", rd_tests[i].t->name);
				first = false;
			}
		}
		printf("%s\n", first ? "-" : "");
	}
}

static void rd_print_summary(unsigned counts[RUNDOWN_NR_OUTCOMES])
{
	static const enum rundown_outcome order[] = {RUNDOWN_PASS,	 RUNDOWN_FAIL,	     RUNDOWN_HUNG,
						     RUNDOWN_SIGNALED,	 RUNDOWN_XFAIL,	     RUNDOWN_XPASS,
						     RUNDOWN_UNRESOLVED, RUNDOWN_UNSUPPORTED, RUNDOWN_UNTESTED};
	size_t w = strlen("clause");

	for (size_t ci = 0; ci < rd_nclauses; ci++)
		if (rd_clauses[ci].selected && strlen(rd_clauses[ci].id) > w)
			w = strlen(rd_clauses[ci].id);
	printf("\n%-*s  %-11s %5s  %s\n", (int)w, "clause", "outcome", "tests", "message");
	for (size_t ci = 0; ci < rd_nclauses; ci++) {
		const struct rd_clause *k = &rd_clauses[ci];
		char msg[81];
		const char *m = k->message ? k->message : "-";

		if (!k->selected)
			continue;
		counts[k->outcome]++;
		if (strlen(m) >= sizeof(msg)) {
			memcpy(msg, m, sizeof(msg) - 4);
			memcpy(msg + sizeof(msg) - 4, "...", 4);
		} else {
			snprintf(msg, sizeof(msg), "%s", m);
		}
		for (char *p = msg; *p; p++)
			if (*p == '\n' || *p == '\t')
				*p = ' ';
		printf("%-*s  %-11s %5u  %s\n", (int)w, k->id, rundown_outcome_name(k->outcome), k->nrun, msg);
	}
	printf("\nclauses:");
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		printf(" %s %u%s", rundown_outcome_name(order[i]), counts[order[i]],
		       i + 1 < sizeof(order) / sizeof(order[0]) ? "," : "\n");
	printf("%u unresolved, %u unsupported, %u untested (these do not fail the run)\n", counts[RUNDOWN_UNRESOLVED],
	       counts[RUNDOWN_UNSUPPORTED], counts[RUNDOWN_UNTESTED]);
	printf("%u passed, %u failed\n", counts[RUNDOWN_PASS] + counts[RUNDOWN_XFAIL],
	       counts[RUNDOWN_FAIL] + counts[RUNDOWN_HUNG] + counts[RUNDOWN_SIGNALED] + counts[RUNDOWN_XPASS]);
}

static const char *rd_command_line(int argc, char **argv)
{
	size_t n = 1;
	char *s, *w;

	for (int i = 0; i < argc; i++)
		n += strlen(argv[i]) + 1;
	s = w = rd_keep(malloc(n));
	for (int i = 0; i < argc; i++)
		w += sprintf(w, "%s%s", i ? " " : "", argv[i]);
	*w = '\0';
	return s;
}

static const char *rd_build_name(void)
{
	return strcmp(RD_BUILD_SANITIZERS, "none") == 0 ? "plain" : RD_BUILD_SANITIZERS;
}

static uint64_t rd_random_seed(void)
{
	struct timespec ts;
	uint64_t x;

	clock_gettime(CLOCK_REALTIME, &ts);
	x = (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
	x ^= (uint64_t)getpid() << 32;
	x = conform_test_seed(x, "rundown-conform");
	return x % UINT64_C(4294967291); /* short enough to type */
}

/* The runner runs from the build tree (not installed). */
static bool rd_in_build_tree(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t bl = strlen(RD_ABS_TOP_BUILDDIR);

	if (n <= 0 || bl == 0)
		return false;
	self[n] = '\0';
	return strncmp(self, RD_ABS_TOP_BUILDDIR, bl) == 0 && self[bl] == '/';
}

/* After the backend is loaded: the IRQL wrappers and the rseq probe. */
static void rd_inject_prepare(void)
{
	if (!rd_inj.on)
		return;
	if (rd_inj.cfg.irql != RUNDOWN_INJECT_IRQL_OFF) {
		if (conform_irql_wrap(&rd_backend) == 0)
			rd_irql_wrapped = true;
		else
			fprintf(stderr, "rundown-conform: warning: irql: the shim's control API is missing; calls "
					"are not bracketed\n");
	}
	if (rd_inj.cpu && (!rd_o.family || strcmp(rd_o.family, "cache-aware") == 0)) {
		int r = conform_inject_cpu_probe(&rd_backend);

		if (r == 0) {
			rd_cpu_bypass = true;
			fprintf(stderr, "rundown-conform: warning: %s: cache-aware Acquire/Release made no "
					"sched_getcpu() call the shim saw (%s)\n", rd_inj.label, rd_bypass_msg);
		} else if (r < 0 && rd_o.verbose) {
			fprintf(stderr, "rundown-conform: could not probe how the backend reads the processor\n");
		}
	}
}

/* One reproduce command per failing clause (the first few). */
static void rd_print_reproduce(void)
{
	unsigned shown = 0, more = 0;

	for (size_t ci = 0; ci < rd_nclauses; ci++) {
		const struct rd_clause *k = &rd_clauses[ci];

		if (!k->selected || !rundown_outcome_is_failure(k->outcome))
			continue;
		if (shown < 8) {
			printf("reproduce %s: %s\n", k->id, rd_reproduce(k->id));
			shown++;
		} else {
			more++;
		}
	}
	if (more)
		printf("(%u more failing clauses: same command with their ids)\n", more);
}

/* --torture: load the backend (default: librundown), then torture.c. */
static int rd_torture_main(int argc, char **argv)
{
	char err[4096];
	const char *path = rd_o.backend;
	int rc;

	if (!path) {
		path = rd_in_build_tree() ? RD_ABS_TOP_BUILDDIR "/impl/.libs/librundown.so" : RD_LIBDIR "/librundown.so";
		rd_o.backend = path;
	}
	if (rundown_backend_open(&rd_backend, path, rd_o.prefix, err, sizeof(err)) != 0) {
		fprintf(stderr, "rundown-conform: %s: %s\n", path, err);
		return RUNDOWN_EXIT_USAGE;
	}
	B = &rd_backend;
	rd_inject_prepare();
	rd_o.t.family = rd_o.family;
	rd_o.t.seed = rd_o.seed;
	rd_o.t.tmult = rd_o.tmult * (strcmp(RD_BUILD_SANITIZERS, "none") != 0 ? RD_SAN_TIMEOUT_SCALE : 1.0);
	rd_o.t.verbose = rd_o.verbose;
	rd_o.t.backend_path = path;
	rd_o.t.inject = rd_inj.on ? &rd_inj : NULL;
	rd_o.t.cpu_bypass = rd_cpu_bypass;
	rd_o.t.tsan_plain_ok = !RD_RUNNER_TSAN || rd_backend.tsan_instrumented;
	rd_o.t.command = rd_command_line(argc, argv);
	rd_o.t.reproduce = rd_strf("rundown-conform --torture --backend %s%s%s%s --seed %llu%s%s", rd_shell_quote(path),
				   rd_o.family ? " --family " : "", rd_o.family ? rd_o.family : "", rd_inject_args(),
				   (unsigned long long)rd_o.seed,
				   rd_o.t.duration_ns ? rd_strf(" --duration %.6gs", (double)rd_o.t.duration_ns / 1e9) : "",
				   rd_o.t.readers ? rd_strf(" --readers %u", rd_o.t.readers) : "");
	rc = conform_torture_run(&rd_backend, &rd_o.t);
	return rc;
}

/* ------------------------------------------------------------------ */

/*
 * --report DIR: render DIR/results.tsv with rundown-report into
 * DIR/{index.html,junit.xml,summary.md,results.json}.  The generator is the
 * build tree's when this runner runs from the build tree, else the one
 * installed next to this program, else the first in PATH.
 */
static int rd_render_report(const char *dir, const char *catalog)
{
	char self[4096], gen[4200];
	const char *prog = "rundown-report";
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	pid_t pid;
	int st;

	if (n > 0) {
		size_t bl = strlen(RD_ABS_TOP_BUILDDIR);
		char *slash;

		self[n] = '\0';
		if (bl && strncmp(self, RD_ABS_TOP_BUILDDIR, bl) == 0 && self[bl] == '/') {
			snprintf(gen, sizeof(gen), "%s/reports/rundown-report", RD_ABS_TOP_BUILDDIR);
			if (access(gen, X_OK) == 0)
				prog = gen;
		} else if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			snprintf(gen, sizeof(gen), "%s/rundown-report", self);
			if (access(gen, X_OK) == 0)
				prog = gen;
		}
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "rundown-conform: --report: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		char results[4200];

		snprintf(results, sizeof(results), "%s/results.tsv", dir);
		execlp(prog, prog, "--catalog", catalog, "--out", dir, results, (char *)NULL);
		fprintf(stderr, "rundown-conform: --report: cannot run %s: %s (is python3 installed?); "
			"the results are in %s\n", prog, strerror(errno), results);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	char err[4096];
	const char *catalog_path;
	struct rd_rows rows = {0};
	unsigned counts[RUNDOWN_NR_OUTCOMES] = {0};
	struct conform_settings cs;
	time_t started = time(NULL);
	uint64_t t0 = conform_now_ns();
	int status = 0;

	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	rd_parse_options(&rd_o, argc, argv);
	if (!rd_o.seed_given)
		rd_o.seed = rd_random_seed();
	if (rd_o.inject || rd_o.inject_spec) {
		/* Validate first: nothing runs with an unknown profile or a bad spec. */
		if (conform_inject_setup(&rd_inj, rd_o.inject, rd_o.inject_spec, rd_o.seed, err, sizeof(err)) != 0) {
			fprintf(stderr, "rundown-conform: %s\n", err);
			status = RUNDOWN_EXIT_USAGE;
			goto out;
		}
		if (!rd_o.list && !rd_o.list_tests) {
			char seed_opt[] = "--seed", seed_s[32];
			char *extra[] = {seed_opt, seed_s, NULL};
			const char *tree = rd_in_build_tree() ? RD_ABS_TOP_BUILDDIR "/inject/.libs/librundown-inject.so"
							       : NULL;

			snprintf(seed_s, sizeof(seed_s), "%llu", (unsigned long long)rd_o.seed);
			/* Returns only once this process runs under the shim. */
			if (conform_inject_exec(&rd_inj, argc, argv, rd_o.seed_given ? NULL : extra, tree,
						RD_PKGLIBDIR "/librundown-inject.so",
						tree ? RD_ABS_TOP_SRCDIR "/conformance/lsan-inject.supp"
						     : RD_PKGDATADIR "/lsan-inject.supp",
						err, sizeof(err)) != 0) {
				fprintf(stderr, "rundown-conform: --inject: %s\n", err);
				status = RUNDOWN_EXIT_USAGE;
				goto out;
			}
		}
	}
	if (rd_o.torture) {
		status = rd_torture_main(argc, argv);
		goto out;
	}

	rd_ntests = rd_section_count();
	rd_tests = calloc(rd_ntests + 1, sizeof(*rd_tests));
	if (!rd_tests)
		rd_usage_error("out of memory");
	for (size_t i = 0; i < rd_ntests; i++)
		rd_tests[i].t = &rd_section_begin()[i];

	if (rd_o.list_tests) {
		rd_list_tests();
		goto out;
	}

	catalog_path = rd_o.catalog ? rd_o.catalog : rd_default_catalog();
	if (rundown_catalog_load(&rd_catalog, catalog_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "rundown-conform: catalog: %s\n", err);
		status = RUNDOWN_EXIT_USAGE;
		goto out;
	}
	rd_build_clauses(!rd_o.list);
	rd_select_clauses();
	if (rd_o.list) {
		rd_list_clauses();
		goto out;
	}
	if (rd_o.expect_file)
		rd_load_expect(rd_o.expect_file);

	if (rundown_backend_open(&rd_backend, rd_o.backend, rd_o.prefix, err, sizeof(err)) != 0) {
		fprintf(stderr, "rundown-conform: %s: %s\n", rd_o.backend, err);
		status = RUNDOWN_EXIT_USAGE;
		goto out;
	}
	B = &rd_backend;
	if (rd_o.backend[0] != '/') { /* results and reproduce lines work from any directory */
		char cwd[4096];

		if (getcwd(cwd, sizeof(cwd)))
			rd_o.backend = rd_strf("%s/%s", cwd, rd_o.backend);
	}
	rd_inject_prepare();
	rd_tsan_exact = RD_RUNNER_TSAN && rd_backend.tsan_instrumented;
	if (rd_o.out && rundown_mkdir_p(rd_o.out, err, sizeof(err)) != 0) {
		fprintf(stderr, "rundown-conform: --out: %s\n", err);
		status = RUNDOWN_EXIT_USAGE;
		goto out;
	}
	cs.catalog = &rd_catalog;
	cs.seed = rd_o.seed;
	cs.profile = rd_o.profile;
	cs.iter_scale = (strcmp(rd_o.profile, "quick") == 0 ? 1ul : RD_FULL_SCALE) * rd_o.repeat;
	cs.timeout_multiplier = rd_o.tmult;
	conform_context_setup(&cs);

	rd_select_tests();
	printf("rundown-conform: backend %s, profile %s, family %s, seed %llu, catalog %s (%zu clauses)\n",
	       rd_o.backend, rd_o.profile, rd_o.family ? rd_o.family : "all", (unsigned long long)rd_o.seed,
	       rd_catalog.path, rd_catalog.n);
	if (rd_o.verbose) {
		uint32_t missing = rundown_backend_missing(&rd_backend);

		printf("rundown-conform: build %s; backend %s TSan, %s ASan; memory-ordering checks %s\n",
		       rd_build_name(), rd_backend.tsan_instrumented ? "with" : "without",
		       rd_backend.asan_instrumented ? "with" : "without", rd_tsan_exact ? "exact" : "UNRESOLVED if they pass");
		if (missing)
			printf("rundown-conform: backend lacks %s\n", rd_missing_names(missing));
	}
	if (rd_o.jobs > 1)
		printf("rundown-conform: --jobs %u: tests run one at a time for now\n", rd_o.jobs);
	if (rd_inj.on)
		printf("rundown-conform: inject %s: RUNDOWN_INJECT='%s'%s\n", rd_inj.label, rd_inj.spec,
		       rd_inj.cpu ? " (GLIBC_TUNABLES=glibc.pthread.rseq=0)" : "");

	rd_run_tests();
	rd_verdicts(&rows);
	rd_print_summary(counts);

	if (rd_o.out) {
		struct rundown_results_meta m = {
			.backend = rd_o.backend,
			.profile = rd_o.profile,
			.family = rd_o.family ? rd_o.family : "all",
			.inject = rd_inj.on ? rd_inj.label : "-",
			.inject_spec = rd_inj.on ? rd_inj.spec : NULL,
			.build = rd_build_name(),
			.command = rd_command_line(argc, argv),
			.seed = rd_o.seed,
			.started = started,
			.duration_ms = (conform_now_ns() - t0) / 1000000u,
		};

		if (rundown_results_write(rd_o.out, &m, rows.v, rows.n, err, sizeof(err)) != 0) {
			fprintf(stderr, "rundown-conform: --out: %s\n", err);
			status = RUNDOWN_EXIT_USAGE;
			goto out;
		}
	}
	status = counts[RUNDOWN_FAIL] + counts[RUNDOWN_HUNG] + counts[RUNDOWN_SIGNALED] + counts[RUNDOWN_XPASS] ? 1 : 0;
	if (status)
		rd_print_reproduce();
	if (rd_o.report && rd_o.out && rd_render_report(rd_o.out, catalog_path) != 0) {
		fprintf(stderr, "rundown-conform: --report: rundown-report failed; the results are in "
			"%s/results.tsv\n", rd_o.out);
		status = RUNDOWN_EXIT_USAGE;
	}
out:
	B = NULL;
	rundown_backend_close(&rd_backend);
	rundown_catalog_free(&rd_catalog);
	free(rows.v);
	free(rd_order);
	free(rd_tests);
	free(rd_clauses);
	free(rd_o.globs);
	free(rd_o.inject);
	free(rd_o.inject_spec);
	rd_pool_free();
	return status;
}
