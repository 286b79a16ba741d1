/* scenarios/lex.h — internal to scenarios/: lines, tokens, numbers and the
 * one-line error of the scenario parser.
 *
 * Contract: scn_next_line() hands out one validated, tokenized line at a time
 * (comments stripped, tokens NUL-terminated in the line's own buffer, each
 * with its 1-based byte column) or reports the first bad byte / over-long
 * line. scn_fail() formats "file:line:col: message" into the caller's buffer
 * once — the first error wins, later calls only return -1 — so every error
 * path can simply `return scn_fail(...)`. Nothing here allocates.
 */
#ifndef UFFDLAB_SCN_LEX_H
#define UFFDLAB_SCN_LEX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define SCN_LINE_MAX 1024 /* bytes per line, without the '\n' */

struct scn_err {
	const char *path;
	char *buf;    /* may be NULL / len 0: errors are then only counted */
	size_t len;
	int set;      /* an error has been reported */
};

int scn_fail(struct scn_err *e, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int scn_vfail(struct scn_err *e, int line, int col, const char *fmt,
	      va_list ap) __attribute__((format(printf, 4, 0)));

struct scn_tok {
	char *s;  /* NUL-terminated, inside scn_line.buf */
	int col;  /* 1-based byte column */
};

struct scn_line {
	int no;   /* 1-based line number */
	int ntok;
	char buf[SCN_LINE_MAX + 1];
	/* a line of at most SCN_LINE_MAX bytes holds at most half as many
	 * tokens (each needs a separator), so every token fits: the grammar,
	 * not the lexer, decides which one is "unexpected". */
	struct scn_tok tok[SCN_LINE_MAX / 2 + 1];
};

struct scn_reader {
	const unsigned char *p;
	size_t len;
	size_t pos;
	int no;   /* lines handed out so far */
};

/* 1: *l holds the next line (possibly with no tokens); 0: end of input;
 * -1: error reported through e. */
int scn_next_line(struct scn_reader *r, struct scn_line *l, struct scn_err *e);

/* The position just past the last byte: where "missing X" errors point. */
void scn_eof_pos(const struct scn_reader *r, int *line, int *col);

/* Parse a whole string as an unsigned number: decimal digits, or 0x / 0X
 * followed by hex digits; no sign, no spaces. 0 ok; -1 not a number;
 * -2 does not fit in 64 bits. */
int scn_parse_u64(const char *s, uint64_t *v);

#endif
