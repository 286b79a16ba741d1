/* viz/label.c — numbers of header lines, DOT string escaping, and the
 * opaque label comparison that folds repeats (labels are never parsed). */
#include "viz/viz_impl.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

int viz_num(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int base = 10, any = 0;

	if (s[0] == '0' && s[1] == 'x') {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else
			break;
		v = v * (uint64_t)base + (uint64_t)d;
		any = 1;
	}
	if (!any)
		return -EINVAL;
	*p = s;
	*out = v;
	return 0;
}

int viz_snum(const char **p, int64_t *out)
{
	const char *s = *p;
	int neg = *s == '-';
	uint64_t v;

	if (neg)
		s++;
	if (s[0] == '0' && s[1] == 'x') /* a signed hex would be a new format */
		return -EINVAL;
	if (viz_num(&s, &v) || v > INT64_MAX)
		return -EINVAL;
	*p = s;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. Graphviz
 * rejects a file with invalid UTF-8 as a whole, so one odd byte in a label
 * must not cost the picture. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

void viz_esc(FILE *f, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(u + i, n - i);

		if (!l) {
			fputc('?', f);
			i++;
		} else if (l > 1) {
			fwrite(u + i, 1, l, f);
			i += l;
		} else {
			if (u[i] == '"' || u[i] == '\\')
				fputc('\\', f);
			fputc(u[i] < 0x20 || u[i] == 0x7f ? ' ' : u[i], f);
			i++;
		}
	}
	/* DOT's lexer reads backslash-quote as a quote even after an escaped
	 * backslash, so a string may not end in one */
	if (n && s[n - 1] == '\\')
		fputc(' ', f);
}

/* Where to end a line of s[0..n) at most width bytes long: at a newline,
 * after "; " (each item on its own line), else at the last space, else at
 * width on a UTF-8 boundary. *skip: bytes to drop after it. */
static size_t line_end(const char *s, size_t n, unsigned width, size_t *skip)
{
	for (size_t i = 0; i < n && i <= width; i++) {
		if (s[i] == '\n') {
			*skip = 1;
			return i;
		}
		if (s[i] == ';' && i + 1 < n && s[i + 1] == ' ' && i < width) {
			*skip = 1;
			return i + 1;
		}
	}
	*skip = 0;
	if (n <= width)
		return n;
	for (size_t i = width; i > width / 2; i--)
		if (s[i] == ' ') {
			*skip = 1;
			return i;
		}
	size_t i = width;

	while (i > 1 && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

void viz_esc_wrapped(FILE *f, const char *s, size_t n, unsigned width)
{
	if (width < 8)
		width = 8;
	while (n) {
		size_t skip, l = line_end(s, n, width, &skip);

		viz_esc(f, s, l);
		fputs("\\l", f);
		s += l + skip;
		n -= l + skip;
		while (n && *s == ' ')
			s++, n--;
	}
}

static int tnum_at(const char *s, const char *start)
{
	return s[0] == 't' && isdigit((unsigned char)s[1]) &&
	       (s == start || !isalnum((unsigned char)s[-1]));
}

int viz_label_same(const char *a, const char *b)
{
	const char *a0 = a, *b0 = b;

	while (*a && *b) {
		if (tnum_at(a, a0) && tnum_at(b, b0)) {
			for (a++; isdigit((unsigned char)*a); a++)
				;
			for (b++; isdigit((unsigned char)*b); b++)
				;
			continue;
		}
		if (*a != *b)
			return 0;
		a++, b++;
	}
	return *a == *b;
}

uint64_t viz_label_hash(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a */
	const char *s0 = s;

	while (*s) {
		unsigned char c = (unsigned char)*s;

		if (tnum_at(s, s0)) {
			for (s++; isdigit((unsigned char)*s); s++)
				;
			c = '#';
		} else {
			s++;
		}
		h = (h ^ c) * UINT64_C(0x100000001b3);
	}
	return h;
}
