/* `uffdlab shrink TRACE [-o OUT]`: a recorded failure shrunk to its
 * minimal one (minimize.c), as a new trace with its scenario beside it. */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sched/shrink.h"

/* The trace's schedule run again: it must break the trace's invariant.
 * 0 and its size, or 2 after one error line. */
static int replays(const char *path, struct world *w, const struct run_id *id,
		   const struct trace *t, char *want, size_t wn, struct shrink_size *sz)
{
	if (!t->violation) {
		fprintf(stderr, "%s:%zu: the trace records no violation: nothing to shrink\n", path,
			t->nkv + t->nsteps + 2);
		return 2;
	}
	size_t nl = strcspn(t->violation, ":");
	snprintf(want, wn, "%.*s", (int)nl, t->violation);
	size_t n;
	const uint32_t *c = trace_choices(t, &n);
	struct sched_opts o = run_opts(id);
	o.strategy = SCHED_REPLAY;
	o.replay = c;
	o.replay_len = n;
	o.record_runnable = 1;
	struct verdict v;
	int e = world_run(w, &o, NULL, NULL, &v);
	if (e || !v.violated || strcmp(v.name, want)) {
		fprintf(stderr, "%s:%zu: the trace's schedule does not break %s again (uffdlab replay %s says where)\n",
			path, t->nkv + 2, want, path);
		return 2;
	}
	size_t nm;
	int wide;
	*sz = shrink_size_of(c, sched_runnable_masks(world_sched(w), &nm, &wide), n);
	return 0;
}

static void print_shrink(const char *path, const char *mtrace, const char *mscn,
			 const struct run_id *id, int json)
{
	if (!json) {
		printf("%s: shrunk to %s\n  scenario: %s\n  shrunk scenario: %s\n  minimal: %s (%.2f s)\n",
		       path, mtrace, mscn, id->shrunk_scn, id->minimal, id->proof_s);
		printf("  replay: uffdlab replay %s\n", mtrace);
		return;
	}
	struct json j;
	json_begin(&j, stdout);
	json_string(&j, "trace", path);
	json_string(&j, "min_trace", mtrace);
	json_string(&j, "min_scenario", mscn);
	json_string(&j, "shrunk_scenario", id->shrunk_scn);
	json_string(&j, "minimal", id->minimal);
	json_double(&j, "proof_s", id->proof_s, 3);
	json_end(&j);
}

int drive_shrink(const char *path, const char *out_path, struct proof_budget pb, int json)
{
	struct trace t;
	static struct scenario scn;
	struct run_id id = {.scn = &scn};
	uint64_t bits;
	char want[64], mtrace[700], mscn[700];
	struct shrink_size found;
	int status = replay_load(path, &t, &scn, &id, &bits);
	struct world *w = NULL;
	if (!status && !(w = world_new(&scn, id.handler, bits))) {
		fprintf(stderr, "uffdlab: out of memory\n");
		status = 2;
	}
	if (w)
		world_set_kernel(w, id.kver);
	if (!status)
		status = replays(path, w, &id, &t, want, sizeof want, &found);
	if (!status && report_min_paths(out_path ? out_path : path, !out_path, mtrace, mscn,
					sizeof mtrace)) {
		fprintf(stderr, "uffdlab: %s: output path too long\n", out_path ? out_path : path);
		status = 2;
	}
	if (!status) {
		size_t n;
		const uint32_t *c = trace_choices(&t, &n);
		status = report_minimize(&id, want, c, n, &found, mtrace, mscn,
					 (struct proof_budget){pb.runs ? pb.runs : 1000000,
							       pb.steps ? pb.steps : 10000});
	}
	if (!status)
		print_shrink(path, mtrace, mscn, &id, json);
	world_free(w);
	free((char *)id.scn_text);
	trace_free(&t);
	return status;
}
