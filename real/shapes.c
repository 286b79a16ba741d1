#include "real/shapes.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "handler/handler.h"
#include "real/shape_ctx.h"
#include "real/watchdog.h"

/* ---------------- registry and runner ---------------- */

static const struct {
	const char *name;
	int (*fn)(struct shape_ctx *);
} shapes[] = {
	{"missing", rshape_missing},
	{"missing-write", rshape_missing_write},
	{"parallel", rshape_parallel},
	{"parallel-write", rshape_parallel_write},
	{"serial", rshape_serial},
	{"prefetch", rshape_prefetch},
	{"async-wp", rshape_async_wp},
	{"remove", rshape_remove},
	{"remove-then-write", rshape_remove_then_write},
	{"write-then-remove", rshape_write_then_remove},
	{"gated-remove-then-write", rshape_gated_remove_then_write},
	{"gated-write-then-remove", rshape_gated_write_then_remove},
	{"pause-resume", rshape_pause_resume},
	{"stale-source", rshape_stale_source},
	{"madvise-inflight", rshape_madvise_inflight},
	{"source-retry", rshape_source_retry},
	{"source-fail", rshape_source_fail},
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
	struct shape_ctx c = {.ps = page_size, .o = opts ? opts : &none, .res = res};
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
		fprintf(out, "real: %s on this kernel, %zu upstream test shapes\n",
			handler_default(), NSHAPES);
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
