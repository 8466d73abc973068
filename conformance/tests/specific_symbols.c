/*
 * conformance/tests/specific_symbols.c - the backend exports the 19
 * routines under their wdm.h names (CONCEPT-009).  Needs mask 0: it runs
 * for every backend, and names what the loader could not resolve (the
 * routines' own clauses are UNSUPPORTED then; this one FAILs).
 */
#include "config.h"

#include <string.h>

#include "conformance/tests/specific_util.h"

CONFORM_TEST(concept_009_all_19_routines_exported, "CONCEPT-009", 0, 0)
{
	char missing[1024] = "";
	unsigned n = 0, id = 0;
	uint32_t mask = rundown_backend_missing(B);

#define RD_CHECK(ret, name, params, args, family)                                        \
	if (B->name == NULL || (mask & RUNDOWN_BIT(name))) {                               \
		if (strlen(missing) + sizeof(#name) + 2 < sizeof(missing)) {               \
			strcat(missing, n ? ", " : "");                                    \
			strcat(missing, #name);                                            \
		}                                                                          \
		n++;                                                                       \
	}                                                                                  \
	id++;
	RUNDOWN_ROUTINES(RD_CHECK)
#undef RD_CHECK
	conform_assert(id == RUNDOWN_NR_ROUTINES && n == 0, "CONCEPT-009",
		       "%u of the %u routines not exported by the backend: %s; required all of them",
		       n, (unsigned)RUNDOWN_NR_ROUTINES, missing);
}
END_TEST
