/*
 * conformance/tests/family.h - the two families behind one interface, and
 * the helpers concurrent tests share.
 *
 * Most clauses exist twice (PLAIN-WAIT-001 / CA-WAIT-001): a test body is
 * written once against struct conform_family and registered twice with
 * CONFORM_TEST, once per family, each naming its own clause ids.
 */
#ifndef RUNDOWN_CONFORM_FAMILY_H
#define RUNDOWN_CONFORM_FAMILY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "conformance/conform.h"

enum conform_make {
	CONFORM_MAKE_DEFAULT = 0, /* plain: 8-aligned heap word; CA: Allocate */
	CONFORM_MAKE_BUFFER = 1,  /* CA: Size -> heap buffer -> Initialize (plain: as default) */
};

struct conform_family {
	const char *name;   /* "plain" or "cache-aware" */
	const char *prefix; /* "PLAIN" or "CA" */
	/* Create an initialized object, or conform_unresolved() if it cannot. */
	void *(*create)(enum conform_make how);
	/* Free what create made (the object must be run down or unused). */
	void (*destroy)(void *obj);
	BOOLEAN (*acquire)(void *obj);
	BOOLEAN (*acquire_ex)(void *obj, ULONG count);
	void (*release)(void *obj);
	void (*release_ex)(void *obj, ULONG count);
	void (*wait)(void *obj);
	void (*completed)(void *obj);
	void (*reinit)(void *obj);
};

extern const struct conform_family conform_plain;
extern const struct conform_family conform_ca;

/* RUNDOWN_BIT masks of the routines each family's core tests call. */
#define CONFORM_NEEDS_PLAIN                                                           \
	(RUNDOWN_BIT(ExInitializeRundownProtection) | RUNDOWN_BIT(ExAcquireRundownProtection) | \
	 RUNDOWN_BIT(ExReleaseRundownProtection) |                                      \
	 RUNDOWN_BIT(ExWaitForRundownProtectionRelease))
#define CONFORM_NEEDS_CA                                                              \
	(RUNDOWN_BIT(ExAllocateCacheAwareRundownProtection) |                           \
	 RUNDOWN_BIT(ExFreeCacheAwareRundownProtection) |                               \
	 RUNDOWN_BIT(ExAcquireRundownProtectionCacheAware) |                            \
	 RUNDOWN_BIT(ExReleaseRundownProtectionCacheAware) |                            \
	 RUNDOWN_BIT(ExWaitForRundownProtectionReleaseCacheAware))
#define CONFORM_NEEDS_CA_BUFFER                                                       \
	(RUNDOWN_BIT(ExSizeOfRundownProtectionCacheAware) |                             \
	 RUNDOWN_BIT(ExInitializeRundownProtectionCacheAware))

/* ---- a Wait running on its own thread ---- */

struct conform_waiter {
	pthread_t tid;
	const struct conform_family *f;
	void *obj;
	_Atomic bool started;  /* set just before calling Wait */
	_Atomic bool returned; /* set just after Wait returned */
	bool joined;
};

/* Start f->wait(obj) on a new thread; returns once the thread is about to
 * call Wait (it may not have entered it yet). */
void conform_waiter_start(struct conform_waiter *w, const struct conform_family *f, void *obj);
/* True if Wait has returned (non-blocking). */
bool conform_waiter_returned(struct conform_waiter *w);
/* True if Wait did NOT return during the observation window. */
bool conform_waiter_still_blocked(struct conform_waiter *w, uint64_t window_ns);
/* Wait up to timeout_ns for Wait to return; joins the thread if it did. */
bool conform_waiter_join(struct conform_waiter *w, uint64_t timeout_ns);

/* Poll f->acquire until it returns FALSE (run-down visible), releasing any
 * TRUE at once; false if the deadline passed first. */
bool conform_rundown_visible(const struct conform_family *f, void *obj, uint64_t timeout_ns);

/* ---- environment ---- */

/* Online CPUs this process may run on. */
unsigned conform_ncpu(void);
/* Pin the calling thread to cpu; false if not allowed. */
bool conform_pin(unsigned cpu);
/* The CPU the calling thread runs on (sched_getcpu; 0 if unknown). */
unsigned conform_cpu(void);

/* A buffer of size bytes starting misalign (0..63) bytes past a 64-byte
 * boundary, followed within 127 bytes by a PROT_NONE guard page; with
 * misalign == CONFORM_GUARD_TIGHT it ends exactly at the guard page.
 * Every other byte of its pages is a 0xA5 canary (the buffer itself is
 * filled with 0xA5 too); conform_guard_canary_ok checks the canaries. */
#define CONFORM_GUARD_TIGHT 0xFFFFFFFFu
void *conform_guard_alloc(size_t size, unsigned misalign);
bool conform_guard_canary_ok(void *buf);
void conform_guard_free(void *buf);

/* Default timeouts: "Wait must return after the last release" (generous),
 * scaled by --timeout-multiplier through conform_window_ns(). */
#define CONFORM_RETURN_TIMEOUT_NS (2000000000ull)

#endif /* RUNDOWN_CONFORM_FAMILY_H */
