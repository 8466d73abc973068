/*
 * bench/main.c - rundown-bench: options, the interleaved repetitions, the
 * table and the TSV.  See --help; a committed run and its reading are in
 * bench/results/README.md.
 *
 * Methodology (refscale-style): every selected variant is measured R times
 * per thread count, interleaved (A rep 1, B rep 1, ..., A rep 2, ...) so
 * that machine noise hits all of them alike; a repetition is S seconds of
 * T pinned threads looping "acquire; hold; release" on one shared object;
 * medians and min-max over the repetitions are printed, with the cost
 * ratio to ref-plain and to faa-private (the floor) measured in the same run.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"

#include "impl/cpu.h" /* rd_cpu_source, rd_ca_path: librundown is linked statically */

#define BENCH_MAX_REPS 101
#define BENCH_MAX_TCOUNTS 16

static const char *const bench_all_names[] = {
	"ref-plain", "ref-cache-aware", "ref-ca-atomic", "backend-plain", "backend-cache-aware", "single-cas",
	"percpu-cas", "faa-private", "call-floor", "rwlock", "ck-brlock", "ck-brlock-call", "urcu-memb"};

static void bench_usage(FILE *f)
{
	fprintf(f,
		"usage: rundown-bench [OPTION]...\n"
		"Cost of one Acquire+Release pair of run-down protection, next to its peers:\n"
		"medians of N interleaved repetitions of S seconds, threads pinned one per CPU.\n"
		"\n"
		"Pair benchmark (the default):\n"
		"  --threads LIST     thread counts, e.g. 1,2,4 (default 1,2; 1..%d each)\n"
		"  --reps N           repetitions per variant and thread count (default 5, max %d)\n"
		"  --seconds S        length of one repetition, (0, 60] (default 0.5)\n"
		"  --hold-ns N        busy-wait N ns inside the protection, calibrated at start\n"
		"                     (default 0)\n"
		"  --variants LIST    measure only these (comma-separated; default all built):\n"
		"      ref-plain, ref-cache-aware     librundown, linked in, through fn pointers\n"
		"      ref-ca-atomic      ref-cache-aware on librundown's atomic fallback path\n"
		"                         (listed when the rseq fast path is the default)\n"
		"      backend-plain, backend-cache-aware   the same routines of --backend\n"
		"      single-cas         one shared word: CAS acquire with a closed bit,\n"
		"                         fetch_sub release (the Windows plain design)\n"
		"      percpu-cas         per-CPU 64-byte slots picked by sched_getcpu(), CAS on\n"
		"                         the slot (the Windows cache-aware design)\n"
		"      faa-private        fetch_add/fetch_sub on a thread-owned line (the floor)\n"
		"      call-floor         two empty out-of-line calls through function pointers:\n"
		"                         what calling any backend costs before it does anything\n"
		"      rwlock             pthread_rwlock_tryrdlock/unlock\n"
		"      ck-brlock          ck_brlock_read_lock/unlock, a reader per thread%s\n"
		"      ck-brlock-call     the same, out of line, through function pointers\n"
		"      urcu-memb          liburcu memb rcu_read_lock/unlock, threads registered%s\n"
		"  --backend PATH.so  also measure a backend (same contract as rundown-conform)\n"
		"  --format table|tsv output format on stdout (default table); tsv is a header\n"
		"                     row then one row per (variant, threads):\n"
		"                       variant threads ns_per_pair mpairs_total ns_min ns_max\n"
		"                       mpairs_min mpairs_max hold_ns reps seconds call\n"
		"                     (ns_per_pair: thread time per pair, median; mpairs_total:\n"
		"                     million pairs/s of all threads together, median)\n"
		"  --tsv FILE         also write the TSV of the pair benchmark to FILE\n"
		"  --pairs            run the pair benchmark even with the options below\n"
		"\n"
		"Owner side (each replaces the pair benchmark unless --pairs is given; for\n"
		"ref-* and backend-* only):\n"
		"  --wait-latency     last Release -> Wait returns, owner blocked in Wait\n"
		"  --wait-cost        uncontended cache-aware Wait against 1..--max-slots slots\n"
		"  --memory           bytes per object and per thread, every variant\n"
		"  --trials N         trials for --wait-latency and --wait-cost (default 200)\n"
		"  --max-slots N      largest slot count for --wait-cost (default 1024)\n"
		"  With --format tsv each of these prints its own block after the pairs: a\n"
		"  header row whose first column is 'measure', rows starting with the section.\n"
		"  Wait cost sizes the buffer for N slots as Size() - 64*P + 64*N, P the\n"
		"  configured processors (what Size() returns with N processors).\n"
		"\n"
		"  --list-variants    print the variants this build can measure, one a line\n"
		"  --help             this text\n"
		"Exit status: 0 done, 2 usage or backend load errors.\n",
		BENCH_MAX_THREADS, BENCH_MAX_REPS,
#if HAVE_CK
		"",
#else
		" (not built)",
#endif
#if HAVE_URCU
		""
#else
		" (not built)"
#endif
	);
}

static int bench_bad(const char *opt, const char *what, const char *got)
{
	fprintf(stderr, "rundown-bench: %s: expected %s, got '%s'\n", opt, what, got);
	fprintf(stderr, "Try 'rundown-bench --help'.\n");
	return RUNDOWN_EXIT_USAGE;
}

static bool bench_parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned *out)
{
	char *end;
	unsigned long n;

	if (*s < '0' || *s > '9')
		return false;
	n = strtoul(s, &end, 10);
	if (*end || n < lo || n > hi)
		return false;
	*out = (unsigned)n;
	return true;
}

static bool bench_known(const char *name)
{
	for (size_t i = 0; i < sizeof(bench_all_names) / sizeof(*bench_all_names); i++)
		if (!strcmp(name, bench_all_names[i]))
			return true;
	return false;
}

static int bench_find(const struct bench_variant *v, unsigned nv, const char *name)
{
	for (unsigned i = 0; i < nv; i++)
		if (!strcmp(v[i].name, name))
			return (int)i;
	return -1;
}

struct bench_result {
	struct bench_stats ns, mp;
};

static void bench_tsv_header(FILE *f)
{
	fprintf(f, "variant\tthreads\tns_per_pair\tmpairs_total\tns_min\tns_max\tmpairs_min"
		   "\tmpairs_max\thold_ns\treps\tseconds\tcall\n");
}

static void bench_tsv_row(FILE *f, const struct bench_variant *v, unsigned threads,
			  const struct bench_result *r, unsigned hold_ns, unsigned reps,
			  double seconds)
{
	fprintf(f, "%s\t%u\t%.3f\t%.2f\t%.3f\t%.3f\t%.2f\t%.2f\t%u\t%u\t%g\t%s\n", v->name, threads,
		r->ns.median, r->mp.median, r->ns.min, r->ns.max, r->mp.min, r->mp.max, hold_ns,
		reps, seconds, v->call);
}

int main(int argc, char **argv)
{
	enum { O_HOLD = 256, O_VARIANTS, O_TSV, O_PAIRS, O_LAT, O_COST, O_MEM, O_TRIALS,
	       O_SLOTS, O_LIST };
	static const struct option opts[] = {
		{"threads", required_argument, NULL, 't'},
		{"reps", required_argument, NULL, 'r'},
		{"seconds", required_argument, NULL, 's'},
		{"backend", required_argument, NULL, 'b'},
		{"format", required_argument, NULL, 'f'},
		{"hold-ns", required_argument, NULL, O_HOLD},
		{"variants", required_argument, NULL, O_VARIANTS},
		{"tsv", required_argument, NULL, O_TSV},
		{"pairs", no_argument, NULL, O_PAIRS},
		{"wait-latency", no_argument, NULL, O_LAT},
		{"wait-cost", no_argument, NULL, O_COST},
		{"memory", no_argument, NULL, O_MEM},
		{"trials", required_argument, NULL, O_TRIALS},
		{"max-slots", required_argument, NULL, O_SLOTS},
		{"list-variants", no_argument, NULL, O_LIST},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	static struct rundown_backend ref, other;
	static struct bench_variant all[BENCH_MAX_VARIANTS], v[BENCH_MAX_VARIANTS];
	static struct bench_result res[BENCH_MAX_TCOUNTS][BENCH_MAX_VARIANTS];
	static double ns[BENCH_MAX_VARIANTS][BENCH_MAX_REPS], mp[BENCH_MAX_VARIANTS][BENCH_MAX_REPS];
	static unsigned cpus[CPU_SETSIZE];
	struct bench_wait_target targets[2];
	unsigned nall = 0, nv = 0, threads[BENCH_MAX_TCOUNTS], nthreads = 0, reps = 5;
	unsigned hold_ns = 0, trials = 200, max_slots = 1024, ncpus, nt = 0, batch;
	double seconds = 0.5, ipn = 0;
	const char *backend = NULL, *tsv_path = NULL;
	char *tlist = NULL, *vlist = NULL, err[512];
	bool tsv = false, pairs = false, lat = false, cost = false, mem = false, list = false;
	uint64_t hold_iters = 0;
	FILE *tsvf = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "t:r:s:b:f:h", opts, NULL)) != -1) {
		char *end;

		switch (c) {
		case 't':
			tlist = optarg;
			break;
		case 'r':
			if (!bench_parse_uint(optarg, 1, BENCH_MAX_REPS, &reps))
				return bench_bad("--reps", "1..101", optarg);
			break;
		case 's':
			seconds = strtod(optarg, &end);
			if (end == optarg || *end || !(seconds > 0 && seconds <= 60))
				return bench_bad("--seconds", "a number in (0, 60]", optarg);
			break;
		case 'b':
			backend = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "tsv"))
				tsv = true;
			else if (!strcmp(optarg, "table"))
				tsv = false;
			else
				return bench_bad("--format", "table or tsv", optarg);
			break;
		case O_HOLD:
			if (!bench_parse_uint(optarg, 0, 10000000, &hold_ns))
				return bench_bad("--hold-ns", "0..10000000", optarg);
			break;
		case O_VARIANTS:
			vlist = optarg;
			break;
		case O_TSV:
			tsv_path = optarg;
			break;
		case O_PAIRS:
			pairs = true;
			break;
		case O_LAT:
			lat = true;
			break;
		case O_COST:
			cost = true;
			break;
		case O_MEM:
			mem = true;
			break;
		case O_TRIALS:
			if (!bench_parse_uint(optarg, 1, 1000000, &trials))
				return bench_bad("--trials", "1..1000000", optarg);
			break;
		case O_SLOTS:
			if (!bench_parse_uint(optarg, 1, 65536, &max_slots))
				return bench_bad("--max-slots", "1..65536", optarg);
			break;
		case O_LIST:
			list = true;
			break;
		case 'h':
			bench_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'rundown-bench --help'.\n");
			return RUNDOWN_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rundown-bench: unexpected argument '%s'\n", argv[optind]);
		return RUNDOWN_EXIT_USAGE;
	}
	if (!lat && !cost && !mem)
		pairs = true;
	for (char *tok = tlist ? strtok(tlist, ",") : NULL; tok; tok = strtok(NULL, ",")) {
		if (nthreads == BENCH_MAX_TCOUNTS)
			return bench_bad("--threads", "at most 16 thread counts", tok);
		if (!bench_parse_uint(tok, 1, BENCH_MAX_THREADS, &threads[nthreads++]))
			return bench_bad("--threads", "a list of counts 1..256", tok);
	}
	if (tlist && nthreads == 0)
		return bench_bad("--threads", "a list of counts 1..256", tlist);
	if (nthreads == 0) {
		threads[nthreads++] = 1;
		threads[nthreads++] = 2;
	}

	/* Every variant this build and these options can run, in table order. */
	rundown_backend_linked(&ref);
	bench_variants_ref(all, &nall, &ref, "ref-plain", "ref-cache-aware");
	targets[nt++] = (struct bench_wait_target){"ref", &ref};
	if (backend) {
		if (rundown_backend_open(&other, backend, NULL, err, sizeof(err)) != 0) {
			fprintf(stderr, "rundown-bench: %s\n", err);
			return RUNDOWN_EXIT_USAGE;
		}
		bench_variants_ref(all, &nall, &other, "backend-plain", "backend-cache-aware");
		targets[nt++] = (struct bench_wait_target){"backend", &other};
	}
	bench_variants_peers(all, &nall);
#if HAVE_CK
	bench_variants_ck(all, &nall);
#endif
#if HAVE_URCU
	bench_variants_urcu(all, &nall);
#endif
	if (list) {
		for (unsigned i = 0; i < nall; i++)
			printf("%s\n", all[i].name);
		return 0;
	}
	if (vlist) {
		bool want[BENCH_MAX_VARIANTS] = {false};

		for (char *tok = strtok(vlist, ","); tok; tok = strtok(NULL, ",")) {
			int i = bench_find(all, nall, tok);

			if (i < 0) {
				if (!bench_known(tok))
					return bench_bad("--variants", "names from --help", tok);
				fprintf(stderr, "rundown-bench: --variants: '%s' is not available in "
						"this run (%s)\n", tok,
					!strncmp(tok, "backend-", 8)
						? "needs --backend, and the backend must export that family"
						: "not built: its library was missing at configure time");
				return RUNDOWN_EXIT_USAGE;
			}
			want[i] = true;
		}
		for (unsigned i = 0; i < nall; i++)
			if (want[i])
				v[nv++] = all[i];
	} else {
		memcpy(v, all, sizeof(all));
		nv = nall;
	}

	ncpus = bench_cpus(cpus, CPU_SETSIZE);
	if (tsv_path && (tsvf = fopen(tsv_path, "w")) == NULL) {
		fprintf(stderr, "rundown-bench: --tsv: cannot write '%s'\n", tsv_path);
		return RUNDOWN_EXIT_USAGE;
	}
	bench_pin(cpus[0]);
	hold_iters = bench_hold_calibrate(hold_ns, &ipn);
	/* About 50 us between two looks at the stop flag when holding. */
	batch = hold_ns == 0 ? 1024u : 50000u / hold_ns;
	batch = batch < 1 ? 1 : batch > 1024 ? 1024 : batch;
	if (!tsv) {
		if (pairs)
			printf("# rundown-bench: %u reps x %gs, interleaved; threads pinned "
			       "round-robin on %u allowed CPUs; hold %u ns (%llu iterations, "
			       "%.2f it/ns)\n", reps, seconds, ncpus, hold_ns,
			       (unsigned long long)hold_iters, ipn);
		printf("# librundown processor source: %s\n", rd_cpu_source());
		printf("# librundown cache-aware path: %s\n", rd_ca_path());
		if (backend)
			printf("# backend: %s\n", other.path);
	}

	if (pairs) {
		int iref = bench_find(v, nv, "ref-plain"), ifloor = bench_find(v, nv, "faa-private");

		if (tsv)
			bench_tsv_header(stdout);
		if (tsvf)
			bench_tsv_header(tsvf);
		for (unsigned ti = 0; ti < nthreads; ti++) {
			for (unsigned r = 0; r < reps; r++)
				for (unsigned i = 0; i < nv; i++) {
					struct bench_sample s = bench_run(&v[i], threads[ti], cpus,
									  ncpus, seconds,
									  hold_iters, batch);

					ns[i][r] = s.ns_per_pair;
					mp[i][r] = s.mpairs_total;
				}
			for (unsigned i = 0; i < nv; i++) {
				res[ti][i].ns = bench_stats(ns[i], reps);
				res[ti][i].mp = bench_stats(mp[i], reps);
			}
			if (!tsv)
				printf("\n%-20s %3s %9s %17s %9s %17s %7s %7s %6s\n", "variant", "T",
				       "ns/pair", "[min-max]", "Mpairs/s", "[min-max]", "/ref",
				       "/floor", "xT1");
			for (unsigned i = 0; i < nv; i++) {
				const struct bench_result *r = &res[ti][i];
				char rref[16] = "-", rfloor[16] = "-", scale[16] = "-";

				if (tsv)
					bench_tsv_row(stdout, &v[i], threads[ti], r, hold_ns, reps,
						      seconds);
				if (tsvf)
					bench_tsv_row(tsvf, &v[i], threads[ti], r, hold_ns, reps,
						      seconds);
				if (tsv)
					continue;
				if (iref >= 0)
					snprintf(rref, sizeof(rref), "%.2f",
						 r->ns.median / res[ti][iref].ns.median);
				if (ifloor >= 0)
					snprintf(rfloor, sizeof(rfloor), "%.2f",
						 r->ns.median / res[ti][ifloor].ns.median);
				if (threads[0] == 1)
					snprintf(scale, sizeof(scale), "%.2f",
						 r->mp.median / res[0][i].mp.median);
				printf("%-20s %3u %9.2f [%7.2f-%7.2f] %9.1f [%7.1f-%7.1f] %7s %7s %6s\n",
				       v[i].name, threads[ti], r->ns.median, r->ns.min, r->ns.max,
				       r->mp.median, r->mp.min, r->mp.max, rref, rfloor, scale);
			}
			fflush(stdout);
		}
		if (!tsv)
			printf("\n# ns/pair: thread time per Acquire+Release (hold included), median "
			       "[min-max] of %u reps;\n# Mpairs/s: all threads together; /ref, "
			       "/floor: ns/pair over ref-plain's, faa-private's (lower is faster);\n"
			       "# xT1: throughput over the same variant's at %u thread(s).\n",
			       reps, threads[0]);
	}
	if (tsvf && fclose(tsvf) != 0) {
		fprintf(stderr, "rundown-bench: --tsv: error writing '%s'\n", tsv_path);
		return 1;
	}
	if (mem)
		bench_memory(targets, nt, tsv);
	if (lat)
		bench_wait_latency(targets, nt, trials, cpus, ncpus, tsv);
	if (cost)
		bench_wait_cost(targets, nt, trials, max_slots, tsv);
	return 0;
}
