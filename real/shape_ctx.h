/* real/shape_ctx.h — what the shape files (real/shapes_*.c) share: the
 * context of one shape run and the steps shapes are written in.
 *
 * Contract: internal to real/shapes*.c. Every step returns 0 or -1; on -1
 * the first failure's reason is in c->res->why (later failures never
 * overwrite it, sc_failed_in() prefixes context). Guest steps run on a guest
 * thread of their own and are awaited with REAL_WAIT_MS, so a handler that
 * never serves a fault fails the step instead of hanging the run.
 */
#ifndef UFFDLAB_REAL_SHAPE_CTX_H
#define UFFDLAB_REAL_SHAPE_CTX_H

#include <stdint.h>

#include "real/harness.h"
#include "real/hugepages.h"
#include "real/shapes.h"

#define K4 4096ull
#define IS2M(c) ((c)->ps == REAL_HUGE_2M)

/* The upstream 1,000,000-operation loads, cut to what the hardware suite can
 * afford on two cores (docs/HANDLER.md 2.7 records the same cut upstream). */
#define LOAD_OPS 10000
#define PAR_THREADS 4

struct shape_ctx {
	uint64_t ps;
	const struct real_shape_opts *o;
	struct real_shape_result *res;
	int skipped;
};

#define WHY c->res->why, sizeof c->res->why

int sc_fail(struct shape_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Prefix the reason already set with where it happened; returns -1. */
int sc_failed_in(struct shape_ctx *c, const char *where);
/* Upstream's environment: MISSING|WP with WP_ASYNC, EVENT_REMOVE. */
void sc_opts(struct shape_ctx *c, struct real_env_opts *o, uint64_t pages);
/* Marks the run skipped when the machine cannot (no uffd/hugepages). */
int sc_open(struct shape_ctx *c, const struct real_env_opts *o, struct real_env **e);
/* Stop (clean unless expect_err), add the handler's counts, close. */
int sc_close(struct shape_ctx *c, struct real_env *e, int expect_err);
int sc_op(struct shape_ctx *c, struct real_env *e, struct real_op op);
int sc_rd(struct shape_ctx *c, struct real_env *e, uint64_t p, enum real_content want,
       uint8_t v);
int sc_wr(struct shape_ctx *c, struct real_env *e, uint64_t p, uint8_t v);
/* Remove pages [p, p+n) and wait until the tracker has applied it. */
int sc_rm(struct shape_ctx *c, struct real_env *e, uint64_t p, uint64_t n);
int sc_applied(struct shape_ctx *c, struct real_env *e, uint64_t p, uint64_t n);
int sc_start(struct shape_ctx *c, struct real_env *e, struct real_op op,
	     struct real_guest **g);
int sc_still_blocked(struct shape_ctx *c, struct real_guest *g, const char *what);
int sc_all_blocked(struct shape_ctx *c, struct real_guest **g, int n, const char *what);
/* want[p] for every page p < n (dirt: 0 = do not check). */
int sc_expect_states(struct shape_ctx *c, struct real_env *e,
		  const enum hpage *want, uint64_t n);
int sc_expect_dirt(struct shape_ctx *c, struct real_env *e, const enum real_dirt *want,
		uint64_t n);
int sc_pause(struct shape_ctx *c, struct real_env *e);
int sc_resume(struct shape_ctx *c, struct real_env *e);

/* The shapes, by file. */
int rshape_missing(struct shape_ctx *c);
int rshape_missing_write(struct shape_ctx *c);
int rshape_parallel(struct shape_ctx *c);
int rshape_parallel_write(struct shape_ctx *c);
int rshape_serial(struct shape_ctx *c);
int rshape_prefetch(struct shape_ctx *c);
int rshape_async_wp(struct shape_ctx *c);
int rshape_remove(struct shape_ctx *c);
int rshape_remove_then_write(struct shape_ctx *c);
int rshape_write_then_remove(struct shape_ctx *c);
int rshape_gated_remove_then_write(struct shape_ctx *c);
int rshape_gated_write_then_remove(struct shape_ctx *c);
int rshape_pause_resume(struct shape_ctx *c);
int rshape_stale_source(struct shape_ctx *c);
int rshape_madvise_inflight(struct shape_ctx *c);
int rshape_source_retry(struct shape_ctx *c);
int rshape_source_fail(struct shape_ctx *c);

#endif
