/*
 * inject/shim_alloc.c - the malloc family: allocation faults, the armed
 * window and its live-block bookkeeping, and the start-up arena.
 *
 * Arena: while a thread resolves the real functions (dlsym may calloc),
 * its allocations come from a static bump arena.  Arena blocks are never
 * given to libc: free() ignores them, realloc() copies out of them.
 *
 * Faults: an allocation call is *eligible* when alloc= is set and, with
 * scope=armed, the calling thread is inside rundown_inject_alloc_arm().
 * Eligible calls are numbered from 1 across the process (nth and every
 * count them); p draws from the thread's PRNG; max caps the faults.  A
 * fault returns NULL with errno ENOMEM (posix_memalign returns ENOMEM),
 * exactly what an exhausted allocator does, and leaves the old block of a
 * realloc untouched.
 *
 * Bookkeeping: a block a thread gets while armed is entered in a bounded
 * open-addressing set; free/realloc anywhere remove it.  alloc_live is the
 * number of such blocks not yet freed: after a call like
 * Allocate -> Free made inside the window, anything left is a leak.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inject/shim.h"

/* ---------------------------------------------------------------- arena */

#define RD_ARENA_SIZE (256u * 1024u)
#define RD_ARENA_HDR 16u

static _Alignas(64) unsigned char rd_arena[RD_ARENA_SIZE];
static _Atomic size_t rd_arena_used;

void *rd_arena_alloc(size_t size, size_t align)
{
	size_t off = atomic_load_explicit(&rd_arena_used, memory_order_relaxed), start, end;

	if (align < RD_ARENA_HDR)
		align = RD_ARENA_HDR;
	do {
		start = (off + RD_ARENA_HDR + align - 1u) & ~(align - 1u);
		end = start + size;
		if (size > RD_ARENA_SIZE || end > RD_ARENA_SIZE) {
			static const char msg[] = "rundown-inject: start-up arena exhausted\n";

			(void)!write(2, msg, sizeof msg - 1);
			errno = ENOMEM;
			return NULL;
		}
		/* Relaxed: the CAS only hands out disjoint ranges. */
	} while (!atomic_compare_exchange_weak_explicit(&rd_arena_used, &off, end,
						       memory_order_relaxed,
						       memory_order_relaxed));
	memcpy(rd_arena + start - sizeof(size_t), &size, sizeof size);
	return rd_arena + start; /* static storage: already zero */
}

int rd_in_arena(const void *p)
{
	return (const unsigned char *)p >= rd_arena &&
	       (const unsigned char *)p < rd_arena + RD_ARENA_SIZE;
}

static size_t rd_arena_size(const void *p)
{
	size_t n;

	memcpy(&n, (const unsigned char *)p - sizeof n, sizeof n);
	return n;
}

/* ---------------------------------------------------------------- bookkeeping */

#define RD_TRACK_SLOTS 16384u /* power of two */
#define RD_TOMB ((uintptr_t)1)

static uintptr_t rd_track[RD_TRACK_SLOTS]; /* 0 empty, 1 tombstone, else a block */
static _Atomic size_t rd_track_count;      /* live entries; 0 lets free() skip the lock */
static atomic_flag rd_track_lock = ATOMIC_FLAG_INIT;

static void rd_track_acquire(void)
{
	/* Acquire: pairs with the release in rd_track_release. */
	while (atomic_flag_test_and_set_explicit(&rd_track_lock, memory_order_acquire))
		;
}

static void rd_track_release(void)
{
	atomic_flag_clear_explicit(&rd_track_lock, memory_order_release);
}

static size_t rd_track_hash(uintptr_t p)
{
	return (size_t)((p >> 4) * 0x9e3779b97f4a7c15u >> 50) & (RD_TRACK_SLOTS - 1u);
}

static void rd_track_insert(void *block)
{
	uintptr_t p = (uintptr_t)block;
	size_t i = rd_track_hash(p);

	rd_track_acquire();
	for (size_t probe = 0; probe < RD_TRACK_SLOTS; probe++, i = (i + 1u) & (RD_TRACK_SLOTS - 1u)) {
		if (rd_track[i] == 0 || rd_track[i] == RD_TOMB) {
			rd_track[i] = p;
			atomic_fetch_add_explicit(&rd_track_count, 1, memory_order_relaxed);
			atomic_fetch_add_explicit(&rd_ctr.alloc_live, 1, memory_order_relaxed);
			rd_track_release();
			return;
		}
	}
	rd_track_release();
	RD_COUNT(alloc_untracked);
}

/* 1 if block was tracked (and is not any more). */
static int rd_track_remove(void *block)
{
	uintptr_t p = (uintptr_t)block;
	size_t i = rd_track_hash(p);
	int found = 0;

	if (atomic_load_explicit(&rd_track_count, memory_order_relaxed) == 0)
		return 0;
	rd_track_acquire();
	for (size_t probe = 0; probe < RD_TRACK_SLOTS && rd_track[i] != 0;
	     probe++, i = (i + 1u) & (RD_TRACK_SLOTS - 1u)) {
		if (rd_track[i] == p) {
			rd_track[i] = RD_TOMB;
			found = 1;
			atomic_fetch_sub_explicit(&rd_ctr.alloc_live, 1, memory_order_relaxed);
			if (atomic_fetch_sub_explicit(&rd_track_count, 1, memory_order_relaxed) == 1)
				memset(rd_track, 0, sizeof rd_track); /* drop the tombstones */
			break;
		}
	}
	rd_track_release();
	return found;
}

/* ---------------------------------------------------------------- faults */

static _Atomic uint64_t rd_alloc_seq;    /* eligible calls since configure */
static _Atomic uint64_t rd_alloc_nfault; /* faults since configure (for max) */
static int rd_bypassed;

int rd_alloc_bypassed(void)
{
	return rd_bypassed;
}

static int rd_alloc_fail(struct rd_thread *t, const char *site)
{
	uint64_t seq, n;
	int fail = 0;

	RD_COUNT(alloc_calls);
	if (!(RD_FLAGS() & RUNDOWN_INJECT_F_ALLOC) || (rd_cfg.alloc.armed && t->alloc_armed == 0))
		return 0;
	RD_COUNT(alloc_eligible);
	seq = atomic_fetch_add_explicit(&rd_alloc_seq, 1, memory_order_relaxed) + 1u;
	switch (rd_cfg.alloc.mode) {
	case RUNDOWN_INJECT_ALLOC_P:
		fail = rd_chance(t, rd_cfg.alloc.p);
		break;
	case RUNDOWN_INJECT_ALLOC_NTH:
		fail = seq == rd_cfg.alloc.n;
		break;
	case RUNDOWN_INJECT_ALLOC_EVERY:
		fail = seq % rd_cfg.alloc.n == 0;
		break;
	default:
		break;
	}
	if (fail) {
		n = atomic_fetch_add_explicit(&rd_alloc_nfault, 1, memory_order_relaxed);
		if (rd_cfg.alloc.max != 0 && n >= rd_cfg.alloc.max)
			fail = 0;
	}
	if (fail)
		RD_COUNT(alloc_faults);
	rd_log(t, site, fail ? "fail" : "pass", (int64_t)seq, 1);
	return fail;
}

/* Common slow path: hook, maybe fail; returns the thread or NULL. */
static struct rd_thread *rd_alloc_enter(const char *site, int *fail)
{
	struct rd_thread *t = rd_hook(site, RD_K_ALLOC);

	*fail = t != NULL && rd_alloc_fail(t, site);
	return t;
}

static void *rd_alloc_done(struct rd_thread *t, void *p)
{
	if (p != NULL && t != NULL && t->alloc_armed > 0 && (RD_FLAGS() & RUNDOWN_INJECT_F_ALLOC))
		rd_track_insert(p);
	return p;
}

/* ---------------------------------------------------------------- interposers */

RD_EXPORT void *malloc(size_t size)
{
	struct rd_thread *t;
	int fail;

	if (RD_UNLIKELY(rd_real.malloc == NULL)) {
		if (rd_self.resolving)
			return rd_arena_alloc(size, 16);
		rd_resolve_all();
	}
	if (!RD_ON())
		return rd_real.malloc(size);
	t = rd_alloc_enter("malloc", &fail);
	if (fail) {
		errno = ENOMEM;
		return NULL;
	}
	return rd_alloc_done(t, rd_real.malloc(size));
}

RD_EXPORT void *calloc(size_t n, size_t size)
{
	struct rd_thread *t;
	int fail;

	if (RD_UNLIKELY(rd_real.calloc == NULL)) {
		if (rd_self.resolving) {
			if (size != 0 && n > SIZE_MAX / size) {
				errno = ENOMEM;
				return NULL;
			}
			return rd_arena_alloc(n * size, 16);
		}
		rd_resolve_all();
	}
	if (!RD_ON())
		return rd_real.calloc(n, size);
	t = rd_alloc_enter("calloc", &fail);
	if (fail) {
		errno = ENOMEM;
		return NULL;
	}
	return rd_alloc_done(t, rd_real.calloc(n, size));
}

RD_EXPORT void free(void *p)
{
	if (p == NULL || rd_in_arena(p))
		return;
	if (RD_ON()) {
		rd_hook("free", RD_K_PLAIN);
		rd_track_remove(p);
	}
	RD_REAL(free)(p);
}

RD_EXPORT void *realloc(void *p, size_t size)
{
	struct rd_thread *t;
	void *q;
	int fail;

	if (p != NULL && rd_in_arena(p)) {
		size_t old = rd_arena_size(p);

		q = malloc(size);
		if (q != NULL)
			memcpy(q, p, old < size ? old : size);
		return q;
	}
	if (RD_UNLIKELY(rd_real.realloc == NULL)) {
		if (rd_self.resolving)
			return rd_arena_alloc(size, 16); /* p is NULL here */
		rd_resolve_all();
	}
	if (!RD_ON())
		return rd_real.realloc(p, size);
	if (p != NULL && size == 0) { /* a free, in glibc: never a fault */
		rd_hook("realloc", RD_K_PLAIN);
		rd_track_remove(p);
		return rd_real.realloc(p, size);
	}
	t = rd_alloc_enter("realloc", &fail);
	if (fail) {
		errno = ENOMEM;
		return NULL; /* p stays valid, as after a real failure */
	}
	q = rd_real.realloc(p, size);
	if (q != NULL && p != NULL && rd_track_remove(p) && (t == NULL || t->alloc_armed == 0)) {
		rd_track_insert(q); /* a tracked block stays tracked when it moves */
		return q;
	}
	return rd_alloc_done(t, q);
}

RD_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	struct rd_thread *t;
	int fail, r;

	if (RD_UNLIKELY(rd_real.posix_memalign == NULL)) {
		if (rd_self.resolving) {
			*out = rd_arena_alloc(size, align);
			return *out ? 0 : ENOMEM;
		}
		rd_resolve_all();
	}
	if (!RD_ON())
		return rd_real.posix_memalign(out, align, size);
	t = rd_alloc_enter("posix_memalign", &fail);
	if (fail)
		return ENOMEM;
	r = rd_real.posix_memalign(out, align, size);
	if (r == 0)
		rd_alloc_done(t, *out);
	return r;
}

#define RD_ALIGNED_ALLOC(name, params, args, arena_args)                 \
	RD_EXPORT void *name params                                      \
	{                                                                \
		struct rd_thread *t;                                     \
		int fail;                                                \
									 \
		if (RD_UNLIKELY(rd_real.name == NULL)) {                 \
			if (rd_self.resolving)                           \
				return rd_arena_alloc arena_args;        \
			rd_resolve_all();                                \
		}                                                        \
		if (!RD_ON())                                            \
			return rd_real.name args;                        \
		t = rd_alloc_enter(#name, &fail);                        \
		if (fail) {                                              \
			errno = ENOMEM;                                  \
			return NULL;                                     \
		}                                                        \
		return rd_alloc_done(t, rd_real.name args);              \
	}

RD_ALIGNED_ALLOC(aligned_alloc, (size_t align, size_t size), (align, size), (size, align))
RD_ALIGNED_ALLOC(memalign, (size_t align, size_t size), (align, size), (size, align))
RD_ALIGNED_ALLOC(valloc, (size_t size), (size), (size, 4096))

/* ---------------------------------------------------------------- control API */

RD_EXPORT void rundown_inject_alloc_arm(void)
{
	rd_thread_self()->alloc_armed++;
}

RD_EXPORT void rundown_inject_alloc_disarm(void)
{
	struct rd_thread *t = rd_thread_self();

	if (t->alloc_armed > 0)
		t->alloc_armed--;
}

RD_EXPORT int rundown_inject_alloc_configure(const char *value)
{
	char spec[RUNDOWN_INJECT_SPEC_MAX], err[512];
	struct rundown_inject_cfg c;
	size_t n = strlen(value);
	unsigned f;

	if (n + 7 >= sizeof spec) {
		rd_say("rundown_inject_alloc_configure: value too long", NULL);
		return -1;
	}
	memcpy(spec, "alloc=", 6);
	memcpy(spec + 6, value, n + 1);
	if (rundown_inject_parse(spec, &c, err, sizeof err) != 0) {
		rd_say("rundown_inject_alloc_configure: ", err, NULL);
		return -1;
	}
	rd_cfg.alloc = c.alloc;
	atomic_store_explicit(&rd_alloc_seq, 0, memory_order_relaxed);
	atomic_store_explicit(&rd_alloc_nfault, 0, memory_order_relaxed);
	f = RD_FLAGS() & ~(unsigned)RUNDOWN_INJECT_F_ALLOC;
	if (c.alloc.mode != RUNDOWN_INJECT_ALLOC_OFF)
		f |= RUNDOWN_INJECT_F_ALLOC;
	atomic_store_explicit(&rd_flags, f, memory_order_relaxed);
	return 0;
}

/* Is the program's "malloc" (the first in the global scope) in our object? */
void rd_alloc_init(void)
{
	void *bound = dlsym(RTLD_DEFAULT, "malloc");
	Dl_info info, self;

	rd_bypassed = bound != NULL && dladdr(bound, &info) && dladdr((void *)rd_alloc_init, &self) &&
		      info.dli_fbase != self.dli_fbase;
	if (rd_bypassed && (RD_FLAGS() | rd_features_of(&rd_cfg)) & RUNDOWN_INJECT_F_ALLOC) {
		const char *who = info.dli_fname ? info.dli_fname : "?";

		rd_say("alloc=: malloc is bound to ", who,
		       ", not to the shim (a sanitizer's allocator?): allocation faults cannot be "
		       "injected; see inject/README.md", NULL);
	}
}
