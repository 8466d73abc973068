/*
 * fuzz/rundown_fuzz.c - rundown-fuzz: the fuzzer without a fuzzing engine.
 *
 *   rundown-fuzz --backend PATH.so [--seconds N] [--seed N] [--threads K]
 *                [--max-len N] [--out DIR] [--corpus DIR]
 *   rundown-fuzz --replay FILE|DIR [--backend PATH.so] [-v]
 *   rundown-fuzz --concurrent [--backend PATH.so] [--seconds N] [--threads K]
 *
 * A campaign runs random inputs (fresh, and mutations of the seeds) in one
 * forked child, in-process there (fast); the parent watches it, so a
 * crashing or hanging backend is reported with the input it was running.
 * A divergence is minimised (greedy op deletion, each candidate in a fork),
 * written to DIR/crash-<hash> and replayed with its op table.  Replay forks
 * per input: a crash is reported as a divergence "backend crashed: SIG…".
 *
 * Without --backend every mode runs the reference linked in (librundown).
 *
 * Exit: 0 nothing found, 1 divergence, 2 usage or load error.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz/lincheck.h"
#include "fuzz/ops.h"
#include "fuzz/seeds.h"

#define RD_MAX_INPUT 4096

struct rd_opts {
	const char *backend;
	const char *replay;
	const char *out;
	const char *corpus;
	double seconds;
	uint64_t seed;
	unsigned threads; /* 0: as the input says */
	unsigned max_len;
	bool concurrent;
	bool verbose;
};

/* Shared with the campaign child. */
struct rd_shared {
	_Atomic uint64_t execs;
	_Atomic uint64_t skipped;
	volatile uint32_t progress;
	volatile uint32_t cur_len;
	volatile int found;
	volatile uint32_t div_len;
	uint8_t cur[RD_MAX_INPUT];
	uint8_t div[RD_MAX_INPUT];
};

static struct rundown_backend rd_backend;
static bool rd_linked;

static double rd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rd_usage(FILE *f)
{
	fprintf(f,
		"usage: rundown-fuzz --backend PATH.so [--seconds N] [--seed N] [--threads K]\n"
		"                    [--max-len N] [--out DIR] [--corpus DIR]\n"
		"       rundown-fuzz --replay FILE|DIR [--backend PATH.so] [-v]\n"
		"       rundown-fuzz --concurrent [--backend PATH.so] [--seconds N] [--threads K]\n");
}

static int rd_load_backend(const struct rd_opts *o)
{
	char err[512];
	uint32_t miss;

	if (o->backend == NULL) {
		rundown_backend_linked(&rd_backend);
		rd_linked = true;
		return 0;
	}
	if (rundown_backend_open(&rd_backend, o->backend, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "rundown-fuzz: cannot load backend %s: %s\n", o->backend, err);
		return -1;
	}
	miss = rundown_backend_missing(&rd_backend);
	if (miss == (UINT32_C(1) << RUNDOWN_ID_COUNT) - 1u) {
		fprintf(stderr, "rundown-fuzz: %s exports none of the 19 routines\n", o->backend);
		return -1;
	}
	for (unsigned i = 0; i < RUNDOWN_ID_COUNT; i++)
		if (miss & (UINT32_C(1) << i))
			fprintf(stderr, "rundown-fuzz: note: backend lacks %s: its family is not fuzzed\n",
				rundown_routine_name(i));
	return 0;
}

/* ------------------------------------------------------------------ */
/* input generation                                                    */
/* ------------------------------------------------------------------ */

static uint64_t rd_rng;

static uint64_t rd_rand(void)
{
	/* xorshift64* */
	rd_rng ^= rd_rng >> 12;
	rd_rng ^= rd_rng << 25;
	rd_rng ^= rd_rng >> 27;
	return rd_rng * UINT64_C(2685821657736338717);
}

static unsigned rd_below(unsigned n)
{
	return n ? (unsigned)(rd_rand() % n) : 0;
}

struct rd_input {
	size_t len;
	uint8_t d[RD_MAX_INPUT];
};

static struct rd_input *rd_pool;
static size_t rd_npool;

static void rd_pool_add(const uint8_t *d, size_t len)
{
	struct rd_input *p;

	if (len > RD_MAX_INPUT)
		len = RD_MAX_INPUT;
	p = realloc(rd_pool, (rd_npool + 1) * sizeof(*p));
	if (p == NULL)
		return;
	rd_pool = p;
	rd_pool[rd_npool].len = len;
	memcpy(rd_pool[rd_npool].d, d, len);
	rd_npool++;
}

/* One op with a bias towards the interesting ones (weights by opcode). */
static size_t rd_gen_op(uint8_t *d, size_t room)
{
	static const uint8_t weighted[] = {
		0x0, 0x0, 0x0, 0x1, 0x1, 0x2, 0x2, 0x2, 0x3, 0x3, 0x4, 0x4, 0x5, 0x5,
		0x6, 0x7, 0x7, 0x8, 0x9, 0xE, 0xE, 0xC, 0xD,
	};
	uint8_t opc = weighted[rd_below(sizeof(weighted))];
	size_t n = 0;

	if (room == 0)
		return 0;
	d[n++] = (uint8_t)(opc << 4 | rd_below(16));
	if ((opc == 0x1 || opc == 0x3 || opc == 0x8 || opc == 0xC || opc == 0xD) && n < room) {
		unsigned r = rd_below(8);

		d[n++] = (uint8_t)(r < 5 ? rd_below(4) : r < 7 ? rd_below(0xC0) : 0xC0 + rd_below(64));
	}
	return n;
}

static uint8_t rd_gen_header(const struct rd_opts *o)
{
	uint8_t h = (uint8_t)rd_rand();

	if (o->threads)
		h = (uint8_t)((h & ~0x06u) | RUNDOWN_HDR_THREADS(o->threads));
	return h;
}

static void rd_generate(const struct rd_opts *o, struct rd_input *in)
{
	size_t max = o->max_len < 2 ? 2 : o->max_len;

	if (rd_npool == 0 || rd_below(4) == 0) {
		/* Fresh: short inputs are most of them. */
		size_t len = 2 + rd_below((unsigned)(rd_below(4) ? (max < 24 ? max : 24) : max) - 1);

		in->d[0] = rd_gen_header(o);
		in->len = 1;
		while (in->len < len)
			in->len += rd_gen_op(in->d + in->len, len - in->len);
		return;
	}
	*in = rd_pool[rd_below((unsigned)rd_npool)];
	for (unsigned k = 1 + rd_below(4); k > 0; k--) {
		size_t pos = in->len > 1 ? 1 + rd_below((unsigned)in->len - 1) : 1;
		uint8_t op[2];
		size_t n;

		switch (rd_below(6)) {
		case 0: /* insert an op */
			n = rd_gen_op(op, 2);
			if (in->len + n <= max) {
				memmove(in->d + pos + n, in->d + pos, in->len - pos);
				memcpy(in->d + pos, op, n);
				in->len += n;
			}
			break;
		case 1: /* delete a byte */
			if (in->len > 2) {
				memmove(in->d + pos, in->d + pos + 1, in->len - pos - 1);
				in->len--;
			}
			break;
		case 2: /* replace a byte */
			if (pos < in->len)
				in->d[pos] = (uint8_t)rd_rand();
			break;
		case 3: /* the header */
			in->d[0] ^= (uint8_t)(1u << rd_below(8));
			if (o->threads)
				in->d[0] = (uint8_t)((in->d[0] & ~0x06u) | RUNDOWN_HDR_THREADS(o->threads));
			break;
		case 4: { /* splice the tail of another input */
			const struct rd_input *b = &rd_pool[rd_below((unsigned)rd_npool)];
			size_t from = b->len > 1 ? 1 + rd_below((unsigned)b->len - 1) : 1;
			size_t take = b->len - from;

			if (pos + take > max)
				take = max > pos ? max - pos : 0;
			memcpy(in->d + pos, b->d + from, take);
			in->len = pos + take;
			break;
		}
		default: /* duplicate a run of bytes */
			if (pos < in->len) {
				size_t run = 1 + rd_below((unsigned)(in->len - pos < 8 ? in->len - pos : 8));

				if (in->len + run <= max) {
					memmove(in->d + pos + run, in->d + pos, in->len - pos);
					in->len += run;
				}
			}
			break;
		}
	}
	if (in->len > max)
		in->len = max;
	if (o->threads)
		in->d[0] = (uint8_t)((in->d[0] & ~0x06u) | RUNDOWN_HDR_THREADS(o->threads));
}

/* ------------------------------------------------------------------ */
/* files                                                               */
/* ------------------------------------------------------------------ */

static int rd_read_file(const char *path, uint8_t *buf, size_t *len)
{
	FILE *f = fopen(path, "rb");

	if (f == NULL)
		return -1;
	*len = fread(buf, 1, RD_MAX_INPUT, f);
	fclose(f);
	return 0;
}

static int rd_cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files of path (a file, or a directory's non-hidden files), sorted. */
static char **rd_list_inputs(const char *path, size_t *n)
{
	struct stat st;
	char **v = NULL;
	DIR *d;
	struct dirent *e;

	*n = 0;
	if (stat(path, &st) != 0)
		return NULL;
	if (!S_ISDIR(st.st_mode)) {
		v = malloc(sizeof(*v));
		if (v != NULL && (v[0] = strdup(path)) != NULL)
			*n = 1;
		return v;
	}
	if ((d = opendir(path)) == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		char *full;
		char **nv;

		if (e->d_name[0] == '.')
			continue;
		if (asprintf(&full, "%s/%s", path, e->d_name) < 0)
			break;
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
			free(full);
			continue;
		}
		nv = realloc(v, (*n + 1) * sizeof(*v));
		if (nv == NULL) {
			free(full);
			break;
		}
		v = nv;
		v[(*n)++] = full;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), rd_cmp_str);
	return v;
}

static uint64_t rd_fnv(const uint8_t *d, size_t n)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * UINT64_C(1099511628211);
	return h;
}

/* ------------------------------------------------------------------ */
/* running one input in a fork                                         */
/* ------------------------------------------------------------------ */

enum rd_verdict { RD_V_OK, RD_V_DIVERGED, RD_V_CRASHED, RD_V_HUNG, RD_V_SKIPPED };

struct rd_result {
	enum rd_verdict v;
	unsigned signature; /* divergence signature, or 0x10000 | signal */
	int sig;
	uint32_t step;
	int home; /* the home CPU of the run, plus one (0: not pinned) */
};

struct rd_forked_hang {
	struct rd_shared *sh;
	bool print;
	FILE *out;
};

static void rd_forked_on_hang(struct rundown_exec *x, void *arg)
{
	struct rd_forked_hang *fh = arg;

	fh->sh->div_len = rundown_exec_signature(x);
	if (fh->print)
		rundown_exec_print(x, fh->out);
	fflush(NULL);
	_exit(1);
}

/* The bound on a due Wait (the executor's default) and a shorter one for
 * minimising, where most candidates pass and a Wait that should return
 * does so at once. */
#define RD_DUE_WAIT_MS 2000u
#define RD_MINIMISE_WAIT_MS 300u

/* Seconds without progress after which a run is hung: twice the bound on a
 * due Wait (which the child's own watchdog reports) and a second more; no
 * step legitimately takes longer. */
static double rd_hang_after(unsigned timeout_ms)
{
	return timeout_ms / 1000.0 * 2 + 1.0;
}

/* Run one input in a child, homed on CPU home - 1 (0: where it runs); print
 * its op table if print (or if diverged and print_fail).  timeout_ms bounds
 * a due Wait; a step without progress for rd_hang_after(timeout_ms) is a
 * hang of another routine, and the whole child gets 10 s more than four
 * bounds. */
static struct rd_result rd_run_forked(const uint8_t *d, size_t len, unsigned timeout_ms,
				      bool print_always, bool print_fail, FILE *out, int home)
{
	struct rd_result res = {RD_V_OK, 0, 0, 0, home};
	struct rd_shared *sh;
	pid_t pid;
	int status = 0;
	double deadline, stall, last_change;
	uint32_t last_step;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("rundown-fuzz: mmap");
		exit(RUNDOWN_EXIT_USAGE);
	}
	sh->progress = UINT32_MAX;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("rundown-fuzz: fork");
		exit(RUNDOWN_EXIT_USAGE);
	}
	if (pid == 0) {
		struct rd_forked_hang fh = {sh, print_always || print_fail, out};
		struct rundown_exec_opts eo = {.return_timeout_ms = timeout_ms, .allow_spread = true,
					       .pin_home = home > 0, .home_cpu = home,
					       .progress = &sh->progress, .on_hang = rd_forked_on_hang,
					       .on_hang_arg = &fh};
		struct rundown_exec *x = rundown_exec_new(&rd_backend, &eo);
		enum rundown_exec_status s;

		if (x == NULL)
			_exit(3);
		s = rundown_exec_run(x, d, len);
		sh->div_len = rundown_exec_signature(x);
		if (print_always || (print_fail && s == RUNDOWN_EXEC_DIVERGED))
			rundown_exec_print(x, out);
		fflush(NULL);
		_exit(s == RUNDOWN_EXEC_DIVERGED ? 1 : s == RUNDOWN_EXEC_SKIPPED ? 4 : 0);
	}
	deadline = rd_now() + timeout_ms / 1000.0 * 4 + 10.0;
	stall = rd_hang_after(timeout_ms);
	last_step = sh->progress;
	last_change = rd_now();
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		double now = rd_now();

		if (w == pid)
			break;
		if (sh->progress != last_step) {
			last_step = sh->progress;
			last_change = now;
		}
		if (now > deadline || now - last_change > stall) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			res.v = RD_V_HUNG;
			res.signature = 0x20000;
			res.step = sh->progress;
			munmap(sh, sizeof(*sh));
			return res;
		}
		usleep(1000);
	}
	res.step = sh->progress;
	if (WIFSIGNALED(status)) {
		res.v = RD_V_CRASHED;
		res.sig = WTERMSIG(status);
		res.signature = 0x10000u | (unsigned)res.sig;
	} else if (WEXITSTATUS(status) == 1) {
		res.v = RD_V_DIVERGED;
		res.signature = sh->div_len;
	} else if (WEXITSTATUS(status) == 4) {
		res.v = RD_V_SKIPPED;
	} else if (WEXITSTATUS(status) != 0) {
		/* A sanitizer report in the backend exits nonzero: a crash. */
		res.v = RD_V_CRASHED;
		res.sig = 0;
		res.signature = 0x30000u | (unsigned)WEXITSTATUS(status);
	}
	munmap(sh, sizeof(*sh));
	return res;
}

/*
 * Run one input homed on each CPU of the process in turn, until a run does
 * not pass: a bug of one processor's share of a cache-aware object (say
 * ReInitialize resetting only slot 0) shows only when the ops run on
 * another processor, and a campaign finds it wherever it happened to run.
 */
static struct rd_result rd_run_placed(const uint8_t *d, size_t len, unsigned timeout_ms)
{
	struct rd_result r = {RD_V_OK, 0, 0, 0, 0};
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) != 0 || CPU_COUNT(&set) < 2)
		return rd_run_forked(d, len, timeout_ms, false, false, stderr, 0);
	for (int c = 0; c < CPU_SETSIZE && n < 64; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		n++;
		r = rd_run_forked(d, len, timeout_ms, false, false, stderr, c + 1);
		if (r.v != RD_V_OK && r.v != RD_V_SKIPPED)
			break;
	}
	return r;
}

static void rd_report_nonexec(const struct rd_result *r, const uint8_t *d, size_t len, FILE *out)
{
	char why[128];

	if (r->v == RD_V_CRASHED && r->sig)
		snprintf(why, sizeof(why), "backend crashed: SIG%s", sigabbrev_np(r->sig) ? sigabbrev_np(r->sig) : "?");
	else if (r->v == RD_V_CRASHED)
		snprintf(why, sizeof(why), "backend run exited with status %u (sanitizer report?)",
			 r->signature & 0xffffu);
	else
		snprintf(why, sizeof(why), "backend hung (no progress; child killed)");
	rundown_prog_print_model(d, len, r->step, why, out);
}

/* ------------------------------------------------------------------ */
/* replay                                                              */
/* ------------------------------------------------------------------ */

static int rd_replay(const struct rd_opts *o)
{
	size_t n, bad = 0, skipped = 0;
	char **files = rd_list_inputs(o->replay, &n);
	static uint8_t buf[RD_MAX_INPUT];

	if (files == NULL || n == 0) {
		fprintf(stderr, "rundown-fuzz: --replay %s: no input files\n", o->replay);
		return RUNDOWN_EXIT_USAGE;
	}
	for (size_t i = 0; i < n; i++) {
		size_t len;
		struct rd_result r;

		if (rd_read_file(files[i], buf, &len) != 0) {
			fprintf(stderr, "rundown-fuzz: %s: %s\n", files[i], strerror(errno));
			return RUNDOWN_EXIT_USAGE;
		}
		if (o->verbose)
			printf("== %s\n", files[i]);
		r = rd_run_placed(buf, len, RD_DUE_WAIT_MS);
		if (o->verbose && (r.v == RD_V_OK || r.v == RD_V_SKIPPED || r.v == RD_V_DIVERGED))
			rd_run_forked(buf, len, RD_DUE_WAIT_MS, true, false, stdout, r.home);
		switch (r.v) {
		case RD_V_OK:
			if (o->verbose)
				printf("ok (homed on each CPU in turn)\n");
			break;
		case RD_V_SKIPPED:
			skipped++;
			if (o->verbose)
				printf("skipped: the backend lacks routines of this family\n");
			break;
		case RD_V_DIVERGED:
			bad++;
			printf("== %s: DIVERGED\n", files[i]);
			if (!o->verbose)
				rd_run_forked(buf, len, RD_DUE_WAIT_MS, true, false, stdout, r.home);
			break;
		case RD_V_CRASHED:
		case RD_V_HUNG:
			bad++;
			printf("== %s: %s\n", files[i], r.v == RD_V_HUNG ? "HUNG" : "CRASHED");
			rd_report_nonexec(&r, buf, len, stdout);
			break;
		}
		free(files[i]);
	}
	free(files);
	printf("rundown-fuzz: replayed %zu input%s against %s: %zu diverged%s", n, n == 1 ? "" : "s",
	       rd_backend.path, bad, skipped ? "" : "\n");
	if (skipped)
		printf(", %zu skipped (family not exported)\n", skipped);
	return bad ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* minimisation                                                        */
/* ------------------------------------------------------------------ */

static bool rd_same(const struct rd_result *a, const struct rd_result *b)
{
	return a->v == b->v && a->signature == b->signature;
}

/* Greedy op deletion: chunks of ops, halving down to single ops. */
static size_t rd_minimise(uint8_t *d, size_t len, const struct rd_result *want)
{
	static struct rundown_prog prog;
	static uint8_t cand[RD_MAX_INPUT];
	unsigned runs = 0;

	rundown_decode(d, len, &prog);
	for (size_t chunk = prog.nops / 2 ? prog.nops / 2 : 1;; chunk /= 2) {
		bool progress = true;

		while (progress && runs < 2000) {
			progress = false;
			rundown_decode(d, len, &prog);
			for (size_t i = prog.nops; i-- > 0 && runs < 2000;) {
				size_t first = i + 1 >= chunk ? i + 1 - chunk : 0;
				size_t from = prog.ops[first].off;
				size_t to = prog.ops[i].off + prog.ops[i].len;
				size_t clen = len - (to - from);
				struct rd_result r;

				memcpy(cand, d, from);
				memcpy(cand + from, d + to, len - to);
				r = rd_run_forked(cand, clen, RD_MINIMISE_WAIT_MS, false, false, stderr, want->home);
				runs++;
				if (rd_same(&r, want)) {
					memcpy(d, cand, clen);
					len = clen;
					progress = true;
					break;
				}
			}
		}
		if (chunk <= 1)
			break;
	}
	return len;
}

/* ------------------------------------------------------------------ */
/* campaign                                                            */
/* ------------------------------------------------------------------ */

/* The watchdog saw a Wait that should have returned at once hang. */
static void rd_campaign_on_hang(struct rundown_exec *x, void *arg)
{
	struct rd_shared *sh = arg;

	(void)x;
	memcpy(sh->div, sh->cur, sh->cur_len);
	sh->div_len = sh->cur_len;
	sh->found = 1;
	fflush(NULL);
	_exit(1);
}

static void rd_campaign_child(const struct rd_opts *o, struct rd_shared *sh, double deadline)
{
	struct rundown_exec_opts eo = {.return_timeout_ms = RD_DUE_WAIT_MS, .allow_spread = true,
				       .pin_home = true,
				       .progress = &sh->progress,
				       .on_hang = rd_campaign_on_hang, .on_hang_arg = sh};
	struct rundown_exec *x = rundown_exec_new(&rd_backend, &eo);
	static struct rd_input in;

	if (x == NULL)
		_exit(3);
	for (uint64_t i = 0;; i++) {
		enum rundown_exec_status s;

		if ((i & 255u) == 0 && rd_now() >= deadline)
			break;
		rd_generate(o, &in);
		memcpy(sh->cur, in.d, in.len);
		sh->cur_len = (uint32_t)in.len;
		s = rundown_exec_run(x, in.d, in.len);
		if (s == RUNDOWN_EXEC_SKIPPED) {
			atomic_fetch_add_explicit(&sh->skipped, 1, memory_order_relaxed);
			continue;
		}
		atomic_fetch_add_explicit(&sh->execs, 1, memory_order_relaxed);
		if (s == RUNDOWN_EXEC_DIVERGED) {
			memcpy(sh->div, in.d, in.len);
			sh->div_len = (uint32_t)in.len;
			sh->found = 1;
			fflush(NULL);
			_exit(1);
		}
	}
	fflush(NULL);
	_exit(0);
}

static int rd_campaign(const struct rd_opts *o)
{
	struct rd_shared *sh;
	double t0 = rd_now(), deadline = t0 + o->seconds;
	uint64_t last_execs = 0;
	uint32_t last_step = UINT32_MAX;
	double last_change = t0;
	pid_t pid;
	int status = 0;
	uint8_t *div;
	size_t div_len;
	struct rd_result want;
	char path[4096];
	FILE *f;
	enum rd_verdict kind = RD_V_DIVERGED;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("rundown-fuzz: mmap");
		return RUNDOWN_EXIT_USAGE;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("rundown-fuzz: fork");
		return RUNDOWN_EXIT_USAGE;
	}
	if (pid == 0)
		rd_campaign_child(o, sh, deadline);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		uint64_t e = atomic_load_explicit(&sh->execs, memory_order_relaxed) +
			     atomic_load_explicit(&sh->skipped, memory_order_relaxed);
		uint32_t step = sh->progress;
		double now = rd_now();

		if (w == pid)
			break;
		/* A hang: no exec finished and no step began (rd_hang_after). */
		if (e != last_execs || step != last_step) {
			last_execs = e;
			last_step = step;
			last_change = now;
		} else if (now - last_change > rd_hang_after(RD_DUE_WAIT_MS)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			kind = RD_V_HUNG;
			break;
		}
		usleep(20000);
	}
	{
		uint64_t execs = atomic_load(&sh->execs);
		double el = rd_now() - t0;

		if (kind != RD_V_HUNG && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			if (execs == 0 && atomic_load(&sh->skipped) > 0) {
				fprintf(stderr, "rundown-fuzz: the backend lacks routines of every family\n");
				return RUNDOWN_EXIT_USAGE;
			}
			printf("rundown-fuzz: no divergence: %" PRIu64 " execs in %.1f s (%.0f execs/s) against %s\n",
			       execs, el, el > 0 ? (double)execs / el : 0.0, rd_backend.path);
			return 0;
		}
		if (kind != RD_V_HUNG && WIFEXITED(status) && WEXITSTATUS(status) == 1 && sh->found) {
			div = sh->div;
			div_len = sh->div_len;
		} else {
			if (kind != RD_V_HUNG)
				kind = RD_V_CRASHED;
			div = sh->cur;
			div_len = sh->cur_len;
		}
		printf("rundown-fuzz: %s after %" PRIu64 " execs in %.2f s against %s\n",
		       kind == RD_V_HUNG ? "backend hung" : kind == RD_V_CRASHED ? "backend crashed" : "divergence",
		       execs + 1, el, rd_backend.path);
	}
	/* Reproduce in a fork to get its signature, then minimise. */
	want = rd_run_placed(div, div_len, RD_MINIMISE_WAIT_MS);
	if (want.v == RD_V_OK) /* timing-dependent: keep it as found */
		want = rd_run_placed(div, div_len, RD_DUE_WAIT_MS);
	if (want.v != RD_V_OK && want.v != RD_V_SKIPPED) {
		size_t before = div_len;

		div_len = rd_minimise(div, div_len, &want);
		printf("rundown-fuzz: minimised %zu -> %zu bytes\n", before, div_len);
	} else {
		printf("rundown-fuzz: note: the input did not reproduce in a fresh process\n");
	}
	if (mkdir(o->out, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "rundown-fuzz: cannot create %s: %s\n", o->out, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/crash-%016" PRIx64, o->out, rd_fnv(div, div_len));
	if ((f = fopen(path, "wb")) == NULL || fwrite(div, 1, div_len, f) != div_len ||
	    fclose(f) != 0) {
		fprintf(stderr, "rundown-fuzz: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("rundown-fuzz: reproducer: %s\n", path);
	printf("rundown-fuzz: replay with: rundown-fuzz --replay %s%s%s\n", path,
	       rd_linked ? "" : " --backend ", rd_linked ? "" : rd_backend.path);
	{
		struct rd_result r = rd_run_forked(div, div_len, RD_DUE_WAIT_MS, true, false, stdout, want.home);

		if (r.v == RD_V_CRASHED || r.v == RD_V_HUNG)
			rd_report_nonexec(&r, div, div_len, stdout);
	}
	return 1;
}

/* ------------------------------------------------------------------ */

static bool rd_parse_num(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return errno == 0 && end != s && *end == '\0' && *out >= 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"backend", required_argument, NULL, 'b'}, {"seconds", required_argument, NULL, 's'},
		{"seed", required_argument, NULL, 'S'},    {"threads", required_argument, NULL, 't'},
		{"max-len", required_argument, NULL, 'm'}, {"out", required_argument, NULL, 'o'},
		{"replay", required_argument, NULL, 'r'},  {"corpus", required_argument, NULL, 'c'},
		{"concurrent", no_argument, NULL, 'C'},    {"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	struct rd_opts o = {.seconds = 10, .max_len = 256, .out = ".",
			    .seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32)};
	double v;
	int c;

	while ((c = getopt_long(argc, argv, "b:s:S:t:m:o:r:c:Cvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o.backend = optarg; break;
		case 'o': o.out = optarg; break;
		case 'r': o.replay = optarg; break;
		case 'c': o.corpus = optarg; break;
		case 'C': o.concurrent = true; break;
		case 'v': o.verbose = true; break;
		case 'h': rd_usage(stdout); return 0;
		case 's':
			if (!rd_parse_num(optarg, &o.seconds)) {
				fprintf(stderr, "rundown-fuzz: --seconds: not a number: %s\n", optarg);
				return RUNDOWN_EXIT_USAGE;
			}
			break;
		case 'S':
			if (!rd_parse_num(optarg, &v)) {
				fprintf(stderr, "rundown-fuzz: --seed: not a number: %s\n", optarg);
				return RUNDOWN_EXIT_USAGE;
			}
			o.seed = (uint64_t)v;
			break;
		case 't':
			if (!rd_parse_num(optarg, &v) || v < 1 || v > 64) {
				fprintf(stderr, "rundown-fuzz: --threads: 1..64: %s\n", optarg);
				return RUNDOWN_EXIT_USAGE;
			}
			o.threads = (unsigned)v;
			break;
		case 'm':
			if (!rd_parse_num(optarg, &v) || v < 2 || v > RD_MAX_INPUT) {
				fprintf(stderr, "rundown-fuzz: --max-len: 2..%d: %s\n", RD_MAX_INPUT, optarg);
				return RUNDOWN_EXIT_USAGE;
			}
			o.max_len = (unsigned)v;
			break;
		default:
			rd_usage(stderr);
			return RUNDOWN_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "rundown-fuzz: unexpected argument: %s\n", argv[optind]);
		rd_usage(stderr);
		return RUNDOWN_EXIT_USAGE;
	}
	if (rd_load_backend(&o) != 0)
		return RUNDOWN_EXIT_USAGE;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (o.replay != NULL)
		return rd_replay(&o);
	if (o.concurrent) {
		struct rundown_lincheck_opts lo = {.seconds = o.seconds, .seed = o.seed,
						   .threads = o.threads ? o.threads : 3,
						   .verbose = o.verbose};

		return rundown_lincheck_campaign(&rd_backend, &lo);
	}
	if (o.threads > RUNDOWN_FUZZ_MAX_THREADS) {
		fprintf(stderr, "rundown-fuzz: --threads: at most %d logical threads (more with --concurrent)\n",
			RUNDOWN_FUZZ_MAX_THREADS);
		return RUNDOWN_EXIT_USAGE;
	}
	rd_rng = o.seed ? o.seed : 1;
	printf("rundown-fuzz: seed %" PRIu64 ", %.0f s, max-len %u against %s\n", o.seed, o.seconds,
	       o.max_len, rd_backend.path);
	{
		size_t n;
		const struct rundown_seed *s = rundown_seeds(&n);

		for (size_t i = 0; i < n; i++)
			rd_pool_add(s[i].data, s[i].len);
	}
	if (o.corpus != NULL) {
		size_t n;
		char **files = rd_list_inputs(o.corpus, &n);
		static uint8_t buf[RD_MAX_INPUT];

		for (size_t i = 0; i < n; i++) {
			size_t len;

			if (rd_read_file(files[i], buf, &len) == 0 && len > 0)
				rd_pool_add(buf, len);
			free(files[i]);
		}
		free(files);
	}
	return rd_campaign(&o);
}
