/* Shapes of plain faults: TestMissing, TestMissingWrite, the parallel and
 * serial loads, Prefault, TestAsyncWriteProtection (docs/HANDLER.md 2.6). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "real/shape_ctx.h"
#include "real/sys_real.h"

/* ---------------- TestMissing / TestMissingWrite ---------------- */

static int missing_arm(struct shape_ctx *c, int remove_on, int write)
{
	uint64_t pages = IS2M(c) ? 8 : 32;
	uint64_t at[3] = {0, IS2M(c) ? 3 : 15, pages - 1};
	struct real_env_opts o;
	sc_opts(c, &o, pages);
	o.event_remove = remove_on;
	struct real_env *e;
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	for (int i = 0; i < 3; i++) {
		int r = write ? sc_wr(c, e, at[i], (uint8_t)(at[i] + 1))
			      : sc_rd(c, e, at[i], REAL_C_SNAPSHOT, 0);
		if (r)
			goto out;
	}
	/* "read after read" / "read after write" of the first page */
	if (write ? sc_rd(c, e, 0, REAL_C_WRITTEN, 1) : sc_rd(c, e, 0, REAL_C_SNAPSHOT, 0))
		goto out;
	enum hpage st[32] = {0};
	enum real_dirt dt[32];
	for (uint64_t p = 0; p < pages; p++)
		dt[p] = REAL_D_ABSENT;
	for (int i = 0; i < 3; i++) {
		st[at[i]] = HPAGE_DIRTY;
		dt[at[i]] = write ? REAL_D_DIRTY : REAL_D_CLEAN;
	}
	if (sc_expect_states(c, e, st, pages) || sc_expect_dirt(c, e, dt, pages))
		goto out;
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc ? sc_failed_in(c, remove_on ? "remove-on" : "remove-off") : 0;
}

int rshape_missing(struct shape_ctx *c)
{
	return missing_arm(c, 0, 0) || missing_arm(c, 1, 0) ? -1 : 0;
}

int rshape_missing_write(struct shape_ctx *c)
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

static int load_shape(struct shape_ctx *c, int threads, int write, uint64_t pages)
{
	struct real_env_opts o;
	sc_opts(c, &o, pages);
	o.wp = 0; /* plain MISSING, as upstream Firecracker registers */
	struct real_env *e;
	if (sc_open(c, &o, &e))
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
			sc_fail(c, "starting a guest thread: %s", strerror(-r));
			goto out;
		}
	}
	for (int t = 0; t < threads; t++)
		if (real_guest_check(g[t], 6 * REAL_WAIT_MS, WHY))
			goto out;
	for (uint64_t p = 0; p < pages; p++) {
		if (write && real_guest_expect(e->r, p, REAL_C_WRITTEN, 0x5A, 1, WHY))
			goto out;
		if (real_env_expect_state(e, p, HPAGE_DIRTY, WHY)) {
			sc_failed_in(c, "tracker");
			goto out;
		}
	}
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}

int rshape_parallel(struct shape_ctx *c)
{
	return load_shape(c, PAR_THREADS, 0, IS2M(c) ? 8 : 256);
}

int rshape_parallel_write(struct shape_ctx *c)
{
	return load_shape(c, PAR_THREADS, 1, IS2M(c) ? 8 : 256);
}

int rshape_serial(struct shape_ctx *c)
{
	return load_shape(c, 1, 0, IS2M(c) ? 8 : 1024);
}

/* ---------------- prefetch (Prefault) ---------------- */

int rshape_prefetch(struct shape_ctx *c)
{
	uint64_t pages = 8, half = pages / 2;
	struct real_env_opts o;
	sc_opts(c, &o, pages);
	struct real_env *e;
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	for (uint64_t p = 0; p < half; p++) {
		c->res->ops++;
		if (real_env_prefault(e, p, WHY))
			goto out;
	}
	for (uint64_t p = 0; p < pages; p++) {
		enum hpage want = p < half ? HPAGE_DIRTY : HPAGE_UNKNOWN;
		enum real_dirt dw = p < half ? REAL_D_CLEAN : REAL_D_ABSENT;
		if (real_env_expect_state(e, p, want, WHY))
			goto out_in_prefault;
		if (real_env_expect_dirt(e, p, dw, WHY))
			goto out_in_prefault;
	}
	/* A prefaulted page needs no fault: read them all, then count. */
	for (uint64_t p = 0; p < pages; p++)
		if (sc_rd(c, e, p, REAL_C_SNAPSHOT, 0))
			goto out;
	/* A removed page must not be refilled from the snapshot (B3), and a
	 * present one must not be installed twice. */
	if (sc_rm(c, e, half, 1))
		goto out;
	c->res->ops += 2;
	if (real_env_prefault(e, half, WHY) || real_env_prefault(e, 0, WHY))
		goto out;
	if (real_env_expect_state(e, half, HPAGE_REMOVED, WHY))
		goto out_in_prefault;
	if (sc_rd(c, e, half, REAL_C_ZERO, 0))
		goto out;
	int stop = real_env_stop(e);
	struct handler_stats st;
	handler_get_stats(e->h, &st);
	if (stop)
		rc = sc_fail(c, "handler stopped with error %d", stop);
	else if (st.prefaulted != half)
		rc = sc_fail(c, "handler counted %llu prefaults, want %llu",
			  (unsigned long long)st.prefaulted,
			  (unsigned long long)half);
	else if (st.faults != pages - half + 1)
		rc = sc_fail(c, "%llu faults dispatched, want %llu (prefaulted pages must not fault)",
			  (unsigned long long)st.faults,
			  (unsigned long long)(pages - half + 1));
	else
		rc = 0;
	goto out;
out_in_prefault:
	sc_failed_in(c, "after prefault");
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- TestAsyncWriteProtection ---------------- */

static int wp_arm(struct shape_ctx *c, int always_wp)
{
	uint64_t pages = 8;
	struct real_env_opts o;
	sc_opts(c, &o, pages);
	if (always_wp)
		o.default_copy_mode = UFFDIO_COPY_MODE_WP;
	struct real_env *e;
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	enum real_dirt dt[8];
	if (!always_wp) {
		/* p0 read,write  p1 write,read  p2 read  p3 write
		 * p4 read,write,read  p5 read,remove  p6 untouched
		 * p7 write,remove,read (a zero-fill read: installed clean) */
		if (sc_rd(c, e, 0, REAL_C_SNAPSHOT, 0) || sc_wr(c, e, 0, 0x10) ||
		    sc_wr(c, e, 1, 0x11) || sc_rd(c, e, 1, REAL_C_WRITTEN, 0x11) ||
		    sc_rd(c, e, 2, REAL_C_SNAPSHOT, 0) || sc_wr(c, e, 3, 0x13) ||
		    sc_rd(c, e, 4, REAL_C_SNAPSHOT, 0) || sc_wr(c, e, 4, 0x14) ||
		    sc_rd(c, e, 4, REAL_C_WRITTEN, 0x14) ||
		    sc_rd(c, e, 5, REAL_C_SNAPSHOT, 0) || sc_rm(c, e, 5, 1) ||
		    sc_wr(c, e, 7, 0x17) || sc_rm(c, e, 7, 1) ||
		    sc_rd(c, e, 7, REAL_C_ZERO, 0))
			goto out;
		enum real_dirt w[8] = {REAL_D_DIRTY, REAL_D_DIRTY, REAL_D_CLEAN,
				       REAL_D_DIRTY, REAL_D_DIRTY, REAL_D_ABSENT,
				       REAL_D_ABSENT, REAL_D_CLEAN};
		memcpy(dt, w, sizeof dt);
	} else {
		/* "alwaysWP": write faults install WP too; WP_ASYNC must
		 * still see the write that follows. */
		if (sc_wr(c, e, 0, 0x20) || sc_rd(c, e, 1, REAL_C_SNAPSHOT, 0) ||
		    sc_wr(c, e, 2, 0x22) || sc_rd(c, e, 2, REAL_C_WRITTEN, 0x22) ||
		    sc_rd(c, e, 3, REAL_C_SNAPSHOT, 0) || sc_wr(c, e, 3, 0x23))
			goto out;
		enum real_dirt w[8] = {REAL_D_DIRTY, REAL_D_CLEAN, REAL_D_DIRTY,
				       REAL_D_DIRTY, REAL_D_ABSENT, REAL_D_ABSENT,
				       REAL_D_ABSENT, REAL_D_ABSENT};
		memcpy(dt, w, sizeof dt);
	}
	if (sc_expect_dirt(c, e, dt, pages))
		goto out;
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc ? sc_failed_in(c, always_wp ? "alwaysWP" : "default") : 0;
}

int rshape_async_wp(struct shape_ctx *c)
{
	return wp_arm(c, 0) || wp_arm(c, 1) ? -1 : 0;
}
