/* tests/unit/headers/types.c - rundown/types.h compiles alone, twice. */
#include <rundown/types.h>
#include <rundown/types.h>

int rd_header_types(void);

_Static_assert(sizeof(ULONG) == 4, "ULONG is 32 bits, as on Windows");
_Static_assert(sizeof(BOOLEAN) == 1, "BOOLEAN is one byte");
_Static_assert(sizeof(ULONG_PTR) == sizeof(void *), "ULONG_PTR is pointer-sized");
_Static_assert(TRUE == 1 && FALSE == 0, "TRUE and FALSE");

int rd_header_types(void)
{
	EX_RUNDOWN_REF ref = { .Count = 0 };
	PEX_RUNDOWN_REF_CACHE_AWARE ca = NULL; /* opaque: pointers only */

	return (int)ref.Count + (ca != NULL) + (int)NonPagedPoolNx;
}
