/* scenarios/parse.h — internal to scenarios/: the parser's working state,
 * shared by the token helpers (args.c), the line parsers (directive.c,
 * ops.c), the ordering pass (order.c) and the entry points (scenario.c).
 *
 * Contract: one struct scn_ctx per parse, zeroed by the caller, freed by the
 * caller; every function returns 0 or -1 with the error already reported
 * through ctx->e (first error wins).
 */
#ifndef UFFDLAB_SCN_PARSE_H
#define UFFDLAB_SCN_PARSE_H

#include "scenarios/lex.h"
#include "scenarios/scenario.h"

#define SCN_NODES (SCN_MAX_THREADS * SCN_MAX_OPS)

/* An `after T.k` as written: threads may be declared later in the file, so
 * names are resolved only once the whole file is read. k == 0: no after. */
struct scn_after {
	char name[SCN_NAME_MAX];
	uint64_t k;
	int col;
};

enum scn_once { /* directives allowed at most once */
	SCN_D_MEMORY,
	SCN_D_FEATURES,
	SCN_D_HANDLER,
	SCN_D_CONTRACT,
	SCN_D_EXPECT,
	SCN_D_COUNT,
};

struct scn_ctx {
	struct scn_err e;
	struct scenario *s;
	struct scn_reader r;
	struct scn_line l;
	int once_line[SCN_D_COUNT]; /* line of the first occurrence, 0 = none */
	/* A snapshot may precede 'memory': remember the highest page it named
	 * (and where) so 'memory' can check it; -1 = none pending. */
	int64_t snap_max;
	int snap_line, snap_col;
	int thread_line[SCN_MAX_THREADS];
	struct scn_after after[SCN_MAX_THREADS][SCN_MAX_OPS];
	/* The ordering graph, built by order.c: for op node n = t*SCN_MAX_OPS+i,
	 * head[n] is the first op waiting for n (-1 none), next[] chains them. */
	int head[SCN_NODES];
	int next[SCN_NODES];
};

/* Report an error at a token / just past it (for a missing token). */
int scn_fail_at(struct scn_ctx *c, const struct scn_tok *t, const char *fmt,
		...) __attribute__((format(printf, 3, 4)));
int scn_fail_after(struct scn_ctx *c, const struct scn_tok *t,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Error unless the line has no token from index i on. */
int scn_no_more(struct scn_ctx *c, int i);
/* Token i as a number in lo..hi ("what" names it in messages). */
int scn_tok_num(struct scn_ctx *c, int i, const char *what, uint64_t lo,
		uint64_t hi, uint64_t *v);
/* Token i as a page below c->s->pages. */
int scn_tok_page(struct scn_ctx *c, int i, uint64_t *v);
/* Token i as a page "P" or range "P..Q" below limit pages. */
int scn_tok_range(struct scn_ctx *c, int i, uint64_t limit, uint64_t *a,
		  uint64_t *b);

/* directive.c: a header directive line; 1 if the keyword is none. */
int scn_parse_directive(struct scn_ctx *c);

/* ops.c: a `thread` line, or an operation line of the current thread. */
int scn_parse_thread(struct scn_ctx *c);
int scn_parse_op(struct scn_ctx *c);
int scn_is_op(const char *word);

/* order.c: resolve every `after`, reject unknown targets and cycles. */
int scn_resolve_order(struct scn_ctx *c);

#endif
