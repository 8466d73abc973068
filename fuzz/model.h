/*
 * fuzz/model.h - the sequential model of documented run-down protection,
 * shared by the deterministic executor (ops.c), the fuzz targets and the
 * linearizability checker (lincheck.c).
 *
 * One model serves both families: the documents give the cache-aware
 * routines the same semantics as the plain ones, plus object creation
 * (Allocate, or Size -> buffer -> Initialize) and Free.
 *
 * State (what the documents let a caller observe, nothing of any encoding):
 *	live       an object exists (plain: always after Initialize)
 *	count      units granted and not yet released
 *	started    a Wait has been called on this object since (Re)Initialize
 *	down       the object is run down (a Wait returned, or returned at once)
 *	completed  Completed was called since the object ran down
 *	waiting    a Wait has been called and has not returned (count > 0)
 *
 * Invariants: waiting => started && !down && count > 0;
 *             down => started && count == 0 && !waiting;
 *             completed => down.
 *
 * Sequences the documents leave undefined are never generated:
 * rundown_model_legal() says no, and the executor skips the op.  They are:
 * a Release of more units than are outstanding (so: without an Acquire),
 * Count 0, a Wait while another Wait is pending, Completed or ReInitialize
 * before the object ran down, Free of anything but an allocated, run-down
 * object, any op after Free, and counts that would pass RUNDOWN_MODEL_MAX
 * (the documents give no limit; 2^30 - 1 fits any sane encoding).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef RUNDOWN_FUZZ_MODEL_H
#define RUNDOWN_FUZZ_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#define RUNDOWN_MODEL_MAX UINT64_C(0x3fffffff)

enum rundown_family { RUNDOWN_FAM_PLAIN = 0, RUNDOWN_FAM_CA = 1 };

enum rundown_op_kind {
	RUNDOWN_OP_ACQUIRE,
	RUNDOWN_OP_ACQUIRE_EX,
	RUNDOWN_OP_RELEASE,
	RUNDOWN_OP_RELEASE_EX,
	RUNDOWN_OP_WAIT_START,
	RUNDOWN_OP_WAIT_POLL,
	RUNDOWN_OP_COMPLETED,
	RUNDOWN_OP_REINIT,
	RUNDOWN_OP_CREATE, /* plain: Initialize; CA: Allocate or Size+Initialize */
	RUNDOWN_OP_FREE,   /* CA only: Free an allocated object */
	RUNDOWN_OP_NR
};

/* A documented rule: the clause id of conformance/clauses.tsv, and words. */
struct rundown_rule {
	const char *plain; /* clause id for the plain family */
	const char *ca;    /* clause id for the cache-aware family */
	const char *text;
};

enum rundown_rule_id {
	RUNDOWN_RULE_NONE,
	RUNDOWN_RULE_ACQ_GRANTED,
	RUNDOWN_RULE_ACQ_EX_GRANTED,
	RUNDOWN_RULE_ACQ_AFTER_WAIT,
	RUNDOWN_RULE_ACQ_AFTER_DOWN,
	RUNDOWN_RULE_ACQ_AFTER_COMPLETED,
	RUNDOWN_RULE_ACQ_AFTER_REINIT,
	RUNDOWN_RULE_WAIT_NOTHING_HELD,
	RUNDOWN_RULE_WAIT_BLOCKS,
	RUNDOWN_RULE_WAIT_RETURNS,
	RUNDOWN_RULE_WAIT_RETURNS_EX,
	RUNDOWN_RULE_WAIT_RETURNS_ACQ_EX,
	RUNDOWN_RULE_WAIT_ALREADY_DOWN,
	RUNDOWN_RULE_WAIT_AFTER_COMPLETED,
	RUNDOWN_RULE_CREATE,
	RUNDOWN_RULE_IN_BOUNDS,
	RUNDOWN_RULE_CRASH,
	RUNDOWN_RULE_NR
};

const struct rundown_rule *rundown_rule(enum rundown_rule_id id);
const char *rundown_rule_clause(enum rundown_rule_id id, enum rundown_family f);

/* What the model expects of one step. */
enum rundown_expect_ret {
	RUNDOWN_RET_VOID,  /* no result */
	RUNDOWN_RET_FALSE, /* BOOLEAN FALSE */
	RUNDOWN_RET_TRUE,  /* BOOLEAN nonzero */
	RUNDOWN_RET_OBJ,   /* a pointer: an object, or NULL (allocation failed) */
};

enum rundown_expect_wait {
	RUNDOWN_WAIT_NONE,     /* no Wait in flight after this step */
	RUNDOWN_WAIT_BLOCKED,  /* the pending Wait must not have returned */
	RUNDOWN_WAIT_RETURNED, /* the Wait must return (bounded time) */
};

struct rundown_expect {
	enum rundown_expect_ret ret;
	enum rundown_expect_wait wait;
	enum rundown_rule_id ret_rule;  /* rule behind ret */
	enum rundown_rule_id wait_rule; /* rule behind wait */
};

struct rundown_model {
	enum rundown_family family;
	bool live;
	bool allocated; /* CA: made by Allocate (Free is legal once down) */
	bool started;
	bool down;
	bool completed;
	bool waiting;
	bool reinit; /* ReInitialize happened (rule attribution only) */
	bool acq_ex;  /* AcquireEx moved the count by other than 1 (rule attribution only) */
	bool rel_ex;  /* so did ReleaseEx (rule attribution only) */
	uint64_t count;
};

void rundown_model_init(struct rundown_model *m, enum rundown_family family);
/* Is op (with Count n where it takes one) defined in state m? */
bool rundown_model_legal(const struct rundown_model *m, enum rundown_op_kind op, uint64_t n);
/* Apply a legal op; fill *e with what the backend must show.  For CREATE,
 * created says whether an object came back (Allocate may return NULL). */
void rundown_model_step(struct rundown_model *m, enum rundown_op_kind op, uint64_t n,
			bool created, struct rundown_expect *e);

const char *rundown_op_name(enum rundown_family f, enum rundown_op_kind op);

#endif /* RUNDOWN_FUZZ_MODEL_H */
