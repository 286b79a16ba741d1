/* The copy-after-zap interleaving, forced on hardware with a barrier. */
#include "real/confirm.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "real/harness.h"
#include "real/snapshot.h"

/* How long madvise may take before we call it held up by the worker. */
#define MADVISE_GRACE_MS 500

struct probe {
	enum real_content seen;
};

/* A guest read that records what it saw instead of judging it. */
static int read_page1(struct real_env *e, void *arg, char *why, size_t whylen)
{
	struct probe *p = arg;
	uint8_t v;
	(void)why;
	(void)whylen;
	p->seen = real_guest_read(e->r, 1, 1, &v);
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fail(struct real_shape_result *res, const char *fmt, const char *a,
		const char *b)
{
	res->status = REAL_SHAPE_FAILED;
	snprintf(res->why, sizeof res->why, fmt, a, b);
	return 0;
}

int real_confirm_copy_after_zap(const char *handler, uint64_t ps,
				struct real_shape_result *res)
{
	memset(res, 0, sizeof *res);
	double t0 = now_ms();
	unsigned char fill[4] = {0, REAL_FILL_SENTINEL, 0, 0};
	struct real_env_opts o;
	real_env_opts_init(&o, ps, 4);
	o.handler = handler;
	o.event_remove = 1;
	o.wp = 1;
	o.fill = fill;
	struct real_env *e;
	int rc = real_env_open(&o, &e, res->why, sizeof res->why);
	if (rc) {
		res->status = real_env_skip_reason(rc, ps) ? REAL_SHAPE_SKIPPED : REAL_SHAPE_FAILED;
		return 0;
	}
	struct probe first = {0}, again = {0};
	struct real_guest *grd, *grm, *gre;
	struct real_op rm = {.kind = REAL_OP_REMOVE, .page = 1, .n = 1};
	int tok = real_barrier_install(e, 1, SYS_NOTE_BEFORE_FAULT_PAGE);
	if (tok < 0) {
		fail(res, "installing a barrier: %s%s", strerror(-tok), "");
		goto out;
	}
	if (real_guest_start(e, "reader", read_page1, &first, &grd) ||
	    real_barrier_wait_held(e, tok, REAL_WAIT_MS)) {
		fail(res, "the worker for page 1 never reached BEFORE_FAULT_PAGE%s%s", "", "");
		goto out;
	}
	if (real_guest_start_op(e, &rm, &grm)) {
		fail(res, "cannot start the balloon thread%s%s", "", "");
		goto out;
	}
	int returned_first = real_guest_wait(grm, MADVISE_GRACE_MS) == 0;
	real_barrier_release(e, tok);
	if (real_guest_check(grd, REAL_WAIT_MS, res->why, sizeof res->why) ||
	    real_guest_check(grm, REAL_WAIT_MS, res->why, sizeof res->why)) {
		res->status = REAL_SHAPE_FAILED;
		goto out;
	}
	/* both ended: the remove is the last write to page 1 */
	if (real_guest_start(e, "re-reader", read_page1, &again, &gre) ||
	    real_guest_check(gre, REAL_WAIT_MS, res->why, sizeof res->why)) {
		res->status = REAL_SHAPE_FAILED;
		goto out;
	}
	res->ops = 3;
	if (again.seen != REAL_C_ZERO) {
		char st[160];
		snprintf(st, sizeof st, "madvise %s while the worker was parked; tracker: %s",
			 returned_first ? "returned" : "was held up",
			 hpage_name(handler_page_view(e->h, 1)));
		fail(res, "page 1 reads as %s after madvise(DONTNEED) returned (%s)",
		     real_content_name(again.seen), st);
	} else {
		res->status = REAL_SHAPE_PASSED;
		snprintf(res->why, sizeof res->why, "page 1 reads as zeros; madvise %s",
			 returned_first ? "returned while the worker was parked"
					: "waited for the parked worker");
	}
out:
	real_env_close(e);
	res->ms = now_ms() - t0;
	return 0;
}
