/* tests/fuzz/fuzz.h — what the fuzz targets share: the one-error-line
 * contract check and a loud abort when a contract is broken.
 *
 * Each tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput (or, built
 * for `make test` with -DFUZZ_ENTRY=fuzz_<name>_one, that name) and must
 * never crash, leak or hang on any input; a broken contract is a call to
 * fuzz_fail(), which prints what was broken and aborts, so libFuzzer (and
 * tests/test_fuzz_corpus.c) stops there and keeps the input.
 *
 * The one-error-line contract (scenario.h, trace.h, viz.h): a rejected
 * input yields a NUL-terminated, non-empty message of exactly one line,
 * no control byte in it, shaped "PREFIX:LINE[:COL]: MESSAGE" where PREFIX
 * is the name the caller gave, LINE (and COL) decimal numbers >= 1, LINE at
 * most one past the input's last line, and MESSAGE non-empty.
 */
#ifndef UFFDLAB_TESTS_FUZZ_H
#define UFFDLAB_TESTS_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_ENTRY
#define FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int FUZZ_ENTRY(const uint8_t *data, size_t size);

/* Where the repository is (fuzz_sim's scenario library): the environment's
 * UFFDLAB_SRCDIR, else this (make runs everything from the top). */
#ifndef UFFDLAB_SRCDIR
#define UFFDLAB_SRCDIR "."
#endif

#define FUZZ_ERR_LEN 600

/* The stored input being run, set by corpus_main.c (libFuzzer names the
 * crashing input itself and leaves this NULL). */
__attribute__((weak)) const char *fuzz_current_input;

__attribute__((noreturn, format(printf, 1, 2)))
static inline void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: ", stderr);
	if (fuzz_current_input)
		fprintf(stderr, "%s: ", fuzz_current_input);
	fputs("contract broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Lines of an input of len bytes, the last one unterminated or not. */
static inline size_t fuzz_lines(const uint8_t *d, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += d[i] == '\n';
	if (len && d[len - 1] != '\n')
		n++;
	return n;
}

/* Digits at *p as a number >= 1 (advances *p); -1 if none, 0 or absurd. */
static inline long fuzz_number(const char **p)
{
	const char *s = *p;
	long v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		if (v > 100000000L)
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	*p = s;
	return v >= 1 ? v : -1;
}

/* Check err (a buffer of FUZZ_ERR_LEN bytes) against the contract above.
 * ncoords: how many ":N" must follow the prefix (1 line, 2 line:col), or
 * -1 for "either none or one" (viz: "trace: message" or "trace:N: ...").
 * nlines: the input's line count (fuzz_lines). what: who produced it. */
static inline void fuzz_check_err(const char *what, const char *err,
				  const char *prefix, int ncoords,
				  size_t nlines)
{
	size_t n = strnlen(err, FUZZ_ERR_LEN), pl = strlen(prefix);
	const char *p;

	if (n == FUZZ_ERR_LEN)
		fuzz_fail("%s: error message not NUL-terminated", what);
	if (n == 0)
		fuzz_fail("%s: rejected the input with an empty message", what);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
			fuzz_fail("%s: control byte 0x%02x at offset %zu of the message \"%.*s\"",
				  what, (unsigned char)err[i], i, (int)n, err);
	if (strncmp(err, prefix, pl) || err[pl] != ':')
		fuzz_fail("%s: message does not start with \"%s:\": \"%s\"",
			  what, prefix, err);
	p = err + pl;
	int coords = 0;

	while (*p == ':' && p[1] >= '0' && p[1] <= '9' && coords < 2) {
		p++;
		long v = fuzz_number(&p);

		if (v < 0)
			fuzz_fail("%s: bad line/column number in \"%s\"", what,
				  err);
		if (coords == 0 && (size_t)v > nlines + 1)
			fuzz_fail("%s: line %ld named, the input has %zu lines: \"%s\"",
				  what, v, nlines, err);
		coords++;
	}
	if (ncoords >= 0 && coords != ncoords)
		fuzz_fail("%s: %d coordinates instead of %d in \"%s\"", what,
			  coords, ncoords, err);
	if (ncoords < 0 && coords > 1)
		fuzz_fail("%s: a column where none is expected in \"%s\"", what,
			  err);
	if (p[0] != ':' || p[1] != ' ' || p[2] == '\0' || p[2] == ' ')
		fuzz_fail("%s: no \": message\" after the position in \"%s\"",
			  what, err);
}

/* A buffer for an error message, filled with a byte that is not a valid
 * message so that a function that fails without writing one is caught. */
static inline void fuzz_err_init(char *err)
{
	memset(err, 0x01, FUZZ_ERR_LEN);
	err[FUZZ_ERR_LEN - 1] = '\0';
}

#endif
