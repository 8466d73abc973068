/*
 * conformance/tests/family.c - the two families behind struct
 * conform_family, and the shared helpers of family.h.
 */
#include "config.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "conformance/tests/family.h"

/* ---- plain ---- */

static void *plain_create(enum conform_make how)
{
	PEX_RUNDOWN_REF ref;

	(void)how;
	ref = aligned_alloc(8, sizeof(*ref));
	if (ref == NULL)
		conform_unresolved("out of memory creating an EX_RUNDOWN_REF");
	memset(ref, 0xA5, sizeof(*ref)); /* Initialize takes [out] storage */
	B->ExInitializeRundownProtection(ref);
	return ref;
}

static void plain_destroy(void *obj)
{
	free(obj);
}

static BOOLEAN plain_acquire(void *o) { return B->ExAcquireRundownProtection(o); }
static BOOLEAN plain_acquire_ex(void *o, ULONG n) { return B->ExAcquireRundownProtectionEx(o, n); }
static void plain_release(void *o) { B->ExReleaseRundownProtection(o); }
static void plain_release_ex(void *o, ULONG n) { B->ExReleaseRundownProtectionEx(o, n); }
static void plain_wait(void *o) { B->ExWaitForRundownProtectionRelease(o); }
static void plain_completed(void *o) { B->ExRundownCompleted(o); }
static void plain_reinit(void *o) { B->ExReInitializeRundownProtection(o); }

const struct conform_family conform_plain = {
	"plain", "PLAIN", plain_create, plain_destroy, plain_acquire, plain_acquire_ex,
	plain_release, plain_release_ex, plain_wait, plain_completed, plain_reinit,
};

/* ---- cache-aware ---- */

/* A Size+Initialize object: a small header before the buffer; destroy
 * knows it by the registry below and free()s the whole block. */
struct ca_buf {
	uint64_t magic;
	size_t size;
	_Alignas(16) unsigned char data[];
};
#define CA_BUF_MAGIC 0x63614275664d6167ull

/* Which objects are our Size+Initialize buffers: a registry, not a look
 * at the bytes before obj (for an Allocate'd object those belong to the
 * backend's allocator: an ASan redzone or a malloc header). */
static pthread_mutex_t ca_bufs_lock = PTHREAD_MUTEX_INITIALIZER;
static void **ca_bufs;
static size_t ca_nbufs, ca_capbufs;

static void ca_bufs_add(void *data)
{
	pthread_mutex_lock(&ca_bufs_lock);
	if (ca_nbufs == ca_capbufs) {
		size_t cap = ca_capbufs ? 2 * ca_capbufs : 64;
		void **p = realloc(ca_bufs, cap * sizeof(*p));

		if (p == NULL) {
			pthread_mutex_unlock(&ca_bufs_lock);
			conform_unresolved("out of memory");
		}
		ca_bufs = p;
		ca_capbufs = cap;
	}
	ca_bufs[ca_nbufs++] = data;
	pthread_mutex_unlock(&ca_bufs_lock);
}

static bool ca_bufs_remove(void *data)
{
	bool found = false;

	pthread_mutex_lock(&ca_bufs_lock);
	for (size_t i = 0; i < ca_nbufs; i++) {
		if (ca_bufs[i] == data) {
			ca_bufs[i] = ca_bufs[--ca_nbufs];
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&ca_bufs_lock);
	return found;
}

static void *ca_create(enum conform_make how)
{
	struct ca_buf *b;
	SIZE_T size;
	void *obj;

	if (how == CONFORM_MAKE_DEFAULT) {
		obj = B->ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 0x74636443);
		if (obj == NULL)
			conform_unresolved("ExAllocateCacheAwareRundownProtection returned NULL "
					   "with no allocation failure injected");
		return obj;
	}
	if (!B->ExSizeOfRundownProtectionCacheAware || !B->ExInitializeRundownProtectionCacheAware)
		conform_unresolved("Size/Initialize not exported");
	size = B->ExSizeOfRundownProtectionCacheAware();
	if (size == 0 || size > (64u << 20))
		conform_unresolved("ExSizeOfRundownProtectionCacheAware returned %zu", (size_t)size);
	b = malloc(sizeof(*b) + size);
	if (b == NULL)
		conform_unresolved("out of memory for a %zu-byte buffer", (size_t)size);
	b->magic = CA_BUF_MAGIC;
	b->size = size;
	memset(b->data, 0xA5, size);
	B->ExInitializeRundownProtectionCacheAware((PEX_RUNDOWN_REF_CACHE_AWARE)b->data, size);
	ca_bufs_add(b->data);
	return b->data;
}

static void ca_destroy(void *obj)
{
	if (ca_bufs_remove(obj)) {
		struct ca_buf *b =
			(struct ca_buf *)((unsigned char *)obj - offsetof(struct ca_buf, data));

		b->magic = 0;
		free(b);
		return;
	}
	B->ExFreeCacheAwareRundownProtection(obj);
}

static BOOLEAN ca_acquire(void *o) { return B->ExAcquireRundownProtectionCacheAware(o); }
static BOOLEAN ca_acquire_ex(void *o, ULONG n) { return B->ExAcquireRundownProtectionCacheAwareEx(o, n); }
static void ca_release(void *o) { B->ExReleaseRundownProtectionCacheAware(o); }
static void ca_release_ex(void *o, ULONG n) { B->ExReleaseRundownProtectionCacheAwareEx(o, n); }
static void ca_wait(void *o) { B->ExWaitForRundownProtectionReleaseCacheAware(o); }
static void ca_completed(void *o) { B->ExRundownCompletedCacheAware(o); }
static void ca_reinit(void *o) { B->ExReInitializeRundownProtectionCacheAware(o); }

const struct conform_family conform_ca = {
	"cache-aware", "CA", ca_create, ca_destroy, ca_acquire, ca_acquire_ex,
	ca_release, ca_release_ex, ca_wait, ca_completed, ca_reinit,
};

/* ---- waiter thread ---- */

static void *conform_waiter_main(void *arg)
{
	struct conform_waiter *w = arg;

	/* Release: pairs with the acquire load in conform_waiter_start. */
	atomic_store_explicit(&w->started, true, memory_order_release);
	w->f->wait(w->obj);
	/* Release: the test thread that sees returned also sees what Wait did. */
	atomic_store_explicit(&w->returned, true, memory_order_release);
	return NULL;
}

void conform_waiter_start(struct conform_waiter *w, const struct conform_family *f, void *obj)
{
	w->f = f;
	w->obj = obj;
	w->joined = false;
	atomic_init(&w->started, false);
	atomic_init(&w->returned, false);
	if (pthread_create(&w->tid, NULL, conform_waiter_main, w) != 0)
		conform_unresolved("pthread_create failed");
	while (!atomic_load_explicit(&w->started, memory_order_acquire))
		sched_yield();
}

bool conform_waiter_returned(struct conform_waiter *w)
{
	return atomic_load_explicit(&w->returned, memory_order_acquire);
}

bool conform_waiter_still_blocked(struct conform_waiter *w, uint64_t window_ns)
{
	uint64_t end = conform_now_ns() + window_ns;
	struct timespec tick = {0, 200000}; /* observation, not synchronisation */

	while (conform_now_ns() < end) {
		if (conform_waiter_returned(w))
			return false;
		nanosleep(&tick, NULL);
	}
	return !conform_waiter_returned(w);
}

bool conform_waiter_join(struct conform_waiter *w, uint64_t timeout_ns)
{
	uint64_t end = conform_now_ns() + timeout_ns;

	while (!conform_waiter_returned(w)) {
		if (conform_now_ns() >= end)
			return false;
		sched_yield();
	}
	if (!w->joined) {
		pthread_join(w->tid, NULL);
		w->joined = true;
	}
	return true;
}

bool conform_rundown_visible(const struct conform_family *f, void *obj, uint64_t timeout_ns)
{
	uint64_t end = conform_now_ns() + timeout_ns;

	for (;;) {
		if (!f->acquire(obj))
			return true;
		f->release(obj);
		if (conform_now_ns() >= end)
			return false;
		sched_yield();
	}
}

/* ---- environment ---- */

unsigned conform_ncpu(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 1;
	n = CPU_COUNT(&set);
	return n < 1 ? 1u : (unsigned)n;
}

bool conform_pin(unsigned cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* The kernel has moved the calling thread when this returns; do not
	 * confirm with sched_getcpu(), which an inject profile may fake. */
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

unsigned conform_cpu(void)
{
	int c = sched_getcpu();

	return c < 0 ? 0u : (unsigned)c;
}

/* ---- guarded buffers ---- */

/*
 * Layout of one guarded allocation (pages of the mapping):
 *
 *	[ canary ... | buffer (size bytes) | canary ... ][ PROT_NONE guard ]
 *
 * The buffer starts at a 64-byte boundary + misalign and ends at most 63
 * bytes + the misalignment before the guard page; with misalign ==
 * CONFORM_GUARD_TIGHT it ends exactly at the guard page.  A write past
 * the end hits the canary (checked) or faults on the guard page.
 */
struct guard_rec {
	unsigned char *buf;
	size_t size;
	unsigned char *map;
	size_t maplen;
};
static struct guard_rec guard_recs[256];

static struct guard_rec *guard_find(const void *buf)
{
	for (size_t i = 0; i < sizeof(guard_recs) / sizeof(guard_recs[0]); i++)
		if (guard_recs[i].buf == buf)
			return &guard_recs[i];
	return NULL;
}

void *conform_guard_alloc(size_t size, unsigned misalign)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (size + 128 + page - 1) / page;
	size_t maplen = (data_pages + 1) * page;
	struct guard_rec *r = guard_find(NULL);
	unsigned char *map, *guard;
	uintptr_t start;

	if (r == NULL)
		conform_unresolved("too many guarded buffers live at once");
	map = mmap(NULL, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		conform_unresolved("mmap of a guarded buffer failed");
	guard = map + data_pages * page;
	if (mprotect(guard, page, PROT_NONE) != 0)
		conform_unresolved("mprotect of the guard page failed");
	memset(map, 0xA5, data_pages * page);
	if (misalign == CONFORM_GUARD_TIGHT) {
		start = (uintptr_t)guard - size;
	} else {
		/* highest 64-aligned start + misalign that still fits */
		start = (((uintptr_t)guard - size - (misalign % 64u)) & ~(uintptr_t)63u) +
			(misalign % 64u);
	}
	*r = (struct guard_rec){(unsigned char *)start, size, map, maplen};
	return r->buf;
}

bool conform_guard_canary_ok(void *buf)
{
	struct guard_rec *r = guard_find(buf);
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *end;

	if (r == NULL)
		return false;
	end = r->map + r->maplen - page;
	for (unsigned char *p = r->map; p < r->buf; p++)
		if (*p != 0xA5)
			return false;
	for (unsigned char *p = r->buf + r->size; p < end; p++)
		if (*p != 0xA5)
			return false;
	return true;
}

void conform_guard_free(void *buf)
{
	struct guard_rec *r = guard_find(buf);

	if (r == NULL)
		return;
	munmap(r->map, r->maplen);
	*r = (struct guard_rec){0};
}
