/*
 * fuzz/model.c - the sequential model of documented run-down protection.
 *
 * Transitions (both families; see model.h for the state and the undefined
 * sequences that are never generated):
 *
 *	CREATE        live, count 0, open (nothing started)
 *	Acquire[Ex] n open: TRUE, count += n      started/down: FALSE, no change
 *	Release[Ex] n count -= n (n <= count); if a Wait is pending and count
 *	              reaches 0, that Wait returns: down
 *	WaitStart     down already: no effect, returns at once (also after
 *	              Completed); count 0: down, returns at once;
 *	              count > 0: started, blocks (waiting) until count is 0
 *	WaitPoll      waiting: still blocked (no state change)
 *	Completed     down: completed (Acquire still fails, Wait still returns)
 *	ReInitialize  down: open again, count 0
 *	Free          CA, allocated and down: not live
 *
 * Each check cites the rule of the documents it rests on (struct
 * rundown_rule): its clause id in conformance/clauses.tsv for each family,
 * and the words of the documents.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stddef.h>

#include "fuzz/model.h"

static const struct rundown_rule rd_rules[RUNDOWN_RULE_NR] = {
	[RUNDOWN_RULE_NONE] = {"-", "-", "-"},
	[RUNDOWN_RULE_ACQ_GRANTED] = {"PLAIN-ACQ-004", "CA-ACQ-006",
		"Acquire returns TRUE when run-down has not started (ExAcquireRundownProtection: Return value)"},
	[RUNDOWN_RULE_ACQ_EX_GRANTED] = {"PLAIN-ACQ-004", "CA-ACQ-006",
		"AcquireEx(Count) returns TRUE when run-down has not started, and adds Count (ExAcquireRundownProtectionEx: Count)"},
	[RUNDOWN_RULE_ACQ_AFTER_WAIT] = {"PLAIN-ACQ-002", "CA-ACQ-002",
		"after Wait is called, Acquire grants no further requests: FALSE (ExWaitForRundownProtectionRelease: Remarks)"},
	[RUNDOWN_RULE_ACQ_AFTER_DOWN] = {"PLAIN-ACQ-003", "CA-ACQ-003",
		"once the object is run down, Acquire returns FALSE (Acquire: FALSE = run down has started)"},
	[RUNDOWN_RULE_ACQ_AFTER_COMPLETED] = {"PLAIN-ACQ-006", "CA-ACQ-004",
		"after Completed, Acquire fails (ExRundownCompleted: Remarks)"},
	[RUNDOWN_RULE_ACQ_AFTER_REINIT] = {"PLAIN-ACQ-007", "CA-ACQ-005",
		"after ReInitialize, Acquire succeeds again (ExReInitializeRundownProtection: Remarks)"},
	[RUNDOWN_RULE_WAIT_NOTHING_HELD] = {"PLAIN-WAIT-004", "CA-WAIT-004",
		"Wait when all granted protection was released marks the object run down and returns immediately (ExWaitForRundownProtectionRelease: Remarks)"},
	[RUNDOWN_RULE_WAIT_BLOCKS] = {"PLAIN-WAIT-001", "CA-WAIT-001",
		"Wait does not return while granted protection is outstanding (ExWaitForRundownProtectionRelease: Remarks)"},
	[RUNDOWN_RULE_WAIT_RETURNS] = {"PLAIN-REL-002", "CA-REL-002",
		"Wait returns when all outstanding accesses are completed (ExWaitForRundownProtectionRelease: Remarks)"},
	[RUNDOWN_RULE_WAIT_RETURNS_EX] = {"PLAIN-RELEX-001", "CA-RELEX-001",
		"Release[Ex](Count) gives back Count units; Wait returns when every unit is released (ExReleaseRundownProtectionEx, Wait: Remarks)"},
	[RUNDOWN_RULE_WAIT_RETURNS_ACQ_EX] = {"PLAIN-ACQEX-001", "CA-ACQEX-001",
		"AcquireEx(Count) takes Count units; Wait returns only when every unit is released (ExAcquireRundownProtectionEx: Count; Wait: Remarks)"},
	[RUNDOWN_RULE_WAIT_ALREADY_DOWN] = {"PLAIN-WAIT-005", "CA-WAIT-005",
		"Wait on a ref that is already run down has no effect and is not an error (ExWaitForRundownProtectionRelease: Remarks)"},
	[RUNDOWN_RULE_WAIT_AFTER_COMPLETED] = {"PLAIN-DONE-002", "CA-DONE-002",
		"after Completed, Wait returns immediately (ExRundownCompleted: Remarks)"},
	[RUNDOWN_RULE_CREATE] = {"PLAIN-INIT-001", "CA-ALLOC-005",
		"Allocate returns an initialized object or NULL; Size -> buffer (any alignment) -> Initialize makes a usable ref (Run-Down Protection: cache-aware steps)"},
	[RUNDOWN_RULE_IN_BOUNDS] = {"PLAIN-INIT-003", "CA-SIZE-002",
		"the routines write only inside the caller's object: its EX_RUNDOWN_REF, or the Size bytes of a cache-aware buffer at any alignment (Run-Down Protection; ExSizeOfRundownProtectionCacheAware: Return value)"},
	[RUNDOWN_RULE_CRASH] = {"-", "-",
		"a defined call sequence must not crash or hang the caller"},
};

const struct rundown_rule *rundown_rule(enum rundown_rule_id id)
{
	return &rd_rules[id < RUNDOWN_RULE_NR ? id : RUNDOWN_RULE_NONE];
}

const char *rundown_rule_clause(enum rundown_rule_id id, enum rundown_family f)
{
	return f == RUNDOWN_FAM_CA ? rundown_rule(id)->ca : rundown_rule(id)->plain;
}

void rundown_model_init(struct rundown_model *m, enum rundown_family family)
{
	*m = (struct rundown_model){.family = family};
}

bool rundown_model_legal(const struct rundown_model *m, enum rundown_op_kind op, uint64_t n)
{
	switch (op) {
	case RUNDOWN_OP_CREATE:
		/* A new object only when none is in use (the old one was run down
		 * and, if allocated, freed; a run-down caller buffer is dropped). */
		if (m->family == RUNDOWN_FAM_PLAIN)
			return !m->live;
		return !m->live || (!m->allocated && m->down);
	case RUNDOWN_OP_ACQUIRE:
	case RUNDOWN_OP_ACQUIRE_EX:
		return m->live && n >= 1 && m->count + n <= RUNDOWN_MODEL_MAX;
	case RUNDOWN_OP_RELEASE:
	case RUNDOWN_OP_RELEASE_EX:
		return m->live && n >= 1 && n <= m->count;
	case RUNDOWN_OP_WAIT_START:
		return m->live && !m->waiting;
	case RUNDOWN_OP_WAIT_POLL:
		return m->live && m->waiting;
	case RUNDOWN_OP_COMPLETED:
	case RUNDOWN_OP_REINIT:
		return m->live && m->down;
	case RUNDOWN_OP_FREE:
		return m->family == RUNDOWN_FAM_CA && m->live && m->allocated && m->down;
	case RUNDOWN_OP_NR:
		break;
	}
	return false;
}

/*
 * The clause behind a Wait that must block or return, named after the
 * routine that moved the count by other than one unit, if any: a Wait
 * that returns early after AcquireEx(4) and four Releases points at
 * AcquireEx's Count; after ReleaseEx(n) too, at ReleaseEx's (its clause
 * names both routines).
 */
static enum rundown_rule_id rd_wait_rule(const struct rundown_model *m, enum rundown_rule_id plain)
{
	return m->rel_ex ? RUNDOWN_RULE_WAIT_RETURNS_EX : m->acq_ex ? RUNDOWN_RULE_WAIT_RETURNS_ACQ_EX : plain;
}

void rundown_model_step(struct rundown_model *m, enum rundown_op_kind op, uint64_t n,
			bool created, struct rundown_expect *e)
{
	*e = (struct rundown_expect){.ret = RUNDOWN_RET_VOID};

	switch (op) {
	case RUNDOWN_OP_CREATE: {
		enum rundown_family f = m->family;

		rundown_model_init(m, f);
		m->live = created;
		m->allocated = created && n != 0;
		e->ret = f == RUNDOWN_FAM_CA && n != 0 ? RUNDOWN_RET_OBJ : RUNDOWN_RET_VOID;
		e->ret_rule = RUNDOWN_RULE_CREATE;
		break;
	}
	case RUNDOWN_OP_ACQUIRE:
	case RUNDOWN_OP_ACQUIRE_EX:
		if (!m->started) {
			e->ret = RUNDOWN_RET_TRUE;
			e->ret_rule = m->reinit ? RUNDOWN_RULE_ACQ_AFTER_REINIT
				      : op == RUNDOWN_OP_ACQUIRE_EX ? RUNDOWN_RULE_ACQ_EX_GRANTED
								    : RUNDOWN_RULE_ACQ_GRANTED;
			m->count += n;
			if (op == RUNDOWN_OP_ACQUIRE_EX && n != 1)
				m->acq_ex = true;
		} else {
			e->ret = RUNDOWN_RET_FALSE;
			e->ret_rule = m->completed ? RUNDOWN_RULE_ACQ_AFTER_COMPLETED
				      : m->down    ? RUNDOWN_RULE_ACQ_AFTER_DOWN
						   : RUNDOWN_RULE_ACQ_AFTER_WAIT;
		}
		break;
	case RUNDOWN_OP_RELEASE:
	case RUNDOWN_OP_RELEASE_EX:
		m->count -= n;
		if (op == RUNDOWN_OP_RELEASE_EX && n != 1)
			m->rel_ex = true;
		if (m->waiting && m->count == 0) {
			m->waiting = false;
			m->down = true;
			e->wait = RUNDOWN_WAIT_RETURNED;
			e->wait_rule = rd_wait_rule(m, RUNDOWN_RULE_WAIT_RETURNS);
		}
		break;
	case RUNDOWN_OP_WAIT_START:
		if (m->down) {
			e->wait = RUNDOWN_WAIT_RETURNED;
			e->wait_rule = m->completed ? RUNDOWN_RULE_WAIT_AFTER_COMPLETED
						    : RUNDOWN_RULE_WAIT_ALREADY_DOWN;
		} else if (m->count == 0) {
			m->started = m->down = true;
			e->wait = RUNDOWN_WAIT_RETURNED;
			e->wait_rule = RUNDOWN_RULE_WAIT_NOTHING_HELD;
		} else {
			m->started = m->waiting = true;
			e->wait = RUNDOWN_WAIT_BLOCKED;
			e->wait_rule = rd_wait_rule(m, RUNDOWN_RULE_WAIT_BLOCKS);
		}
		return;
	case RUNDOWN_OP_WAIT_POLL:
		break;
	case RUNDOWN_OP_COMPLETED:
		m->completed = true;
		break;
	case RUNDOWN_OP_REINIT:
		m->started = m->down = m->completed = m->acq_ex = m->rel_ex = false;
		m->count = 0;
		m->reinit = true;
		break;
	case RUNDOWN_OP_FREE:
		m->live = m->allocated = false;
		break;
	case RUNDOWN_OP_NR:
		break;
	}
	if (m->waiting && e->wait == RUNDOWN_WAIT_NONE) {
		e->wait = RUNDOWN_WAIT_BLOCKED;
		e->wait_rule = rd_wait_rule(m, RUNDOWN_RULE_WAIT_BLOCKS);
	}
}

const char *rundown_op_name(enum rundown_family f, enum rundown_op_kind op)
{
	static const char *const plain[RUNDOWN_OP_NR] = {
		"Acquire", "AcquireEx", "Release", "ReleaseEx", "WaitStart",
		"WaitPoll", "Completed", "ReInitialize", "Initialize", "Free",
	};
	static const char *const ca[RUNDOWN_OP_NR] = {
		"AcquireCA", "AcquireCAEx", "ReleaseCA", "ReleaseCAEx", "WaitStartCA",
		"WaitPoll", "CompletedCA", "ReInitializeCA", "CreateCA", "FreeCA",
	};

	if ((unsigned)op >= RUNDOWN_OP_NR)
		return "?";
	return f == RUNDOWN_FAM_CA ? ca[op] : plain[op];
}
