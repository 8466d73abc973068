/*
 * conformance/catalog.h - the clause catalog (conformance/clauses.tsv).
 *
 * One clause per line, 10 TAB-separated fields, `#` comment lines and blank
 * lines ignored:
 *
 *	id family routines page section kind check profile requirement note
 *
 * id       upper-case words and digits joined by '-', the last one numeric
 *          (PLAIN-ACQ-001); unique
 * family   plain | ca | both
 * kind     stated | implied | undefined | contradiction
 * check    testable | mapped | untestable
 * profile  default | abi | -
 * An empty field is written `-`; no field may be empty.
 *
 * rundown_catalog_load() validates every line and reports the first error
 * as "PATH:LINE: what is wrong".
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_CATALOG_H
#define RUNDOWN_CATALOG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum rundown_family { RUNDOWN_FAMILY_PLAIN, RUNDOWN_FAMILY_CA, RUNDOWN_FAMILY_BOTH };
enum rundown_kind { RUNDOWN_KIND_STATED, RUNDOWN_KIND_IMPLIED, RUNDOWN_KIND_UNDEFINED, RUNDOWN_KIND_CONTRADICTION };
enum rundown_check { RUNDOWN_CHECK_TESTABLE, RUNDOWN_CHECK_MAPPED, RUNDOWN_CHECK_UNTESTABLE };
enum rundown_profile_tag { RUNDOWN_CPROFILE_DEFAULT, RUNDOWN_CPROFILE_ABI, RUNDOWN_CPROFILE_NONE };

struct rundown_clause {
	const char *id;
	const char *family_s, *routines, *page, *section, *kind_s, *check_s, *profile_s;
	const char *requirement, *note;
	enum rundown_family family;
	enum rundown_kind kind;
	enum rundown_check check;
	enum rundown_profile_tag profile;
	unsigned line; /* in the file, from 1 */
};

struct rundown_catalog {
	struct rundown_clause *clauses; /* in file order */
	size_t n;
	char *path;
	char *text; /* the file; the clause strings point into it */
};

int rundown_catalog_load(struct rundown_catalog *c, const char *path, char *err, size_t errlen);
/* The clause with this exact id, or NULL. */
const struct rundown_clause *rundown_catalog_find(const struct rundown_catalog *c, const char *id);
void rundown_catalog_free(struct rundown_catalog *c);

/* Is s a well-formed clause id?  (Also used for --expect-fail files.) */
int rundown_clause_id_valid(const char *s, size_t len);
/* Does the clause belong to the family "plain" or "cache-aware" (NULL: all)? */
int rundown_clause_in_family(const struct rundown_clause *c, const char *family);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_CATALOG_H */
