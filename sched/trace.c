/* sched/trace.c — trace file writer and reader (format in sched/trace.h). */
#include "sched/trace.h"
#include "sched/files.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { W_HEADER, W_STEPS, W_ENDED };

/* ------------------------------------------------------------------ */
/* writer                                                              */

static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int w_fail(struct trace_writer *w, int err)
{
	if (!w->err)
		w->err = err;
	return w->err;
}

/* A stdio write failed: keep what the kernel said (ENOSPC on a full disk),
 * EIO only when stdio left no errno. */
static int w_io(struct trace_writer *w)
{
	return w_fail(w, errno ? -errno : -EIO);
}

/* Write `head` then `text` with control characters turned into spaces, so
 * that no text can split a line; then the newline. */
#define FNV_BASIS UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t fnv_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

/* One byte to the stream and the running checksum. */
static int w_put(struct trace_writer *w, unsigned char c)
{
	w->sum = fnv_byte(w->sum, c);
	return putc(c, w->f) == EOF ? w_io(w) : 0;
}

static int w_str(struct trace_writer *w, const char *s)
{
	for (; *s; s++)
		if (w_put(w, (unsigned char)*s))
			return w->err;
	return 0;
}

static int w_line(struct trace_writer *w, const char *head, const char *text)
{
	size_t hl = strlen(head), tl = text ? strlen(text) : 0;

	if (hl + tl > TRACE_LINE_MAX)
		return w_fail(w, -E2BIG);
	if (w_str(w, head))
		return w->err;
	for (size_t i = 0; i < tl; i++) {
		unsigned char c = (unsigned char)text[i];

		if (w_put(w, is_ctl(c) ? ' ' : c))
			return w->err;
	}
	return w_put(w, '\n');
}

int trace_writer_open(struct trace_writer *w, FILE *f)
{
	char magic[64];

	memset(w, 0, sizeof(*w));
	if (!f)
		return w_fail(w, -EINVAL);
	w->f = f;
	w->state = W_HEADER;
	w->sum = FNV_BASIS;
	snprintf(magic, sizeof(magic), "%s %d", TRACE_MAGIC, TRACE_VERSION);
	return w_line(w, magic, NULL);
}

static int key_ok(const char *key)
{
	static const char *const reserved[] = {"steps", "end", "violation",
					       TRACE_MAGIC};

	if (!key || !*key)
		return 0;
	for (const char *p = key; *p; p++)
		if (*p <= ' ' || *p >= 0x7f)
			return 0;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(key, reserved[i]) == 0)
			return 0;
	return 1;
}

int trace_kv(struct trace_writer *w, const char *key, const char *fmt, ...)
{
	char head[TRACE_LINE_MAX + 2], value[TRACE_LINE_MAX + 2];
	va_list ap;
	int n;

	if (w->err)
		return w->err;
	if (w->state != W_HEADER)
		return w_fail(w, -EPROTO);
	if (!key_ok(key))
		return w_fail(w, -EINVAL);
	va_start(ap, fmt);
	n = vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	if (n < 0)
		return w_fail(w, -EINVAL);
	if ((size_t)n >= sizeof(value))
		return w_fail(w, -E2BIG);
	n = snprintf(head, sizeof(head), "%s ", key);
	if (n < 0 || (size_t)n >= sizeof(head))
		return w_fail(w, -E2BIG);
	return w_line(w, head, value);
}

int trace_steps_begin(struct trace_writer *w)
{
	if (w->err)
		return w->err;
	if (w->state == W_STEPS)
		return 0;
	if (w->state != W_HEADER)
		return w_fail(w, -EPROTO);
	w->state = W_STEPS;
	return w_line(w, "steps", NULL);
}

void trace_writer_schema(struct trace_writer *w,
			 const struct sched_ev_schema *schema)
{
	w->schema = schema;
}

const struct sched_ev_kind *sched_ev_kind_of(const struct sched_ev_schema *sc,
					     const struct sched_event *ev)
{
	if (!sc || ev->kind >= sc->nkinds)
		return NULL;
	const struct sched_ev_kind *k = &sc->kinds[ev->kind];

	return k->nf == ev->nf ? k : NULL;
}

static size_t sym_count(const char *const *sym)
{
	size_t n = 0;

	while (sym && sym[n])
		n++;
	return n;
}

/* " kind key=value ..." of one event into buf; its length, or -EINVAL. */
static int fmt_event(const struct sched_ev_schema *sc,
		     const struct sched_event *ev, char *buf, size_t n)
{
	const struct sched_ev_kind *k = sched_ev_kind_of(sc, ev);

	if (!k)
		return -EINVAL;
	size_t o = (size_t)snprintf(buf, n, " %s", k->name);

	for (int i = 0; i < k->nf && o < n; i++) {
		const struct sched_ev_key *key = &k->key[i];
		int64_t v = ev->f[i];

		if (key->fmt == SCHED_EV_HEX)
			o += (size_t)snprintf(buf + o, n - o, " %s=0x%llx",
					      key->name,
					      (unsigned long long)(uint64_t)v);
		else if (key->fmt == SCHED_EV_DEC)
			o += (size_t)snprintf(buf + o, n - o, " %s=%lld",
					      key->name, (long long)v);
		else if (v >= 0 && (size_t)v < sym_count(key->sym))
			o += (size_t)snprintf(buf + o, n - o, " %s=%s",
					      key->name, key->sym[v]);
		else
			return -EINVAL;
	}
	return o < n ? (int)o : -E2BIG;
}

/* The bytes the events of a step take, or -errno: checked before anything
 * is written, so that a bad event never leaves half a line. */
static int events_len(const struct trace_writer *w,
		      const struct sched_event *ev, size_t nev, size_t *len)
{
	char buf[512];

	*len = 0;
	if (nev && !w->schema)
		return -EINVAL;
	for (size_t i = 0; i < nev; i++) {
		int l = fmt_event(w->schema, &ev[i], buf, sizeof(buf));

		if (l < 0)
			return l;
		*len += (size_t)l + (i ? 2 : 0); /* " ;" between two */
	}
	return 0;
}

int trace_step_events(struct trace_writer *w, uint64_t step, int tid,
		      const struct sched_event *ev, size_t nev,
		      const char *label)
{
	char head[64], buf[512];
	size_t ll = label ? strlen(label) : 0, el;
	int err;

	if (w->err)
		return w->err;
	if (step != w->next_step || tid < 0 || tid > TRACE_TID_MAX)
		return w_fail(w, -EINVAL);
	if ((err = trace_steps_begin(w)) || (err = events_len(w, ev, nev, &el)))
		return w_fail(w, err);
	int hl = snprintf(head, sizeof(head), "%llu %d",
			  (unsigned long long)step, tid);

	if ((size_t)hl + el + 2 + (ll ? ll + 1 : 0) > TRACE_LINE_MAX)
		return w_fail(w, -E2BIG);
	if (w_str(w, head))
		return w->err;
	for (size_t i = 0; i < nev; i++) {
		fmt_event(w->schema, &ev[i], buf, sizeof(buf));
		if ((i && w_str(w, " ;")) || w_str(w, buf))
			return w->err;
	}
	err = w_line(w, ll ? " | " : " |", ll ? label : NULL);
	if (!err)
		w->next_step++;
	assert(w->err || w->next_step == step + 1);
	return err;
}

int trace_step(struct trace_writer *w, uint64_t step, int tid,
	       const char *label)
{
	return trace_step_events(w, step, tid, NULL, 0, label);
}

void trace_step_sink(void *wp, const struct sched_step_info *st)
{
	struct trace_writer *w = wp;

	if (st->ev_lost) {
		w_fail(w, -E2BIG); /* sticky: trace_end reports */
		return;
	}
	(void)trace_step_events(w, st->step, st->tid, st->ev, st->nev,
				st->label);
}

int trace_end(struct trace_writer *w, const char *violation)
{
	int err;

	if (w->err)
		return w->err;
	err = trace_steps_begin(w);
	if (err)
		return err;
	if (violation && (err = w_line(w, "violation ", violation)))
		return err;
	char sum[40];
	snprintf(sum, sizeof sum, "checksum %016llx", (unsigned long long)w->sum);
	if ((err = w_line(w, sum, NULL)))
		return err;
	if ((err = w_line(w, "end", NULL)))
		return err;
	w->state = W_ENDED;
	if (fflush(w->f) == EOF || ferror(w->f))
		return w_io(w);
	return 0;
}

/* ------------------------------------------------------------------ */
/* reader                                                              */

enum { R_MAGIC, R_HEADER, R_STEPS, R_VIOLATION, R_SUMMED, R_ENDED };

struct kv_off {
	size_t key, value;
};

struct step_off {
	size_t label;       /* into str */
	size_t ev, nev;     /* into ev */
};

struct reader {
	FILE *f;
	const char *name;
	char *err;
	size_t errlen;
	unsigned long lineno;
	char line[TRACE_LINE_MAX + 1];
	size_t len;
	/* Strings are kept as offsets into one growing buffer until the
	 * end, when the buffer stops moving and they become pointers. */
	char *str;
	size_t str_len, str_cap;
	struct kv_off *kv;
	size_t nkv, kv_cap;
	struct trace_step *steps;
	struct step_off *off; /* per step, grown with steps */
	size_t nsteps, steps_cap;
	size_t violation;   /* offset + 1; 0 = none */
	const struct sched_ev_schema *schema;
	struct sched_event *ev; /* every step's events, in order */
	size_t nev, ev_cap;
	uint64_t sum;           /* FNV-1a 64 of the lines before this one */
	int checksum;           /* as struct trace's */
	unsigned long checksum_line;
};

__attribute__((format(printf, 2, 3)))
static int rfail(struct reader *r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->err && r->errlen)
		snprintf(r->err, r->errlen, "%s:%lu: %s", r->name, r->lineno,
			 msg);
	return -1;
}

/* 1: a line is in r->line; 0: clean end of file; -1: error reported. */
static int read_line(struct reader *r)
{
	int c;

	r->len = 0;
	r->lineno++;
	for (;;) {
		c = getc(r->f);
		if (c == '\n')
			break;
		if (c == EOF) {
			if (ferror(r->f))
				return rfail(r, "read error: %s",
					     strerror(errno ? errno : EIO));
			if (r->len == 0)
				return 0;
			return rfail(r, "truncated file: last line has no "
					"newline");
		}
		if (r->len == TRACE_LINE_MAX)
			return rfail(r, "line longer than %d bytes",
				     TRACE_LINE_MAX);
		if (is_ctl((unsigned char)c))
			return rfail(r, "binary data (byte 0x%02x) at column "
					"%zu", c, r->len + 1);
		r->line[r->len++] = (char)c;
	}
	r->line[r->len] = '\0';
	return 1;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem)
			return -1;
		n *= 2;
	}
	q = realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Copy s into the string buffer; its offset in *off. */
static int keep(struct reader *r, const char *s, size_t *off)
{
	size_t n = strlen(s) + 1;

	if (grow((void **)&r->str, &r->str_cap, r->str_len + n, 1))
		return rfail(r, "out of memory");
	memcpy(r->str + r->str_len, s, n);
	*off = r->str_len;
	r->str_len += n;
	return 0;
}

/* A canonical decimal: digits, no sign, no leading zero, no overflow. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || (s[0] == '0' && len > 1))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* For messages: at most 32 bytes of a token. */
#define TOK(p, n) (int)((n) > 32 ? 32 : (n)), (p)

static int parse_magic(struct reader *r, struct trace *out)
{
	static const char magic[] = TRACE_MAGIC " ";
	const size_t ml = sizeof(magic) - 1;
	uint64_t v;

	if (r->len < ml || memcmp(r->line, magic, ml) != 0)
		return rfail(r, "not a uffdlab trace (expected '%s %d')",
			     TRACE_MAGIC, TRACE_VERSION);
	if (parse_u64(r->line + ml, r->len - ml, &v))
		return rfail(r, "bad format version '%.*s'",
			     TOK(r->line + ml, r->len - ml));
	if (v != TRACE_VERSION)
		return rfail(r, "unsupported trace format version %llu "
				"(this reader reads %d)",
			     (unsigned long long)v, TRACE_VERSION);
	out->version = (int)v;
	return 0;
}

static int parse_header(struct reader *r)
{
	char *sp = memchr(r->line, ' ', r->len);
	struct kv_off kv;

	if (strcmp(r->line, "end") == 0)
		return rfail(r, "'end' before 'steps'");
	if (!sp || sp == r->line)
		return rfail(r, "bad header line, expected 'key value' or "
				"'steps'");
	*sp = '\0';
	if (keep(r, r->line, &kv.key) || keep(r, sp + 1, &kv.value))
		return -1;
	if (grow((void **)&r->kv, &r->kv_cap, r->nkv + 1, sizeof(*r->kv)))
		return rfail(r, "out of memory");
	r->kv[r->nkv++] = kv;
	return 0;
}

/* A signed decimal without leading zeros ("-0" is not one). */
static int parse_i64(const char *s, size_t len, int64_t *out)
{
	uint64_t v;
	int neg = len && s[0] == '-';

	if (parse_u64(s + neg, len - (size_t)neg, &v))
		return -1;
	if (neg ? (v == 0 || v > (uint64_t)INT64_MAX + 1) : v > INT64_MAX)
		return -1;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

/* "0x" and lowercase hex digits, no leading zero but in "0x0". */
static int parse_hex(const char *s, size_t len, int64_t *out)
{
	uint64_t v = 0;

	if (len < 3 || len > 18 || s[0] != '0' || s[1] != 'x' ||
	    (s[2] == '0' && len > 3))
		return -1;
	for (size_t i = 2; i < len; i++) {
		unsigned d;

		if (s[i] >= '0' && s[i] <= '9')
			d = (unsigned)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = (unsigned)(s[i] - 'a' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = (int64_t)v;
	return 0;
}

static int parse_value(const struct sched_ev_key *key, const char *s,
		       size_t len, int64_t *out)
{
	if (key->fmt == SCHED_EV_DEC)
		return parse_i64(s, len, out);
	if (key->fmt == SCHED_EV_HEX)
		return parse_hex(s, len, out);
	for (size_t i = 0; key->sym && key->sym[i]; i++)
		if (strlen(key->sym[i]) == len && !memcmp(key->sym[i], s, len)) {
			*out = (int64_t)i;
			return 0;
		}
	return -1;
}

static const struct sched_ev_kind *find_kind(const struct sched_ev_schema *sc,
					     const char *s, size_t len,
					     size_t *code)
{
	for (size_t i = 0; sc && i < sc->nkinds; i++)
		if (strlen(sc->kinds[i].name) == len &&
		    !memcmp(sc->kinds[i].name, s, len)) {
			*code = i;
			return &sc->kinds[i];
		}
	return NULL;
}

/* The next space-separated token at *p (before end): its start and length;
 * *p moves past it and one space. */
static const char *token(const char **p, const char *end, size_t *len)
{
	const char *t = *p, *sp = memchr(t, ' ', (size_t)(end - t));

	if (!sp)
		sp = end;
	*len = (size_t)(sp - t);
	*p = sp < end ? sp + 1 : end;
	return t;
}

/* One event: the kind token at t, its fields after it. */
static int parse_event(struct reader *r, const char *t, size_t tl,
		       const char **p, const char *end)
{
	size_t code, kl;
	const struct sched_ev_kind *k = find_kind(r->schema, t, tl, &code);

	if (!k)
		return rfail(r, "unknown event kind '%.*s'", TOK(t, tl));
	if (grow((void **)&r->ev, &r->ev_cap, r->nev + 1, sizeof(*r->ev)))
		return rfail(r, "out of memory");
	struct sched_event *e = &r->ev[r->nev];

	memset(e, 0, sizeof(*e));
	e->kind = (uint16_t)code;
	e->nf = (uint16_t)k->nf;
	for (int i = 0; i < k->nf; i++) {
		const char *f = token(p, end, &kl);
		const char *eq = memchr(f, '=', kl);
		size_t nl = strlen(k->key[i].name);

		if (!kl || !eq || (size_t)(eq - f) != nl ||
		    memcmp(f, k->key[i].name, nl))
			return rfail(r, "event '%s' needs '%s=' as field %d, "
					"got '%.*s'", k->name, k->key[i].name,
				     i + 1, TOK(f, kl));
		if (parse_value(&k->key[i], eq + 1, kl - nl - 1, &e->f[i]))
			return rfail(r, "event '%s': bad value '%.*s' for '%s'",
				     k->name, TOK(eq + 1, kl - nl - 1),
				     k->key[i].name);
	}
	r->nev++;
	return 0;
}

/* The events of a step line, separated by ";", up to its "|", and the
 * label after it. */
static int parse_step_body(struct reader *r, const char *p, const char *end,
			   struct step_off *so)
{
	size_t tl;
	const char *t = NULL;

	so->ev = r->nev;
	for (;;) {
		if (p >= end)
			return rfail(r, "step line needs ' |' before its label");
		t = token(&p, end, &tl);
		if (tl == 1 && t[0] == '|' && r->nev == so->ev)
			break; /* no events */
		if (memchr(t, '=', tl))
			return rfail(r, "field '%.*s' before any event kind",
				     TOK(t, tl));
		if (parse_event(r, t, tl, &p, end))
			return -1;
		if (r->nev - so->ev > SCHED_STEP_EVENTS)
			return rfail(r, "more than %d events in one step",
				     SCHED_STEP_EVENTS);
		if (p >= end)
			return rfail(r, "step line needs ' |' before its label");
		t = token(&p, end, &tl);
		if (tl == 1 && t[0] == '|')
			break;
		if (tl != 1 || t[0] != ';')
			return rfail(r, "expected ';' or '|' after an event, "
					"got '%.*s'", TOK(t, tl));
	}
	so->nev = r->nev - so->ev;
	return keep(r, p, &so->label); /* token() ate the space after '|' */
}

static int parse_step(struct reader *r)
{
	const char *p = r->line, *end = r->line + r->len, *t;
	uint64_t step, tid;
	size_t tl;
	struct step_off so;

	t = token(&p, end, &tl);
	if (parse_u64(t, tl, &step))
		return rfail(r, "bad step number '%.*s'", TOK(t, tl));
	if (step != r->nsteps)
		return rfail(r, "step %llu out of order, expected %zu",
			     (unsigned long long)step, r->nsteps);
	if (p >= end)
		return rfail(r, "step line needs '<step> <tid> [events] | "
				"<label>'");
	t = token(&p, end, &tl);
	if (parse_u64(t, tl, &tid))
		return rfail(r, "bad thread id '%.*s'", TOK(t, tl));
	if (tid > TRACE_TID_MAX)
		return rfail(r, "thread id %llu out of range (0..%d)",
			     (unsigned long long)tid, TRACE_TID_MAX);
	if (parse_step_body(r, p, end, &so))
		return -1;
	size_t cap = r->steps_cap;

	if (grow((void **)&r->steps, &r->steps_cap, r->nsteps + 1,
		 sizeof(*r->steps)))
		return rfail(r, "out of memory");
	/* off follows steps_cap: same count, grown together, and only when
	 * it grew (a realloc per step is quadratic under ASan). */
	if (r->steps_cap != cap || !r->off) {
		struct step_off *o = realloc(r->off, r->steps_cap * sizeof(*o));

		if (!o)
			return rfail(r, "out of memory");
		r->off = o;
	}
	memset(&r->steps[r->nsteps], 0, sizeof(r->steps[0]));
	r->steps[r->nsteps].step = step;
	r->steps[r->nsteps].tid = (uint32_t)tid;
	r->off[r->nsteps++] = so;
	assert(r->nsteps <= r->steps_cap);
	return 0;
}

/* "checksum <16 hex>": compared with the lines before it. */
static int parse_checksum(struct reader *r)
{
	static const char key[] = "checksum ";
	const char *h = r->line + sizeof(key) - 1;
	unsigned long long want = 0;

	if (strlen(h) != 16 || strspn(h, "0123456789abcdef") != 16)
		return rfail(r, "bad checksum line (expected 16 lowercase hex digits)");
	for (int i = 0; i < 16; i++)
		want = want << 4 | (unsigned long long)(h[i] <= '9' ? h[i] - '0' : h[i] - 'a' + 10);
	r->checksum = want == r->sum ? 1 : -1;
	r->checksum_line = r->lineno;
	return 0;
}

static int is_checksum(const struct reader *r)
{
	return strncmp(r->line, "checksum ", 9) == 0;
}

/* A line after "steps": a step, the violation, the checksum or the end. */
static int body_line(struct reader *r, int *state)
{
	static const char viol[] = "violation ";

	if (*state == R_STEPS && strncmp(r->line, viol, sizeof(viol) - 1) == 0) {
		size_t off;

		if (keep(r, r->line + sizeof(viol) - 1, &off))
			return -1;
		r->violation = off + 1;
		*state = R_VIOLATION;
		return 0;
	}
	if (*state != R_SUMMED && is_checksum(r)) {
		*state = R_SUMMED;
		return parse_checksum(r);
	}
	if (strcmp(r->line, "end") == 0) {
		*state = R_ENDED;
		return 0;
	}
	if (*state == R_STEPS)
		return parse_step(r);
	return rfail(r, *state == R_VIOLATION
				? "expected 'checksum' or 'end' after 'violation'"
				: "expected 'end' after 'checksum'");
}

static int parse_lines(struct reader *r, struct trace *out)
{
	int state = R_MAGIC, got;

	r->sum = FNV_BASIS;
	while ((got = read_line(r)) == 1) {
		int bad = 0;
		/* hashed before parsing, which may cut the line in place */
		uint64_t next = r->sum;

		for (size_t k = 0; k < r->len; k++)
			next = fnv_byte(next, (unsigned char)r->line[k]);
		next = fnv_byte(next, '\n');

		switch (state) {
		case R_MAGIC:
			bad = parse_magic(r, out);
			state = R_HEADER;
			break;
		case R_HEADER:
			if (strcmp(r->line, "steps") == 0)
				state = R_STEPS;
			else
				bad = parse_header(r);
			break;
		case R_ENDED:
			return rfail(r, "data after 'end'");
		default:
			bad = body_line(r, &state);
			break;
		}
		if (bad)
			return -1;
		r->sum = next;
	}
	if (got < 0)
		return -1;
	switch (state) {
	case R_MAGIC:
		return rfail(r, "empty file (expected '%s %d')", TRACE_MAGIC,
			     TRACE_VERSION);
	case R_HEADER:
		return rfail(r, "unexpected end of file: missing 'steps' "
				"line");
	case R_STEPS:
	case R_VIOLATION:
	case R_SUMMED:
		return rfail(r, "unexpected end of file: missing 'end' line "
				"(truncated trace?)");
	}
	return 0;
}

static void reader_free(struct reader *r)
{
	free(r->str);
	free(r->kv);
	free(r->steps);
	free(r->off);
	free(r->ev);
}

/* The parse succeeded: build *out from the reader's buffers. */
static int finish(struct reader *r, struct trace *out)
{
	size_t nkv = r->nkv ? r->nkv : 1, ns = r->nsteps ? r->nsteps : 1;

	out->kv = calloc(nkv, sizeof(*out->kv));
	out->choices = calloc(ns, sizeof(*out->choices));
	if (!r->str && keep(r, "", &(size_t){0}))
		return -1;
	if (!out->kv || !out->choices)
		return rfail(r, "out of memory");
	out->strings = r->str;
	r->str = NULL;
	for (size_t i = 0; i < r->nkv; i++) {
		out->kv[i].key = out->strings + r->kv[i].key;
		out->kv[i].value = out->strings + r->kv[i].value;
	}
	out->nkv = r->nkv;
	out->events = r->ev;
	r->ev = NULL;
	for (size_t i = 0; i < r->nsteps; i++) {
		r->steps[i].label = out->strings + r->off[i].label;
		r->steps[i].ev = out->events ? out->events + r->off[i].ev : NULL;
		r->steps[i].nev = r->off[i].nev;
		out->choices[i] = r->steps[i].tid;
	}
	out->steps = r->steps;
	r->steps = NULL;
	out->nsteps = r->nsteps;
	out->violation = r->violation ? out->strings + r->violation - 1 : NULL;
	out->checksum = r->checksum;
	out->checksum_line = r->checksum_line;
	return 0;
}

int trace_read_stream(FILE *f, const char *name,
		      const struct sched_ev_schema *schema, struct trace *out,
		      char *err, size_t errlen)
{
	struct reader *r = calloc(1, sizeof(*r));
	int rc;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	if (!r) {
		if (err && errlen)
			snprintf(err, errlen, "%s:0: out of memory", name);
		return -1;
	}
	r->f = f;
	r->name = name;
	r->schema = schema;
	r->err = err;
	r->errlen = errlen;
	rc = parse_lines(r, out);
	if (rc == 0)
		rc = finish(r, out);
	if (rc != 0)
		trace_free(out);
	reader_free(r);
	free(r);
	return rc;
}

int trace_read(const char *path, const struct sched_ev_schema *schema,
	       struct trace *out, char *err, size_t errlen)
{
	int e = 0;
	FILE *f = input_open(path, &e);
	int rc;

	if (!f) {
		memset(out, 0, sizeof(*out));
		if (err && errlen)
			snprintf(err, errlen, "%s:1: cannot open: %s", path,
				 input_strerror(e));
		return -1;
	}
	rc = trace_read_stream(f, path, schema, out, err, errlen);
	fclose(f);
	return rc;
}

const char *trace_get_next(const struct trace *t, const char *key,
			   size_t *pos)
{
	for (size_t i = *pos; i < t->nkv; i++) {
		if (strcmp(t->kv[i].key, key) == 0) {
			*pos = i + 1;
			return t->kv[i].value;
		}
	}
	*pos = t->nkv;
	return NULL;
}

const char *trace_get(const struct trace *t, const char *key)
{
	size_t pos = 0;

	return trace_get_next(t, key, &pos);
}

const uint32_t *trace_choices(const struct trace *t, size_t *n)
{
	if (n)
		*n = t->nsteps;
	return t->choices;
}

void trace_free(struct trace *t)
{
	free(t->kv);
	free(t->steps);
	free(t->choices);
	free(t->strings);
	free(t->events);
	memset(t, 0, sizeof(*t));
}
