/* tests/fuzz/fuzz_trace.c — the trace reader on arbitrary bytes.
 *
 * The input is a whole trace file (format 2, docs/TRACE.md), read through
 * trace_read_stream() under the name "fuzz.trace" with the model's event
 * schema (mev_schema). It must be accepted, or rejected with one line
 * "fuzz.trace:LINE: message" (LINE an existing line or one past the last)
 * and *out left empty (sched/trace.h). An accepted trace must hold what
 * the format promises: version 2, steps numbered 0, 1, ... with thread ids
 * within TRACE_TID_MAX and choices[] equal to them, no control byte in any
 * string, trace_get()/trace_get_next() agreeing with kv[], at most
 * SCHED_STEP_EVENTS events a step, each of a schema kind with its field
 * count and its symbols in range, and a checksum verdict that is the
 * FNV-1a 64 of the bytes before the checksum line compared with the digits
 * on it (none: 0). And it must survive the writer: written back with
 * trace_kv()/trace_step_events()/trace_end() it reads back to the same
 * trace (events included) with a matching checksum, and writing that again
 * gives the same bytes. Once per process, trace_read() of a missing file
 * and of a directory (not a regular file, sched/files.h) must fail with
 * "path:1: message".
 */
#include "tests/fuzz/fuzz.h"

#include "model/event.h"
#include "sched/trace.h"

#define NAME "fuzz.trace"

static void check_str(const char *what, size_t i, const char *s)
{
	if (!s)
		fuzz_fail("accepted trace: %s %zu is NULL", what, i);
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			fuzz_fail("accepted trace: control byte in %s %zu", what, i);
	if (strlen(s) > TRACE_LINE_MAX)
		fuzz_fail("accepted trace: %s %zu longer than a line", what, i);
}

static void check_events(const struct trace *t, size_t i)
{
	const struct trace_step *st = &t->steps[i];

	if (st->nev > SCHED_STEP_EVENTS || (st->nev && !st->ev))
		fuzz_fail("accepted trace: step %zu has %zu events", i, st->nev);
	for (size_t j = 0; j < st->nev; j++) {
		const struct sched_event *e = &st->ev[j];
		const struct sched_ev_kind *k = sched_ev_kind_of(&mev_schema, e);

		if (!k)
			fuzz_fail("accepted trace: step %zu event %zu: kind %u with %u fields",
				  i, j, e->kind, e->nf);
		for (int f = 0; f < SCHED_EV_FIELDS; f++) {
			if (f >= k->nf) {
				if (e->f[f])
					fuzz_fail("accepted trace: step %zu event %zu: field %d set",
						  i, j, f);
				continue;
			}
			if (k->key[f].fmt != SCHED_EV_SYM)
				continue;
			int64_t ns = 0;

			while (k->key[f].sym[ns])
				ns++;
			if (e->f[f] < 0 || e->f[f] >= ns)
				fuzz_fail("accepted trace: step %zu event %zu: symbol %lld of %s",
					  i, j, (long long)e->f[f], k->key[f].name);
		}
	}
}

/* What trace.checksum must say about data: the first line "checksum X"
 * after the "steps" line (not in the header) is compared with the FNV-1a
 * 64 of every byte before it; 0 when there is none. *line: its number. */
static int expected_checksum(const uint8_t *d, size_t n, unsigned long *line)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned long l = 1;
	int body = 0;

	*line = 0;
	for (size_t i = 0; i < n; l++) {
		size_t e = i;

		while (e < n && d[e] != '\n')
			e++;
		if (body && e - i == 25 && !memcmp(d + i, "checksum ", 9)) {
			uint64_t want = 0;

			for (size_t k = i + 9; k < e; k++)
				want = want << 4 |
				       (uint64_t)(d[k] <= '9' ? d[k] - '0' : d[k] - 'a' + 10);
			*line = l;
			return want == h ? 1 : -1;
		}
		if (e - i == 5 && !memcmp(d + i, "steps", 5))
			body = 1;
		for (; i <= e && i < n; i++)
			h = (h ^ d[i]) * 0x100000001b3ULL;
	}
	return 0;
}

static void check_trace(const struct trace *t, const uint8_t *data,
			size_t size)
{
	size_t n;
	unsigned long sum_line;
	int sum = expected_checksum(data, size, &sum_line);

	if (t->checksum != sum || t->checksum_line != sum_line)
		fuzz_fail("accepted trace: checksum %d at line %lu, the bytes say %d at line %lu",
			  t->checksum, t->checksum_line, sum, sum_line);

	if (t->version != TRACE_VERSION)
		fuzz_fail("accepted trace: version %d", t->version);
	if (t->nkv && !t->kv)
		fuzz_fail("accepted trace: kv NULL");
	for (size_t i = 0; i < t->nkv; i++) {
		check_str("key", i, t->kv[i].key);
		check_str("value", i, t->kv[i].value);
		if (!t->kv[i].key[0] || strchr(t->kv[i].key, ' '))
			fuzz_fail("accepted trace: key %zu empty or with a space", i);
		/* the first value of a key, and the iteration over them */
		size_t first = 0;

		while (strcmp(t->kv[first].key, t->kv[i].key))
			first++;
		if (trace_get(t, t->kv[i].key) != t->kv[first].value)
			fuzz_fail("trace_get(\"%s\") is not its first value", t->kv[i].key);
		size_t pos = 0, seen = 0;
		const char *v;

		while ((v = trace_get_next(t, t->kv[i].key, &pos))) {
			if (pos == 0 || pos > t->nkv || v != t->kv[pos - 1].value ||
			    strcmp(t->kv[pos - 1].key, t->kv[i].key))
				fuzz_fail("trace_get_next(\"%s\") strays", t->kv[i].key);
			if (pos - 1 == i)
				seen = 1;
		}
		if (!seen)
			fuzz_fail("trace_get_next(\"%s\") misses line %zu", t->kv[i].key, i);
	}
	const uint32_t *c = trace_choices(t, &n);

	if (n != t->nsteps || (n && (!c || !t->steps)))
		fuzz_fail("accepted trace: choices/steps");
	for (size_t i = 0; i < n; i++) {
		if (t->steps[i].step != i)
			fuzz_fail("accepted trace: step %zu numbered %llu", i,
				  (unsigned long long)t->steps[i].step);
		if (t->steps[i].tid > TRACE_TID_MAX || c[i] != t->steps[i].tid)
			fuzz_fail("accepted trace: step %zu tid %u, choice %u", i,
				  t->steps[i].tid, c[i]);
		check_str("label", i, t->steps[i].label);
		check_events(t, i);
	}
	if (t->violation)
		check_str("violation", 0, t->violation);
}

/* t written by the writer: 0 and a malloc'd text, or the writer's error
 * (*text then NULL). */
static int write_back(const struct trace *t, char **text, size_t *len)
{
	struct trace_writer w;
	FILE *f = open_memstream(text, len);
	int e;

	if (!f)
		fuzz_fail("open_memstream: out of memory");
	e = trace_writer_open(&w, f);
	trace_writer_schema(&w, &mev_schema);
	for (size_t i = 0; !e && i < t->nkv; i++)
		e = trace_kv(&w, t->kv[i].key, "%s", t->kv[i].value);
	if (!e)
		e = trace_steps_begin(&w);
	for (size_t i = 0; !e && i < t->nsteps; i++)
		e = trace_step_events(&w, t->steps[i].step, (int)t->steps[i].tid,
				      t->steps[i].ev, t->steps[i].nev,
				      t->steps[i].label);
	if (!e)
		e = trace_end(&w, t->violation);
	fclose(f);
	if (e) {
		free(*text);
		*text = NULL;
	}
	return e;
}

static int same_trace(const struct trace *a, const struct trace *b)
{
	if (a->version != b->version || a->nkv != b->nkv ||
	    a->nsteps != b->nsteps || !a->violation != !b->violation ||
	    (a->violation && strcmp(a->violation, b->violation)))
		return 0;
	for (size_t i = 0; i < a->nkv; i++)
		if (strcmp(a->kv[i].key, b->kv[i].key) ||
		    strcmp(a->kv[i].value, b->kv[i].value))
			return 0;
	for (size_t i = 0; i < a->nsteps; i++) {
		const struct trace_step *x = &a->steps[i], *y = &b->steps[i];

		if (x->step != y->step || x->tid != y->tid ||
		    strcmp(x->label, y->label) || x->nev != y->nev)
			return 0;
		for (size_t j = 0; j < x->nev; j++)
			if (x->ev[j].kind != y->ev[j].kind ||
			    x->ev[j].nf != y->ev[j].nf ||
			    memcmp(x->ev[j].f, y->ev[j].f, sizeof x->ev[j].f))
				return 0;
	}
	return 1;
}

/* The reader refuses every header key the writer refuses (a reserved word,
 * a byte outside printable ASCII): fuzzing found it did not, and the
 * inputs are in the corpus now. So every accepted trace must round-trip. */
static void check_round_trip(const struct trace *t)
{
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;
	struct trace u;
	char err[FUZZ_ERR_LEN];

	int e = write_back(t, &t1, &l1);

	if (e)
		fuzz_fail("the writer refuses a trace the reader accepted (error %d)", e);
	FILE *f = fmemopen(t1, l1, "r");

	if (!f)
		fuzz_fail("fmemopen failed");
	if (trace_read_stream(f, "written", &mev_schema, &u, err, sizeof err))
		fuzz_fail("the reader refuses what the writer wrote: %s", err);
	fclose(f);
	if (!same_trace(t, &u))
		fuzz_fail("read -> write -> read changes the trace");
	if (u.checksum != 1)
		fuzz_fail("what the writer wrote fails its own checksum (%d)", u.checksum);
	if (write_back(&u, &t2, &l2) || l1 != l2 || memcmp(t1, t2, l1))
		fuzz_fail("writing a re-read trace gives other bytes");
	trace_free(&u);
	free(t1);
	free(t2);
}

/* trace_read() of a path that is no regular file: "path:1: message". */
static void check_unreadable(const char *path)
{
	static char err[FUZZ_ERR_LEN];
	static const struct trace zero;
	struct trace t;

	fuzz_err_init(err);
	memset(&t, 0x5a, sizeof t);
	if (trace_read(path, &mev_schema, &t, err, sizeof err) != -1)
		fuzz_fail("trace_read(\"%s\") did not fail", path);
	fuzz_check_err("trace_read", err, path, 1, 0);
	if (memcmp(&t, &zero, sizeof t))
		fuzz_fail("trace_read(\"%s\") left *out non-empty", path);
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static char err[FUZZ_ERR_LEN];
	static int once;

	if (!once) {
		once = 1;
		check_unreadable("/nonexistent/fuzz.trace");
		check_unreadable("/");
	}
	struct trace t;
	/* fmemopen refuses a zero-sized buffer */
	static const uint8_t none[1];
	FILE *f = fmemopen((void *)(size ? data : none), size ? size : 1, "r");

	if (!f)
		fuzz_fail("fmemopen failed");
	if (!size)
		(void)getc(f); /* the 1-byte stand-in: now at end of file */
	fuzz_err_init(err);
	memset(&t, 0x5a, sizeof t);
	int r = trace_read_stream(f, NAME, &mev_schema, &t, err, sizeof err);

	fclose(f);
	if (r == -1) {
		static const struct trace zero;

		fuzz_check_err("trace_read_stream", err, NAME, 1, fuzz_lines(data, size));
		if (memcmp(&t, &zero, sizeof t))
			fuzz_fail("a rejected trace left *out non-empty");
		trace_free(&t);
		return 0;
	}
	if (r != 0)
		fuzz_fail("trace_read_stream returned %d", r);
	check_trace(&t, data, size);
	check_round_trip(&t);
	trace_free(&t);
	return 0;
}
