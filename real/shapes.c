#include "real/shapes.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handler/variants.h"
#include "real/harness.h"
#include "real/hugepages.h"
#include "real/sys_real.h"
#include "real/watchdog.h"

#define K4 4096ull
#define IS2M(c) ((c)->ps == REAL_HUGE_2M)

/* The upstream 1,000,000-operation loads, cut to what the hardware suite can
 * afford on two cores (HANDLER.md 2.7 records the same cut upstream). */
#define LOAD_OPS 10000
#define PAR_THREADS 4

struct ctx {
	uint64_t ps;
	const struct real_shape_opts *o;
	struct real_shape_result *res;
	int skipped;
};

static int fail(struct ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->res->why, sizeof c->res->why, fmt, ap);
	va_end(ap);
	return -1;
}

/* Prefix an already-set reason with the context it happened in. */
static int failed_in(struct ctx *c, const char *where)
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

#define WHY c->res->why, sizeof c->res->why

static void opts_for(struct ctx *c, struct real_env_opts *o, uint64_t pages)
{
	real_env_opts_init(o, c->ps, pages);
	o->handler = c->o->handler;
	o->variants = c->o->variants;
	/* Upstream registers MISSING|WP with WP_ASYNC in every test. */
	o->wp = 1;
	o->event_remove = 1;
}

static int open_env(struct ctx *c, const struct real_env_opts *o,
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
static int close_env(struct ctx *c, struct real_env *e, int expect_err)
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
		rc = fail(c, "handler stopped with error %d (%s)", stop,
			  msg ? msg : "no reason given");
	}
	real_env_close(e);
	return rc;
}

static int run_op(struct ctx *c, struct real_env *e, struct real_op op)
{
	c->res->ops++;
	struct real_guest *g;
	int rc = real_guest_start_op(e, &op, &g);
	if (rc)
		return fail(c, "starting a guest thread: %s", strerror(-rc));
	if (real_guest_check(g, REAL_WAIT_MS, WHY))
		return -1;
	real_guest_free(g);
	return 0;
}

static int rd(struct ctx *c, struct real_env *e, uint64_t p,
	      enum real_content want, uint8_t v)
{
	return run_op(c, e, (struct real_op){.kind = REAL_OP_READ, .page = p,
					     .want = want, .value = v});
}

static int wr(struct ctx *c, struct real_env *e, uint64_t p, uint8_t v)
{
	return run_op(c, e, (struct real_op){.kind = REAL_OP_WRITE, .page = p,
					     .value = v});
}

/* madvise returns once the handler has *read* the REMOVE; the tracker is
 * updated just after, under the settle write lock. Checks that follow a
 * remove wait (bounded) for that, as upstream polls its page states. */
static int applied(struct ctx *c, struct real_env *e, uint64_t p, uint64_t n)
{
	for (uint64_t i = p; i < p + n; i++)
		if (real_env_wait_state(e, i, PAGE_ZERO, REAL_WAIT_MS, WHY))
			return failed_in(c, "REMOVE not applied");
	return 0;
}

static int rm(struct ctx *c, struct real_env *e, uint64_t p, uint64_t n)
{
	if (run_op(c, e, (struct real_op){.kind = REAL_OP_REMOVE, .page = p,
					  .n = n}))
		return -1;
	return applied(c, e, p, n);
}

static int start_op(struct ctx *c, struct real_env *e, struct real_op op,
		    struct real_guest **g)
{
	c->res->ops++;
	int rc = real_guest_start_op(e, &op, g);
	return rc ? fail(c, "starting a guest thread: %s", strerror(-rc)) : 0;
}

static int still_blocked(struct ctx *c, struct real_guest *g, const char *what)
{
	if (real_guest_wait(g, REAL_BLOCKED_MS) == 0)
		return fail(c, "%s completed, but it must stay blocked", what);
	return 0;
}

/* One REAL_BLOCKED_MS window for all of them, not one each. */
static int all_blocked(struct ctx *c, struct real_guest **g, int n,
		       const char *what)
{
	if (still_blocked(c, g[0], what))
		return -1;
	for (int i = 1; i < n; i++)
		if (real_guest_finished(g[i]))
			return fail(c, "%s completed, but it must stay blocked", what);
	return 0;
}

static int expect_states(struct ctx *c, struct real_env *e,
			 const enum page_state *want, uint64_t n)
{
	for (uint64_t p = 0; p < n; p++)
		if (real_env_expect_state(e, p, want[p], WHY))
			return failed_in(c, "tracker");
	return 0;
}

static int expect_dirt(struct ctx *c, struct real_env *e,
		       const enum real_dirt *want, uint64_t n)
{
	for (uint64_t p = 0; p < n; p++)
		if (want[p] && real_env_expect_dirt(e, p, want[p], WHY))
			return failed_in(c, "dirtiness");
	return 0;
}

/* ---------------- TestMissing / TestMissingWrite ---------------- */

static int missing_arm(struct ctx *c, int remove_on, int write)
{
	uint64_t pages = IS2M(c) ? 8 : 32;
	uint64_t at[3] = {0, IS2M(c) ? 3 : 15, pages - 1};
	struct real_env_opts o;
	opts_for(c, &o, pages);
	o.event_remove = remove_on;
	struct real_env *e;
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	for (int i = 0; i < 3; i++) {
		int r = write ? wr(c, e, at[i], (uint8_t)(at[i] + 1))
			      : rd(c, e, at[i], REAL_C_SNAPSHOT, 0);
		if (r)
			goto out;
	}
	/* "read after read" / "read after write" of the first page */
	if (write ? rd(c, e, 0, REAL_C_WRITTEN, 1) : rd(c, e, 0, REAL_C_SNAPSHOT, 0))
		goto out;
	enum page_state st[32] = {0};
	enum real_dirt dt[32];
	for (uint64_t p = 0; p < pages; p++)
		dt[p] = REAL_D_ABSENT;
	for (int i = 0; i < 3; i++) {
		st[at[i]] = PAGE_DIRTY;
		dt[at[i]] = write ? REAL_D_DIRTY : REAL_D_CLEAN;
	}
	if (expect_states(c, e, st, pages) || expect_dirt(c, e, dt, pages))
		goto out;
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc ? failed_in(c, remove_on ? "remove-on" : "remove-off") : 0;
}

static int shape_missing(struct ctx *c)
{
	return missing_arm(c, 0, 0) || missing_arm(c, 1, 0) ? -1 : 0;
}

static int shape_missing_write(struct ctx *c)
{
	return missing_arm(c, 0, 1) || missing_arm(c, 1, 1) ? -1 : 0;
}

/* ---------------- parallel and serial loads ---------------- */

struct load {
	int write;
	uint64_t pages;
	uint64_t nops;
	uint64_t first;     /* first page this thread visits */
	uint8_t value;
};

/* Thread t visits pages first, first+1, ... (mod pages): threads started
 * together race for the same missing pages, as upstream's concurrent
 * accesses to one page do, and over many pages instead of one. */
static int load_main(struct real_env *e, void *arg, char *why, size_t whylen)
{
	const struct load *l = arg;
	int full = e->r->page_size == K4;
	for (uint64_t j = 0; j < l->nops; j++) {
		uint64_t p = (l->first + j) % l->pages;
		if (l->write)
			real_guest_write(e->r, p, l->value);
		else if (real_guest_expect(e->r, p, REAL_C_SNAPSHOT, 0, full,
					   why, whylen))
			return -1;
	}
	return 0;
}

static int load_shape(struct ctx *c, int threads, int write, uint64_t pages)
{
	struct real_env_opts o;
	opts_for(c, &o, pages);
	o.wp = 0; /* plain MISSING, as upstream Firecracker registers */
	struct real_env *e;
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	struct load l[PAR_THREADS];
	struct real_guest *g[PAR_THREADS] = {0};
	for (int t = 0; t < threads; t++) {
		l[t] = (struct load){.write = write, .pages = pages,
				     .nops = LOAD_OPS / (uint64_t)threads,
				     .first = 0, .value = 0x5A};
		c->res->ops += l[t].nops;
		int r = real_guest_start(e, "load", load_main, &l[t], &g[t]);
		if (r) {
			fail(c, "starting a guest thread: %s", strerror(-r));
			goto out;
		}
	}
	for (int t = 0; t < threads; t++)
		if (real_guest_check(g[t], 6 * REAL_WAIT_MS, WHY))
			goto out;
	for (uint64_t p = 0; p < pages; p++) {
		if (write && real_guest_expect(e->r, p, REAL_C_WRITTEN, 0x5A, 1, WHY))
			goto out;
		if (real_env_expect_state(e, p, PAGE_DIRTY, WHY)) {
			failed_in(c, "tracker");
			goto out;
		}
	}
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

static int shape_parallel(struct ctx *c)
{
	return load_shape(c, PAR_THREADS, 0, IS2M(c) ? 8 : 256);
}

static int shape_parallel_write(struct ctx *c)
{
	return load_shape(c, PAR_THREADS, 1, IS2M(c) ? 8 : 256);
}

static int shape_serial(struct ctx *c)
{
	return load_shape(c, 1, 0, IS2M(c) ? 8 : 1024);
}

/* ---------------- prefetch (Prefault) ---------------- */

static int shape_prefetch(struct ctx *c)
{
	uint64_t pages = 8, half = pages / 2;
	struct real_env_opts o;
	opts_for(c, &o, pages);
	struct real_env *e;
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	for (uint64_t p = 0; p < half; p++) {
		c->res->ops++;
		if (real_env_prefault(e, p, WHY))
			goto out;
	}
	for (uint64_t p = 0; p < pages; p++) {
		enum page_state want = p < half ? PAGE_DIRTY : PAGE_NOT_PRESENT;
		enum real_dirt dw = p < half ? REAL_D_CLEAN : REAL_D_ABSENT;
		if (real_env_expect_state(e, p, want, WHY))
			goto out_in_prefault;
		if (real_env_expect_dirt(e, p, dw, WHY))
			goto out_in_prefault;
	}
	/* A prefaulted page needs no fault: read them all, then count. */
	for (uint64_t p = 0; p < pages; p++)
		if (rd(c, e, p, REAL_C_SNAPSHOT, 0))
			goto out;
	/* A removed page must not be refilled from the snapshot (B3), and a
	 * present one must not be installed twice. */
	if (rm(c, e, half, 1))
		goto out;
	c->res->ops += 2;
	if (real_env_prefault(e, half, WHY) || real_env_prefault(e, 0, WHY))
		goto out;
	if (real_env_expect_state(e, half, PAGE_ZERO, WHY))
		goto out_in_prefault;
	if (rd(c, e, half, REAL_C_ZERO, 0))
		goto out;
	int stop = real_env_stop(e);
	struct handler_stats st;
	handler_get_stats(e->h, &st);
	if (stop)
		rc = fail(c, "handler stopped with error %d", stop);
	else if (st.prefaulted != half)
		rc = fail(c, "handler counted %llu prefaults, want %llu",
			  (unsigned long long)st.prefaulted,
			  (unsigned long long)half);
	else if (st.faults != pages - half + 1)
		rc = fail(c, "%llu faults dispatched, want %llu (prefaulted pages must not fault)",
			  (unsigned long long)st.faults,
			  (unsigned long long)(pages - half + 1));
	else
		rc = 0;
	goto out;
out_in_prefault:
	failed_in(c, "after prefault");
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- TestAsyncWriteProtection ---------------- */

static int wp_arm(struct ctx *c, int always_wp)
{
	uint64_t pages = 8;
	struct real_env_opts o;
	opts_for(c, &o, pages);
	if (always_wp)
		o.default_copy_mode = UFFDIO_COPY_MODE_WP;
	struct real_env *e;
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	enum real_dirt dt[8];
	if (!always_wp) {
		/* p0 read,write  p1 write,read  p2 read  p3 write
		 * p4 read,write,read  p5 read,remove  p6 untouched
		 * p7 write,remove,read (a zero-fill read: installed clean) */
		if (rd(c, e, 0, REAL_C_SNAPSHOT, 0) || wr(c, e, 0, 0x10) ||
		    wr(c, e, 1, 0x11) || rd(c, e, 1, REAL_C_WRITTEN, 0x11) ||
		    rd(c, e, 2, REAL_C_SNAPSHOT, 0) || wr(c, e, 3, 0x13) ||
		    rd(c, e, 4, REAL_C_SNAPSHOT, 0) || wr(c, e, 4, 0x14) ||
		    rd(c, e, 4, REAL_C_WRITTEN, 0x14) ||
		    rd(c, e, 5, REAL_C_SNAPSHOT, 0) || rm(c, e, 5, 1) ||
		    wr(c, e, 7, 0x17) || rm(c, e, 7, 1) ||
		    rd(c, e, 7, REAL_C_ZERO, 0))
			goto out;
		enum real_dirt w[8] = {REAL_D_DIRTY, REAL_D_DIRTY, REAL_D_CLEAN,
				       REAL_D_DIRTY, REAL_D_DIRTY, REAL_D_ABSENT,
				       REAL_D_ABSENT, REAL_D_CLEAN};
		memcpy(dt, w, sizeof dt);
	} else {
		/* "alwaysWP": write faults install WP too; WP_ASYNC must
		 * still see the write that follows. */
		if (wr(c, e, 0, 0x20) || rd(c, e, 1, REAL_C_SNAPSHOT, 0) ||
		    wr(c, e, 2, 0x22) || rd(c, e, 2, REAL_C_WRITTEN, 0x22) ||
		    rd(c, e, 3, REAL_C_SNAPSHOT, 0) || wr(c, e, 3, 0x23))
			goto out;
		enum real_dirt w[8] = {REAL_D_DIRTY, REAL_D_CLEAN, REAL_D_DIRTY,
				       REAL_D_DIRTY, REAL_D_ABSENT, REAL_D_ABSENT,
				       REAL_D_ABSENT, REAL_D_ABSENT};
		memcpy(dt, w, sizeof dt);
	}
	if (expect_dirt(c, e, dt, pages))
		goto out;
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc ? failed_in(c, always_wp ? "alwaysWP" : "default") : 0;
}

static int shape_async_wp(struct ctx *c)
{
	return wp_arm(c, 0) || wp_arm(c, 1) ? -1 : 0;
}

/* ---------------- TestRemove, TestRemoveMultiPage ---------------- */

static int shape_remove(struct ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	int rc = -1;

	/* read -> remove: removed, then a read gets zeros */
	opts_for(c, &o, 2);
	if (open_env(c, &o, &e))
		return -1;
	if (rd(c, e, 0, REAL_C_SNAPSHOT, 0) || rm(c, e, 0, 1))
		goto out;
	if (real_env_expect_state(e, 0, PAGE_ZERO, WHY) ||
	    real_env_expect_dirt(e, 0, REAL_D_ABSENT, WHY)) {
		failed_in(c, "after remove");
		goto out;
	}
	if (rd(c, e, 0, REAL_C_ZERO, 0))
		goto out;
	/* REF: a read zero-fill marks the page DIRTY (B24 is later), and it
	 * is installed write-protected, i.e. clean. */
	if (real_env_expect_state(e, 0, PAGE_DIRTY, WHY) ||
	    real_env_expect_dirt(e, 0, REAL_D_CLEAN, WHY)) {
		failed_in(c, "after zero-fill");
		goto out;
	}
	if (close_env(c, e, 0))
		return -1;

	/* selective: read 0, write 1, remove 0 */
	opts_for(c, &o, 2);
	if (open_env(c, &o, &e))
		return -1;
	if (rd(c, e, 0, REAL_C_SNAPSHOT, 0) || wr(c, e, 1, 0x31) ||
	    rm(c, e, 0, 1))
		goto out;
	{
		enum page_state st[2] = {PAGE_ZERO, PAGE_DIRTY};
		enum real_dirt dt[2] = {REAL_D_ABSENT, REAL_D_DIRTY};
		if (expect_states(c, e, st, 2) || expect_dirt(c, e, dt, 2))
			goto out;
	}
	if (close_env(c, e, 0))
		return -1;

	/* multi-page: read 0, read 2, remove 1..4; page 5 untouched */
	opts_for(c, &o, 6);
	if (open_env(c, &o, &e))
		return -1;
	if (rd(c, e, 0, REAL_C_SNAPSHOT, 0) || rd(c, e, 2, REAL_C_SNAPSHOT, 0) ||
	    rm(c, e, 1, 4))
		goto out;
	{
		enum page_state st[6] = {PAGE_DIRTY, PAGE_ZERO, PAGE_ZERO,
					 PAGE_ZERO, PAGE_ZERO, PAGE_NOT_PRESENT};
		enum real_dirt dt[6] = {REAL_D_CLEAN, REAL_D_ABSENT, REAL_D_ABSENT,
					REAL_D_ABSENT, REAL_D_ABSENT, REAL_D_ABSENT};
		if (expect_states(c, e, st, 6) || expect_dirt(c, e, dt, 6))
			goto out;
	}
	if (rd(c, e, 2, REAL_C_ZERO, 0) || rd(c, e, 3, REAL_C_ZERO, 0) ||
	    rd(c, e, 5, REAL_C_SNAPSHOT, 0))
		goto out;
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- TestRemoveThenFault ---------------- */

static int shape_remove_then_write(struct ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	opts_for(c, &o, 2);
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	if (rd(c, e, 0, REAL_C_SNAPSHOT, 0) || rm(c, e, 0, 1) ||
	    wr(c, e, 0, 0x41) || rd(c, e, 0, REAL_C_WRITTEN, 0x41))
		goto out;
	if (real_env_expect_state(e, 0, PAGE_DIRTY, WHY) ||
	    real_env_expect_dirt(e, 0, REAL_D_DIRTY, WHY)) {
		failed_in(c, "after the write");
		goto out;
	}
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- write, remove, read ---------------- */

static int shape_write_then_remove(struct ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	opts_for(c, &o, 2);
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	if (wr(c, e, 0, 0x51) || rd(c, e, 0, REAL_C_WRITTEN, 0x51) ||
	    rm(c, e, 0, 1))
		goto out;
	if (real_env_expect_state(e, 0, PAGE_ZERO, WHY) ||
	    real_env_expect_dirt(e, 0, REAL_D_ABSENT, WHY)) {
		failed_in(c, "after remove");
		goto out;
	}
	if (rd(c, e, 0, REAL_C_ZERO, 0) || rd(c, e, 1, REAL_C_SNAPSHOT, 0))
		goto out;
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- the gated tests (pause / resume) ---------------- */

static int pause_h(struct ctx *c, struct real_env *e)
{
	c->res->ops++;
	int r = handler_pause(e->h);
	return r ? fail(c, "handler_pause: %s", strerror(-r)) : 0;
}

static int resume_h(struct ctx *c, struct real_env *e)
{
	c->res->ops++;
	int r = handler_resume(e->h);
	return r ? fail(c, "handler_resume: %s", strerror(-r)) : 0;
}

/* TestRemoveThenWriteGated: the write lands on the still-mapped page while
 * the REMOVE is unread, and the zap then drops it. */
static int shape_gated_remove_then_write(struct ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	struct real_guest *grm, *gwr;
	opts_for(c, &o, 2);
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	if (rd(c, e, 0, REAL_C_SNAPSHOT, 0) || pause_h(c, e))
		goto out;
	if (start_op(c, e, (struct real_op){.kind = REAL_OP_REMOVE, .page = 0, .n = 1}, &grm) ||
	    still_blocked(c, grm, "madvise while the handler is paused"))
		goto out;
	if (start_op(c, e, (struct real_op){.kind = REAL_OP_WRITE, .page = 0, .value = 0x61}, &gwr))
		goto out;
	if (real_guest_check(gwr, REAL_WAIT_MS, WHY)) {
		failed_in(c, "a write to a present page with its REMOVE unread");
		goto out;
	}
	if (resume_h(c, e) || real_guest_check(grm, REAL_WAIT_MS, WHY) ||
	    applied(c, e, 0, 1))
		goto out;
	{
		enum page_state st[2] = {PAGE_ZERO, PAGE_NOT_PRESENT};
		enum real_dirt dt[2] = {REAL_D_ABSENT, REAL_D_ABSENT};
		if (expect_states(c, e, st, 2) || expect_dirt(c, e, dt, 2))
			goto out;
	}
	if (rd(c, e, 0, REAL_C_ZERO, 0))
		goto out;
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

/* TestWriteThenRemoveGated: a fault and a REMOVE both wait for the paused
 * handler; after resume both complete. */
static int shape_gated_write_then_remove(struct ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	struct real_guest *gwr, *grm;
	opts_for(c, &o, 2);
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	if (rd(c, e, 0, REAL_C_SNAPSHOT, 0) || pause_h(c, e))
		goto out;
	if (start_op(c, e, (struct real_op){.kind = REAL_OP_WRITE, .page = 1, .value = 0x71}, &gwr) ||
	    still_blocked(c, gwr, "a write fault while the handler is paused"))
		goto out;
	if (start_op(c, e, (struct real_op){.kind = REAL_OP_REMOVE, .page = 0, .n = 1}, &grm) ||
	    still_blocked(c, grm, "madvise while the handler is paused"))
		goto out;
	if (resume_h(c, e) || real_guest_check(gwr, REAL_WAIT_MS, WHY) ||
	    real_guest_check(grm, REAL_WAIT_MS, WHY) || applied(c, e, 0, 1))
		goto out;
	{
		enum page_state st[2] = {PAGE_ZERO, PAGE_DIRTY};
		enum real_dirt dt[2] = {REAL_D_ABSENT, REAL_D_DIRTY};
		if (expect_states(c, e, st, 2) || expect_dirt(c, e, dt, 2))
			goto out;
	}
	if (rd(c, e, 1, REAL_C_WRITTEN, 0x71) || rd(c, e, 0, REAL_C_ZERO, 0))
		goto out;
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

/* Faults pending across pause and resume, several rounds. */
static int shape_pause_resume(struct ctx *c)
{
	uint64_t pages = 8;
	struct real_env_opts o;
	struct real_env *e;
	opts_for(c, &o, pages);
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	for (uint64_t round = 0; round < 2; round++) {
		struct real_guest *g[4];
		if (pause_h(c, e))
			goto out;
		for (int i = 0; i < 4; i++) {
			uint64_t p = round * 4 + (uint64_t)i;
			struct real_op op = {.kind = i == 3 ? REAL_OP_WRITE : REAL_OP_READ,
					     .page = p, .want = REAL_C_SNAPSHOT,
					     .value = 0x80};
			if (start_op(c, e, op, &g[i]))
				goto out;
		}
		if (all_blocked(c, g, 4, "a fault while the handler is paused"))
			goto out;
		if (resume_h(c, e))
			goto out;
		for (int i = 0; i < 4; i++)
			if (real_guest_check(g[i], REAL_WAIT_MS, WHY))
				goto out;
	}
	/* a pause without anything pending, and a resume that is a no-op */
	if (pause_h(c, e) || resume_h(c, e) || resume_h(c, e))
		goto out;
	for (uint64_t p = 0; p < pages; p++)
		if (real_env_expect_state(e, p, PAGE_DIRTY, WHY)) {
			failed_in(c, "tracker");
			goto out;
		}
	if (rd(c, e, 3, REAL_C_WRITTEN, 0x80) || rd(c, e, 4, REAL_C_SNAPSHOT, 0))
		goto out;
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- races with fault barriers ---------------- */

/* TestStaleSourceRaceMissingAndRemove: the worker for a read of page 1 is
 * parked before its read lock; page 1 is removed meanwhile; once released
 * the worker must serve zeros, not the snapshot's sentinel. */
static int shape_stale_source(struct ctx *c)
{
	unsigned char fill[4] = {0, REAL_FILL_SENTINEL, 0, 0};
	struct real_env_opts o;
	struct real_env *e;
	struct real_guest *grd, *grm;
	opts_for(c, &o, 4);
	o.fill = fill;
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	int tok = real_barrier_install(e, 1, SYS_NOTE_BEFORE_RLOCK);
	if (tok < 0) {
		fail(c, "installing a barrier: %s", strerror(-tok));
		goto out;
	}
	if (start_op(c, e, (struct real_op){.kind = REAL_OP_READ, .page = 1,
					    .want = REAL_C_ZERO}, &grd))
		goto out;
	if (real_barrier_wait_held(e, tok, REAL_WAIT_MS)) {
		fail(c, "the worker for page 1 never reached BEFORE_RLOCK");
		goto out;
	}
	if (start_op(c, e, (struct real_op){.kind = REAL_OP_REMOVE, .page = 1, .n = 1}, &grm) ||
	    real_guest_check(grm, REAL_WAIT_MS, WHY))
		goto out;
	if (real_env_wait_state(e, 1, PAGE_ZERO, REAL_WAIT_MS, WHY))
		goto out;
	real_barrier_release(e, tok);
	if (real_guest_check(grd, REAL_WAIT_MS, WHY))
		goto out;
	int present;
	if (real_page_flags(e->r, 1, &present, NULL) || !present) {
		fail(c, "page 1 not present after its fault was served");
		goto out;
	}
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

/* TestNoMadviseDeadlockWithInflightCopy: madvise must return while a worker
 * holds the settle read lock (reading messages needs no lock, B4). */
static int shape_madvise_inflight(struct ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	struct real_guest *gwr, *grm;
	opts_for(c, &o, 4);
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	int tok = real_barrier_install(e, 2, SYS_NOTE_BEFORE_FAULT_PAGE);
	if (tok < 0) {
		fail(c, "installing a barrier: %s", strerror(-tok));
		goto out;
	}
	if (start_op(c, e, (struct real_op){.kind = REAL_OP_WRITE, .page = 2,
					    .value = 0x92}, &gwr))
		goto out;
	if (real_barrier_wait_held(e, tok, REAL_WAIT_MS)) {
		fail(c, "the worker for page 2 never reached BEFORE_FAULT_PAGE");
		goto out;
	}
	if (start_op(c, e, (struct real_op){.kind = REAL_OP_REMOVE, .page = 2, .n = 1}, &grm))
		goto out;
	if (real_guest_check(grm, 2000, WHY)) {
		failed_in(c, "madvise with a worker holding the read lock");
		goto out;
	}
	real_barrier_release(e, tok);
	if (real_guest_check(gwr, REAL_WAIT_MS, WHY))
		goto out;
	rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- the snapshot source failing ---------------- */

static int shape_source_retry(struct ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	opts_for(c, &o, 4);
	o.backoff_base_ns = 1000000;  /* 1 ms: keep the test quick */
	o.backoff_cap_ns = 10000000;
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	c->res->ops++;
	sys_real_source_fail(e->sys, 1, 2);
	if (rd(c, e, 1, REAL_C_SNAPSHOT, 0) || rd(c, e, 2, REAL_C_SNAPSHOT, 0))
		goto out;
	uint64_t reads, failed;
	sys_real_source_counts(e->sys, &reads, &failed);
	int stop = real_env_stop(e);
	struct handler_stats st;
	handler_get_stats(e->h, &st);
	if (stop)
		fail(c, "handler stopped with error %d after a transient failure", stop);
	else if (failed != 2 || st.source_retries != 2)
		fail(c, "%llu source reads failed and %llu retries counted, want 2 and 2",
		     (unsigned long long)failed,
		     (unsigned long long)st.source_retries);
	else
		rc = 0;
out:
	if (close_env(c, e, 0))
		rc = -1;
	return rc;
}

/* A source that fails for good ends the handler with a clear error, on its
 * own and without a hang; the test then releases the faulting guest. */
static int shape_source_fail(struct ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	struct real_guest *g1, *g2;
	opts_for(c, &o, 4);
	o.source_retries = 2;
	o.backoff_base_ns = 1000000;
	o.backoff_cap_ns = 10000000;
	if (open_env(c, &o, &e))
		return -1;
	int rc = -1;
	c->res->ops++;
	sys_real_source_fail(e->sys, 1, 0);
	if (start_op(c, e, (struct real_op){.kind = REAL_OP_READ, .page = 1,
					    .want = REAL_C_ZERO}, &g1))
		goto out;
	if (real_env_wait_idle(e, REAL_WAIT_MS)) {
		fail(c, "the handler did not end by itself after the source failed for good");
		goto out;
	}
	if (still_blocked(c, g1, "the fault whose source failed"))
		goto out;
	/* With the serve loop gone nothing serves a new fault either. */
	if (start_op(c, e, (struct real_op){.kind = REAL_OP_READ, .page = 2,
					    .want = REAL_C_ZERO}, &g2) ||
	    still_blocked(c, g2, "a fault after the handler ended"))
		goto out;
	int stop = real_env_stop(e);
	const char *msg = handler_error(e->h);
	uint64_t reads, failed;
	sys_real_source_counts(e->sys, &reads, &failed);
	if (!stop) {
		fail(c, "handler_stop returned 0 after the source failed for good");
		goto out;
	}
	if (!msg || !*msg) {
		fail(c, "handler_error gives no reason");
		goto out;
	}
	if (failed != 3) {
		fail(c, "%llu source reads failed, want 3 (1 + 2 retries)",
		     (unsigned long long)failed);
		goto out;
	}
	/* Unregistering wakes both guests into plain (zero) memory. */
	int u = real_region_unregister(e->r);
	if (u) {
		fail(c, "UFFDIO_UNREGISTER: %s", strerror(-u));
		goto out;
	}
	if (real_guest_check(g1, REAL_WAIT_MS, WHY) ||
	    real_guest_check(g2, REAL_WAIT_MS, WHY)) {
		failed_in(c, "after unregistering");
		goto out;
	}
	rc = 0;
out:
	if (close_env(c, e, 1))
		rc = -1;
	return rc;
}

/* ---------------- registry and runner ---------------- */

static const struct {
	const char *name;
	int (*fn)(struct ctx *);
} shapes[] = {
	{"missing", shape_missing},
	{"missing-write", shape_missing_write},
	{"parallel", shape_parallel},
	{"parallel-write", shape_parallel_write},
	{"serial", shape_serial},
	{"prefetch", shape_prefetch},
	{"async-wp", shape_async_wp},
	{"remove", shape_remove},
	{"remove-then-write", shape_remove_then_write},
	{"write-then-remove", shape_write_then_remove},
	{"gated-remove-then-write", shape_gated_remove_then_write},
	{"gated-write-then-remove", shape_gated_write_then_remove},
	{"pause-resume", shape_pause_resume},
	{"stale-source", shape_stale_source},
	{"madvise-inflight", shape_madvise_inflight},
	{"source-retry", shape_source_retry},
	{"source-fail", shape_source_fail},
};
#define NSHAPES (sizeof shapes / sizeof *shapes)

const char *const *real_shape_names(void)
{
	static const char *names[NSHAPES + 1];
	for (size_t i = 0; i < NSHAPES; i++)
		names[i] = shapes[i].name;
	names[NSHAPES] = NULL;
	return names;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

int real_shape_run(const char *name, uint64_t page_size,
		   const struct real_shape_opts *opts,
		   struct real_shape_result *res)
{
	static const struct real_shape_opts none = {0};
	size_t i;
	for (i = 0; i < NSHAPES; i++)
		if (strcmp(shapes[i].name, name) == 0)
			break;
	if (i == NSHAPES)
		return -ENOENT;
	if (page_size != K4 && page_size != REAL_HUGE_2M)
		return -EINVAL;
	memset(res, 0, sizeof *res);
	struct ctx c = {.ps = page_size, .o = opts ? opts : &none, .res = res};
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = shapes[i].fn(&c);
	res->ms = ms_since(&t0);
	if (c.skipped)
		res->status = REAL_SHAPE_SKIPPED;
	else
		res->status = rc ? REAL_SHAPE_FAILED : REAL_SHAPE_PASSED;
	return 0;
}

int real_run_shapes(FILE *out, int verbose)
{
	char why[256];
	int failed = 0, passed = 0, skipped = 0;
	int uffd_ok = real_uffd_available(why, sizeof why) == 0;
	char huge_why[256] = "";
	int huge_ok = uffd_ok && real_hugetlb_available(huge_why, sizeof huge_why) == 0;
	if (verbose)
		fprintf(out, "real: e2b-ref on this kernel, %zu upstream test shapes\n",
			NSHAPES);
	for (int s = 0; s < 2; s++) {
		uint64_t ps = s ? REAL_HUGE_2M : K4;
		const char *tag = s ? "2m" : "4k";
		for (size_t i = 0; i < NSHAPES; i++) {
			struct real_shape_result r;
			if (!uffd_ok || (s && !huge_ok)) {
				fprintf(out, "real %s %s: skipped (%s)\n", shapes[i].name,
					tag, uffd_ok ? huge_why : why);
				skipped++;
				continue;
			}
			char label[96];
			snprintf(label, sizeof label, "real shape %s %s",
				 shapes[i].name, tag);
			/* A handler thread that never returns is the only
			 * thing the shapes' own deadlines cannot catch. */
			real_watchdog_arm(120, label);
			real_shape_run(shapes[i].name, ps, NULL, &r);
			real_watchdog_disarm();
			const char *st = r.status == REAL_SHAPE_PASSED ? "passed"
					 : r.status == REAL_SHAPE_FAILED ? "FAILED"
									 : "skipped";
			fprintf(out, "real %s %s: %s", shapes[i].name, tag, st);
			if (r.status != REAL_SHAPE_PASSED)
				fprintf(out, " (%s)", r.why);
			fprintf(out, ", %llu ops, %llu faults served, %.1f ms\n",
				(unsigned long long)r.ops,
				(unsigned long long)r.served, r.ms);
			fflush(out);
			failed += r.status == REAL_SHAPE_FAILED;
			passed += r.status == REAL_SHAPE_PASSED;
			skipped += r.status == REAL_SHAPE_SKIPPED;
		}
	}
	if (verbose)
		fprintf(out, "real: %d passed, %d failed, %d skipped\n", passed,
			failed, skipped);
	return failed;
}
