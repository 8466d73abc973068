/*
 * fuzz/ops.h - the op encoding of the fuzz inputs, and the deterministic
 * executor that runs them on a backend and checks every step against the
 * model (model.h).
 *
 * Encoding (one input = one program on one object):
 *
 *	byte 0   header  bit 0    family: 0 plain, 1 cache-aware
 *	                 bits 1-2 K - 1: logical threads (1..4)
 *	                 bits 3+7 both set: spread: run the CA ops of logical
 *	                          thread t on CPU t mod ncpu (a migration costs
 *	                          ~100 us, so it takes two bits to ask for it)
 *	                 bit 4    CA: first object from Size+Initialize (1) or
 *	                          Allocate (0)
 *	                 bits 5-6 CA: misalignment of the caller buffer (x 17 bytes)
 *	then ops, one byte each (high nibble opcode, low nibble thread mod K),
 *	Ex ops and Create followed by one argument byte:
 *
 *	0 Acquire       1 AcquireEx c    2 Release      3 ReleaseEx c
 *	4 WaitStart     5 WaitPoll       6 Completed    7 ReInitialize
 *	8 Create a      9 Free           A Acquire      B Release
 *	C AcquireEx c   D ReleaseEx c    E ReleaseEx(all outstanding)
 *	F WaitPoll
 *
 *	c (Count): 0x00-0xBF -> c + 1; 0xC0-0xFF -> 2^((c - 0xC0) mod 31)
 *	a (Create, CA): bit 7 set: Size -> buffer misaligned by (a & 63) ->
 *	  Initialize; clear: Allocate(PoolType a mod 3 -> NonPagedPool,
 *	  PagedPool, NonPagedPoolNx; tag 'zfdR')
 *
 * The object is created before the first op (plain: Initialize; CA: as the
 * header says).  An op that the model says is undefined in the current
 * state is skipped (ReleaseEx counts are clamped to what is outstanding);
 * at the end the executor tears down with checked ops (release what is
 * outstanding if a Wait is pending or the object was allocated, Wait, Free).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_FUZZ_OPS_H
#define RUNDOWN_FUZZ_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "conformance/backend.h"
#include "fuzz/model.h"

#define RUNDOWN_FUZZ_MAX_OPS 4096
#define RUNDOWN_FUZZ_MAX_THREADS 4

/* Opcode nibbles (for the corpus generator and the dictionary). */
enum rundown_opcode {
	RUNDOWN_OPC_ACQUIRE = 0x0,
	RUNDOWN_OPC_ACQUIRE_EX = 0x1,
	RUNDOWN_OPC_RELEASE = 0x2,
	RUNDOWN_OPC_RELEASE_EX = 0x3,
	RUNDOWN_OPC_WAIT_START = 0x4,
	RUNDOWN_OPC_WAIT_POLL = 0x5,
	RUNDOWN_OPC_COMPLETED = 0x6,
	RUNDOWN_OPC_REINIT = 0x7,
	RUNDOWN_OPC_CREATE = 0x8,
	RUNDOWN_OPC_FREE = 0x9,
	RUNDOWN_OPC_RELEASE_ALL = 0xE,
};

#define RUNDOWN_HDR_CA 0x01u
#define RUNDOWN_HDR_THREADS(k) ((uint8_t)((((k) - 1u) & 3u) << 1))
#define RUNDOWN_HDR_SPREAD 0x88u
#define RUNDOWN_HDR_CA_INIT 0x10u
#define RUNDOWN_HDR_MISALIGN(m) ((uint8_t)(((m) & 3u) << 5))
#define RUNDOWN_CREATE_INIT 0x80u /* Create arg: Size+Initialize */

#define RUNDOWN_ARG_ALL UINT32_MAX /* ReleaseEx(all outstanding) */

struct rundown_op {
	uint8_t kind;   /* enum rundown_op_kind */
	uint8_t thread; /* logical thread */
	uint32_t arg;   /* Count, Create arg, or RUNDOWN_ARG_ALL */
	uint32_t off;   /* first byte of the op in the input */
	uint32_t len;   /* its bytes */
};

struct rundown_prog {
	enum rundown_family family;
	unsigned nthreads;
	bool spread;
	bool ca_init;      /* first CA object by Size+Initialize */
	unsigned misalign; /* its misalignment */
	size_t nops;
	struct rundown_op ops[RUNDOWN_FUZZ_MAX_OPS];
};

/* Decode; never fails (an empty input is an empty plain program). */
void rundown_decode(const uint8_t *data, size_t len, struct rundown_prog *p);
/* Count of argument byte c. */
uint32_t rundown_decode_count(uint8_t c);

/* ---- the executor ---- */

struct rundown_exec;

struct rundown_exec_opts {
	unsigned return_timeout_ms; /* a due Wait must return within this (2000) */
	unsigned block_settle_ms;   /* WaitPoll: how long to let a woken Wait run (10) */
	bool allow_spread;          /* honour the header's spread bit */
	bool pin_home;              /* keep the calling thread (and the partner) on
				     * the CPU it runs on at rundown_exec_new, but
				     * for spread; rundown_exec_free unpins it */
	int home_cpu;               /* with pin_home: that CPU plus one instead
				     * (0: the one it runs on) */
	bool trace;                 /* print every step as it runs (stderr) */
	/* Where the step in progress is published (shared memory, for a parent
	 * that must name the step a crash happened in); may be NULL. */
	volatile uint32_t *progress;
	/* Every Wait runs on the calling thread; a watchdog thread calls
	 * on_hang (from its own thread, the divergence already recorded) if
	 * one that must return has not returned after return_timeout_ms.
	 * on_hang must not return; NULL: print the op table and abort(). */
	void (*on_hang)(struct rundown_exec *x, void *arg);
	void *on_hang_arg;
};

enum rundown_exec_status {
	RUNDOWN_EXEC_OK = 0,
	RUNDOWN_EXEC_DIVERGED = 1,
	RUNDOWN_EXEC_SKIPPED = 2, /* the backend lacks routines of the family */
};

struct rundown_exec *rundown_exec_new(const struct rundown_backend *b,
				      const struct rundown_exec_opts *o);
enum rundown_exec_status rundown_exec_run(struct rundown_exec *x, const uint8_t *data,
					  size_t len);
/* The op table of the last run (step, thread, op, args, expected, got,
 * clause), then the first divergence, if any. */
void rundown_exec_print(const struct rundown_exec *x, FILE *out);
/* One line naming the first divergence of the last run ("" if none). */
const char *rundown_exec_divergence(const struct rundown_exec *x);
/* Kind of the op at the first divergence and its rule (minimisation keeps
 * reproducers that diverge the same way). */
unsigned rundown_exec_signature(const struct rundown_exec *x);
void rundown_exec_free(struct rundown_exec *x);

/* Print the program as the executor would run it on the model alone (no
 * backend): for reporting an input whose run crashed at step crash_step. */
void rundown_prog_print_model(const uint8_t *data, size_t len, uint32_t crash_step,
			      const char *why, FILE *out);

#endif /* RUNDOWN_FUZZ_OPS_H */
