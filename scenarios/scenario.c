/* scenarios/scenario.c — the scenario parser's entry points: reading the
 * file, the line loop and its dispatch, the end-of-file checks. Directives
 * are in directive.c, threads and operations in ops.c, `after` resolution in
 * order.c, token helpers in args.c, lines and tokens in lex.c; the language
 * in scenarios/README.md. See scenario.h for the contract.
 */
#include "scenarios/scenario.h"
#include "sched/files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/parse.h"

/* A scenario is a few hundred bytes; refuse to slurp anything absurd. */
#define SCN_FILE_MAX (1u << 20)

uint64_t scn_hash_bytes(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a 64 offset basis */
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL; /* FNV-1a 64 prime */
	}
	return h;
}

static int parse_line(struct scn_ctx *c)
{
	const struct scn_tok *kw = &c->l.tok[0];
	int rc;

	if (!strcmp(kw->s, "thread"))
		return scn_parse_thread(c);
	rc = scn_parse_directive(c);
	if (rc <= 0)
		return rc;
	if (scn_is_op(kw->s)) {
		if (c->s->nthreads == 0)
			return scn_fail_at(c, kw,
					   "operation '%s' outside a thread (start one with 'thread NAME ROLE')",
					   kw->s);
		return scn_parse_op(c);
	}
	if (c->s->nthreads == 0)
		return scn_fail_at(c, kw, "unknown directive '%.40s'", kw->s);
	return scn_fail_at(c, kw, "unknown operation '%.40s'", kw->s);
}

/* Scenario name: the file name without its directory and ".scn". */
static int set_names(struct scn_ctx *c, const char *path)
{
	struct scenario *s = c->s;
	const char *base = strrchr(path, '/');
	size_t n;

	if (strlen(path) >= sizeof(s->path))
		return scn_fail(&c->e, 1, 1, "path too long (max %zu bytes)",
				sizeof(s->path) - 1);
	strcpy(s->path, path);
	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 4 && !strcmp(base + n - 4, ".scn"))
		n -= 4;
	if (n >= sizeof(s->name))
		return scn_fail(&c->e, 1, 1,
				"scenario name too long (max %zu bytes)",
				sizeof(s->name) - 1);
	memcpy(s->name, base, n);
	s->name[n] = '\0';
	return 0;
}

static int parse(struct scn_ctx *c, const char *path, const void *data,
		 size_t len)
{
	struct scenario *s = c->s;
	int rc, line, col;

	s->retries = -1;
	s->contract = SCN_CONTRACT_KEEPS;
	c->snap_max = -1;
	if (set_names(c, path))
		return -1;
	s->hash = scn_hash_bytes(data, len);
	if (len == 0)
		return scn_fail(&c->e, 1, 1, "empty file");
	c->r.p = data;
	c->r.len = len;
	while ((rc = scn_next_line(&c->r, &c->l, &c->e)) == 1)
		if (c->l.ntok > 0 && parse_line(c))
			return -1;
	if (rc < 0)
		return -1;
	scn_eof_pos(&c->r, &line, &col);
	if (!c->once_line[SCN_D_MEMORY])
		return scn_fail(&c->e, line, col, "missing 'memory' directive");
	if (s->nthreads == 0)
		return scn_fail(&c->e, line, col,
				"no thread (a scenario needs at least one 'thread NAME ROLE')");
	return scn_resolve_order(c);
}

int scn_parse_bytes(const char *path, const void *data, size_t len,
		    struct scenario *out, char *err, size_t errlen)
{
	struct scn_err e = {path, err, errlen, 0};
	struct scn_ctx *c;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!path)
		return scn_fail(&e, 1, 1, "no path given");
	if (!out || (!data && len))
		return scn_fail(&e, 1, 1, "no %s given", out ? "data" : "output");
	memset(out, 0, sizeof(*out));
	/* ~40 KiB of working state: keep it off the caller's stack. */
	c = calloc(1, sizeof(*c));
	if (!c)
		return scn_fail(&e, 1, 1, "out of memory");
	c->e = e;
	c->s = out;
	rc = parse(c, path, data ? data : "", len);
	free(c);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

int scn_parse_string(const char *path, const char *text, struct scenario *out,
		     char *err, size_t errlen)
{
	struct scn_err e = {path, err, errlen, 0};

	if (!text) {
		if (err && errlen)
			err[0] = '\0';
		return scn_fail(&e, 1, 1, "no text given");
	}
	return scn_parse_bytes(path, text, strlen(text), out, err, errlen);
}

/* Read the whole file: 0 and a malloc'd buffer, or -1 with the error set. */
static int slurp(struct scn_err *e, FILE *f, unsigned char **data, size_t *len)
{
	size_t cap = 4096, n = 0;
	unsigned char *buf = malloc(cap), *nb;

	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (ferror(f)) {
			int saved = errno;

			free(buf);
			return scn_fail(e, 1, 1, "cannot read: %s",
					strerror(saved));
		}
		if (feof(f)) {
			*data = buf;
			*len = n;
			return 0;
		}
		if (n > SCN_FILE_MAX) {
			free(buf);
			return scn_fail(e, 1, 1,
					"file too large (more than %u bytes)",
					SCN_FILE_MAX);
		}
		if (n == cap) {
			cap *= 2;
			nb = realloc(buf, cap);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	return scn_fail(e, 1, 1, "out of memory");
}

int scn_parse_file(const char *path, struct scenario *out, char *err,
		   size_t errlen)
{
	struct scn_err e = {path, err, errlen, 0};
	unsigned char *data = NULL;
	size_t len = 0;
	FILE *f;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!path)
		return scn_fail(&e, 1, 1, "no path given");
	int oerr = 0;
	f = input_open(path, &oerr);
	if (!f)
		return scn_fail(&e, 1, 1, "cannot open: %s", input_strerror(oerr));
	rc = slurp(&e, f, &data, &len);
	fclose(f);
	if (rc)
		return -1;
	rc = scn_parse_bytes(path, data, len, out, err, errlen);
	free(data);
	return rc;
}

int scn_expects(const struct scenario *s, const char *handler, const char *variant,
		const char *invariant)
{
	const char *v = variant ? variant : "";
	for (int e = 0; e < s->nexpect; e++) {
		if (strcmp(s->expects[e].invariant, invariant))
			continue;
		for (int k = 0; k < s->expects[e].nwho; k++)
			if (!strcmp(s->expects[e].who[k].handler, handler) &&
			    !strcmp(s->expects[e].who[k].variant, v))
				return 1;
	}
	return 0;
}
