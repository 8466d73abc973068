/*
 * conformance/error.c - see error.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "conformance/error.h"

int rundown_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
