/* Steps the shapes are written in (real/shape_ctx.h). */
#include "real/shape_ctx.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sc_fail(struct shape_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->res->why, sizeof c->res->why, fmt, ap);
	va_end(ap);
	return -1;
}

/* Prefix an already-set reason with the context it happened in. */
int sc_failed_in(struct shape_ctx *c, const char *where)
{
	char *w = c->res->why;
	size_t cap = sizeof c->res->why, pre = strlen(where) + 2;
	if (pre >= cap)
		return -1;
	size_t len = strnlen(w, cap - 1);
	if (len > cap - 1 - pre)
		len = cap - 1 - pre; /* keep the prefix, cut the tail */
	memmove(w + pre, w, len);
	w[pre + len] = 0;
	memcpy(w, where, pre - 2);
	w[pre - 2] = ':';
	w[pre - 1] = ' ';
	return -1;
}


void sc_opts(struct shape_ctx *c, struct real_env_opts *o, uint64_t pages)
{
	real_env_opts_init(o, c->ps, pages);
	o->handler = c->o->handler;
	o->variants = c->o->variants;
	/* Upstream registers MISSING|WP with WP_ASYNC in every test. */
	o->wp = 1;
	o->event_remove = 1;
}

int sc_open(struct shape_ctx *c, const struct real_env_opts *o,
		    struct real_env **e)
{
	int rc = real_env_open(o, e, WHY);
	if (rc == 0)
		return 0;
	if (real_env_skip_reason(rc, c->ps))
		c->skipped = 1;
	*e = NULL;
	return -1;
}

/* Stop, require a clean stop (expect_err: require a failed one), account
 * the handler's statistics, close. */
int sc_close(struct shape_ctx *c, struct real_env *e, int expect_err)
{
	int rc = 0;
	if (!e)
		return 0;
	int stop = real_env_stop(e);
	struct handler_stats st;
	handler_get_stats(e->h, &st);
	c->res->faults += st.faults;
	c->res->served += st.installed;
	if (!expect_err && stop) {
		const char *msg = handler_error(e->h);
		rc = sc_fail(c, "handler stopped with error %d (%s)", stop,
			  msg ? msg : "no reason given");
	}
	real_env_close(e);
	return rc;
}

int sc_op(struct shape_ctx *c, struct real_env *e, struct real_op op)
{
	c->res->ops++;
	struct real_guest *g;
	int rc = real_guest_start_op(e, &op, &g);
	if (rc)
		return sc_fail(c, "starting a guest thread: %s", strerror(-rc));
	if (real_guest_check(g, REAL_WAIT_MS, WHY))
		return -1;
	real_guest_free(g);
	return 0;
}

int sc_rd(struct shape_ctx *c, struct real_env *e, uint64_t p,
	      enum real_content want, uint8_t v)
{
	return sc_op(c, e, (struct real_op){.kind = REAL_OP_READ, .page = p,
					     .want = want, .value = v});
}

int sc_wr(struct shape_ctx *c, struct real_env *e, uint64_t p, uint8_t v)
{
	return sc_op(c, e, (struct real_op){.kind = REAL_OP_WRITE, .page = p,
					     .value = v});
}

/* madvise returns once the handler has *read* the REMOVE; the tracker is
 * updated just after, under the settle write lock. Checks that follow a
 * remove wait (bounded) for that, as upstream polls its page states. */
int sc_applied(struct shape_ctx *c, struct real_env *e, uint64_t p, uint64_t n)
{
	for (uint64_t i = p; i < p + n; i++)
		if (real_env_wait_state(e, i, HPAGE_REMOVED, REAL_WAIT_MS, WHY))
			return sc_failed_in(c, "REMOVE not applied");
	return 0;
}

int sc_rm(struct shape_ctx *c, struct real_env *e, uint64_t p, uint64_t n)
{
	if (sc_op(c, e, (struct real_op){.kind = REAL_OP_REMOVE, .page = p,
					  .n = n}))
		return -1;
	return sc_applied(c, e, p, n);
}

int sc_start(struct shape_ctx *c, struct real_env *e, struct real_op op,
		    struct real_guest **g)
{
	c->res->ops++;
	int rc = real_guest_start_op(e, &op, g);
	return rc ? sc_fail(c, "starting a guest thread: %s", strerror(-rc)) : 0;
}

int sc_still_blocked(struct shape_ctx *c, struct real_guest *g, const char *what)
{
	if (real_guest_wait(g, REAL_BLOCKED_MS) == 0)
		return sc_fail(c, "%s completed, but it must stay blocked", what);
	return 0;
}

/* One REAL_BLOCKED_MS window for all of them, not one each. */
int sc_all_blocked(struct shape_ctx *c, struct real_guest **g, int n,
		       const char *what)
{
	if (sc_still_blocked(c, g[0], what))
		return -1;
	for (int i = 1; i < n; i++)
		if (real_guest_finished(g[i]))
			return sc_fail(c, "%s completed, but it must stay blocked", what);
	return 0;
}

int sc_expect_states(struct shape_ctx *c, struct real_env *e,
			 const enum hpage *want, uint64_t n)
{
	for (uint64_t p = 0; p < n; p++)
		if (real_env_expect_state(e, p, want[p], WHY))
			return sc_failed_in(c, "tracker");
	return 0;
}

int sc_expect_dirt(struct shape_ctx *c, struct real_env *e,
		       const enum real_dirt *want, uint64_t n)
{
	for (uint64_t p = 0; p < n; p++)
		if (want[p] && real_env_expect_dirt(e, p, want[p], WHY))
			return sc_failed_in(c, "dirtiness");
	return 0;
}

int sc_pause(struct shape_ctx *c, struct real_env *e)
{
	c->res->ops++;
	int r = handler_pause(e->h);
	return r ? sc_fail(c, "handler_pause: %s", strerror(-r)) : 0;
}

int sc_resume(struct shape_ctx *c, struct real_env *e)
{
	c->res->ops++;
	int r = handler_resume(e->h);
	return r ? sc_fail(c, "handler_resume: %s", strerror(-r)) : 0;
}
