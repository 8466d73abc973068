/* tests/unit/headers/ex_rundown_ref.c - rundown/ex_rundown_ref.h alone. */
#include <rundown/ex_rundown_ref.h>
#include <rundown/ex_rundown_ref.h>

int rd_header_ex_rundown_ref(void);

int rd_header_ex_rundown_ref(void)
{
	EX_RUNDOWN_REF ref;
	int ok;

	ExInitializeRundownProtection(&ref);
	ok = ExAcquireRundownProtectionEx(&ref, 2) == TRUE;
	ExReleaseRundownProtectionEx(&ref, 2);
	ExWaitForRundownProtectionRelease(&ref);
	return ok;
}
