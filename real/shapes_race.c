/* Shapes that force a race with fault barriers (TestStaleSourceRace...,
 * TestNoMadviseDeadlock...) and the snapshot source failing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "real/shape_ctx.h"
#include "real/sys_real.h"

/* ---------------- races with fault barriers ---------------- */

/* TestStaleSourceRaceMissingAndRemove: the worker for a read of page 1 is
 * parked before its read lock; page 1 is removed meanwhile; once released
 * the worker must serve zeros, not the snapshot's sentinel. */
int rshape_stale_source(struct shape_ctx *c)
{
	unsigned char fill[4] = {0, REAL_FILL_SENTINEL, 0, 0};
	struct real_env_opts o;
	struct real_env *e;
	struct real_guest *grd, *grm;
	sc_opts(c, &o, 4);
	o.fill = fill;
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	int tok = real_barrier_install(e, 1, SYS_NOTE_BEFORE_RLOCK);
	if (tok < 0) {
		sc_fail(c, "installing a barrier: %s", strerror(-tok));
		goto out;
	}
	if (sc_start(c, e, (struct real_op){.kind = REAL_OP_READ, .page = 1,
					    .want = REAL_C_ZERO}, &grd))
		goto out;
	if (real_barrier_wait_held(e, tok, REAL_WAIT_MS)) {
		sc_fail(c, "the worker for page 1 never reached BEFORE_RLOCK");
		goto out;
	}
	if (sc_start(c, e, (struct real_op){.kind = REAL_OP_REMOVE, .page = 1, .n = 1}, &grm) ||
	    real_guest_check(grm, REAL_WAIT_MS, WHY))
		goto out;
	if (real_env_wait_state(e, 1, HPAGE_REMOVED, REAL_WAIT_MS, WHY))
		goto out;
	real_barrier_release(e, tok);
	if (real_guest_check(grd, REAL_WAIT_MS, WHY))
		goto out;
	int present = 0;
	if (real_page_flags(e->r, 1, &present, NULL) || !present) {
		sc_fail(c, "page 1 not present after its fault was served");
		goto out;
	}
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}

/* TestNoMadviseDeadlockWithInflightCopy: madvise must return while a worker
 * holds the settle read lock (reading messages needs no lock, B4). */
int rshape_madvise_inflight(struct shape_ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	struct real_guest *gwr, *grm;
	sc_opts(c, &o, 4);
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	int tok = real_barrier_install(e, 2, SYS_NOTE_BEFORE_FAULT_PAGE);
	if (tok < 0) {
		sc_fail(c, "installing a barrier: %s", strerror(-tok));
		goto out;
	}
	if (sc_start(c, e, (struct real_op){.kind = REAL_OP_WRITE, .page = 2,
					    .value = 0x92}, &gwr))
		goto out;
	if (real_barrier_wait_held(e, tok, REAL_WAIT_MS)) {
		sc_fail(c, "the worker for page 2 never reached BEFORE_FAULT_PAGE");
		goto out;
	}
	if (sc_start(c, e, (struct real_op){.kind = REAL_OP_REMOVE, .page = 2, .n = 1}, &grm))
		goto out;
	if (real_guest_check(grm, 2000, WHY)) {
		sc_failed_in(c, "madvise with a worker holding the read lock");
		goto out;
	}
	real_barrier_release(e, tok);
	if (real_guest_check(gwr, REAL_WAIT_MS, WHY))
		goto out;
	rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}

/* ---------------- the snapshot source failing ---------------- */

int rshape_source_retry(struct shape_ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	sc_opts(c, &o, 4);
	o.backoff_base_ns = 1000000;  /* 1 ms: keep the test quick */
	o.backoff_cap_ns = 10000000;
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	c->res->ops++;
	sys_real_source_fail(e->sys, 1, 2);
	if (sc_rd(c, e, 1, REAL_C_SNAPSHOT, 0) || sc_rd(c, e, 2, REAL_C_SNAPSHOT, 0))
		goto out;
	uint64_t reads, failed;
	sys_real_source_counts(e->sys, &reads, &failed);
	int stop = real_env_stop(e);
	struct handler_stats st;
	handler_get_stats(e->h, &st);
	if (stop)
		sc_fail(c, "handler stopped with error %d after a transient failure", stop);
	else if (failed != 2 || st.source_retries != 2)
		sc_fail(c, "%llu source reads failed and %llu retries counted, want 2 and 2",
		     (unsigned long long)failed,
		     (unsigned long long)st.source_retries);
	else
		rc = 0;
out:
	if (sc_close(c, e, 0))
		rc = -1;
	return rc;
}

/* A source that fails for good ends the handler with a clear error, on its
 * own and without a hang; the test then releases the faulting guest. */
int rshape_source_fail(struct shape_ctx *c)
{
	struct real_env_opts o;
	struct real_env *e;
	struct real_guest *g1, *g2;
	sc_opts(c, &o, 4);
	o.source_retries = 2;
	o.backoff_base_ns = 1000000;
	o.backoff_cap_ns = 10000000;
	if (sc_open(c, &o, &e))
		return -1;
	int rc = -1;
	c->res->ops++;
	sys_real_source_fail(e->sys, 1, 0);
	if (sc_start(c, e, (struct real_op){.kind = REAL_OP_READ, .page = 1,
					    .want = REAL_C_ZERO}, &g1))
		goto out;
	if (real_env_wait_idle(e, REAL_WAIT_MS)) {
		sc_fail(c, "the handler did not end by itself after the source failed for good");
		goto out;
	}
	if (sc_still_blocked(c, g1, "the fault whose source failed"))
		goto out;
	/* With the serve loop gone nothing serves a new fault either. */
	if (sc_start(c, e, (struct real_op){.kind = REAL_OP_READ, .page = 2,
					    .want = REAL_C_ZERO}, &g2) ||
	    sc_still_blocked(c, g2, "a fault after the handler ended"))
		goto out;
	int stop = real_env_stop(e);
	const char *msg = handler_error(e->h);
	uint64_t reads, failed;
	sys_real_source_counts(e->sys, &reads, &failed);
	if (!stop) {
		sc_fail(c, "handler_stop returned 0 after the source failed for good");
		goto out;
	}
	if (!msg || !*msg) {
		sc_fail(c, "handler_error gives no reason");
		goto out;
	}
	if (failed != 3) {
		sc_fail(c, "%llu source reads failed, want 3 (1 + 2 retries)",
		     (unsigned long long)failed);
		goto out;
	}
	/* Unregistering wakes both guests into plain (zero) memory. */
	int u = real_region_unregister(e->r);
	if (u) {
		sc_fail(c, "UFFDIO_UNREGISTER: %s", strerror(-u));
		goto out;
	}
	if (real_guest_check(g1, REAL_WAIT_MS, WHY) ||
	    real_guest_check(g2, REAL_WAIT_MS, WHY)) {
		sc_failed_in(c, "after unregistering");
		goto out;
	}
	rc = 0;
out:
	if (sc_close(c, e, 1))
		rc = -1;
	return rc;
}
