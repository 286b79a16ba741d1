/* tests/fuzz/fuzz_scenario.c — the scenario parser on arbitrary bytes.
 *
 * The input is a whole .scn file. scn_parse_bytes() must either accept it
 * or reject it with one error line "fuzz.scn:LINE:COL: message" (LINE an
 * existing line or one past the last, COL at most one past that line's
 * end: scenarios/README.md "Errors"), and never crash. An accepted file
 * must give a scenario that respects every rule of scenarios/README.md
 * (ranges, roles, names, `after` references and acyclicity, expectations
 * naming registered invariants, handlers and variants): the simulator
 * trusts all of it. Parsing is deterministic: a second parse, into a
 * buffer filled with other garbage, gives the same fields.
 */
#include "tests/fuzz/fuzz.h"

#include "handler/handler.h"
#include "handler/variants.h"
#include "model/invariant.h"
#include "scenarios/scenario.h"

#define NAME "fuzz.scn"

/* Bytes of line `line` (1-based) without its '\n'; 0 past the end. */
static size_t line_len(const uint8_t *d, size_t n, long line)
{
	size_t i = 0;

	for (long l = 1; l < line && i < n; i++)
		if (d[i] == '\n')
			l++;
	size_t start = i;

	while (i < n && d[i] != '\n')
		i++;
	return i - start;
}

static void check_error(const uint8_t *d, size_t n, const char *err)
{
	const char *p = err + strlen(NAME) + 1;
	long line, col;

	fuzz_check_err("scn_parse_bytes", err, NAME, 2, fuzz_lines(d, n));
	line = fuzz_number(&p);
	p++;
	col = fuzz_number(&p);
	if ((size_t)col > line_len(d, n, line) + 1)
		fuzz_fail("scn_parse_bytes: column %ld past the end of line %ld (%zu bytes): \"%s\"",
			  col, line, line_len(d, n, line), err);
}

static int terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

static int name_ok(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int role_allows(enum scn_role r, enum scn_op_kind k)
{
	switch (r) {
	case SCN_GUEST:
		return k == SCN_READ || k == SCN_WRITE || k == SCN_EXIT;
	case SCN_BALLOON:
		return k == SCN_REMOVE || k == SCN_UNMAP || k == SCN_REMAP ||
		       k == SCN_FORK;
	case SCN_CONTROL:
		return k == SCN_PAUSE || k == SCN_RESUME || k == SCN_PREFETCH ||
		       k == SCN_SOURCE_FAIL || k == SCN_EXPORT;
	}
	return 0;
}

/* Ordering: program order plus `after` edges must be acyclic (colours:
 * 0 unseen, 1 on the path, 2 done). */
static int cyclic_from(const struct scenario *s, int t, int o,
		       unsigned char col[SCN_MAX_THREADS][SCN_MAX_OPS])
{
	if (col[t][o] == 1)
		return 1;
	if (col[t][o] == 2)
		return 0;
	col[t][o] = 1;
	/* op (t, o) waits for (t, o - 1) and for its `after` target */
	if (o > 0 && cyclic_from(s, t, o - 1, col))
		return 1;
	const struct scn_op *op = &s->threads[t].ops[o];

	if (op->after_thread >= 0 &&
	    cyclic_from(s, op->after_thread, op->after_op, col))
		return 1;
	col[t][o] = 2;
	return 0;
}

#define REQUIRE(cond, ...) \
	do { if (!(cond)) fuzz_fail("accepted scenario: " __VA_ARGS__); } while (0)

static void check_header(const struct scenario *s, const uint8_t *d, size_t n)
{
	REQUIRE(terminated(s->path, sizeof s->path) && !strcmp(s->path, NAME),
		"path");
	REQUIRE(terminated(s->name, sizeof s->name) && !strcmp(s->name, "fuzz"),
		"name");
	REQUIRE(s->hash == scn_hash_bytes(d, n), "hash is not FNV-1a of the bytes");
	REQUIRE(s->page_size == 4096 || s->page_size == 2097152,
		"page size %llu", (unsigned long long)s->page_size);
	REQUIRE(s->pages >= 1 && s->pages <= SCN_MAX_PAGES, "pages %d", s->pages);
	REQUIRE(s->page_size == 4096 || s->pages <= 64, "%d pages of 2m", s->pages);
	for (int i = 0; i < SCN_MAX_PAGES; i++)
		REQUIRE(i < s->pages ? s->fill[i] <= SCN_FILL_SENTINEL : s->fill[i] == 0,
			"fill[%d] = %d", i, s->fill[i]);
	REQUIRE(s->event_remove == 0 || s->event_remove == 1, "event_remove");
	REQUIRE(s->wp == 0 || s->wp == 1, "wp");
	REQUIRE(s->wp_async == 0 || (s->wp_async == 1 && s->wp), "wp-async without wp");
	REQUIRE(s->workers >= 0 && s->workers <= 4096, "workers %d", s->workers);
	REQUIRE(s->retries >= -1 && s->retries <= 16, "retries %d", s->retries);
	REQUIRE(s->contract == SCN_CONTRACT_KEEPS || s->contract == SCN_CONTRACT_BREAKS,
		"contract");
}

static void check_expects(const struct scenario *s, size_t nlines)
{
	REQUIRE(s->nexpect >= 0 && s->nexpect <= SCN_MAX_EXPECT, "nexpect %d", s->nexpect);
	REQUIRE(terminated(s->expect, sizeof s->expect), "expect");
	REQUIRE(s->nexpect ? !strcmp(s->expect, s->expects[0].invariant) : !s->expect[0],
		"expect is not the first expectation's invariant");
	for (int i = 0; i < s->nexpect; i++) {
		const struct scn_expect *e = &s->expects[i];

		REQUIRE(terminated(e->invariant, sizeof e->invariant) &&
			inv_find(e->invariant), "expect %d: invariant", i);
		REQUIRE(e->line >= 1 && (size_t)e->line <= nlines, "expect %d: line", i);
		REQUIRE(e->nwho >= 0 && e->nwho <= SCN_MAX_WHO, "expect %d: nwho", i);
		for (int j = 0; j < e->nwho; j++) {
			REQUIRE(terminated(e->who[j].handler, sizeof e->who[j].handler) &&
				terminated(e->who[j].variant, sizeof e->who[j].variant),
				"expect %d.%d: strings", i, j);
			const struct handler_desc *h = handler_find(e->who[j].handler);

			REQUIRE(h, "expect %d.%d: handler '%s' not registered", i, j,
				e->who[j].handler);
			if (e->who[j].variant[0]) {
				uint64_t b = variant_parse(e->who[j].variant);

				REQUIRE(b && (h->variants & b),
					"expect %d.%d: variant '%s' not one of %s's", i, j,
					e->who[j].variant, e->who[j].handler);
			}
		}
	}
}

/* One operation's arguments and ordering, within its thread t. */
static void check_op(const struct scenario *s, int t, int o, size_t nlines)
{
	const struct scn_thread *th = &s->threads[t];
	const struct scn_op *op = &th->ops[o];
	uint64_t P = (uint64_t)s->pages;

	REQUIRE(role_allows(th->role, op->kind),
		"thread %d op %d: kind %d for role %d", t, o, op->kind, th->role);
	REQUIRE(op->line >= 1 && (size_t)op->line <= nlines,
		"thread %d op %d: line %d", t, o, op->line);
	switch (op->kind) {
	case SCN_READ:
		REQUIRE(op->a < P, "read page");
		break;
	case SCN_WRITE:
		REQUIRE(op->a < P && op->b >= 1 && op->b <= 255, "write page/value");
		break;
	case SCN_REMOVE:
	case SCN_PREFETCH:
	case SCN_UNMAP:
	case SCN_REMAP:
		REQUIRE(op->a <= op->b && op->b < P, "range %llu..%llu",
			(unsigned long long)op->a, (unsigned long long)op->b);
		break;
	case SCN_SOURCE_FAIL:
		REQUIRE(op->a < P && op->b <= 65535, "source-fail");
		break;
	default:
		break;
	}
	if (op->after_thread == -1) {
		REQUIRE(op->after_op == -1, "after_op without after_thread");
		return;
	}
	REQUIRE(op->after_thread >= 0 && op->after_thread < s->nthreads &&
		op->after_thread != t,
		"thread %d op %d: after_thread %d", t, o, op->after_thread);
	REQUIRE(op->after_op >= 0 && op->after_op < s->threads[op->after_thread].nops,
		"thread %d op %d: after_op %d", t, o, op->after_op);
}

static void check_threads(const struct scenario *s, size_t nlines)
{
	REQUIRE(s->nthreads >= 1 && s->nthreads <= SCN_MAX_THREADS,
		"nthreads %d", s->nthreads);
	for (int t = 0; t < s->nthreads; t++) {
		const struct scn_thread *th = &s->threads[t];

		REQUIRE(terminated(th->name, sizeof th->name) && name_ok(th->name),
			"thread %d: name", t);
		for (int u = 0; u < t; u++)
			REQUIRE(strcmp(th->name, s->threads[u].name),
				"thread name '%s' twice", th->name);
		REQUIRE(th->role >= SCN_GUEST && th->role <= SCN_CONTROL,
			"thread %d: role %d", t, th->role);
		REQUIRE(th->nops >= 0 && th->nops <= SCN_MAX_OPS, "thread %d: nops", t);
		for (int o = 0; o < th->nops; o++)
			check_op(s, t, o, nlines);
	}
	static unsigned char col[SCN_MAX_THREADS][SCN_MAX_OPS];

	memset(col, 0, sizeof col);
	for (int t = 0; t < s->nthreads; t++)
		for (int o = 0; o < s->threads[t].nops; o++)
			REQUIRE(!cyclic_from(s, t, o, col), "ordering cycle through %s.%d",
				s->threads[t].name, o + 1);
}
#undef REQUIRE

/* An accepted scenario obeys every rule of scenarios/README.md. */
static void check_scenario(const struct scenario *s, const uint8_t *d,
			   size_t n)
{
	size_t nlines = fuzz_lines(d, n);

	check_header(s, d, n);
	check_expects(s, nlines);
	check_threads(s, nlines);
}

/* The fields of two parses of the same bytes (padding aside). */
static void check_same(const struct scenario *a, const struct scenario *b)
{
	int same = !strcmp(a->path, b->path) && !strcmp(a->name, b->name) &&
		   a->hash == b->hash && a->page_size == b->page_size &&
		   a->pages == b->pages && !memcmp(a->fill, b->fill, sizeof a->fill) &&
		   a->event_remove == b->event_remove && a->wp == b->wp &&
		   a->wp_async == b->wp_async && a->workers == b->workers &&
		   a->retries == b->retries && a->contract == b->contract &&
		   !strcmp(a->expect, b->expect) && a->nexpect == b->nexpect &&
		   a->nthreads == b->nthreads;

	for (int i = 0; same && i < a->nexpect; i++) {
		const struct scn_expect *x = &a->expects[i], *y = &b->expects[i];

		same = !strcmp(x->invariant, y->invariant) && x->line == y->line &&
		       x->nwho == y->nwho;
		for (int j = 0; same && j < x->nwho; j++)
			same = !strcmp(x->who[j].handler, y->who[j].handler) &&
			       !strcmp(x->who[j].variant, y->who[j].variant);
	}
	for (int t = 0; same && t < a->nthreads; t++) {
		const struct scn_thread *x = &a->threads[t], *y = &b->threads[t];

		same = !strcmp(x->name, y->name) && x->role == y->role &&
		       x->nops == y->nops;
		for (int o = 0; same && o < x->nops; o++)
			same = x->ops[o].kind == y->ops[o].kind &&
			       x->ops[o].a == y->ops[o].a && x->ops[o].b == y->ops[o].b &&
			       x->ops[o].after_thread == y->ops[o].after_thread &&
			       x->ops[o].after_op == y->ops[o].after_op &&
			       x->ops[o].line == y->ops[o].line;
	}
	if (!same)
		fuzz_fail("two parses of the same bytes differ");
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static struct scenario s1, s2;
	static char err1[FUZZ_ERR_LEN], err2[FUZZ_ERR_LEN];

	memset(&s1, 0xa5, sizeof s1);
	memset(&s2, 0x5a, sizeof s2);
	fuzz_err_init(err1);
	fuzz_err_init(err2);
	int r1 = scn_parse_bytes(NAME, data, size, &s1, err1, sizeof err1);
	int r2 = scn_parse_bytes(NAME, data, size, &s2, err2, sizeof err2);

	if (r1 != r2 || (r1 && strcmp(err1, err2)))
		fuzz_fail("two parses of the same bytes differ: %d \"%s\" / %d \"%s\"",
			  r1, r1 ? err1 : "", r2, r2 ? err2 : "");
	if (r1 == -1) {
		check_error(data, size, err1);
		static const struct scenario zero;

		if (memcmp(&s1, &zero, sizeof zero))
			fuzz_fail("a rejected scenario left *out non-zero");
		return 0;
	}
	if (r1 != 0)
		fuzz_fail("scn_parse_bytes returned %d", r1);
	check_scenario(&s1, data, size);
	check_same(&s1, &s2);
	return 0;
}
