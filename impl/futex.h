/*
 * impl/futex.h - the two futex operations librundown needs.
 *
 * Called through syscall() from libc so that the inject/ shims, which
 * interpose syscall(), see them.  Both are async-signal-safe.  A wake on an
 * address whose memory was freed meanwhile is harmless: FUTEX_WAKE only
 * hashes the address and writes no user memory; at worst a futex waiter
 * that reused the address sees a spurious wakeup, which every futex user
 * must tolerate.  librundown relies on this: a releaser's last *memory*
 * access to a ref is the atomic that lets the waiter return.
 */
#ifndef RUNDOWN_IMPL_FUTEX_H
#define RUNDOWN_IMPL_FUTEX_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Sleep while *addr == expected (spurious returns allowed). */
static inline void rd_futex_wait(const void *addr, uint32_t expected)
{
	syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

/* Wake every sleeper on addr. */
static inline void rd_futex_wake_all(const void *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

#endif /* RUNDOWN_IMPL_FUTEX_H */
