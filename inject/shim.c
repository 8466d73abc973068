/*
 * inject/shim.c - librundown-inject.so: start-up, per-thread PRNG, the
 * decision log, scheduling perturbation (yield, delay, chaos, PCT), the
 * IRQL emulation, thread creation and the control API.
 *
 * Determinism: every decision is drawn from the calling thread's PRNG
 * (splitmix64), seeded with mix(seed, creation index).  The creation index
 * is 0 for the main thread and is handed out by our pthread_create in the
 * parent, so it depends only on the order in which the program creates
 * threads, not on timing.  A single-threaded program therefore makes the
 * same decisions, and writes the same log, for the same seed.  Shared
 * decisions (chaos victim) are drawn by whichever thread opens the epoch:
 * reproducible only as far as the interleaving is.
 *
 * Nothing here calls stdio or malloc on a decision path: messages and log
 * lines are formatted by hand and written with write(2).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <execinfo.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "inject/shim.h"

struct rd_real rd_real;
_Atomic unsigned rd_flags;
struct rundown_inject_cfg rd_cfg;
struct rd_counters rd_ctr;
__thread struct rd_thread rd_self __attribute__((tls_model("initial-exec")));

char rd_canon[RUNDOWN_INJECT_SPEC_MAX + 64]; /* canonical spec, with seed */
static int rd_log_fd = -1;
static _Atomic uint32_t rd_next_index = 1;     /* 0 is the main thread */
static _Atomic uint32_t rd_foreign_index;      /* threads not made by pthread_create */
static _Atomic unsigned rd_reports;            /* IRQL reports printed */
#define RD_MAX_REPORTS 16u

/* ---------------------------------------------------------------- output */

static void rd_write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

void rd_say(const char *first, ...)
{
	char line[RUNDOWN_INJECT_SPEC_MAX + 1024];
	size_t n = 0;
	int saved = errno;
	va_list ap;

	va_start(ap, first);
	memcpy(line, "rundown-inject: ", 16);
	n = 16;
	for (const char *s = first; s != NULL; s = va_arg(ap, const char *)) {
		size_t k = strlen(s);

		if (k > sizeof line - 2 - n)
			k = sizeof line - 2 - n;
		memcpy(line + n, s, k);
		n += k;
	}
	va_end(ap);
	line[n++] = '\n';
	rd_write_all(2, line, n);
	errno = saved;
}

/* Unsigned decimal into buf (>= 21 bytes); returns the length. */
static size_t rd_utoa(uint64_t v, char *buf)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10u);
		v /= 10u;
	} while (v != 0);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

void rd_log(struct rd_thread *t, const char *site, const char *decision, int64_t value,
	    int has_value)
{
	char line[160];
	size_t n = 0, k;
	int saved;

	if (rd_log_fd < 0)
		return;
	saved = errno;
	k = strlen(site);
	if (k > 40)
		k = 40;
	memcpy(line, site, k);
	n = k;
	line[n++] = ' ';
	n += rd_utoa(t->calls, line + n);
	line[n++] = ' ';
	n += rd_utoa(t->index, line + n);
	line[n++] = ' ';
	k = strlen(decision);
	if (k > 40)
		k = 40;
	memcpy(line + n, decision, k);
	n += k;
	if (has_value) {
		line[n++] = ' ';
		if (value < 0) {
			line[n++] = '-';
			value = -value;
		}
		n += rd_utoa((uint64_t)value, line + n);
	}
	line[n++] = '\n';
	rd_write_all(rd_log_fd, line, n); /* O_APPEND: one line per write */
	errno = saved;
}

/* ---------------------------------------------------------------- PRNG */

static uint64_t rd_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15u;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

uint64_t rd_rand(struct rd_thread *t)
{
	t->rng += 0x9e3779b97f4a7c15u;
	return rd_mix(t->rng - 0x9e3779b97f4a7c15u); /* splitmix64 step */
}

int rd_chance(struct rd_thread *t, uint32_t ppb)
{
	if (ppb == 0)
		return 0; /* no draw: an off feature does not shift the sequence */
	return rd_rand(t) % RUNDOWN_INJECT_PPB < ppb;
}

void rd_thread_seed(struct rd_thread *t, uint32_t index)
{
	t->index = index;
	t->rng = rd_mix(rd_cfg.seed ^ rd_mix((uint64_t)index + 1u));
	t->last_cpu = -1;
	t->inited = 1;
}

struct rd_thread *rd_thread_self(void)
{
	struct rd_thread *t = &rd_self;

	if (RD_UNLIKELY(!t->inited)) {
		uint32_t index;

		if (RD_REAL(syscall)(SYS_gettid) == getpid())
			index = 0;
		else
			index = 0x80000000u +
				atomic_fetch_add_explicit(&rd_foreign_index, 1, memory_order_relaxed);
		/*
		 * No PCT here: a thread that pthread_create made calls us
		 * (malloc in a sanitizer's thread start-up) before
		 * rd_thread_start, and so does the PCT watchdog, which must
		 * keep the top priority its creator gave it.
		 */
		rd_thread_seed(t, index);
	}
	return t;
}

/* ---------------------------------------------------------------- time */

static uint64_t rd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void rd_pause_ns(uint64_t ns)
{
	if (ns < 20000) { /* short: spin, as a preempted thread would lose it */
		uint64_t end = rd_now_ns() + ns;

		while (rd_now_ns() < end) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		}
		return;
	}
	{
		struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

		while (RD_REAL(nanosleep)(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

/* ---------------------------------------------------------------- chaos */

/*
 * rr's chaos mode, simplified: time is cut into epochs of growing length
 * (min, 2min, 4min, ... max, then min again); in each epoch one randomly
 * chosen thread (or none) is starved: it sleeps at its interposed calls
 * until the epoch ends, while the others run.
 */
static _Atomic uint64_t rd_chaos_end;    /* end of the current epoch, ns */
static _Atomic uint64_t rd_chaos_period; /* its length */
static _Atomic uint32_t rd_chaos_victim; /* creation index, or UINT32_MAX: none */

static void rd_chaos(struct rd_thread *t, const char *site)
{
	uint64_t now = rd_now_ns();
	uint64_t end = atomic_load_explicit(&rd_chaos_end, memory_order_relaxed);

	if (now >= end) {
		uint64_t period = atomic_load_explicit(&rd_chaos_period, memory_order_relaxed);
		uint32_t n = atomic_load_explicit(&rd_next_index, memory_order_relaxed);
		uint32_t victim;

		period = period ? period * 2u : rd_cfg.chaos.min_ns;
		if (period > rd_cfg.chaos.max_ns)
			period = rd_cfg.chaos.min_ns;
		victim = (uint32_t)(rd_rand(t) % ((uint64_t)n + 1u)); /* n: nobody */
		/* Relaxed throughout: the three words are advice, not a protocol. */
		if (atomic_compare_exchange_strong_explicit(&rd_chaos_end, &end, now + period,
							    memory_order_relaxed,
							    memory_order_relaxed)) {
			atomic_store_explicit(&rd_chaos_period, period, memory_order_relaxed);
			atomic_store_explicit(&rd_chaos_victim, victim == n ? UINT32_MAX : victim,
					      memory_order_relaxed);
			rd_log(t, site, "chaos-victim", victim == n ? -1 : (int64_t)victim, 1);
		}
		end = atomic_load_explicit(&rd_chaos_end, memory_order_relaxed);
	}
	if (t->index == atomic_load_explicit(&rd_chaos_victim, memory_order_relaxed) && now < end) {
		rd_log(t, site, "starve", (int64_t)(end - now), 1);
		RD_COUNT(starvations);
		rd_pause_ns(end - now);
	}
}

/* ---------------------------------------------------------------- hook */

static void rd_perturb(struct rd_thread *t, unsigned f, const char *site)
{
	if ((f & RUNDOWN_INJECT_F_YIELD) && rd_chance(t, rd_cfg.yield.p)) {
		RD_COUNT(yields);
		rd_log(t, site, "yield", 0, 0);
		RD_REAL(sched_yield)();
	}
	if ((f & RUNDOWN_INJECT_F_DELAY) && rd_chance(t, rd_cfg.delay.p)) {
		uint64_t span = rd_cfg.delay.max_ns - rd_cfg.delay.min_ns + 1u;
		uint64_t ns = rd_cfg.delay.min_ns + rd_rand(t) % span;

		RD_COUNT(delays);
		rd_log(t, site, "delay", (int64_t)ns, 1);
		rd_pause_ns(ns);
	}
	if (f & RUNDOWN_INJECT_F_CHAOS)
		rd_chaos(t, site);
	if (f & RUNDOWN_INJECT_F_PCT)
		rd_pct(t, site);
}

static void rd_backtrace(void)
{
	void *frames[48];
	int n = backtrace(frames, 48);

	backtrace_symbols_fd(frames, n, 2);
}

static const char *_Atomic rd_irql_first_site;
static const char *_Atomic rd_irql_first_routine;

static void rd_irql(struct rd_thread *t, const char *site, enum rd_kind kind)
{
	unsigned printed;

	if (kind == RD_K_ALLOC) {
		RD_COUNT(irql_alloc_warnings);
		rd_log(t, site, "irql-alloc-warning", 0, 0);
		if (atomic_fetch_add_explicit(&rd_reports, 1, memory_order_relaxed) < RD_MAX_REPORTS)
			rd_say("IRQL warning: ", site, " (allocation) inside ",
			       t->irql_routine ? t->irql_routine : "?", " at DISPATCH_LEVEL", NULL);
		return;
	}
	RD_COUNT(irql_violations);
	{ /* the first violation, for rundown_inject_irql_first(); site and
	   * routine are string literals of the caller, never freed */
		const char *none = NULL;

		if (atomic_compare_exchange_strong_explicit(&rd_irql_first_site, &none, site,
							    memory_order_acq_rel, memory_order_relaxed))
			atomic_store_explicit(&rd_irql_first_routine,
					      t->irql_routine ? t->irql_routine : "?",
					      memory_order_release); /* pairs with irql_first's acquire */
	}
	rd_log(t, site, "irql-violation", 0, 0);
	printed = atomic_fetch_add_explicit(&rd_reports, 1, memory_order_relaxed);
	if (printed < RD_MAX_REPORTS || rd_cfg.irql == RUNDOWN_INJECT_IRQL_ABORT) {
		rd_say("IRQL violation: ", site, " inside ", t->irql_routine ? t->irql_routine : "?",
		       " at DISPATCH_LEVEL", NULL);
		rd_backtrace();
	} else if (printed == RD_MAX_REPORTS) {
		rd_say("further IRQL reports are only counted (rundown_inject_stats)", NULL);
	}
	if (rd_cfg.irql == RUNDOWN_INJECT_IRQL_ABORT) {
		rd_say("reproduce with RUNDOWN_INJECT='", rd_canon, "'", NULL);
		abort();
	}
}

struct rd_thread *rd_hook(const char *site, enum rd_kind kind)
{
	struct rd_thread *t = rd_thread_self();
	unsigned f = atomic_load_explicit(&rd_flags, memory_order_relaxed);

	if (t->in_shim || t->resolving)
		return NULL;
	t->in_shim = 1;
	t->calls++;
	RD_COUNT(calls);
	if ((f & RUNDOWN_INJECT_F_IRQL) && t->irql_depth > 0 && kind != RD_K_PLAIN)
		rd_irql(t, site, kind);
	if (f & RD_F_SCHED)
		rd_perturb(t, f, site);
	t->in_shim = 0;
	return t;
}

/* ---------------------------------------------------------------- resolution */

void rd_resolve_all(void)
{
	struct rd_thread *t = &rd_self;
	uint8_t was = t->resolving;
	void *p;

	t->resolving = 1;
#define RD_RESOLVE(name, type, version)                                           \
	if (rd_real.name == NULL) {                                               \
		p = dlsym(RTLD_NEXT, #name);                                      \
		__atomic_store_n((void **)(void *)&rd_real.name, p, __ATOMIC_RELAXED); \
	}
	RD_REAL_FUNCS(RD_RESOLVE)
#undef RD_RESOLVE
	t->resolving = was;
	if (rd_real.malloc == NULL || rd_real.free == NULL || rd_real.nanosleep == NULL) {
		static const char msg[] = "rundown-inject: dlsym(RTLD_NEXT) found no malloc/free/"
					  "nanosleep; cannot run\n";

		rd_write_all(2, msg, sizeof msg - 1);
		_exit(2);
	}
}

/* ---------------------------------------------------------------- threads */

struct rd_start {
	void *(*fn)(void *);
	void *arg;
	uint32_t index;
};

static void *rd_thread_start(void *p)
{
	struct rd_start s = *(struct rd_start *)p;

	RD_REAL(free)(p);
	void *r;

	rd_thread_seed(&rd_self, s.index);
	if (!(atomic_load_explicit(&rd_flags, memory_order_relaxed) & RUNDOWN_INJECT_F_PCT))
		return s.fn(s.arg);
	rd_pct_thread(&rd_self);
	r = s.fn(s.arg);
	rd_pct_thread_exit(&rd_self);
	return r;
}

RD_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
			     void *(*fn)(void *), void *arg)
{
	struct rd_start *s;
	int r;

	if (!RD_ON())
		return RD_REAL(pthread_create)(thread, attr, fn, arg);
	s = RD_REAL(malloc)(sizeof *s);
	if (s == NULL)
		return EAGAIN;
	s->fn = fn;
	s->arg = arg;
	s->index = atomic_fetch_add_explicit(&rd_next_index, 1, memory_order_relaxed);
	if (RD_FLAGS() & RUNDOWN_INJECT_F_PCT)
		rd_pct_watchdog_start(); /* a second thread: starvation is now possible */
	r = RD_REAL(pthread_create)(thread, attr, rd_thread_start, s);
	if (r != 0)
		RD_REAL(free)(s);
	return r;
}

RD_EXPORT int sched_yield(void)
{
	if (RD_ON()) {
		struct rd_thread *t = rd_hook("sched_yield", RD_K_PLAIN);

		if (t != NULL && (RD_FLAGS() & RUNDOWN_INJECT_F_PCT) && rd_pct_yield(t))
			return 0;
	}
	return RD_REAL(sched_yield)();
}

/* ---------------------------------------------------------------- control API */

RD_EXPORT void rundown_inject_irql_enter(const char *routine)
{
	struct rd_thread *t = rd_thread_self();

	if (t->irql_depth++ == 0)
		t->irql_routine = routine;
}

RD_EXPORT void rundown_inject_irql_leave(void)
{
	struct rd_thread *t = rd_thread_self();

	if (t->irql_depth > 0 && --t->irql_depth == 0)
		t->irql_routine = NULL;
}

RD_EXPORT size_t rundown_inject_irql_first(char *buf, size_t len)
{
	const char *site = atomic_load_explicit(&rd_irql_first_site, memory_order_acquire);
	const char *routine = atomic_load_explicit(&rd_irql_first_routine, memory_order_acquire);
	const char *parts[3];
	size_t n = 0;

	if (len > 0)
		buf[0] = '\0';
	if (site == NULL)
		return 0;
	parts[0] = site;
	parts[1] = " inside ";
	parts[2] = routine ? routine : "?";
	for (int i = 0; i < 3; i++) {
		for (const char *p = parts[i]; *p; p++, n++)
			if (len > 0 && n < len - 1)
				buf[n] = *p;
	}
	if (len > 0)
		buf[n < len - 1 ? n : len - 1] = '\0';
	return n;
}

RD_EXPORT size_t rundown_inject_spec(char *buf, size_t len)
{
	size_t n = strlen(rd_canon);

	if (len > 0) {
		size_t k = n < len - 1 ? n : len - 1;

		memcpy(buf, rd_canon, k);
		buf[k] = '\0';
	}
	return n;
}

RD_EXPORT int rundown_inject_stats(struct rundown_inject_stats *out, size_t size)
{
	struct rundown_inject_stats s;

	memset(&s, 0, sizeof s);
	s.seed = rd_cfg.seed;
	s.features = atomic_load_explicit(&rd_flags, memory_order_relaxed);
#define RD_GET(name) s.name = atomic_load_explicit(&rd_ctr.name, memory_order_relaxed);
	RD_GET(calls) RD_GET(sched_getcpu_calls) RD_GET(ncpu_queries) RD_GET(cpu_virtualised)
	RD_GET(yields) RD_GET(delays) RD_GET(starvations) RD_GET(pct_changes)
	RD_GET(alloc_calls) RD_GET(alloc_eligible) RD_GET(alloc_faults) RD_GET(alloc_live)
	RD_GET(alloc_untracked) RD_GET(futex_waits) RD_GET(futex_spurious) RD_GET(futex_eintr)
	RD_GET(cond_waits) RD_GET(cond_spurious) RD_GET(sem_eintr) RD_GET(irql_violations)
	RD_GET(irql_alloc_warnings)
#undef RD_GET
	s.alloc_bypassed = rd_alloc_bypassed();
	s.pct_fifo = rd_pct_fifo_mode() == 1;
	s.pct_demotions = atomic_load_explicit(&rd_ctr.pct_demotions, memory_order_relaxed);
	memcpy(out, &s, size < sizeof s ? size : sizeof s);
	return 0;
}

/* ---------------------------------------------------------------- start-up */

static void rd_on_exit(int status, void *arg)
{
	char num[24];
	uint64_t v = atomic_load_explicit(&rd_ctr.irql_violations, memory_order_relaxed);

	(void)arg;
	if (status == 0 || status == 77)
		return;
	rd_utoa((uint64_t)(unsigned)status, num);
	rd_say("exit status ", num, "; reproduce with RUNDOWN_INJECT='", rd_canon, "'", NULL);
	if (v > 0) {
		rd_utoa(v, num);
		rd_say("IRQL violations: ", num, NULL);
	}
}

static void rd_open_log(void)
{
	char path[RUNDOWN_INJECT_PATH_MAX + 32];
	size_t n = 0;

	for (const char *s = rd_cfg.log; *s != '\0' && n < sizeof path - 24; s++) {
		if (s[0] == '%' && s[1] == 'p') {
			n += rd_utoa((uint64_t)getpid(), path + n);
			s++;
		} else {
			path[n++] = *s;
		}
	}
	path[n] = '\0';
	rd_log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (rd_log_fd < 0) {
		rd_say("RUNDOWN_INJECT: log=", path, ": ", strerror(errno), NULL);
		_exit(2);
	}
}

unsigned rd_features_of(const struct rundown_inject_cfg *c)
{
	unsigned f = 0;

	f |= c->yield.p ? RUNDOWN_INJECT_F_YIELD : 0;
	f |= c->delay.p ? RUNDOWN_INJECT_F_DELAY : 0;
	f |= c->chaos.on ? RUNDOWN_INJECT_F_CHAOS : 0;
	f |= c->pct.on ? RUNDOWN_INJECT_F_PCT : 0;
	f |= c->cpu.mode != RUNDOWN_INJECT_CPU_OFF ? RUNDOWN_INJECT_F_CPU : 0;
	f |= c->ncpu ? RUNDOWN_INJECT_F_NCPU : 0;
	f |= c->alloc.mode != RUNDOWN_INJECT_ALLOC_OFF ? RUNDOWN_INJECT_F_ALLOC : 0;
	f |= (c->futex.spurious_p || c->futex.eintr_p) ? RUNDOWN_INJECT_F_FUTEX : 0;
	f |= c->irql ? RUNDOWN_INJECT_F_IRQL : 0;
	f |= c->log[0] ? RUNDOWN_INJECT_F_LOG : 0;
	return f;
}

__attribute__((constructor)) static void rd_init(void)
{
	const char *spec = getenv("RUNDOWN_INJECT");
	char err[512];
	unsigned f;

	rd_resolve_all();
	if (spec == NULL || *spec == '\0') {
		rd_alloc_init(); /* the fail-nth driver may turn alloc= on later */
		return;
	}
	if (rundown_inject_parse(spec, &rd_cfg, err, sizeof err) != 0) {
		rd_say("RUNDOWN_INJECT: ", err, NULL);
		_exit(2);
	}
	if (!rd_cfg.have_seed) {
		uint64_t s = 0;

		if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
			s = rd_now_ns() ^ ((uint64_t)getpid() << 32);
		rd_cfg.seed = s;
		rd_cfg.have_seed = 1;
	}
	rundown_inject_format(&rd_cfg, rd_canon, sizeof rd_canon);
	f = rd_features_of(&rd_cfg);
	if (f & RUNDOWN_INJECT_F_LOG)
		rd_open_log();
	if (f & RUNDOWN_INJECT_F_PCT)
		rd_pct_init();
	if (f & RUNDOWN_INJECT_F_IRQL) {
		void *frame;

		rd_self.in_shim = 1; /* backtrace() loads libgcc_s once: do it now */
		backtrace(&frame, 1);
		rd_self.in_shim = 0;
	}
	rd_cpu_init();
	rd_alloc_init();
	rd_thread_seed(&rd_self, 0);
	/* Before any thread of the program exists: plain publication is enough. */
	atomic_store_explicit(&rd_flags, f, memory_order_relaxed);
	if (f & RUNDOWN_INJECT_F_PCT)
		rd_pct_thread(&rd_self);
	on_exit(rd_on_exit, NULL);
}
