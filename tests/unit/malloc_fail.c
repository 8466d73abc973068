/*
 * tests/unit/malloc_fail.c - allocation-failure injection for
 * alloc_fail_test: this file defines malloc, calloc, realloc, free,
 * posix_memalign, aligned_alloc, memalign, valloc and pvalloc in the test
 * executable.  The dynamic linker binds librundown's (and everyone's)
 * calls to them, and they forward to the next definition in the lookup
 * order, dlsym(RTLD_NEXT, ...): libc's in a plain build, the sanitizer
 * runtime's under ASan or TSan, which therefore still owns every block
 * (LSan checks for leaks at exit in the ASan build).
 *
 * Built WITHOUT sanitizer instrumentation (its own convenience library,
 * see tests/local.mk): the runtimes call malloc while they initialise,
 * before instrumented code may run (ASan's shadow is not mapped yet).
 *
 * While armed, the allocation number `at` (0-based, counted from the
 * arming) fails with ENOMEM, or every allocation from it on; the blocks
 * handed out while armed are recorded and free() crosses them off, so the
 * test sees exactly what a failed Allocate left behind.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tests/unit/malloc_fail.h"

/* Declared here, not through <stdlib.h>: glibc marks its declarations
 * __leaf__, which these definitions (calling back into this file) are not. */
void *malloc(size_t size);
void *calloc(size_t nmemb, size_t size);
void *realloc(void *ptr, size_t size);
void free(void *ptr);
int posix_memalign(void **memptr, size_t alignment, size_t size);
void *aligned_alloc(size_t alignment, size_t size);
void *memalign(size_t alignment, size_t size);
void *valloc(size_t size);
void *pvalloc(size_t size);

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);

/* dlsym may allocate while we resolve: serve it from here, never free. */
static _Alignas(64) unsigned char boot_arena[16384];
static atomic_size_t boot_used;
static atomic_bool resolving;

static void *boot_alloc(size_t n)
{
	size_t off = atomic_fetch_add(&boot_used, (n + 63) & ~(size_t)63);

	return off + n <= sizeof boot_arena ? boot_arena + off : NULL;
}

static bool is_boot(const void *p)
{
	return (const unsigned char *)p >= boot_arena &&
	       (const unsigned char *)p < boot_arena + sizeof boot_arena;
}

static void resolve(void)
{
	if (real_free != NULL)
		return;
	atomic_store(&resolving, true);
	real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
	real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
	real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
	real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
	real_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
	real_valloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "valloc");
	real_pvalloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "pvalloc");
	real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
	atomic_store(&resolving, false);
}

/* The countdown and the record of live blocks (single-threaded test; the
 * atomics only keep the sanitizer runtimes' own threads well-defined). */
#define MAX_LIVE 64
static atomic_bool armed, fail_all;
static atomic_long calls, fail_at, injected;
static void *_Atomic live[MAX_LIVE];

static bool should_fail(void)
{
	long n;

	if (!atomic_load(&armed))
		return false;
	n = atomic_fetch_add(&calls, 1);
	if (n == atomic_load(&fail_at) || (atomic_load(&fail_all) && n > atomic_load(&fail_at))) {
		atomic_fetch_add(&injected, 1);
		errno = ENOMEM;
		return true;
	}
	return false;
}

static void *note(void *p)
{
	if (p != NULL && atomic_load(&armed))
		for (int k = 0; k < MAX_LIVE; k++) {
			void *empty = NULL;

			if (atomic_compare_exchange_strong(&live[k], &empty, p))
				break;
		}
	return p;
}

static void forget(void *p)
{
	for (int k = 0; k < MAX_LIVE && p != NULL; k++) {
		void *q = p;

		if (atomic_compare_exchange_strong(&live[k], &q, NULL))
			break;
	}
}

int rd_mf_live(void)
{
	int n = 0;

	for (int k = 0; k < MAX_LIVE; k++)
		n += atomic_load(&live[k]) != NULL;
	return n;
}

void *malloc(size_t size)
{
	if (atomic_load(&resolving))
		return boot_alloc(size);
	resolve();
	return should_fail() ? NULL : note(real_malloc(size));
}

void *calloc(size_t nmemb, size_t size)
{
	if (atomic_load(&resolving)) {
		void *p = nmemb && size > SIZE_MAX / nmemb ? NULL : boot_alloc(nmemb * size);

		return p != NULL ? memset(p, 0, nmemb * size) : NULL;
	}
	resolve();
	return should_fail() ? NULL : note(real_calloc(nmemb, size));
}

void *realloc(void *ptr, size_t size)
{
	void *p;

	if (atomic_load(&resolving) || is_boot(ptr))
		return NULL; /* never needed: dlsym does not realloc */
	resolve();
	if (should_fail())
		return NULL;
	p = real_realloc(ptr, size);
	if (p != NULL || size == 0)
		forget(ptr);
	return note(p);
}

void free(void *ptr)
{
	if (ptr == NULL || is_boot(ptr))
		return;
	resolve();
	forget(ptr);
	real_free(ptr);
}

int posix_memalign(void **memptr, size_t alignment, size_t size)
{
	int rc;

	if (atomic_load(&resolving))
		return (*memptr = boot_alloc(size)) != NULL ? 0 : ENOMEM;
	resolve();
	if (should_fail())
		return ENOMEM;
	rc = real_posix_memalign(memptr, alignment, size);
	if (rc == 0)
		note(*memptr);
	return rc;
}

void *aligned_alloc(size_t alignment, size_t size)
{
	if (atomic_load(&resolving))
		return boot_alloc(size); /* 64-aligned */
	resolve();
	return should_fail() ? NULL : note(real_aligned_alloc(alignment, size));
}

void *memalign(size_t alignment, size_t size)
{
	if (atomic_load(&resolving))
		return boot_alloc(size); /* 64-aligned */
	resolve();
	return should_fail() ? NULL : note(real_memalign(alignment, size));
}

void *valloc(size_t size)
{
	if (atomic_load(&resolving))
		return boot_alloc(size); /* 64-aligned */
	resolve();
	return should_fail() ? NULL : note(real_valloc(size));
}

void *pvalloc(size_t size)
{
	if (atomic_load(&resolving))
		return boot_alloc(size); /* 64-aligned */
	resolve();
	return should_fail() ? NULL : note(real_pvalloc(size));
}

void rd_mf_arm(long at, bool all)
{
	atomic_store(&calls, 0);
	atomic_store(&injected, 0);
	atomic_store(&fail_at, at);
	atomic_store(&fail_all, all);
	atomic_store(&armed, true);
}

void rd_mf_disarm(void)
{
	atomic_store(&armed, false);
}

long rd_mf_calls(void)
{
	return atomic_load(&calls);
}

long rd_mf_injected(void)
{
	return atomic_load(&injected);
}
