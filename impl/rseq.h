/*
 * impl/rseq.h - the one restartable sequence of librundown (x86-64):
 * "if this thread still runs on processor cpu and *state is 0 (OPEN), add
 * v to *slot", the whole fast path of the cache-aware family (the argument
 * for its correctness is at the top of cache_aware.c).
 *
 *	descriptor (section __rseq_cs, 32-byte aligned):
 *	   {version 0, flags 0, start_ip 1f, post_commit_offset 2f-1f, abort_ip 4f}
 *	   leaq  descriptor(%rip), %rax
 *	   movq  %rax, %fs:rseq_cs(off)   <- last instruction before the section
 *	1: cmpl  cpu, %fs:cpu_id(off)     migrated since cpu was read? -> 4f
 *	   jnz   4f
 *	   cmpl  $0, (state)              not OPEN? -> leave, nothing written
 *	   jnz   not_open
 *	   addq  v, (slot)                no LOCK: its store is the commit
 *	2:
 *	   (section __rseq_failure)
 *	   ud1   0x53053053(%rip), %edi   RSEQ_SIG: the 4 bytes before abort_ip
 *	4: jmp   aborted
 *
 * - The kernel moves the IP to abort_ip (and clears rseq_cs) when the
 *   thread is preempted, migrated, gets a signal, or is hit by a
 *   membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) IPI while its IP is
 *   in [1, 2).  The add is the only store and the last instruction of the
 *   section, so an aborted section has written nothing.
 * - The descriptor store is the instruction right before label 1: an
 *   interruption before it re-executes it; one after it is in the section.
 * - Leaving through not_open (or after the commit) leaves rseq_cs pointing
 *   to the descriptor: harmless, the kernel acts only when the IP is in
 *   [1, 2), and clears a stale pointer itself.
 * - glibc 2.35+ registers the rseq area with RSEQ_SIG 0x53053053 on x86.
 * - The "memory" clobber is a compiler barrier on both sides: the accesses
 *   protected by an Acquire stay after it, those before a Release before.
 */
#ifndef RUNDOWN_IMPL_RSEQ_H
#define RUNDOWN_IMPL_RSEQ_H

#include <stddef.h>
#include <stdint.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(__SANITIZE_THREAD__)
#define __SANITIZE_THREAD__ 1
#endif
#endif

#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define RD_HAVE_RSEQ_CS 1
#else
#define RD_HAVE_RSEQ_CS 0
#endif

/* Offsets in struct rseq (linux/rseq.h, the original 4.18 ABI). */
#define RD_RSEQ_CPU_ID_OFF 4
#define RD_RSEQ_CS_OFF 8
/* The original ABI's feature size (cpu_id_start, cpu_id, rseq_cs, flags):
 * Debian's glibc 2.36 reports 20, later ones 32. */
#define RD_RSEQ_MIN_SIZE 20

enum rd_rseq_result {
	RD_RSEQ_COMMITTED = 0, /* *slot += v happened, on processor cpu */
	RD_RSEQ_NOT_OPEN = 1,  /* *state != 0: nothing written */
	RD_RSEQ_ABORTED = 2,   /* migrated, preempted, signalled, IPI: retry */
};

#if RD_HAVE_RSEQ_CS
/* off: __rseq_offset (the rseq area is at thread pointer + off); cpu: the
 * processor number read from the area before the call. */
static inline __attribute__((always_inline)) enum rd_rseq_result
rd_rseq_add_if_open(const volatile uint32_t *state, volatile uintptr_t *slot, uintptr_t v,
		    uint32_t cpu, ptrdiff_t off)
{
	__asm__ goto(".pushsection __rseq_cs, \"aw\"\n\t"
		     ".balign 32\n\t"
		     "3:\n\t"
		     ".long 0x0, 0x0\n\t"
		     ".quad 1f, (2f - 1f), 4f\n\t"
		     ".popsection\n\t"
		     ".pushsection __rseq_cs_ptr_array, \"aw\"\n\t"
		     ".quad 3b\n\t"
		     ".popsection\n\t"
		     "leaq 3b(%%rip), %%rax\n\t"
		     "movq %%rax, %%fs:8(%[off])\n\t"
		     "1:\n\t"
		     "cmpl %[cpu], %%fs:4(%[off])\n\t"
		     "jnz 4f\n\t"
		     "cmpl $0, %[state]\n\t"
		     "jnz %l[not_open]\n\t"
		     "addq %[v], %[slot]\n\t"
		     "2:\n\t"
		     ".pushsection __rseq_failure, \"ax\"\n\t"
		     ".byte 0x0f, 0xb9, 0x3d\n\t"
		     ".long 0x53053053\n\t"
		     "4:\n\t"
		     "jmp %l[aborted]\n\t"
		     ".popsection\n\t"
		     : /* asm goto: no outputs */
		     : [off] "r"(off), [cpu] "r"(cpu), [state] "m"(*state), [slot] "m"(*slot),
		       [v] "r"(v)
		     : "memory", "cc", "rax"
		     : not_open, aborted);
	return RD_RSEQ_COMMITTED;
not_open:
	return RD_RSEQ_NOT_OPEN;
aborted:
	return RD_RSEQ_ABORTED;
}

/* This thread's processor from its rseq area: cpu_id, negative (huge as
 * unsigned) if this thread's registration failed. */
static inline uint32_t rd_rseq_cpu(ptrdiff_t off)
{
	return (uint32_t) * (volatile const int32_t *)((char *)__builtin_thread_pointer() + off +
						       RD_RSEQ_CPU_ID_OFF);
}
#endif /* RD_HAVE_RSEQ_CS */

#endif /* RUNDOWN_IMPL_RSEQ_H */
