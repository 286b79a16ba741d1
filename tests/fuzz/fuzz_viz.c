/* tests/fuzz/fuzz_viz.c — trace -> DOT on arbitrary traces.
 *
 * The input is a trace file (format 2), read with the model's event schema
 * (mev_schema) as `uffdlab viz` reads it; one the reader rejects is
 * fuzz_trace's business and is skipped here. An accepted trace, whose
 * typed events viz derives its happens-before edges from (matched by
 * message id, whatever ids, kinds and orders the input makes up), goes
 * through viz_dot():
 * with the default options (twice: the same bytes both times, viz.h),
 * with options drawn from the input's hash (windows, folds, label widths,
 * the queue lane on or off) and with a label width below 16 (must fail).
 * A failure must be one error line, "trace: message" or "trace:LINE:
 * message" (a bad "thread" header line, LINE within the input). A success
 * must be DOT that graphviz's lexer reads as intended: it starts with
 * "digraph", every quoted string is closed (graphviz takes \" as a quote
 * even after an escaped backslash), no raw newline or control byte inside
 * a string, braces and brackets balanced outside strings, the whole text
 * valid UTF-8 and free of NUL bytes.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>

#include "model/event.h"
#include "sched/trace.h"
#include "viz/viz.h"

/* Length of the UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t l;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		l = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		l = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		l = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n < l)
		return 0;
	for (size_t i = 1; i < l; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((l == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (l == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return l;
}

static void check_dot(const char *dot, size_t len)
{
	const unsigned char *d = (const unsigned char *)dot;
	int in_str = 0;
	long braces = 0, brackets = 0;
	size_t i = 0, str_start = 0;

	if (strlen(dot) != len)
		fuzz_fail("viz: NUL byte in the DOT text");
	if (len < 8 || memcmp(dot, "digraph ", 8))
		fuzz_fail("viz: DOT text does not start with 'digraph '");
	while (i < len) {
		size_t l = utf8_seq(d + i, len - i);

		if (!l)
			fuzz_fail("viz: invalid UTF-8 at byte %zu of the DOT text", i);
		if (l > 1) {
			i += l;
			continue;
		}
		unsigned char c = d[i];

		if (in_str) {
			if (c == '\\' && i + 1 < len && d[i + 1] == '"') {
				i += 2;
				continue;
			}
			if (c == '"')
				in_str = 0;
			else if (c < 0x20 || c == 0x7f)
				fuzz_fail("viz: byte 0x%02x inside the string at byte %zu: \"%.60s\"",
					  c, str_start, dot + str_start);
			i++;
			continue;
		}
		if (c == '"') {
			in_str = 1;
			str_start = i;
		} else if (c == '/' && i + 1 < len && d[i + 1] == '/') {
			while (i < len && d[i] != '\n')
				i++;
			continue;
		} else if (c == '{') {
			braces++;
		} else if (c == '}') {
			if (--braces < 0)
				fuzz_fail("viz: '}' without '{' at byte %zu", i);
		} else if (c == '[') {
			brackets++;
		} else if (c == ']') {
			if (--brackets < 0)
				fuzz_fail("viz: ']' without '[' at byte %zu", i);
		} else if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
			fuzz_fail("viz: control byte 0x%02x at byte %zu", c, i);
		}
		i++;
	}
	if (in_str)
		fuzz_fail("viz: the string opened at byte %zu is never closed: \"%.60s\"",
			  str_start, dot + str_start);
	if (braces || brackets)
		fuzz_fail("viz: %ld braces, %ld brackets left open", braces, brackets);
}

static uint64_t fnv(const uint8_t *d, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ d[i]) * 0x100000001b3ULL;
	return h;
}

/* One viz_dot_string: the DOT text (checked; caller frees) or NULL with
 * the error checked. */
static char *run(const struct trace *t, const struct viz_opts *o,
		 size_t nlines, size_t *len)
{
	static char err[FUZZ_ERR_LEN];
	char *dot = NULL;

	fuzz_err_init(err);
	*len = 0;
	int e = viz_dot_string(t, o, &dot, len, err, sizeof err);

	if (e) {
		if (e > 0)
			fuzz_fail("viz_dot_string returned %d", e);
		if (e == -ENOMEM)
			return NULL;
		fuzz_check_err("viz_dot_string", err, "trace", -1, nlines);
		return NULL;
	}
	if (!dot)
		fuzz_fail("viz_dot_string succeeded without text");
	check_dot(dot, *len);
	return dot;
}

int FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	static char err[FUZZ_ERR_LEN];
	struct trace t;
	size_t nlines = fuzz_lines(data, size);

	if (!size)
		return 0;
	FILE *f = fmemopen((void *)data, size, "r");

	if (!f)
		fuzz_fail("fmemopen failed");
	int r = trace_read_stream(f, "fuzz.trace", &mev_schema, &t, err,
				  sizeof err);

	fclose(f);
	if (r)
		return 0;

	size_t l1, l2;
	char *d1 = run(&t, NULL, nlines, &l1);
	char *d2 = run(&t, NULL, nlines, &l2);

	if (!d1 != !d2 || (d1 && (l1 != l2 || memcmp(d1, d2, l1))))
		fuzz_fail("viz: the same trace and options gave different DOT");
	free(d1);
	free(d2);

	uint64_t h = fnv(data, size);
	struct viz_opts o;

	viz_opts_init(&o);
	o.head = (h & 0xff) == 0xff ? VIZ_ALL : h % 48;
	o.tail = (h >> 8) % 64;
	o.fold_min = (h >> 16) % 16;
	o.label_max = 16 + (unsigned)((h >> 24) % 200);
	o.queue_lane = (h >> 32) & 1;
	o.page_lanes = (h >> 33) & 1;
	o.all = (h >> 34) & 1;
	free(run(&t, &o, nlines, &l1));

	o.label_max = (unsigned)((h >> 40) % 16);
	fuzz_err_init(err);
	char *dot = NULL;
	int e = viz_dot_string(&t, &o, &dot, NULL, err, sizeof err);

	if (e != -EINVAL)
		fuzz_fail("viz: label_max %u accepted (%d)", o.label_max, e);
	fuzz_check_err("viz_dot_string", err, "trace", 0, nlines);
	trace_free(&t);
	return 0;
}
