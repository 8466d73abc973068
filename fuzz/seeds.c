/*
 * fuzz/seeds.c - the seed inputs: the documented lifecycles in the op
 * encoding of ops.h.  gen_corpus writes them to fuzz/corpus/; rundown-fuzz
 * also starts its campaigns from them when given no --corpus.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "fuzz/seeds.h"
#include "fuzz/ops.h"

/* Op byte: opcode nibble, thread nibble. */
#define OP(opc, t) (uint8_t)((RUNDOWN_OPC_##opc << 4) | (t))
#define ACQ(t) OP(ACQUIRE, t)
#define REL(t) OP(RELEASE, t)
#define ACQEX(t, c) OP(ACQUIRE_EX, t), (uint8_t)(c)
#define RELEX(t, c) OP(RELEASE_EX, t), (uint8_t)(c)
#define RELALL(t) OP(RELEASE_ALL, t)
#define WAIT(t) OP(WAIT_START, t)
#define POLL(t) OP(WAIT_POLL, t)
#define DONE(t) OP(COMPLETED, t)
#define REINIT(t) OP(REINIT, t)
#define CREATE(t, a) OP(CREATE, t), (uint8_t)(a)
#define FREE(t) OP(FREE, t)

#define PLAIN(k) RUNDOWN_HDR_THREADS(k)
#define CA_ALLOC(k) (uint8_t)(RUNDOWN_HDR_CA | RUNDOWN_HDR_THREADS(k))
#define CA_INIT(k, m) (uint8_t)(RUNDOWN_HDR_CA | RUNDOWN_HDR_CA_INIT | RUNDOWN_HDR_THREADS(k) | \
				RUNDOWN_HDR_MISALIGN(m))
#define SPREAD RUNDOWN_HDR_SPREAD

#define SEED(name, ...) {name, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})}

static const struct rundown_seed rd_seeds[] = {
	/* Plain: the primary routines. */
	SEED("plain-init-acquire-release-wait", PLAIN(1), ACQ(0), REL(0), WAIT(0), ACQ(0)),
	SEED("plain-wait-immediate", PLAIN(1), WAIT(0), ACQ(0), WAIT(0)),
	SEED("plain-wait-blocks", PLAIN(2), ACQ(0), WAIT(1), POLL(1), ACQ(0), POLL(1), REL(0),
	     ACQ(0)),
	SEED("plain-two-holders", PLAIN(3), ACQ(0), ACQ(1), WAIT(2), REL(1), POLL(2), REL(0), ACQ(2)),
	SEED("plain-acquire-fails-during-wait", PLAIN(2), ACQ(0), WAIT(1), ACQ(0), ACQEX(0, 4),
	     POLL(1), REL(0), ACQ(0)),
	/* Plain: reuse, with and without Completed. */
	SEED("plain-reuse-completed", PLAIN(2), ACQ(0), REL(0), WAIT(1), DONE(1), ACQ(0), WAIT(1),
	     REINIT(1), ACQ(0), REL(0), WAIT(1)),
	SEED("plain-reuse-no-completed", PLAIN(1), ACQ(0), WAIT(0), REL(0), REINIT(0), ACQ(0), WAIT(0),
	     POLL(0), REL(0), ACQ(0)),
	SEED("plain-reuse-contended", PLAIN(2), ACQ(0), WAIT(1), REL(0), DONE(1), REINIT(1), ACQ(0),
	     ACQ(0), WAIT(1), REL(0), POLL(1), REL(0), REINIT(1), ACQ(1)),
	SEED("plain-wait-twice", PLAIN(1), WAIT(0), WAIT(0), ACQ(0), DONE(0), WAIT(0), ACQ(0)),
	/* Plain: Ex counts. */
	SEED("plain-ex-counts", PLAIN(2), ACQEX(0, 4), RELEX(0, 1), WAIT(1), POLL(1), RELEX(0, 2),
	     ACQ(0)),
	SEED("plain-ex-by-singles", PLAIN(2), ACQEX(0, 2), WAIT(1), REL(0), POLL(1), REL(0), POLL(1),
	     REL(0)),
	SEED("plain-singles-by-ex", PLAIN(2), ACQ(0), ACQ(0), ACQ(0), WAIT(1), RELEX(0, 1), POLL(1),
	     REL(0)),
	SEED("plain-ex-large", PLAIN(2), ACQEX(0, 0xD0), ACQEX(0, 0xC8), ACQEX(0, 0xBF), WAIT(1),
	     RELEX(0, 0xD0), POLL(1), RELEX(0, 0xC8), POLL(1), RELALL(0)),
	SEED("plain-ex-over-16-bits", PLAIN(2), ACQEX(0, 0xD0), ACQEX(0, 0xBF), WAIT(1), RELEX(0, 0xD0),
	     POLL(1), RELALL(0)),
	/* Plain: cross-thread release. */
	SEED("plain-cross-thread-release", PLAIN(3), ACQ(0), ACQ(1), WAIT(2), REL(1), REL(1), ACQ(0)),
	/* Cache-aware: allocate / size+initialize lifecycles. */
	SEED("ca-alloc-lifecycle", CA_ALLOC(1), ACQ(0), REL(0), WAIT(0), ACQ(0), FREE(0)),
	SEED("ca-init-lifecycle", CA_INIT(1, 0), ACQ(0), REL(0), WAIT(0), ACQ(0)),
	SEED("ca-init-misaligned", CA_INIT(1, 3), ACQ(0), ACQEX(0, 2), WAIT(0), RELALL(0), ACQ(0)),
	SEED("ca-wait-blocks", CA_ALLOC(2), ACQ(0), WAIT(1), POLL(1), ACQ(0), REL(0), ACQ(0), FREE(1)),
	SEED("ca-reuse-completed", CA_ALLOC(2), ACQ(0), REL(0), WAIT(1), DONE(1), ACQ(0), WAIT(1),
	     REINIT(1), ACQ(0), REL(0), WAIT(1), FREE(1)),
	SEED("ca-reuse-no-completed", CA_INIT(1, 2), ACQ(0), WAIT(0), REL(0), REINIT(0), ACQ(0),
	     WAIT(0), POLL(0), REL(0), ACQ(0)),
	SEED("ca-ex-counts", CA_ALLOC(2), ACQEX(0, 6), RELEX(0, 2), WAIT(1), POLL(1), RELEX(0, 4),
	     ACQEX(0, 1), FREE(1)),
	SEED("ca-cross-cpu-release", (uint8_t)(CA_ALLOC(2) | SPREAD), ACQEX(0, 3), REL(1), REL(1),
	     WAIT(0), POLL(0), REL(1), ACQ(0), FREE(0)),
	SEED("ca-cross-cpu-wait", (uint8_t)(CA_INIT(2, 3) | SPREAD), ACQ(0), ACQ(1), WAIT(0), REL(1),
	     POLL(0), REL(0), ACQ(1)),
	SEED("ca-recreate", CA_INIT(1, 1), ACQ(0), REL(0), WAIT(0), CREATE(0, 0x80 | 33), ACQ(0),
	     WAIT(0), REL(0), CREATE(0, 2), ACQ(0), REL(0), WAIT(0), FREE(0), CREATE(0, 1), ACQ(0)),
	SEED("ca-wait-twice", CA_ALLOC(1), WAIT(0), WAIT(0), ACQ(0), DONE(0), WAIT(0), REINIT(0),
	     ACQ(0), RELALL(0)),
	SEED("ca-spread-reinit", (uint8_t)(CA_ALLOC(4) | SPREAD), ACQ(0), ACQ(1), ACQ(2), ACQ(3),
	     WAIT(0), REL(3), REL(2), REL(1), POLL(0), REL(0), REINIT(1), ACQ(2), ACQ(3), WAIT(0),
	     RELEX(1, 1), POLL(0)),
};

const struct rundown_seed *rundown_seeds(size_t *n)
{
	*n = sizeof(rd_seeds) / sizeof(rd_seeds[0]);
	return rd_seeds;
}
