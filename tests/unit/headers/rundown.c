/* tests/unit/headers/rundown.c - the umbrella header alone: every routine
 * of the X-macro list is declared, with the list's signature. */
#include <rundown/rundown.h>
#include <rundown/rundown.h>

int rd_header_rundown(void);

#define CHECK_TYPE(ret, name, params, args, family) ret(*name##_p) params = name;

int rd_header_rundown(void)
{
	int n = 0;

	RUNDOWN_ROUTINES(CHECK_TYPE)
#define COUNT_NONNULL(ret, name, params, args, family) n += name##_p != 0;
	RUNDOWN_ROUTINES(COUNT_NONNULL)
	return n;
}
