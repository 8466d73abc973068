/*
 * bench/variants_ck.c - ck-brlock: Concurrency Kit's big-reader lock,
 * ck_brlock_read_lock/unlock with one registered reader per thread (each
 * on its own line), inlined as ck's header intends; and ck-brlock-call,
 * the same two operations in out-of-line functions called through
 * function pointers, as every backend and the other peers are called (the
 * comparison of designs, not of call sequences).  Built if HAVE_CK.
 */
#include "config.h"

#include <stdlib.h>

#include <ck_brlock.h>

#include "bench/bench.h"

struct bench_ck {
	_Alignas(64) ck_brlock_t lock;
};

struct bench_ck_reader {
	_Alignas(64) ck_brlock_reader_t r;
	ck_brlock_t *lock; /* for the called form, which gets one pointer */
};

static void *bench_ck_setup(const struct bench_variant *v)
{
	struct bench_ck *o = aligned_alloc(64, sizeof(*o));

	(void)v;
	if (o == NULL)
		abort();
	ck_brlock_init(&o->lock);
	return o;
}

static void bench_ck_thread_init(struct bench_thread *t)
{
	struct bench_ck_reader *r = aligned_alloc(64, sizeof(*r));

	if (r == NULL)
		abort();
	/* Registration takes the write side: every reader registers before
	 * the start barrier, so none is inside a read section meanwhile. */
	r->lock = &((struct bench_ck *)t->obj)->lock;
	ck_brlock_read_register(r->lock, &r->r);
	t->local = r;
}

static uint64_t bench_ck_loop(struct bench_thread *t)
{
	ck_brlock_t *lock = &((struct bench_ck *)t->obj)->lock;
	ck_brlock_reader_t *r = &((struct bench_ck_reader *)t->local)->r;

	BENCH_LOOP(t, (ck_brlock_read_lock(lock, r), 1), ck_brlock_read_unlock(r));
}

__attribute__((noinline, aligned(64))) static BOOLEAN bench_ck_call_lock(void *p)
{
	struct bench_ck_reader *r = p;

	ck_brlock_read_lock(r->lock, &r->r);
	return TRUE;
}

__attribute__((noinline, aligned(64))) static void bench_ck_call_unlock(void *p)
{
	ck_brlock_read_unlock(&((struct bench_ck_reader *)p)->r);
}

static uint64_t bench_ck_call_loop(struct bench_thread *t)
{
	BOOLEAN (*volatile lock_fn)(void *) = bench_ck_call_lock;
	void (*volatile unlock_fn)(void *) = bench_ck_call_unlock;
	BOOLEAN (*lock)(void *) = lock_fn;
	void (*unlock)(void *) = unlock_fn;
	void *r = t->local;

	BENCH_LOOP(t, lock(r), unlock(r));
}

static void bench_ck_thread_fini(struct bench_thread *t)
{
	struct bench_ck_reader *r = t->local;

	ck_brlock_read_unregister(&((struct bench_ck *)t->obj)->lock, &r->r);
	free(r);
	t->local = NULL;
}

static void bench_ck_teardown(const struct bench_variant *v, void *obj)
{
	(void)v;
	free(obj);
}

void bench_variants_ck(struct bench_variant *v, unsigned *n)
{
	v[(*n)++] = (struct bench_variant){.name = "ck-brlock", .call = "inline",
					   .setup = bench_ck_setup,
					   .thread_init = bench_ck_thread_init,
					   .loop = bench_ck_loop,
					   .thread_fini = bench_ck_thread_fini,
					   .teardown = bench_ck_teardown};
	v[(*n)++] = (struct bench_variant){.name = "ck-brlock-call", .call = "fnptr",
					   .setup = bench_ck_setup,
					   .thread_init = bench_ck_thread_init,
					   .loop = bench_ck_call_loop,
					   .thread_fini = bench_ck_thread_fini,
					   .teardown = bench_ck_teardown};
}
