/*
 * impl/rseq.h - the one restartable sequence of librundown (x86-64):
 * "if this thread's processor c is below *open, add v to the word at
 * base + *slots_off + 64 * c", the whole fast path of the cache-aware
 * family (the argument for its correctness is at the top of
 * cache_aware.c).  *open is the object's count of open slots: nslots while
 * Acquires may succeed on the fast path, 0 from the start of run-down.
 *
 *	descriptor (section __rseq_cs, 32-byte aligned):
 *	   {version 0, flags 0, start_ip 1f, post_commit_offset 2f-1f, abort_ip 4f}
 *	   leaq  descriptor(%rip), %rax
 *	   movq  %rax, %fs:rseq_cs(off)   <- last instruction before the section
 *	1: movl  %fs:cpu_id(off), %ecx    this thread's processor c, read inside
 *	   cmpl  open(base), %ecx         c >= open (closed, no slot for c,
 *	   jae   other                    rseq not registered)? leave, no write
 *	   movl  slots_off(base), %eax
 *	   shlq  $6, %rcx
 *	   addq  %rax, %rcx
 *	   addq  v, (base,%rcx)           no LOCK: its store is the commit
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
 * - c is read inside the section, so it is still this thread's processor
 *   at the commit: a migration in between aborts the section.  One
 *   compare both bounds the slot index and checks that run-down has not
 *   started: a single conditional branch (each extra one costs about half
 *   a nanosecond per call here, bench/results).
 * - The descriptor store is the instruction right before label 1: an
 *   interruption before it re-executes it; one after it is in the section.
 * - Leaving through other (or after the commit) leaves rseq_cs pointing
 *   to the descriptor: harmless, the kernel acts only when the IP is in
 *   [1, 2), and clears a stale pointer itself.
 * - off is glibc's __rseq_offset, valid in every thread from process
 *   start whether or not the kernel accepted the registration (glibc 2.35+
 *   keeps the area in its thread descriptor): the descriptor store is
 *   always into this thread's own rseq area, even for an object on the
 *   atomic path (*open 0), before librundown's constructor has run, or
 *   with glibc.pthread.rseq=0 (cpu_id is then negative: "other").
 * - glibc registers the rseq area with RSEQ_SIG 0x53053053 on x86.
 * - The "memory" clobber is a compiler barrier on both sides: the accesses
 *   protected by an Acquire stay after it, those before a Release before.
 */
#ifndef RUNDOWN_IMPL_RSEQ_H
#define RUNDOWN_IMPL_RSEQ_H

#include <stddef.h>
#include <stdint.h>

#include "impl/cache_aware.h" /* struct rd_ca_hdr: the section's fields */

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) && !defined(__SANITIZE_THREAD__)
#define __SANITIZE_THREAD__ 1
#endif
#endif

#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__) && HAVE_SYS_RSEQ_H && \
	HAVE_DECL___RSEQ_OFFSET
#define RD_HAVE_RSEQ_CS 1
#include <sys/rseq.h> /* __rseq_offset */
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
	RD_RSEQ_COMMITTED = 0, /* the add happened, on this thread's processor */
	RD_RSEQ_OTHER = 1,     /* processor >= *open: nothing written */
	RD_RSEQ_ABORTED = 2,   /* migrated, preempted, signalled, IPI: retry */
};

#if RD_HAVE_RSEQ_CS
/* h: the object (cache_aware.h); v: the add.  Its fields are addressed
 * as offsetof constants from h: immediates at any optimisation level. */
static inline __attribute__((always_inline)) enum rd_rseq_result
rd_rseq_slot_add(struct rd_ca_hdr *h, uintptr_t v)
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
		     "movl %%fs:4(%[off]), %%ecx\n\t"
		     "cmpl %c[open](%[base]), %%ecx\n\t"
		     "jae %l[other]\n\t"
		     "movl %c[soff](%[base]), %%eax\n\t"
		     "shlq $6, %%rcx\n\t"
		     "addq %%rax, %%rcx\n\t"
		     "addq %[v], (%[base],%%rcx)\n\t"
		     "2:\n\t"
		     ".pushsection __rseq_failure, \"ax\"\n\t"
		     ".byte 0x0f, 0xb9, 0x3d\n\t"
		     ".long 0x53053053\n\t"
		     "4:\n\t"
		     "jmp %l[aborted]\n\t"
		     ".popsection\n\t"
		     : /* asm goto: no outputs */
		     : [off] "r"(__rseq_offset),
		       [open] "i"(offsetof(struct rd_ca_hdr, open_nslots)),
		       [soff] "i"(offsetof(struct rd_ca_hdr, slots_off)), [base] "r"(h),
		       [v] "er"(v)
		     : "memory", "cc", "rax", "rcx"
		     : other, aborted);
	return RD_RSEQ_COMMITTED;
other:
	return RD_RSEQ_OTHER;
aborted:
	return RD_RSEQ_ABORTED;
}
#endif /* RD_HAVE_RSEQ_CS */

#endif /* RUNDOWN_IMPL_RSEQ_H */
