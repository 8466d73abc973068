/*
 * inject/spec.c - parser and canonical form of the RUNDOWN_INJECT grammar.
 *
 * A spec is clauses separated by ';', each "key=value"; a value is
 * "mode[:arg,arg...]" and an arg is "name=value", or a bare value for the
 * mode's first parameter (alloc=nth:2 is alloc=nth:n=2).  The EBNF is in
 * inject/README.md.  The parser works on a bounded copy with strtok_r, so
 * it allocates nothing and can run in the shim's constructor; numbers are
 * parsed by hand, so a locale set by the caller cannot change their meaning.
 *
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inject/spec.h"

/* Clause families, to refuse duplicates. */
enum {
	RD_SEEN_SEED = 1u << 0,
	RD_SEEN_YIELD = 1u << 1,
	RD_SEEN_DELAY = 1u << 2,
	RD_SEEN_CHAOS = 1u << 3,
	RD_SEEN_PCT = 1u << 4,
	RD_SEEN_CPU = 1u << 5,
	RD_SEEN_NCPU = 1u << 6,
	RD_SEEN_ALLOC = 1u << 7,
	RD_SEEN_SPURIOUS = 1u << 8,
	RD_SEEN_EINTR = 1u << 9,
	RD_SEEN_IRQL = 1u << 10,
	RD_SEEN_LOG = 1u << 11,
};

#define RD_NCPU_LIMIT 65536u

struct rd_parser {
	char *err;
	size_t errlen;
	const char *clause; /* the clause being parsed, as written (trimmed) */
};

static int rd_fail(struct rd_parser *ps, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int rd_fail(struct rd_parser *ps, const char *fmt, ...)
{
	va_list ap;
	size_t off = 0;

	if (ps->err == NULL || ps->errlen == 0)
		return -1;
	if (ps->clause != NULL) {
		int n = snprintf(ps->err, ps->errlen, "clause '%s': ", ps->clause);

		off = n < 0 ? 0 : (size_t)n;
		if (off >= ps->errlen)
			return -1;
	}
	va_start(ap, fmt);
	vsnprintf(ps->err + off, ps->errlen - off, fmt, ap);
	va_end(ap);
	return -1;
}

static char *rd_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int rd_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal, or hexadecimal with 0x; no sign, no spaces, no trailing junk. */
static int rd_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	if (!rd_isdigit(s[0]))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, base);
	if (errno != 0 || *end != '\0' || end == s)
		return -1;
	return 0;
}

/* "0.25", ".25", "1", "0", "25%", "2.5%" -> parts per billion in [0, 1e9]. */
static int rd_parse_prob(const char *s, uint32_t *ppb)
{
	uint64_t ip = 0, frac = 0, scale = RUNDOWN_INJECT_PPB;
	int digits = 0;
	uint64_t v;

	for (; rd_isdigit(*s); s++, digits++) {
		ip = ip * 10u + (uint64_t)(*s - '0');
		if (ip > 100u)
			return -1;
	}
	if (*s == '.') {
		s++;
		for (; rd_isdigit(*s); s++, digits++) {
			if (scale > 1u) {
				scale /= 10u;
				frac += (uint64_t)(*s - '0') * scale;
			}
		}
	}
	if (digits == 0)
		return -1;
	v = ip * RUNDOWN_INJECT_PPB + frac;
	if (*s == '%') {
		s++;
		v /= 100u;
	}
	if (*s != '\0' || v > RUNDOWN_INJECT_PPB)
		return -1;
	*ppb = (uint32_t)v;
	return 0;
}

/* "50us", "2ms", "100ns", "1s" -> nanoseconds.  A unit is required. */
static int rd_parse_dur(const char *s, uint64_t *ns)
{
	uint64_t v = 0, mul;
	const char *p = s;

	for (; rd_isdigit(*p); p++) {
		if (v > UINT64_MAX / 10u)
			return -1;
		v = v * 10u + (uint64_t)(*p - '0');
	}
	if (p == s)
		return -1;
	if (strcmp(p, "ns") == 0)
		mul = 1;
	else if (strcmp(p, "us") == 0)
		mul = 1000;
	else if (strcmp(p, "ms") == 0)
		mul = 1000000;
	else if (strcmp(p, "s") == 0)
		mul = 1000000000;
	else
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*ns = v * mul;
	return 0;
}

enum rd_ptype { RD_P_PROB, RD_P_DUR, RD_P_U64, RD_P_UINT, RD_P_SCOPE };

struct rd_param {
	const char *name;
	enum rd_ptype type;
	void *dst;
};

static int rd_set_param(struct rd_parser *ps, const struct rd_param *p, const char *val)
{
	uint64_t u;

	switch (p->type) {
	case RD_P_PROB:
		if (rd_parse_prob(val, p->dst) != 0)
			return rd_fail(ps, "%s: '%s' is not a probability (0..1, e.g. 0.25 or 25%%)",
				       p->name, val);
		return 0;
	case RD_P_DUR:
		if (rd_parse_dur(val, p->dst) != 0)
			return rd_fail(ps, "%s: '%s' is not a duration (an integer and a unit: "
				       "ns, us, ms, s)", p->name, val);
		return 0;
	case RD_P_U64:
		if (rd_parse_u64(val, p->dst) != 0)
			return rd_fail(ps, "%s: '%s' is not an unsigned integer", p->name, val);
		return 0;
	case RD_P_UINT:
		if (rd_parse_u64(val, &u) != 0 || u > RD_NCPU_LIMIT)
			return rd_fail(ps, "%s: '%s' is not an integer in [0, %u]", p->name, val,
				       RD_NCPU_LIMIT);
		*(unsigned *)p->dst = (unsigned)u;
		return 0;
	case RD_P_SCOPE:
		if (strcmp(val, "all") == 0)
			*(int *)p->dst = 0;
		else if (strcmp(val, "armed") == 0)
			*(int *)p->dst = 1;
		else
			return rd_fail(ps, "%s: '%s' is not 'all' or 'armed'", p->name, val);
		return 0;
	}
	return rd_fail(ps, "internal error: parameter type");
}

/*
 * Parse "arg,arg,..." (args may be NULL: no parameters) against params[0..n).
 * A bare value binds to params[0]; each parameter at most once.
 */
static int rd_parse_args(struct rd_parser *ps, const char *mode, char *args,
			 const struct rd_param *params, size_t n)
{
	unsigned seen = 0;
	char *save = NULL, *tok;
	int first = 1;

	if (args == NULL)
		return 0;
	args = rd_trim(args);
	if (*args == '\0')
		return rd_fail(ps, "empty parameter list after '%s:'", mode);
	/* strtok_r would skip empty fields silently: refuse them first. */
	if (args[0] == ',' || args[strlen(args) - 1] == ',' || strstr(args, ",,") != NULL)
		return rd_fail(ps, "empty parameter in '%s'", args);
	for (tok = strtok_r(args, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save), first = 0) {
		char *eq, *name, *val;
		size_t i;

		tok = rd_trim(tok);
		if (*tok == '\0')
			return rd_fail(ps, "empty parameter");
		eq = strchr(tok, '=');
		if (eq == NULL) {
			if (!first || n == 0)
				return rd_fail(ps, "'%s': a bare value is only allowed as the first "
					       "parameter of a mode that has one", tok);
			i = 0;
			val = tok;
		} else {
			*eq = '\0';
			name = rd_trim(tok);
			val = rd_trim(eq + 1);
			for (i = 0; i < n; i++)
				if (strcmp(params[i].name, name) == 0)
					break;
			if (i == n) {
				char known[128] = "";

				for (size_t j = 0; j < n; j++) {
					strncat(known, j ? ", " : "", sizeof known - strlen(known) - 1);
					strncat(known, params[j].name, sizeof known - strlen(known) - 1);
				}
				return rd_fail(ps, "unknown parameter '%s' for '%s'%s%s%s", name, mode,
					       n ? " (expected " : " (it takes none",
					       known, ")");
			}
		}
		if (*val == '\0')
			return rd_fail(ps, "parameter '%s' has no value", params[i].name);
		if (seen & (1u << i))
			return rd_fail(ps, "parameter '%s' given twice", params[i].name);
		seen |= 1u << i;
		if (rd_set_param(ps, &params[i], val) != 0)
			return -1;
	}
	return 0;
}

static int rd_once(struct rd_parser *ps, unsigned *seen, unsigned bit, const char *what)
{
	if (*seen & bit)
		return rd_fail(ps, "%s given twice", what);
	*seen |= bit;
	return 0;
}

#define RD_NPARAMS(a) (sizeof(a) / sizeof((a)[0]))

static int rd_parse_sched(struct rd_parser *ps, struct rundown_inject_cfg *c, unsigned *seen,
			  char *mode, char *args)
{
	if (strcmp(mode, "yield") == 0) {
		const struct rd_param p[] = { { "p", RD_P_PROB, &c->yield.p } };

		c->yield.p = RUNDOWN_INJECT_PPB / 10u;
		if (rd_once(ps, seen, RD_SEEN_YIELD, "sched=yield") != 0)
			return -1;
		return rd_parse_args(ps, mode, args, p, RD_NPARAMS(p));
	}
	if (strcmp(mode, "delay") == 0) {
		const struct rd_param p[] = {
			{ "p", RD_P_PROB, &c->delay.p },
			{ "max", RD_P_DUR, &c->delay.max_ns },
			{ "min", RD_P_DUR, &c->delay.min_ns },
		};

		c->delay.p = RUNDOWN_INJECT_PPB / 10u;
		c->delay.max_ns = 100000;
		if (rd_once(ps, seen, RD_SEEN_DELAY, "sched=delay") != 0 ||
		    rd_parse_args(ps, mode, args, p, RD_NPARAMS(p)) != 0)
			return -1;
		if (c->delay.min_ns > c->delay.max_ns)
			return rd_fail(ps, "min is larger than max");
		if (c->delay.max_ns > 1000000000u)
			return rd_fail(ps, "max is over 1s");
		return 0;
	}
	if (strcmp(mode, "chaos") == 0) {
		const struct rd_param p[] = {
			{ "max", RD_P_DUR, &c->chaos.max_ns },
			{ "min", RD_P_DUR, &c->chaos.min_ns },
		};

		c->chaos.on = 1;
		c->chaos.min_ns = 1000000;
		c->chaos.max_ns = 50000000;
		if (rd_once(ps, seen, RD_SEEN_CHAOS, "sched=chaos") != 0 ||
		    rd_parse_args(ps, mode, args, p, RD_NPARAMS(p)) != 0)
			return -1;
		if (c->chaos.min_ns == 0 || c->chaos.min_ns > c->chaos.max_ns)
			return rd_fail(ps, "need 0 < min <= max");
		if (c->chaos.max_ns > 10000000000u)
			return rd_fail(ps, "max is over 10s");
		return 0;
	}
	if (strcmp(mode, "pct") == 0) {
		uint64_t cpu = 0;
		const struct rd_param p[] = {
			{ "d", RD_P_UINT, &c->pct.d },
			{ "k", RD_P_U64, &c->pct.k },
			{ "cpu", RD_P_U64, &cpu },
		};

		c->pct.on = 1;
		c->pct.d = 3;
		c->pct.k = 10000;
		if (rd_once(ps, seen, RD_SEEN_PCT, "sched=pct") != 0 ||
		    rd_parse_args(ps, mode, args, p, RD_NPARAMS(p)) != 0)
			return -1;
		if (c->pct.d < 1 || c->pct.d > 32)
			return rd_fail(ps, "d must be in [1, 32]");
		if (c->pct.k < 1)
			return rd_fail(ps, "k must be at least 1");
		if (cpu >= RD_NCPU_LIMIT)
			return rd_fail(ps, "cpu must be below %u", RD_NCPU_LIMIT);
		c->pct.cpu = (int)cpu;
		return 0;
	}
	if (strcmp(mode, "off") == 0) {
		if (args != NULL)
			return rd_fail(ps, "'off' takes no parameters");
		return 0;
	}
	return rd_fail(ps, "unknown sched mode '%s' (expected yield, delay, chaos, pct, off)",
		       mode);
}

static int rd_parse_cpu(struct rd_parser *ps, struct rundown_inject_cfg *c, char *mode,
			char *args)
{
	if (strcmp(mode, "random") == 0 || strcmp(mode, "migrate") == 0 ||
	    strcmp(mode, "off") == 0) {
		c->cpu.mode = mode[0] == 'r' ? RUNDOWN_INJECT_CPU_RANDOM :
			      mode[0] == 'm' ? RUNDOWN_INJECT_CPU_MIGRATE :
					       RUNDOWN_INJECT_CPU_OFF;
		return rd_parse_args(ps, mode, args, NULL, 0);
	}
	if (strcmp(mode, "hotplug") == 0) {
		const struct rd_param p[] = {
			{ "p", RD_P_PROB, &c->cpu.p },
			{ "span", RD_P_UINT, &c->cpu.span },
		};

		c->cpu.mode = RUNDOWN_INJECT_CPU_HOTPLUG;
		c->cpu.p = RUNDOWN_INJECT_PPB / 4u;
		c->cpu.span = 64;
		if (rd_parse_args(ps, mode, args, p, RD_NPARAMS(p)) != 0)
			return -1;
		if (c->cpu.span == 0)
			return rd_fail(ps, "span must be at least 1");
		return 0;
	}
	if (strcmp(mode, "fixed") == 0) {
		const struct rd_param p[] = { { "n", RD_P_UINT, &c->cpu.n } };

		c->cpu.mode = RUNDOWN_INJECT_CPU_FIXED;
		if (args == NULL)
			return rd_fail(ps, "'fixed' needs a processor number (cpu=fixed:N)");
		return rd_parse_args(ps, mode, args, p, RD_NPARAMS(p));
	}
	return rd_fail(ps, "unknown cpu mode '%s' (expected random, migrate, hotplug, fixed, off)",
		       mode);
}

static int rd_parse_alloc(struct rd_parser *ps, struct rundown_inject_cfg *c, char *mode,
			  char *args)
{
	struct rd_param p[3] = {
		{ "n", RD_P_U64, &c->alloc.n },
		{ "max", RD_P_U64, &c->alloc.max },
		{ "scope", RD_P_SCOPE, &c->alloc.armed },
	};

	if (strcmp(mode, "off") == 0) {
		c->alloc.mode = RUNDOWN_INJECT_ALLOC_OFF;
		return rd_parse_args(ps, mode, args, NULL, 0);
	}
	if (strcmp(mode, "p") == 0) {
		c->alloc.mode = RUNDOWN_INJECT_ALLOC_P;
		p[0] = (struct rd_param){ "p", RD_P_PROB, &c->alloc.p };
	} else if (strcmp(mode, "nth") == 0) {
		c->alloc.mode = RUNDOWN_INJECT_ALLOC_NTH;
	} else if (strcmp(mode, "every") == 0) {
		c->alloc.mode = RUNDOWN_INJECT_ALLOC_EVERY;
	} else {
		return rd_fail(ps, "unknown alloc mode '%s' (expected p, nth, every, off)", mode);
	}
	if (args == NULL)
		return rd_fail(ps, "'%s' needs a value (alloc=%s:%s)", mode, mode,
			       mode[0] == 'p' ? "0.1" : "3");
	if (rd_parse_args(ps, mode, args, p, 3) != 0)
		return -1;
	if (c->alloc.mode != RUNDOWN_INJECT_ALLOC_P && c->alloc.n == 0)
		return rd_fail(ps, "n must be at least 1 (calls are counted from 1)");
	if (c->alloc.mode == RUNDOWN_INJECT_ALLOC_P && c->alloc.p == 0)
		return rd_fail(ps, "p must be above 0 (use alloc=off)");
	return 0;
}

static int rd_parse_futex(struct rd_parser *ps, struct rundown_inject_cfg *c, unsigned *seen,
			  char *mode, char *args)
{
	uint32_t *dst;

	if (strcmp(mode, "spurious") == 0) {
		if (rd_once(ps, seen, RD_SEEN_SPURIOUS, "futex=spurious") != 0)
			return -1;
		dst = &c->futex.spurious_p;
	} else if (strcmp(mode, "eintr") == 0) {
		if (rd_once(ps, seen, RD_SEEN_EINTR, "futex=eintr") != 0)
			return -1;
		dst = &c->futex.eintr_p;
	} else if (strcmp(mode, "off") == 0) {
		return rd_parse_args(ps, mode, args, NULL, 0);
	} else {
		return rd_fail(ps, "unknown futex mode '%s' (expected spurious, eintr, off)", mode);
	}
	{
		const struct rd_param p[] = { { "p", RD_P_PROB, dst } };

		*dst = RUNDOWN_INJECT_PPB / 10u;
		return rd_parse_args(ps, mode, args, p, 1);
	}
}

static int rd_parse_clause(struct rd_parser *ps, struct rundown_inject_cfg *c, unsigned *seen,
			   char *clause)
{
	char *eq = strchr(clause, '='), *key, *val, *colon, *mode, *args = NULL;

	if (eq == NULL)
		return rd_fail(ps, "expected key=value (keys: seed, sched, cpu, ncpu, alloc, futex, "
			       "irql, log)");
	*eq = '\0';
	key = rd_trim(clause);
	val = rd_trim(eq + 1);
	if (*val == '\0')
		return rd_fail(ps, "'%s' has no value", key);

	if (strcmp(key, "log") == 0) {
		if (rd_once(ps, seen, RD_SEEN_LOG, "log") != 0)
			return -1;
		if (strlen(val) >= sizeof c->log)
			return rd_fail(ps, "path longer than %zu bytes", sizeof c->log - 1);
		memcpy(c->log, val, strlen(val) + 1);
		return 0;
	}
	if (strcmp(key, "seed") == 0) {
		if (rd_once(ps, seen, RD_SEEN_SEED, "seed") != 0)
			return -1;
		if (rd_parse_u64(val, &c->seed) != 0)
			return rd_fail(ps, "'%s' is not an unsigned 64-bit integer", val);
		c->have_seed = 1;
		return 0;
	}
	if (strcmp(key, "ncpu") == 0) {
		uint64_t n;

		if (rd_once(ps, seen, RD_SEEN_NCPU, "ncpu") != 0)
			return -1;
		if (rd_parse_u64(val, &n) != 0 || n < 1 || n > RD_NCPU_LIMIT)
			return rd_fail(ps, "'%s' is not a processor count in [1, %u]", val,
				       RD_NCPU_LIMIT);
		c->ncpu = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "irql") == 0) {
		if (rd_once(ps, seen, RD_SEEN_IRQL, "irql") != 0)
			return -1;
		if (strcmp(val, "record") == 0)
			c->irql = RUNDOWN_INJECT_IRQL_RECORD;
		else if (strcmp(val, "abort") == 0)
			c->irql = RUNDOWN_INJECT_IRQL_ABORT;
		else if (strcmp(val, "off") == 0)
			c->irql = RUNDOWN_INJECT_IRQL_OFF;
		else
			return rd_fail(ps, "'%s' is not record, abort or off", val);
		return 0;
	}

	mode = val;
	colon = strchr(val, ':');
	if (colon != NULL) {
		*colon = '\0';
		mode = rd_trim(val);
		args = colon + 1;
	}
	if (*mode == '\0')
		return rd_fail(ps, "no mode before ':'");
	if (strcmp(key, "sched") == 0)
		return rd_parse_sched(ps, c, seen, mode, args);
	if (strcmp(key, "cpu") == 0) {
		if (rd_once(ps, seen, RD_SEEN_CPU, "cpu") != 0)
			return -1;
		return rd_parse_cpu(ps, c, mode, args);
	}
	if (strcmp(key, "alloc") == 0) {
		if (rd_once(ps, seen, RD_SEEN_ALLOC, "alloc") != 0)
			return -1;
		return rd_parse_alloc(ps, c, mode, args);
	}
	if (strcmp(key, "futex") == 0)
		return rd_parse_futex(ps, c, seen, mode, args);
	return rd_fail(ps, "unknown key '%s' (expected seed, sched, cpu, ncpu, alloc, futex, irql, "
		       "log)", key);
}

int rundown_inject_parse(const char *spec, struct rundown_inject_cfg *cfg, char *err,
			 size_t errlen)
{
	char buf[RUNDOWN_INJECT_SPEC_MAX];
	char orig[RUNDOWN_INJECT_SPEC_MAX];
	struct rd_parser ps = { err, errlen, NULL };
	char *save = NULL, *tok;
	unsigned seen = 0;
	size_t len;

	memset(cfg, 0, sizeof *cfg);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (spec == NULL)
		return 0;
	len = strlen(spec);
	if (len >= sizeof buf)
		return rd_fail(&ps, "spec is %zu bytes long (at most %zu)", len, sizeof buf - 1);
	memcpy(buf, spec, len + 1);
	for (tok = strtok_r(buf, ";", &save); tok != NULL; tok = strtok_r(NULL, ";", &save)) {
		tok = rd_trim(tok);
		if (*tok == '\0')
			continue; /* "a;;b" and a trailing ';' are allowed */
		memcpy(orig, tok, strlen(tok) + 1);
		ps.clause = orig;
		if (rd_parse_clause(&ps, cfg, &seen, tok) != 0)
			return -1;
	}
	ps.clause = NULL;
	if (cfg->pct.on && cfg->chaos.on)
		return rd_fail(&ps, "sched=pct and sched=chaos cannot be combined (both decide who "
			       "runs)");
	/* cpu=fixed:N with N >= ncpu is allowed on purpose: a hot-added CPU. */
	return 0;
}

int rundown_inject_cfg_active(const struct rundown_inject_cfg *c)
{
	return c->yield.p || c->delay.p || c->chaos.on || c->pct.on || c->cpu.mode ||
	       c->ncpu || c->alloc.mode || c->futex.spurious_p || c->futex.eintr_p || c->irql ||
	       c->log[0];
}

/* Appends to a bounded buffer, counting what did not fit. */
struct rd_out {
	char *buf;
	size_t len, need;
};

static void rd_put(struct rd_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void rd_put(struct rd_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t room = o->need < o->len ? o->len - o->need : 0;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->need : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->need += (size_t)n;
}

static void rd_put_sep(struct rd_out *o)
{
	if (o->need > 0)
		rd_put(o, ";");
}

static void rd_put_prob(struct rd_out *o, uint32_t ppb)
{
	char frac[16];
	int n;

	if (ppb >= RUNDOWN_INJECT_PPB) {
		rd_put(o, "1");
		return;
	}
	n = snprintf(frac, sizeof frac, "%09u", (unsigned)ppb);
	while (n > 1 && frac[n - 1] == '0')
		frac[--n] = '\0';
	rd_put(o, "0.%s", frac);
}

static void rd_put_dur(struct rd_out *o, uint64_t ns)
{
	static const struct { const char *unit; uint64_t mul; } u[] = {
		{ "s", 1000000000u }, { "ms", 1000000u }, { "us", 1000u }, { "ns", 1u },
	};

	for (size_t i = 0; i < 4; i++) {
		if (ns % u[i].mul == 0 && (ns != 0 || i == 3)) {
			rd_put(o, "%llu%s", (unsigned long long)(ns / u[i].mul), u[i].unit);
			return;
		}
	}
}

size_t rundown_inject_format(const struct rundown_inject_cfg *c, char *buf, size_t len)
{
	struct rd_out o = { buf, len, 0 };

	if (len > 0)
		buf[0] = '\0';
	if (c->have_seed)
		rd_put(&o, "seed=%llu", (unsigned long long)c->seed);
	if (c->yield.p) {
		rd_put_sep(&o);
		rd_put(&o, "sched=yield:p=");
		rd_put_prob(&o, c->yield.p);
	}
	if (c->delay.p) {
		rd_put_sep(&o);
		rd_put(&o, "sched=delay:p=");
		rd_put_prob(&o, c->delay.p);
		rd_put(&o, ",min=");
		rd_put_dur(&o, c->delay.min_ns);
		rd_put(&o, ",max=");
		rd_put_dur(&o, c->delay.max_ns);
	}
	if (c->chaos.on) {
		rd_put_sep(&o);
		rd_put(&o, "sched=chaos:min=");
		rd_put_dur(&o, c->chaos.min_ns);
		rd_put(&o, ",max=");
		rd_put_dur(&o, c->chaos.max_ns);
	}
	if (c->pct.on) {
		rd_put_sep(&o);
		rd_put(&o, "sched=pct:d=%u,k=%llu,cpu=%d", c->pct.d, (unsigned long long)c->pct.k,
		       c->pct.cpu);
	}
	switch (c->cpu.mode) {
	case RUNDOWN_INJECT_CPU_RANDOM:
		rd_put_sep(&o);
		rd_put(&o, "cpu=random");
		break;
	case RUNDOWN_INJECT_CPU_MIGRATE:
		rd_put_sep(&o);
		rd_put(&o, "cpu=migrate");
		break;
	case RUNDOWN_INJECT_CPU_HOTPLUG:
		rd_put_sep(&o);
		rd_put(&o, "cpu=hotplug:p=");
		rd_put_prob(&o, c->cpu.p);
		rd_put(&o, ",span=%u", c->cpu.span);
		break;
	case RUNDOWN_INJECT_CPU_FIXED:
		rd_put_sep(&o);
		rd_put(&o, "cpu=fixed:%u", c->cpu.n);
		break;
	default:
		break;
	}
	if (c->ncpu) {
		rd_put_sep(&o);
		rd_put(&o, "ncpu=%u", c->ncpu);
	}
	if (c->alloc.mode != RUNDOWN_INJECT_ALLOC_OFF) {
		rd_put_sep(&o);
		if (c->alloc.mode == RUNDOWN_INJECT_ALLOC_P) {
			rd_put(&o, "alloc=p:");
			rd_put_prob(&o, c->alloc.p);
		} else {
			rd_put(&o, "alloc=%s:%llu",
			       c->alloc.mode == RUNDOWN_INJECT_ALLOC_NTH ? "nth" : "every",
			       (unsigned long long)c->alloc.n);
		}
		if (c->alloc.max)
			rd_put(&o, ",max=%llu", (unsigned long long)c->alloc.max);
		if (c->alloc.armed)
			rd_put(&o, ",scope=armed");
	}
	if (c->futex.spurious_p) {
		rd_put_sep(&o);
		rd_put(&o, "futex=spurious:p=");
		rd_put_prob(&o, c->futex.spurious_p);
	}
	if (c->futex.eintr_p) {
		rd_put_sep(&o);
		rd_put(&o, "futex=eintr:p=");
		rd_put_prob(&o, c->futex.eintr_p);
	}
	if (c->irql) {
		rd_put_sep(&o);
		rd_put(&o, "irql=%s", c->irql == RUNDOWN_INJECT_IRQL_ABORT ? "abort" : "record");
	}
	if (c->log[0]) {
		rd_put_sep(&o);
		rd_put(&o, "log=%s", c->log);
	}
	return o.need;
}
