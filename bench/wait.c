/*
 * bench/wait.c - the owner's side: Wait latency, Wait cost against the slot
 * count, memory per object.
 *
 * Wait latency (--wait-latency): a holder thread Acquires; the owner (the
 * main thread, on another processor when there is one) calls Wait, which
 * blocks.  The holder makes sure the owner is really blocked -- its probe
 * Acquire fails (Wait has started) and /proc/self/task/TID/stat shows the
 * owner sleeping ('S') -- then reads the clock and Releases.  The latency
 * is from just before that last Release to Wait's return (CLOCK_MONOTONIC,
 * read on two processors).  Trials where the owner was not seen asleep
 * within 50 ms are still measured and counted in the "slept" column.
 *
 * Wait cost (--wait-cost): uncontended Wait on a cache-aware object whose
 * buffer is sized for N slots, N = 1, 2, 4, ... --max-slots.  The buffer
 * size is derived from the backend's own ExSizeOfRundownProtectionCacheAware:
 *	base = Size() - 64 * P   (P = sysconf(_SC_NPROCESSORS_CONF), the count
 *	                          the reference sizes for; base = Size() if
 *	                          Size() < 64 * P + 64)
 *	RunRefSize(N) = base + 64 * N
 * i.e. what Size() returns on a machine with N processors, for any backend
 * that sizes one 64-byte slot per processor.  For the reference the slot
 * count is read back from the object header and printed; for a --backend
 * it is a buffer size only.  Each trial Initializes K objects (K = 2048/N,
 * 1..64; they are then in cache) and times K Waits in a row, so the clock
 * read is amortised; median over trials of the time per Wait.  The plain
 * family (one word) is the baseline row with slots 1.
 *
 * Memory (--memory): sizeof(EX_RUNDOWN_REF), Size() of the cache-aware
 * family, and what each peer needs per object and per thread.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if HAVE_CK
#include <ck_brlock.h>
#endif

#include "bench/bench.h"
#include "impl/cache_aware.h" /* slot count read-back, reference only */

/* ------------------------------------------------------------------ */
/* Wait latency                                                        */
/* ------------------------------------------------------------------ */

struct bench_lat {
	const struct rundown_backend *b;
	bool ca;
	void *obj;
	unsigned holder_cpu;
	_Atomic unsigned go;      /* trial number the holder may start */
	_Atomic unsigned held;    /* trial number the holder has Acquired for */
	_Atomic int owner_tid;
	_Atomic uint64_t t_release; /* clock just before the last Release */
	_Atomic bool slept;       /* owner seen sleeping before the Release */
};

static BOOLEAN bench_lat_acquire(struct bench_lat *l)
{
	return l->ca ? l->b->ExAcquireRundownProtectionCacheAware(l->obj)
		     : l->b->ExAcquireRundownProtection(l->obj);
}

static void bench_lat_release(struct bench_lat *l)
{
	if (l->ca)
		l->b->ExReleaseRundownProtectionCacheAware(l->obj);
	else
		l->b->ExReleaseRundownProtection(l->obj);
}

/* Is thread tid of this process asleep (state S or D)? */
static bool bench_task_sleeping(int tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* the comm field may contain spaces */
	return p != NULL && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D');
}

static void *bench_lat_holder(void *arg)
{
	struct bench_lat *l = arg;

	bench_pin(l->holder_cpu);
	for (unsigned trial = 1;; trial++) {
		unsigned g;
		uint64_t deadline;
		bool slept = false;

		/* Acquire: pairs with the owner's release store of go, after
		 * it initialized the object. */
		while ((g = atomic_load_explicit(&l->go, memory_order_acquire)) < trial)
			sched_yield();
		if (g == UINT32_MAX)
			return NULL;
		if (!bench_lat_acquire(l))
			abort();
		/* Release: the owner's Wait starts after our Acquire. */
		atomic_store_explicit(&l->held, trial, memory_order_release);
		/* Wait has started once a probe Acquire fails. */
		while (bench_lat_acquire(l)) {
			bench_lat_release(l);
			sched_yield();
		}
		deadline = bench_now_ns() + 50000000u;
		while (bench_now_ns() < deadline)
			if (bench_task_sleeping(atomic_load_explicit(&l->owner_tid,
								     memory_order_relaxed))) {
				slept = true;
				break;
			}
		atomic_store_explicit(&l->slept, slept, memory_order_relaxed);
		/* Release: the owner reads it after Wait returns, whatever the
		 * backend's own ordering. */
		atomic_store_explicit(&l->t_release, bench_now_ns(), memory_order_release);
		bench_lat_release(l);
	}
}

static void bench_lat_one(const char *name, const struct rundown_backend *b, bool ca,
			  unsigned trials, const unsigned *cpus, unsigned ncpus, bool tsv)
{
	struct bench_lat l = {.b = b, .ca = ca, .holder_cpu = cpus[1 % ncpus]};
	double *x = calloc(trials, sizeof(*x));
	unsigned slept = 0;
	pthread_t tid;
	struct bench_stats s;

	if (x == NULL)
		abort();
	l.obj = ca ? b->ExAllocateCacheAwareRundownProtection(NonPagedPoolNx, 0x74616c42)
		   : aligned_alloc(64, 64);
	if (l.obj == NULL)
		abort();
	atomic_store_explicit(&l.owner_tid, (int)gettid(), memory_order_relaxed);
	bench_pin(cpus[0]);
	if (pthread_create(&tid, NULL, bench_lat_holder, &l) != 0)
		abort();
	for (unsigned trial = 1; trial <= trials; trial++) {
		uint64_t t1, t0;

		if (!ca)
			b->ExInitializeRundownProtection(l.obj);
		else if (trial > 1)
			b->ExReInitializeRundownProtectionCacheAware(l.obj);
		atomic_store_explicit(&l.t_release, 0, memory_order_relaxed);
		/* Release: pairs with the holder's acquire load of go. */
		atomic_store_explicit(&l.go, trial, memory_order_release);
		while (atomic_load_explicit(&l.held, memory_order_acquire) < trial)
			sched_yield();
		if (ca)
			b->ExWaitForRundownProtectionReleaseCacheAware(l.obj);
		else
			b->ExWaitForRundownProtectionRelease(l.obj);
		t1 = bench_now_ns();
		/* Acquire: pairs with the holder's store before its Release. */
		while ((t0 = atomic_load_explicit(&l.t_release, memory_order_acquire)) == 0)
			sched_yield();
		x[trial - 1] = (double)(t1 - t0);
		slept += atomic_load_explicit(&l.slept, memory_order_relaxed);
	}
	atomic_store_explicit(&l.go, UINT32_MAX, memory_order_release);
	pthread_join(tid, NULL);
	if (ca)
		b->ExFreeCacheAwareRundownProtection(l.obj);
	else
		free(l.obj);
	s = bench_stats(x, trials);
	if (tsv)
		printf("wait-latency\t%s\t%u\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%u\n", name, trials,
		       s.median, s.p10, s.p90, s.min, s.max, slept);
	else
		printf("%-20s %7u %10.1f %10.1f %10.1f %10.1f %10.1f %7u\n", name, trials,
		       s.median / 1e3, s.p10 / 1e3, s.p90 / 1e3, s.min / 1e3, s.max / 1e3, slept);
	free(x);
}

void bench_wait_latency(const struct bench_wait_target *t, unsigned nt, unsigned trials,
			const unsigned *cpus, unsigned ncpus, bool tsv)
{
	char name[64];

	if (tsv)
		printf("measure\tvariant\ttrials\tmedian_ns\tp10_ns\tp90_ns\tmin_ns\tmax_ns\tslept\n");
	else
		printf("\n# Wait latency: last Release -> Wait returns, owner blocked in Wait;"
		       " owner on CPU %u, holder on CPU %u\n%-20s %7s %10s %10s %10s %10s %10s %7s\n",
		       cpus[0], cpus[1 % ncpus], "variant", "trials", "median_us", "p10_us",
		       "p90_us", "min_us", "max_us", "slept");
	for (unsigned i = 0; i < nt; i++) {
		const struct rundown_backend *b = t[i].b;

		if (b->ExInitializeRundownProtection && b->ExAcquireRundownProtection &&
		    b->ExReleaseRundownProtection && b->ExWaitForRundownProtectionRelease) {
			snprintf(name, sizeof(name), "%s-plain", t[i].name);
			bench_lat_one(name, b, false, trials, cpus, ncpus, tsv);
		}
		if (b->ExAllocateCacheAwareRundownProtection &&
		    b->ExAcquireRundownProtectionCacheAware &&
		    b->ExReleaseRundownProtectionCacheAware &&
		    b->ExWaitForRundownProtectionReleaseCacheAware &&
		    b->ExReInitializeRundownProtectionCacheAware &&
		    b->ExFreeCacheAwareRundownProtection) {
			snprintf(name, sizeof(name), "%s-cache-aware", t[i].name);
			bench_lat_one(name, b, true, trials, cpus, ncpus, tsv);
		}
	}
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Wait cost against the slot count                                    */
/* ------------------------------------------------------------------ */

static unsigned bench_nprocs_conf(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n < 1 ? 1u : (unsigned)n;
}

/* RunRefSize for a buffer of N 64-byte slots (see the comment on top). */
static size_t bench_ca_size_for(const struct rundown_backend *b, unsigned slots)
{
	size_t size = b->ExSizeOfRundownProtectionCacheAware();
	size_t percpu = (size_t)64 * bench_nprocs_conf();
	size_t base = size >= percpu + 64 ? size - percpu : size;

	return base + (size_t)64 * slots;
}

static void bench_cost_row(const char *name, unsigned slots, long verified, double *x,
			   unsigned trials, unsigned k, bool tsv)
{
	struct bench_stats s = bench_stats(x, trials);
	char v[24];

	if (verified >= 0)
		snprintf(v, sizeof(v), "%ld", verified);
	else
		snprintf(v, sizeof(v), "-");
	if (tsv)
		printf("wait-cost\t%s\t%u\t%.1f\t%.2f\t%.1f\t%.1f\t%s\t%u\t%u\n", name, slots,
		       s.median, s.median / slots, s.min, s.max, v, k, trials);
	else
		printf("%-20s %6u %12.1f %10.2f   [%9.1f-%9.1f] %8s %4u\n", name, slots, s.median,
		       s.median / slots, s.min, s.max, v, k);
}

static void bench_cost_plain(const char *name, const struct rundown_backend *b,
			     unsigned trials, bool tsv)
{
	enum { K = 64 };
	struct bench_line *o = aligned_alloc(64, K * sizeof(*o));
	double *x = calloc(trials, sizeof(*x));

	if (o == NULL || x == NULL)
		abort();
	for (unsigned r = 0; r < trials; r++) {
		uint64_t t0;

		for (unsigned j = 0; j < K; j++)
			b->ExInitializeRundownProtection((PEX_RUNDOWN_REF)(void *)&o[j]);
		t0 = bench_now_ns();
		for (unsigned j = 0; j < K; j++)
			b->ExWaitForRundownProtectionRelease((PEX_RUNDOWN_REF)(void *)&o[j]);
		x[r] = (double)(bench_now_ns() - t0) / K;
	}
	bench_cost_row(name, 1, -1, x, trials, K, tsv);
	free(x);
	free(o);
}

static void bench_cost_ca(const char *name, const struct rundown_backend *b, bool linked,
			  unsigned slots, unsigned trials, bool tsv)
{
	size_t size = bench_ca_size_for(b, slots);
	size_t stride = (size + 63) & ~(size_t)63;
	unsigned k = 2048 / slots;
	char *buf;
	double *x = calloc(trials, sizeof(*x));
	long verified = -1;

	k = k < 1 ? 1 : k > 64 ? 64 : k;
	buf = aligned_alloc(64, stride * k);
	if (buf == NULL || x == NULL)
		abort();
	for (unsigned r = 0; r < trials; r++) {
		uint64_t t0;

		for (unsigned j = 0; j < k; j++)
			b->ExInitializeRundownProtectionCacheAware(
				(PEX_RUNDOWN_REF_CACHE_AWARE)(void *)(buf + j * stride), size);
		t0 = bench_now_ns();
		for (unsigned j = 0; j < k; j++)
			b->ExWaitForRundownProtectionReleaseCacheAware(
				(PEX_RUNDOWN_REF_CACHE_AWARE)(void *)(buf + j * stride));
		x[r] = (double)(bench_now_ns() - t0) / k;
	}
	if (linked) /* the reference's own header: how many slots it made */
		verified = (long)rd_ca_hdr((PEX_RUNDOWN_REF_CACHE_AWARE)(void *)buf)->nslots;
	bench_cost_row(name, slots, verified, x, trials, k, tsv);
	free(x);
	free(buf);
}

void bench_wait_cost(const struct bench_wait_target *t, unsigned nt, unsigned trials,
		     unsigned max_slots, bool tsv)
{
	char name[64];

	if (tsv)
		printf("measure\tvariant\tslots\tns_per_wait\tns_per_slot\tmin_ns\tmax_ns"
		       "\tslots_made\tobjects_per_trial\ttrials\n");
	else
		printf("\n# Wait cost, uncontended, against the slot count: RunRefSize = Size() - "
		       "64*%u + 64*slots;\n# median of %u trials of K Waits on freshly "
		       "Initialized objects; slots_made read back (reference only)\n"
		       "%-20s %6s %12s %10s   %21s %8s %4s\n",
		       bench_nprocs_conf(), trials, "variant", "slots", "ns/Wait", "ns/slot",
		       "[min-max]", "made", "K");
	for (unsigned i = 0; i < nt; i++) {
		const struct rundown_backend *b = t[i].b;

		if (b->ExInitializeRundownProtection && b->ExWaitForRundownProtectionRelease) {
			snprintf(name, sizeof(name), "%s-plain", t[i].name);
			bench_cost_plain(name, b, trials, tsv);
		}
		if (b->ExSizeOfRundownProtectionCacheAware &&
		    b->ExInitializeRundownProtectionCacheAware &&
		    b->ExWaitForRundownProtectionReleaseCacheAware) {
			snprintf(name, sizeof(name), "%s-cache-aware", t[i].name);
			for (unsigned n = 1; n <= max_slots; n *= 2)
				bench_cost_ca(name, b, b->handle == NULL, n, trials, tsv);
		}
	}
	fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Memory                                                              */
/* ------------------------------------------------------------------ */

static void bench_mem_row(const char *name, size_t obj, size_t thr, const char *note, bool tsv)
{
	if (tsv)
		printf("memory\t%s\t%zu\t%zu\t%s\n", name, obj, thr, note);
	else
		printf("%-20s %10zu %10zu   %s\n", name, obj, thr, note);
}

void bench_memory(const struct bench_wait_target *t, unsigned nt, bool tsv)
{
	unsigned p = bench_nprocs_conf();
	char name[64], note[160];

	if (tsv)
		printf("measure\tvariant\tbytes_per_object\tbytes_per_thread\tnote\n");
	else
		printf("\n# Memory per object (%u configured processors)\n%-20s %10s %10s   %s\n",
		       p, "variant", "bytes/obj", "bytes/thr", "note");
	for (unsigned i = 0; i < nt; i++) {
		const struct rundown_backend *b = t[i].b;

		snprintf(name, sizeof(name), "%s-plain", t[i].name);
		bench_mem_row(name, sizeof(EX_RUNDOWN_REF), 0,
			      "sizeof(EX_RUNDOWN_REF), caller-allocated (the benchmark gives it a "
			      "64-byte line)", tsv);
		if (b->ExSizeOfRundownProtectionCacheAware) {
			size_t s = b->ExSizeOfRundownProtectionCacheAware();

			snprintf(name, sizeof(name), "%s-cache-aware", t[i].name);
			snprintf(note, sizeof(note),
				 "ExSizeOfRundownProtectionCacheAware(); for N processors: "
				 "%zu + 64*N (1: %zu, 1024: %zu)",
				 bench_ca_size_for(b, 0), bench_ca_size_for(b, 1),
				 bench_ca_size_for(b, 1024));
			bench_mem_row(name, s, 0, note, tsv);
		}
	}
	bench_mem_row("single-cas", sizeof(uintptr_t), 0, "one word", tsv);
	snprintf(note, sizeof(note), "one 64-byte slot per configured processor (%u) + count", p);
	bench_mem_row("percpu-cas", 64 + (size_t)64 * p, 0, note, tsv);
	bench_mem_row("faa-private", 0, 64, "a line per thread; not a protection (no Wait)", tsv);
	bench_mem_row("rwlock", sizeof(pthread_rwlock_t), 0, "sizeof(pthread_rwlock_t)", tsv);
#if HAVE_CK
	bench_mem_row("ck-brlock", sizeof(ck_brlock_t), sizeof(ck_brlock_reader_t),
		      "sizeof(ck_brlock_t); a registered ck_brlock_reader_t per thread and lock "
		      "(padded to 64 here)", tsv);
#endif
#if HAVE_URCU
	bench_mem_row("urcu-memb", 0, 0,
		      "nothing per object; one registered reader per thread, global grace "
		      "periods", tsv);
#endif
	fflush(stdout);
}
