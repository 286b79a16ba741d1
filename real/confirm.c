/* The copy-after-zap interleaving on hardware: a stored trace replayed by
 * the general mechanism (real/replay_real.h), contract in real/confirm.h. */
#include "real/confirm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/variants.h"
#include "model/event.h"
#include "real/replay_real.h"
#include "run.h"
#include "sched/trace.h"
#include "scenarios/scenario.h"

/* The scenario embedded in t and the variants it names (or none). 0, or
 * -1 with the reason in why. */
static int trace_run(const struct trace *t, int fixed, struct scenario *scn, uint64_t *bits,
		     char *why, size_t n)
{
	char *text = NULL, err[512];
	size_t len = 0, bad = 0;
	const char *spath = trace_get(t, "scenario"), *handler = trace_get(t, "handler");
	const char *variant = trace_get(t, "variant");
	if (!spath || !handler || !variant || run_embedded_scenario(t, &text, &len, &bad)) {
		snprintf(why, n, "the trace has no scenario, handler or variant");
		return -1;
	}
	int rc = scn_parse_bytes(spath, text, len, scn, err, sizeof err);
	free(text);
	if (rc) {
		snprintf(why, n, "%s", err);
		return -1;
	}
	*bits = 0;
	if (!fixed && strcmp(variant, "none") &&
	    variant_parse_list(handler, variant, bits, err, sizeof err)) {
		snprintf(why, n, "%s", err);
		return -1;
	}
	return 0;
}

int real_confirm_replay(const char *trace_path, int fixed, uint64_t ps,
			struct rr_result *res)
{
	memset(res, 0, sizeof *res);
	struct trace t;
	static struct scenario scn; /* large; callers are serial */
	struct rts_plan plan = {0};
	uint64_t bits = 0;
	char err[600];
	if (trace_read(trace_path, &mev_schema, &t, err, sizeof err)) {
		snprintf(res->why, sizeof res->why, "%.500s", err);
		return -EINVAL;
	}
	int rc = -EINVAL;
	if (trace_run(&t, fixed, &scn, &bits, res->why, sizeof res->why) == 0 &&
	    rts_plan_build(&t, &plan, res->why, sizeof res->why) == 0) {
		struct rr_opts o = {.scn = &scn, .handler = trace_get(&t, "handler"),
				    .variants = bits, .plan = &plan, .violation = t.violation,
				    .page_size = ps};
		rc = real_replay_run(&o, res);
		rts_plan_free(&plan);
	}
	trace_free(&t);
	return rc;
}

int real_confirm_copy_after_zap(const char *handler, uint64_t ps,
				struct real_shape_result *res)
{
	memset(res, 0, sizeof *res);
	int ref = strcmp(handler, "e2b-ref") != 0;
	if (ref && strcmp(handler, "reference")) {
		res->status = REAL_SHAPE_SKIPPED;
		snprintf(res->why, sizeof res->why, "no stored copy-after-zap trace for %s", handler);
		return 0;
	}
	struct rr_result rr;
	int rc = real_confirm_replay(ref ? REAL_CONFIRM_TRACE_FIXED : REAL_CONFIRM_TRACE, ref, ps, &rr);
	res->ms = rr.ms;
	if (rc) {
		res->status = REAL_SHAPE_FAILED;
		snprintf(res->why, sizeof res->why, "%s", rr.why);
		return rc == -EINVAL ? 0 : rc;
	}
	res->ops = 3;
	if (rr.v == RR_SKIPPED) {
		res->status = REAL_SHAPE_SKIPPED;
		snprintf(res->why, sizeof res->why, "%s", rr.why);
	} else if (rr.v == RR_CONFIRMED) {
		res->status = REAL_SHAPE_FAILED;
		snprintf(res->why, sizeof res->why, "confirmed %s: %.400s", rr.name, rr.evidence);
	} else {
		res->status = REAL_SHAPE_PASSED;
		snprintf(res->why, sizeof res->why, "%s%s%s: %.400s", rr_verdict_name(rr.v),
			 rr.name[0] ? ", broke " : ", no invariant broke", rr.name,
			 rr.v == RR_DIVERGED ? rr.why : "the schedule was followed to its end");
	}
	return 0;
}
