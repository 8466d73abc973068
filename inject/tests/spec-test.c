/*
 * inject/tests/spec-test.c - the RUNDOWN_INJECT parser, its canonical form
 * and the profiles table (libinject-spec, no preloading).
 */
#include "config.h"

#include <check.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "inject/spec.h"

static struct rundown_inject_cfg cfg;
static char err[512];

static int parse(const char *spec)
{
	return rundown_inject_parse(spec, &cfg, err, sizeof err);
}

START_TEST(parse_full_example)
{
	ck_assert_int_eq(parse("seed=42;sched=delay:p=0.2,max=50us;cpu=migrate;ncpu=3;"
			       "alloc=nth:2;futex=spurious:p=0.1;log=/tmp/x.log"), 0);
	ck_assert(cfg.have_seed);
	ck_assert_uint_eq(cfg.seed, 42);
	ck_assert_uint_eq(cfg.delay.p, 200000000u);
	ck_assert_uint_eq(cfg.delay.max_ns, 50000u);
	ck_assert_int_eq(cfg.cpu.mode, RUNDOWN_INJECT_CPU_MIGRATE);
	ck_assert_uint_eq(cfg.ncpu, 3);
	ck_assert_int_eq(cfg.alloc.mode, RUNDOWN_INJECT_ALLOC_NTH);
	ck_assert_uint_eq(cfg.alloc.n, 2);
	ck_assert_uint_eq(cfg.futex.spurious_p, 100000000u);
	ck_assert_str_eq(cfg.log, "/tmp/x.log");
}
END_TEST

START_TEST(parse_forms)
{
	ck_assert_int_eq(parse(""), 0);
	ck_assert(!rundown_inject_cfg_active(&cfg));
	ck_assert_int_eq(parse(NULL), 0);
	ck_assert_int_eq(parse(" ; seed = 0x10 ;; "), 0);
	ck_assert_uint_eq(cfg.seed, 16);
	ck_assert_int_eq(parse("sched=yield:25%"), 0);
	ck_assert_uint_eq(cfg.yield.p, 250000000u);
	ck_assert_int_eq(parse("sched=yield:.5"), 0);
	ck_assert_uint_eq(cfg.yield.p, 500000000u);
	ck_assert_int_eq(parse("sched=yield"), 0);
	ck_assert_uint_eq(cfg.yield.p, 100000000u);
	ck_assert_int_eq(parse("alloc=p:1,max=3,scope=armed"), 0);
	ck_assert_uint_eq(cfg.alloc.p, 1000000000u);
	ck_assert_uint_eq(cfg.alloc.max, 3);
	ck_assert(cfg.alloc.armed);
	ck_assert_int_eq(parse("alloc=every:n=5"), 0);
	ck_assert_uint_eq(cfg.alloc.n, 5);
	ck_assert_int_eq(parse("cpu=fixed:7;ncpu=4"), 0);
	ck_assert_uint_eq(cfg.cpu.n, 7);
	ck_assert_int_eq(parse("cpu=hotplug:p=0.5,span=3"), 0);
	ck_assert_int_eq(parse("sched=pct:d=2,k=100;irql=abort"), 0);
	ck_assert_int_eq(cfg.irql, RUNDOWN_INJECT_IRQL_ABORT);
	ck_assert_int_eq(parse("sched=chaos:max=1s,min=1ms"), 0);
	ck_assert_int_eq(parse("futex=spurious;futex=eintr:p=0.01"), 0);
}
END_TEST

static const struct {
	const char *spec;
	const char *needle; /* must appear in the message */
} bad[] = {
	{ "seed=abc", "'abc'" },
	{ "seed=-1", "'-1'" },
	{ "bogus=1", "unknown key 'bogus'" },
	{ "sched", "expected key=value" },
	{ "sched=", "has no value" },
	{ "sched=wobble", "unknown sched mode 'wobble'" },
	{ "sched=delay:p=2", "'2' is not a probability" },
	{ "sched=delay:p=0.1,max=50", "'50' is not a duration" },
	{ "sched=delay:p=0.1,max=5parsecs", "'5parsecs'" },
	{ "sched=delay:q=1", "unknown parameter 'q'" },
	{ "sched=delay:p=0.1,p=0.2", "given twice" },
	{ "sched=delay:min=2ms,max=1ms", "min is larger than max" },
	{ "sched=yield;sched=yield", "sched=yield given twice" },
	{ "sched=pct;sched=chaos", "cannot be combined" },
	{ "cpu=migrate;cpu=random", "cpu given twice" },
	{ "cpu=fixed", "needs a processor number" },
	{ "cpu=migrate:3", "bare value" },
	{ "ncpu=0", "'0' is not a processor count" },
	{ "ncpu=99999999", "processor count" },
	{ "alloc=nth", "needs a value" },
	{ "alloc=nth:0", "n must be at least 1" },
	{ "alloc=nth:2,scope=some", "'some' is not 'all' or 'armed'" },
	{ "alloc=sometimes:1", "unknown alloc mode 'sometimes'" },
	{ "futex=spurious:p=1.5", "'1.5'" },
	{ "irql=maybe", "'maybe' is not record, abort or off" },
	{ "sched=yield:", "empty parameter list" },
	{ "sched=delay:p=0.1,,max=1us", "empty parameter" },
};

START_TEST(parse_errors)
{
	ck_assert_int_eq(parse(bad[_i].spec), -1);
	ck_assert_msg(strstr(err, bad[_i].needle) != NULL, "spec '%s': message '%s' lacks '%s'",
		      bad[_i].spec, err, bad[_i].needle);
}
END_TEST

START_TEST(parse_is_locale_independent)
{
	/* A locale with a decimal comma must not change "0.25". */
	if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL)
		setlocale(LC_NUMERIC, "C");
	ck_assert_int_eq(parse("sched=yield:p=0.25"), 0);
	ck_assert_uint_eq(cfg.yield.p, 250000000u);
	setlocale(LC_NUMERIC, "C");
}
END_TEST

START_TEST(format_round_trips)
{
	static const char *specs[] = {
		"seed=7;sched=yield:p=0.05;sched=delay:p=0.125,min=3us,max=2ms;cpu=hotplug:p=0.3,"
		"span=5;ncpu=1024;alloc=every:3,max=2,scope=armed;futex=spurious:p=1;"
		"futex=eintr:p=0.000000001;irql=record;log=/tmp/a b",
		"sched=chaos:min=1ms,max=20ms;cpu=fixed:3",
		"sched=pct:d=4,k=99,cpu=1;alloc=p:0.5",
	};

	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		struct rundown_inject_cfg a, b;
		char canon[RUNDOWN_INJECT_SPEC_MAX];

		ck_assert_int_eq(rundown_inject_parse(specs[i], &a, err, sizeof err), 0);
		rundown_inject_format(&a, canon, sizeof canon);
		ck_assert_msg(rundown_inject_parse(canon, &b, err, sizeof err) == 0, "%s: %s",
			      canon, err);
		ck_assert_msg(memcmp(&a, &b, sizeof a) == 0, "'%s' -> '%s' differs", specs[i],
			      canon);
	}
}
END_TEST

START_TEST(profiles_parse_and_target)
{
	size_t n;
	const struct rundown_inject_profile *p = rundown_inject_profiles(&n);
	static const char *required[] = { "sched-light", "sched-heavy", "pct", "chaos",
					  "migrate", "hotplug", "ncpu-1", "ncpu-3", "ncpu-1024",
					  "alloc-fail", "spurious-wakeup", "irql" };

	ck_assert_uint_ge(n, 12);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(parse(p[i].spec) == 0, "%s: %s", p[i].name, err);
		ck_assert(rundown_inject_cfg_active(&cfg));
		ck_assert(!cfg.have_seed);
	}
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		ck_assert_msg(rundown_inject_profile(required[i]) != NULL, "%s", required[i]);
	ck_assert_ptr_null(rundown_inject_profile("nope"));
	ck_assert(rundown_inject_profile_affects(rundown_inject_profile_find("alloc-fail"),
						 "CA-ALLOC-003", NULL));
	ck_assert(!rundown_inject_profile_affects(rundown_inject_profile_find("alloc-fail"),
						  "PLAIN-WAIT-002", NULL));
	ck_assert(rundown_inject_profile_affects(rundown_inject_profile_find("spurious-wakeup"),
						 "PLAIN-WAIT-002", NULL));
	ck_assert(rundown_inject_profile_affects(rundown_inject_profile_find("irql"),
						 "IRQL-ACQ-001", NULL));
	ck_assert(rundown_inject_profile_affects(rundown_inject_profile_find("migrate"),
						 "CA-REL-001", NULL));
	ck_assert(!rundown_inject_profile_affects(rundown_inject_profile_find("migrate"),
						  "PLAIN-REL-001", NULL));
	ck_assert(rundown_inject_profile_affects(rundown_inject_profile_find("sched-heavy"),
						 "PLAIN-ACQ-001", "concurrent"));
	ck_assert(!rundown_inject_profile_affects(rundown_inject_profile_find("sched-heavy"),
						  "PLAIN-ACQ-001", "sequential"));
}
END_TEST

START_TEST(profiles_expand)
{
	char out[RUNDOWN_INJECT_SPEC_MAX];

	ck_assert_int_eq(rundown_inject_profile_expand("sched-heavy,migrate", out, sizeof out, err,
						       sizeof err), 0);
	ck_assert(strstr(out, "cpu=migrate") != NULL);
	ck_assert_int_eq(rundown_inject_profile_expand("migrate,bogus", out, sizeof out, err,
						       sizeof err), -1);
	ck_assert(strstr(err, "unknown inject profile 'bogus'") != NULL);
	ck_assert_int_eq(rundown_inject_profile_expand("migrate,hotplug", out, sizeof out, err,
						       sizeof err), -1);
	ck_assert(strstr(err, "cpu given twice") != NULL);
}
END_TEST

static Suite *spec_suite(void)
{
	Suite *s = suite_create("inject-spec");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, parse_full_example);
	tcase_add_test(tc, parse_forms);
	tcase_add_loop_test(tc, parse_errors, 0, (int)(sizeof bad / sizeof bad[0]));
	tcase_add_test(tc, parse_is_locale_independent);
	tcase_add_test(tc, format_round_trips);
	suite_add_tcase(s, tc);
	tc = tcase_create("profiles");
	tcase_add_test(tc, profiles_parse_and_target);
	tcase_add_test(tc, profiles_expand);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(spec_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
