/* tests/unit/headers/routines.c - rundown/routines.h compiles alone. */
#include <rundown/routines.h>
#include <rundown/routines.h>

int rd_header_routines(void);

#define COUNT(ret, name, params, args, family) +1
_Static_assert(0 RUNDOWN_ROUTINES(COUNT) == RUNDOWN_NR_ROUTINES, "the list has them all");
_Static_assert(0 RUNDOWN_PLAIN_ROUTINES(COUNT) == 8, "8 plain routines");
_Static_assert(0 RUNDOWN_CA_ROUTINES(COUNT) == 11, "11 cache-aware routines");

int rd_header_routines(void)
{
	return RUNDOWN_NR_ROUTINES;
}
