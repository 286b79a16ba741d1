/* real/shapes.h — the upstream E2B test shapes, run by the default handler (or any
 * handler) on the real kernel.
 *
 * Contract: each shape builds its own environment(s) (real/harness.h), runs
 * the upstream test's operations (docs/HANDLER.md 2.6: missing, missing-write,
 * parallel, serial, prefetch, async WP, remove, remove-then-write,
 * write-then-remove, the gated pause/resume tests, the stale-source and
 * madvise-deadlock races with fault barriers, source retries and a source
 * that fails for good) and checks what upstream checks: page contents,
 * tracker states, pagemap dirtiness, liveness with bounded waits. Every
 * wait is bounded; a shape fails, it never hangs (the caller should still
 * arm real/watchdog.h against a handler that never returns).
 * real_shape_run() returns 0 and fills res (status PASSED, FAILED with the
 * first failed check, or SKIPPED with the reason the machine cannot run it);
 * a negative return is a usage error (-ENOENT: no such shape).
 */
#ifndef UFFDLAB_REAL_SHAPES_H
#define UFFDLAB_REAL_SHAPES_H

#include <stdint.h>
#include <stdio.h>

enum real_shape_status {
	REAL_SHAPE_PASSED = 0,
	REAL_SHAPE_FAILED = 1,
	REAL_SHAPE_SKIPPED = 2,
};

struct real_shape_result {
	enum real_shape_status status;
	char why[512];
	uint64_t ops;      /* guest operations (reads, writes, removes, prefaults) */
	uint64_t faults;   /* fault messages the handler dispatched */
	uint64_t served;   /* faults the handler installed (INSTALLED/EEXIST) */
	double ms;
};

struct real_shape_opts {
	const char *handler; /* NULL = handler_default() */
	uint64_t variants;   /* put bugs back (handler/variants.h) */
};

/* NULL-terminated. */
const char *const *real_shape_names(void);
int real_shape_run(const char *name, uint64_t page_size,
		   const struct real_shape_opts *opts,
		   struct real_shape_result *res);
/* Every shape for 4 KiB and, where hugepages exist, 2 MiB; one line each:
 * "real <shape> <4k|2m>: passed|FAILED (<why>)|skipped (<why>), N ops,
 * N faults served, N.N ms". verbose adds a header and a summary line.
 * Returns the number of failed shapes. */
int real_run_shapes(FILE *out, int verbose);

#endif
