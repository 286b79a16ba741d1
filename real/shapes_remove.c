/* Shapes with REMOVE and pause/resume: TestRemove(MultiPage),
 * TestRemoveThenFault, write-then-remove, the gated tests (docs/HANDLER.md 2.6). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "handler/handler.h"
#include "handler/variants.h"
#include "real/shape_ctx.h"
#include "real/sys_real.h"

/* ---------------- TestRemove, TestRemoveMultiPage ---------------- */

int rshape_remove(struct shape_ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	int rc = -1;

	/* read -> remove: removed, then a read gets zeros */
	sc_opts(c, &o, 2);
	if (sc_open(c, &o, &e))
		return -1;
	if (sc_rd(c, e, 0, REAL_C_SNAPSHOT, 0) || sc_rm(c, e, 0, 1))
		goto out;
	if (real_env_expect_state(e, 0, HPAGE_REMOVED, WHY) ||
	    real_env_expect_dirt(e, 0, REAL_D_ABSENT, WHY)) {
		sc_failed_in(c, "after remove");
		goto out;
	}
	if (sc_rd(c, e, 0, REAL_C_ZERO, 0))
		goto out;
	/* REF: a read zero-fill marks the page DIRTY; from #2541 (reference
	 * under WP_ASYNC, B24's fix) it stays ZERO, exported empty. Either
	 * way it is installed write-protected, i.e. clean. */
	if ((handler_page_view(e->h, 0) != HPAGE_REMOVED &&
	     real_env_expect_state(e, 0, HPAGE_DIRTY, WHY)) ||
	    real_env_expect_dirt(e, 0, REAL_D_CLEAN, WHY)) {
		sc_failed_in(c, "after zero-fill");
		goto out;
	}
	if (sc_close(c, e, 0))
		return -1;

	/* selective: read 0, write 1, remove 0 */
	sc_opts(c, &o, 2);
	if (sc_open(c, &o, &e))
		return -1;
	if (sc_rd(c, e, 0, REAL_C_SNAPSHOT, 0) || sc_wr(c, e, 1, 0x31) ||
	    sc_rm(c, e, 0, 1))
		goto out;
	{
		enum hpage st[2] = {HPAGE_REMOVED, HPAGE_DIRTY};
		enum real_dirt dt[2] = {REAL_D_ABSENT, REAL_D_DIRTY};
		if (sc_expect_states(c, e, st, 2) || sc_expect_dirt(c, e, dt, 2))
			goto out;
	}
	if (sc_close(c, e, 0))
		return -1;

	/* multi-page: read 0, read 2, remove 1..4; page 5 untouched */
	sc_opts(c, &o, 6);
	if (sc_open(c, &o, &e))
		return -1;
	if (sc_rd(c, e, 0, REAL_C_SNAPSHOT, 0) || sc_rd(c, e, 2, REAL_C_SNAPSHOT, 0) ||
	    sc_rm(c, e, 1, 4))
		goto out;
	{
		enum hpage st[6] = {HPAGE_DIRTY, HPAGE_REMOVED, HPAGE_REMOVED,
					 HPAGE_REMOVED, HPAGE_REMOVED, HPAGE_UNKNOWN};
		enum real_dirt dt[6] = {REAL_D_CLEAN, REAL_D_ABSENT, REAL_D_ABSENT,
					REAL_D_ABSENT, REAL_D_ABSENT, REAL_D_ABSENT};
		if (sc_expect_states(c, e, st, 6) || sc_expect_dirt(c, e, dt, 6))
			goto out;
	}
	if (sc_rd(c, e, 2, REAL_C_ZERO, 0) || sc_rd(c, e, 3, REAL_C_ZERO, 0) ||
	    sc_rd(c, e, 5, REAL_C_SNAPSHOT, 0))
		goto out;
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- TestRemoveThenFault ---------------- */

int rshape_remove_then_write(struct shape_ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	sc_opts(c, &o, 2);
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	if (sc_rd(c, e, 0, REAL_C_SNAPSHOT, 0) || sc_rm(c, e, 0, 1) ||
	    sc_wr(c, e, 0, 0x41) || sc_rd(c, e, 0, REAL_C_WRITTEN, 0x41))
		goto out;
	/* under WP_ASYNC reference arms a write fault's fill (fix 7) and
	 * leaves a removed page ZERO: the write lands and the pagemap, which
	 * its export reads (fix 6), carries the dirt */
	const char *hn = o.handler ? o.handler : handler_default();
	int fix7 = o.wp && !strcmp(hn, "reference") && !(o.variants & VARIANT_WRITE_FILL_WRITABLE);
	enum hpage want = fix7 ? HPAGE_REMOVED : HPAGE_DIRTY;
	if (real_env_expect_state(e, 0, want, WHY) ||
	    real_env_expect_dirt(e, 0, REAL_D_DIRTY, WHY)) {
		sc_failed_in(c, "after the write");
		goto out;
	}
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- write, remove, read ---------------- */

int rshape_write_then_remove(struct shape_ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	sc_opts(c, &o, 2);
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	if (sc_wr(c, e, 0, 0x51) || sc_rd(c, e, 0, REAL_C_WRITTEN, 0x51) ||
	    sc_rm(c, e, 0, 1))
		goto out;
	if (real_env_expect_state(e, 0, HPAGE_REMOVED, WHY) ||
	    real_env_expect_dirt(e, 0, REAL_D_ABSENT, WHY)) {
		sc_failed_in(c, "after remove");
		goto out;
	}
	if (sc_rd(c, e, 0, REAL_C_ZERO, 0) || sc_rd(c, e, 1, REAL_C_SNAPSHOT, 0))
		goto out;
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- the gated tests (pause / resume) ---------------- */

/* TestRemoveThenWriteGated: the write lands on the still-mapped page while
 * the REMOVE is unread, and the zap then drops it. */
int rshape_gated_remove_then_write(struct shape_ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	struct real_guest *grm, *gwr;
	sc_opts(c, &o, 2);
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	if (sc_rd(c, e, 0, REAL_C_SNAPSHOT, 0) || sc_pause(c, e))
		goto out;
	if (sc_start(c, e, (struct real_op){.kind = REAL_OP_REMOVE, .page = 0, .n = 1}, &grm) ||
	    sc_still_blocked(c, grm, "madvise while the handler is paused"))
		goto out;
	if (sc_start(c, e, (struct real_op){.kind = REAL_OP_WRITE, .page = 0, .value = 0x61}, &gwr))
		goto out;
	if (real_guest_check(gwr, REAL_WAIT_MS, WHY)) {
		sc_failed_in(c, "a write to a present page with its REMOVE unread");
		goto out;
	}
	if (sc_resume(c, e) || real_guest_check(grm, REAL_WAIT_MS, WHY) ||
	    sc_applied(c, e, 0, 1))
		goto out;
	{
		enum hpage st[2] = {HPAGE_REMOVED, HPAGE_UNKNOWN};
		enum real_dirt dt[2] = {REAL_D_ABSENT, REAL_D_ABSENT};
		if (sc_expect_states(c, e, st, 2) || sc_expect_dirt(c, e, dt, 2))
			goto out;
	}
	if (sc_rd(c, e, 0, REAL_C_ZERO, 0))
		goto out;
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}

/* TestWriteThenRemoveGated: a fault and a REMOVE both wait for the paused
 * handler; after resume both complete. */
int rshape_gated_write_then_remove(struct shape_ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	struct real_guest *gwr, *grm;
	sc_opts(c, &o, 2);
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	if (sc_rd(c, e, 0, REAL_C_SNAPSHOT, 0) || sc_pause(c, e))
		goto out;
	if (sc_start(c, e, (struct real_op){.kind = REAL_OP_WRITE, .page = 1, .value = 0x71}, &gwr) ||
	    sc_still_blocked(c, gwr, "a write fault while the handler is paused"))
		goto out;
	if (sc_start(c, e, (struct real_op){.kind = REAL_OP_REMOVE, .page = 0, .n = 1}, &grm) ||
	    sc_still_blocked(c, grm, "madvise while the handler is paused"))
		goto out;
	if (sc_resume(c, e) || real_guest_check(gwr, REAL_WAIT_MS, WHY) ||
	    real_guest_check(grm, REAL_WAIT_MS, WHY) || sc_applied(c, e, 0, 1))
		goto out;
	{
		enum hpage st[2] = {HPAGE_REMOVED, HPAGE_DIRTY};
		enum real_dirt dt[2] = {REAL_D_ABSENT, REAL_D_DIRTY};
		if (sc_expect_states(c, e, st, 2) || sc_expect_dirt(c, e, dt, 2))
			goto out;
	}
	if (sc_rd(c, e, 1, REAL_C_WRITTEN, 0x71) || sc_rd(c, e, 0, REAL_C_ZERO, 0))
		goto out;
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}

/* Faults pending across pause and resume, several rounds. */
int rshape_pause_resume(struct shape_ctx *c)
{
	uint64_t pages = 8;
	struct real_env_opts o;
	struct real_env *e;
	sc_opts(c, &o, pages);
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	for (uint64_t round = 0; round < 2; round++) {
		struct real_guest *g[4];
		if (sc_pause(c, e))
			goto out;
		for (int i = 0; i < 4; i++) {
			uint64_t p = round * 4 + (uint64_t)i;
			struct real_op op = {.kind = i == 3 ? REAL_OP_WRITE : REAL_OP_READ,
					     .page = p, .want = REAL_C_SNAPSHOT,
					     .value = 0x80};
			if (sc_start(c, e, op, &g[i]))
				goto out;
		}
		if (sc_all_blocked(c, g, 4, "a fault while the handler is paused"))
			goto out;
		if (sc_resume(c, e))
			goto out;
		for (int i = 0; i < 4; i++)
			if (real_guest_check(g[i], REAL_WAIT_MS, WHY))
				goto out;
	}
	/* a pause without anything pending, and a resume that is a no-op */
	if (sc_pause(c, e) || sc_resume(c, e) || sc_resume(c, e))
		goto out;
	for (uint64_t p = 0; p < pages; p++)
		if (real_env_expect_state(e, p, HPAGE_DIRTY, WHY)) {
			sc_failed_in(c, "tracker");
			goto out;
		}
	if (sc_rd(c, e, 3, REAL_C_WRITTEN, 0x80) || sc_rd(c, e, 4, REAL_C_SNAPSHOT, 0))
		goto out;
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}
