/*
 * bench/variants_urcu.c - urcu-memb: liburcu's memb flavour (readers use
 * compiler barriers only; synchronize_rcu uses membarrier), read lock and
 * unlock inlined (_LGPL_SOURCE) as liburcu intends, each thread registered.
 * It cannot fail and counts nothing that a waiter drains: the lower bound
 * of any "protect a read-side section" design.  Built if HAVE_URCU.
 */
#include "config.h"

#define _LGPL_SOURCE 1
#include <urcu/urcu-memb.h>

#include "bench/bench.h"

static void *bench_urcu_setup(const struct bench_variant *v)
{
	(void)v;
	return NULL;
}

static void bench_urcu_thread_init(struct bench_thread *t)
{
	(void)t;
	urcu_memb_register_thread();
}

static uint64_t bench_urcu_loop(struct bench_thread *t)
{
	BENCH_LOOP(t, (urcu_memb_read_lock(), 1), urcu_memb_read_unlock());
}

static void bench_urcu_thread_fini(struct bench_thread *t)
{
	(void)t;
	urcu_memb_unregister_thread();
}

static void bench_urcu_teardown(const struct bench_variant *v, void *obj)
{
	(void)v;
	(void)obj;
	urcu_memb_synchronize_rcu(); /* a grace period, for completeness */
}

void bench_variants_urcu(struct bench_variant *v, unsigned *n)
{
	v[(*n)++] = (struct bench_variant){.name = "urcu-memb", .call = "inline",
					   .setup = bench_urcu_setup,
					   .thread_init = bench_urcu_thread_init,
					   .loop = bench_urcu_loop,
					   .thread_fini = bench_urcu_thread_fini,
					   .teardown = bench_urcu_teardown};
}
