/*
 * conformance/results.c - outcomes, and DIR/results.tsv.
 *
 * The file is written to DIR/results.tsv.tmp and renamed, so a reader never
 * sees half a file (a report generator may poll the directory).
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "conformance/results.h"
#include "conformance/error.h"

static const char *const rd_outcome_names[RUNDOWN_NR_OUTCOMES] = {
	[RUNDOWN_PASS] = "PASS",	 [RUNDOWN_FAIL] = "FAIL",	    [RUNDOWN_UNRESOLVED] = "UNRESOLVED",
	[RUNDOWN_UNSUPPORTED] = "UNSUPPORTED", [RUNDOWN_UNTESTED] = "UNTESTED", [RUNDOWN_HUNG] = "HUNG",
	[RUNDOWN_SIGNALED] = "SIGNALED", [RUNDOWN_XFAIL] = "XFAIL",	    [RUNDOWN_XPASS] = "XPASS",
};

static const int rd_outcome_ranks[RUNDOWN_NR_OUTCOMES] = {
	[RUNDOWN_UNTESTED] = 0, [RUNDOWN_UNSUPPORTED] = 1, [RUNDOWN_PASS] = 2,
	[RUNDOWN_XFAIL] = 3,    [RUNDOWN_XPASS] = 4,       [RUNDOWN_UNRESOLVED] = 5,
	[RUNDOWN_HUNG] = 6,     [RUNDOWN_SIGNALED] = 7,    [RUNDOWN_FAIL] = 8,
};

const char *rundown_outcome_name(enum rundown_outcome o)
{
	return (unsigned)o < RUNDOWN_NR_OUTCOMES ? rd_outcome_names[o] : "?";
}

int rundown_outcome_rank(enum rundown_outcome o)
{
	return (unsigned)o < RUNDOWN_NR_OUTCOMES ? rd_outcome_ranks[o] : 0;
}

bool rundown_outcome_is_failure(enum rundown_outcome o)
{
	return o == RUNDOWN_FAIL || o == RUNDOWN_HUNG || o == RUNDOWN_SIGNALED || o == RUNDOWN_XPASS;
}

bool rundown_outcome_is_bad(enum rundown_outcome o)
{
	return o == RUNDOWN_FAIL || o == RUNDOWN_HUNG || o == RUNDOWN_SIGNALED;
}


int rundown_mkdir_p(const char *dir, char *err, size_t errlen)
{
	char buf[4096];
	size_t len = strlen(dir);
	struct stat st;

	if (len == 0 || len >= sizeof(buf))
		return rundown_error(err, errlen, "%s: bad directory name", dir);
	memcpy(buf, dir, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return rundown_error(err, errlen, "%s: %s", buf, strerror(errno));
		*p = '/';
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		return rundown_error(err, errlen, "%s: %s", buf, strerror(errno));
	if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
		return rundown_error(err, errlen, "%s: not a directory", buf);
	return 0;
}

/* One field: never TAB, CR or newline inside; empty is "-". */
static void rd_field(FILE *fp, const char *s)
{
	if (!s || !*s) {
		fputc('-', fp);
		return;
	}
	for (; *s; s++)
		fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, fp);
}

int rundown_results_write(const char *dir, const struct rundown_results_meta *m,
			  const struct rundown_result_row *rows, size_t n, char *err, size_t errlen)
{
	char path[4200], tmp[4300], when[32];
	struct tm tm;
	FILE *fp;

	if (rundown_mkdir_p(dir, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/results.tsv", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fp = fopen(tmp, "we");
	if (!fp)
		return rundown_error(err, errlen, "%s: %s", tmp, strerror(errno));
	gmtime_r(&m->started, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

	fputs("# rundown-conform results v1\n# backend=", fp);
	rd_field(fp, m->backend);
	fputs("\n# profile=", fp);
	rd_field(fp, m->profile);
	fputs("\n# family=", fp);
	rd_field(fp, m->family);
	fputs("\n# inject=", fp);
	rd_field(fp, m->inject);
	if (m->inject_spec) {
		fputs("\n# inject_spec=", fp);
		rd_field(fp, m->inject_spec);
	}
	fputs("\n# build=", fp);
	rd_field(fp, m->build);
	fprintf(fp, "\n# seed=%llu\n# started=%s\n# duration_ms=%llu\n# command=", (unsigned long long)m->seed,
		when, (unsigned long long)m->duration_ms);
	rd_field(fp, m->command);
	fputs("\nclause\ttest\toutcome\tduration_ms\tseed\tmessage\treproduce\n", fp);

	for (size_t i = 0; i < n; i++) {
		const struct rundown_result_row *r = &rows[i];

		rd_field(fp, r->clause);
		fputc('\t', fp);
		rd_field(fp, r->test);
		fprintf(fp, "\t%s\t%llu\t", rundown_outcome_name(r->outcome), (unsigned long long)r->duration_ms);
		if (r->has_seed)
			fprintf(fp, "%llu", (unsigned long long)r->seed);
		else
			fputc('-', fp);
		fputc('\t', fp);
		rd_field(fp, r->message);
		fputc('\t', fp);
		rd_field(fp, r->reproduce);
		fputc('\n', fp);
	}
	if (fflush(fp) != 0 || ferror(fp)) {
		int e = errno;

		fclose(fp);
		remove(tmp);
		return rundown_error(err, errlen, "%s: %s", tmp, strerror(e));
	}
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		int e = errno;

		remove(tmp);
		return rundown_error(err, errlen, "%s: %s", path, strerror(e));
	}
	return 0;
}
