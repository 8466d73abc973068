/*
 * conformance/error.h - one way to report an error into a caller's buffer.
 */
#ifndef RUNDOWN_CONFORM_ERROR_H
#define RUNDOWN_CONFORM_ERROR_H

#include <stddef.h>

/* Format into err (if non-NULL and errlen > 0) and return -1. */
int rundown_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* RUNDOWN_CONFORM_ERROR_H */
