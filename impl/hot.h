/*
 * impl/hot.h - placement of librundown's hot entry points (Acquire and
 * Release of both families, the ones called per access).
 *
 * Each starts a 64-byte line.  Their common paths are shorter than a line,
 * so each is fetched as one block.  On the AMD Zen 4 of bench/results a pair
 * of calls costs about 0.25 ns more for each of the two callees that does
 * not start a line (a pair costs 2.5-3.0 ns), which made "ns per pair" a
 * lottery of link order.
 */
#ifndef RUNDOWN_IMPL_HOT_H
#define RUNDOWN_IMPL_HOT_H

#define RD_HOT __attribute__((aligned(64)))

#endif /* RUNDOWN_IMPL_HOT_H */
