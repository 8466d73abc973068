/*
 * tests/unit/headers_test.c - every public header is self-contained: each
 * file in tests/unit/headers/ includes one header alone (twice, for its
 * guard) before anything else and is compiled with -std=c11; this file
 * calls what they define.  No libcheck: building is most of the test.
 */
#include "config.h"

#include <stdio.h>

int rd_header_types(void);
int rd_header_routines(void);
int rd_header_ex_rundown_ref(void);
int rd_header_ex_rundown_ref_cache_aware(void);
int rd_header_rundown(void);

#define EXPECT(call, want)                                                    \
	do {                                                                  \
		int got_ = (call);                                            \
		if (got_ != (want)) {                                         \
			printf("FAIL: %s = %d, expected %d\n", #call, got_, (want)); \
			fails++;                                              \
		} else {                                                      \
			printf("PASS: %s\n", #call);                          \
		}                                                             \
	} while (0)

int main(void)
{
	int fails = 0;

	EXPECT(rd_header_types(), 512); /* NonPagedPoolNx */
	EXPECT(rd_header_routines(), 19);
	EXPECT(rd_header_ex_rundown_ref(), 1);
	EXPECT(rd_header_ex_rundown_ref_cache_aware(), 1);
	EXPECT(rd_header_rundown(), 19);
	return fails == 0 ? 0 : 1;
}
