/*
 * conformance/catalog.c - parse and validate conformance/clauses.tsv.
 *
 * The file is read whole; fields are cut in place (TAB -> NUL) and the
 * clause records point into that buffer, so a loaded catalog is two
 * allocations plus the path.  Every line is validated before the catalog is
 * used: a malformed catalog is a usage error of the whole run, never a
 * partial one.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conformance/catalog.h"
#include "conformance/error.h"

#define RD_NFIELDS 10


/* [A-Z][A-Z0-9]* ( - [A-Z0-9]+ )* - [0-9]+ */
int rundown_clause_id_valid(const char *s, size_t len)
{
	size_t i, seg_start = 0, nseg = 1;

	if (len == 0 || len > 64 || !(s[0] >= 'A' && s[0] <= 'Z'))
		return 0;
	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '-') {
			if (i == seg_start)
				return 0;
			seg_start = i + 1;
			nseg++;
		} else if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) {
			return 0;
		}
	}
	if (nseg < 2 || seg_start == len)
		return 0;
	for (i = seg_start; i < len; i++)
		if (!(s[i] >= '0' && s[i] <= '9'))
			return 0;
	return 1;
}

static int rd_lookup(const char *v, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return i;
	return -1;
}

static const char *const rd_families[] = {"plain", "ca", "both"};
static const char *const rd_kinds[] = {"stated", "implied", "undefined", "contradiction"};
static const char *const rd_checks[] = {"testable", "mapped", "untestable"};
static const char *const rd_profiles[] = {"default", "abi", "-"};

static int rd_parse_line(struct rundown_clause *c, char *line, unsigned lineno, const char *path,
			 char *err, size_t errlen)
{
	char *f[RD_NFIELDS];
	int n = 0, v;
	char *p = line;

	for (;;) {
		char *tab = strchr(p, '\t');

		if (n == RD_NFIELDS)
			return rundown_error(err, errlen, "%s:%u: more than %d TAB-separated fields", path, lineno, RD_NFIELDS);
		f[n++] = p;
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (n != RD_NFIELDS)
		return rundown_error(err, errlen,
			      "%s:%u: %d TAB-separated field%s, want %d (id family routines page section kind check profile requirement note)",
			      path, lineno, n, n == 1 ? "" : "s", RD_NFIELDS);
	static const char *const field_names[RD_NFIELDS] = {"id", "family", "routines", "page", "section",
							    "kind", "check", "profile", "requirement", "note"};
	for (int i = 0; i < RD_NFIELDS; i++)
		if (f[i][0] == '\0')
			return rundown_error(err, errlen, "%s:%u: field %d (%s) is empty (write '-')", path, lineno, i + 1,
				      field_names[i]);

	if (!rundown_clause_id_valid(f[0], strlen(f[0])))
		return rundown_error(err, errlen, "%s:%u: malformed clause id '%s' (want e.g. PLAIN-ACQ-001)", path, lineno, f[0]);
	c->id = f[0];
	c->family_s = f[1];
	c->routines = f[2];
	c->page = f[3];
	c->section = f[4];
	c->kind_s = f[5];
	c->check_s = f[6];
	c->profile_s = f[7];
	c->requirement = f[8];
	c->note = f[9];
	c->line = lineno;

	if ((v = rd_lookup(f[1], rd_families, 3)) < 0)
		return rundown_error(err, errlen, "%s:%u: %s: family '%s' is not plain, ca or both", path, lineno, f[0], f[1]);
	c->family = (enum rundown_family)v;
	if ((v = rd_lookup(f[5], rd_kinds, 4)) < 0)
		return rundown_error(err, errlen, "%s:%u: %s: kind '%s' is not stated, implied, undefined or contradiction",
			      path, lineno, f[0], f[5]);
	c->kind = (enum rundown_kind)v;
	if ((v = rd_lookup(f[6], rd_checks, 3)) < 0)
		return rundown_error(err, errlen, "%s:%u: %s: check '%s' is not testable, mapped or untestable", path,
			      lineno, f[0], f[6]);
	c->check = (enum rundown_check)v;
	if ((v = rd_lookup(f[7], rd_profiles, 3)) < 0)
		return rundown_error(err, errlen, "%s:%u: %s: profile '%s' is not default, abi or -", path, lineno, f[0], f[7]);
	c->profile = (enum rundown_profile_tag)v;
	return 0;
}

static int rd_read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!fp)
		return rundown_error(err, errlen, "%s: %s", path, errno == ENOENT ? "no such file" : strerror(errno));
	for (;;) {
		size_t got;

		if (cap - n < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				fclose(fp);
				return rundown_error(err, errlen, "%s: out of memory", path);
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(fp)) {
		free(buf);
		fclose(fp);
		return rundown_error(err, errlen, "%s: read error", path);
	}
	fclose(fp);
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		free(buf);
		return rundown_error(err, errlen, "%s: contains a NUL byte (not a text file)", path);
	}
	*out = buf;
	*len = n;
	return 0;
}

int rundown_catalog_load(struct rundown_catalog *c, const char *path, char *err, size_t errlen)
{
	char *text = NULL, *line, *next;
	size_t len = 0, cap = 0;
	unsigned lineno = 0;

	memset(c, 0, sizeof(*c));
	if (rd_read_file(path, &text, &len, err, errlen) != 0)
		return -1;
	c->text = text;
	c->path = strdup(path);
	if (!c->path) {
		rundown_catalog_free(c);
		return rundown_error(err, errlen, "%s: out of memory", path);
	}
	for (line = text; line && *line; line = next) {
		char *nl = strchr(line, '\n');
		size_t l;

		lineno++;
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[--l] = '\0';
		if (l == 0 || line[0] == '#')
			continue;
		if (c->n == cap) {
			struct rundown_clause *nc;

			cap = cap ? cap * 2 : 256;
			nc = realloc(c->clauses, cap * sizeof(*nc));
			if (!nc) {
				rundown_catalog_free(c);
				return rundown_error(err, errlen, "%s: out of memory", path);
			}
			c->clauses = nc;
		}
		if (rd_parse_line(&c->clauses[c->n], line, lineno, path, err, errlen) != 0) {
			rundown_catalog_free(c);
			return -1;
		}
		const struct rundown_clause *dup = rundown_catalog_find(c, c->clauses[c->n].id);
		if (dup) {
			int rc = rundown_error(err, errlen, "%s:%u: duplicate clause id %s (first on line %u)", path, lineno,
					dup->id, dup->line);
			rundown_catalog_free(c);
			return rc;
		}
		c->n++;
	}
	if (c->n == 0) {
		rundown_catalog_free(c);
		return rundown_error(err, errlen, "%s: no clauses", path);
	}
	return 0;
}

const struct rundown_clause *rundown_catalog_find(const struct rundown_catalog *c, const char *id)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->clauses[i].id, id) == 0)
			return &c->clauses[i];
	return NULL;
}

int rundown_clause_in_family(const struct rundown_clause *c, const char *family)
{
	if (!family)
		return 1;
	if (c->family == RUNDOWN_FAMILY_BOTH)
		return 1;
	if (strcmp(family, "plain") == 0)
		return c->family == RUNDOWN_FAMILY_PLAIN;
	return c->family == RUNDOWN_FAMILY_CA;
}

void rundown_catalog_free(struct rundown_catalog *c)
{
	free(c->clauses);
	free(c->text);
	free(c->path);
	memset(c, 0, sizeof(*c));
}
