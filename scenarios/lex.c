/* scenarios/lex.c — lines, tokens, numbers and errors for the scenario parser.
 * See lex.h for the contract. */
#include "scenarios/lex.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int scn_vfail(struct scn_err *e, int line, int col, const char *fmt,
	      va_list ap)
{
	char msg[512], path[256];
	const char *p = e->path ? e->path : "(null)";
	size_t i;

	if (e->set)
		return -1;
	e->set = 1;
	if (!e->buf || e->len == 0)
		return -1;
	/* The error must stay one line even for a file name holding a newline
	 * or other control bytes: drivers and CI logs parse it line-wise. */
	for (i = 0; p[i] && i < sizeof(path) - 1; i++)
		path[i] = ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) ? '?' : p[i];
	path[i] = '\0';
	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(e->buf, e->len, "%s:%d:%d: %s", path, line, col, msg);
	return -1;
}

int scn_fail(struct scn_err *e, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = scn_vfail(e, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

static int is_space(unsigned char c)
{
	/* '\r' counts as a separator so CRLF files parse like LF files. */
	return c == ' ' || c == '\t' || c == '\r';
}

int scn_next_line(struct scn_reader *r, struct scn_line *l, struct scn_err *e)
{
	size_t start, end, n, i, m;
	int comment = 0;

	if (r->pos >= r->len)
		return 0;
	start = r->pos;
	end = start;
	while (end < r->len && r->p[end] != '\n')
		end++;
	r->pos = end < r->len ? end + 1 : end;
	l->no = ++r->no;
	l->ntok = 0;
	n = end - start;
	if (n > SCN_LINE_MAX)
		return scn_fail(e, l->no, SCN_LINE_MAX + 1,
				"line too long (%zu bytes, max %d)", n,
				SCN_LINE_MAX);
	/* Validate every byte, comments included: a NUL or a control byte
	 * means binary garbage, not a scenario. UTF-8 is fine in comments. */
	m = n;
	for (i = 0; i < n; i++) {
		unsigned char c = r->p[start + i];
		int col = (int)i + 1;

		if (c == '#' && !comment) {
			comment = 1;
			m = i;
		}
		if (c == 0)
			return scn_fail(e, l->no, col, "NUL byte");
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return scn_fail(e, l->no, col, "control byte 0x%02x",
					c);
		if (c >= 0x80 && !comment)
			return scn_fail(e, l->no, col,
					"non-ASCII byte 0x%02x outside a comment",
					c);
	}
	memcpy(l->buf, r->p + start, m);
	l->buf[m] = '\0';
	for (i = 0; i < m;) {
		if (is_space((unsigned char)l->buf[i])) {
			l->buf[i++] = '\0';
			continue;
		}
		l->tok[l->ntok].s = &l->buf[i];
		l->tok[l->ntok].col = (int)i + 1;
		l->ntok++;
		while (i < m && !is_space((unsigned char)l->buf[i]))
			i++;
	}
	return 1;
}

void scn_eof_pos(const struct scn_reader *r, int *line, int *col)
{
	size_t i = r->len;

	if (r->len == 0) {
		*line = 1;
		*col = 1;
		return;
	}
	if (r->p[r->len - 1] == '\n') {
		*line = r->no + 1;
		*col = 1;
		return;
	}
	while (i > 0 && r->p[i - 1] != '\n')
		i--;
	*line = r->no;
	*col = (int)(r->len - i) + 1;
}

int scn_parse_u64(const char *s, uint64_t *v)
{
	const char *d = s, *q;
	int base = 10;
	unsigned long long x;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		d = s + 2;
	}
	if (*d == '\0')
		return -1;
	/* strtoull alone would accept leading spaces, a sign ("-1" wraps to
	 * 2^64-1) and trailing junk; allow digits only, then let it convert. */
	for (q = d; *q; q++) {
		unsigned char c = (unsigned char)*q;

		if (base == 10 ? !isdigit(c) : !isxdigit(c))
			return -1;
	}
	errno = 0;
	x = strtoull(d, &end, base);
	if (errno == ERANGE)
		return -2;
	if (*end != '\0')
		return -1;
	*v = (uint64_t)x;
	return 0;
}
