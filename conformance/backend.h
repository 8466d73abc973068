/*
 * conformance/backend.h - a loaded backend (private to rundown-cts tools): the 19 routines as function
 * pointers, resolved with dlopen/dlsym (optionally with a symbol prefix).
 *
 * rundown_backend_open() never aborts: a missing file, a file that is not a
 * shared object of this architecture, or a dlopen failure is reported in
 * err and returns -1.  A missing symbol is not an error: its pointer stays
 * NULL and rundown_backend_missing() names it, so the routines' clauses can
 * be reported UNSUPPORTED.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_BACKEND_H
#define RUNDOWN_BACKEND_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <rundown/routines.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rundown_backend {
#define RUNDOWN_FIELD(ret, name, params, args, family) ret(*name) params;
	RUNDOWN_ROUTINES(RUNDOWN_FIELD)
#undef RUNDOWN_FIELD
	void *handle;           /* dlopen handle, NULL for a linked-in backend */
	char path[4096];        /* what was opened */
	bool tsan_instrumented; /* the backend calls into the TSan runtime */
	bool asan_instrumented; /* the backend calls into the ASan runtime */
};

/* Bit i set in a mask = routine i of RUNDOWN_ROUTINES. */
enum rundown_routine_id {
#define RUNDOWN_ENUM(ret, name, params, args, family) RUNDOWN_ID_##name,
	RUNDOWN_ROUTINES(RUNDOWN_ENUM)
#undef RUNDOWN_ENUM
	RUNDOWN_ID_COUNT
};
#define RUNDOWN_BIT(name) (UINT32_C(1) << RUNDOWN_ID_##name)

/* Exit status for usage and load errors, shared by every tool. */
#define RUNDOWN_EXIT_USAGE 2

int rundown_backend_open(struct rundown_backend *b, const char *path,
			 const char *prefix, char *err, size_t errlen);
void rundown_backend_close(struct rundown_backend *b);
/* Name of routine id, or NULL. */
const char *rundown_routine_name(unsigned id);
/* Mask of routines the backend lacks. */
uint32_t rundown_backend_missing(const struct rundown_backend *b);
/* The backend linked into this program (librundown), for tools that can
 * run without --backend; defined only where librundown is linked. */
void rundown_backend_linked(struct rundown_backend *b);

#ifdef __cplusplus
}
#endif

#endif /* RUNDOWN_BACKEND_H */
