/* viz/viz.h — a trace as a graphviz picture (DOT text; SVG/PNG via libgvc).
 *
 * Contract: viz_dot() writes one DOT digraph for a trace read with
 * trace_read(): one lane (cluster) per thread that has a shown step, plus a
 * derived "kernel queue" lane and one lane per page the race touches (its
 * kernel state and the handler's tracker view, marked where they part); steps top to bottom in step order, each node
 * "step: label"; happens-before edges derived from the kernel's typed step
 * events (model/event.h; fault -> uffd_read -> spawn -> install -> woken,
 * REMOVE queued -> uffd_read -> resumed -> zap), matched by message id;
 * tracker notes on their nodes; the last step
 * and the violation in red. Scheduler noise (uncontended lock/unlock
 * pairs) is hidden unless opts.all. Long traces show a window (head and tail, the
 * middle summarised in one node) and fold runs of a repeating step pattern.
 * The same trace and options give the same bytes.
 *
 * Errors are returned as negative errno, never printed; functions that take
 * err fill it with one line "path: message" (or "path:line: message" from
 * the trace reader). viz_render* run libgvc in a forked child process (its
 * state is process-global and it may exit() or crash): safe to call from
 * any thread, any number of times.
 */
#ifndef UFFDLAB_VIZ_H
#define UFFDLAB_VIZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sched/trace.h"

#define VIZ_ALL UINT64_MAX /* as head: show every step */

struct viz_opts {
	uint64_t head;         /* steps shown from the start (default 40) */
	uint64_t tail;         /* steps shown at the end (default 120) */
	uint64_t fold_min;     /* fold a repeating pattern once its repeats
				  hide at least this many steps; 0: never
				  (default 12) */
	unsigned label_max;    /* bytes of a step label shown before "..."
				  (default 160, at least 16) */
	int queue_lane;        /* draw the kernel queue lane (default 1) */
	int page_lanes;        /* draw a lane per page the race touches: its
				  kernel state and the handler's tracker
				  view side by side (default 1) */
	int all;               /* show scheduler noise: lock/unlock pairs no
				  other thread touched the lock between, (default 0:
				  hidden) */
};

/* The defaults above. */
void viz_opts_init(struct viz_opts *o);

/* Write the DOT picture of t to out (o NULL: defaults). 0, -EINVAL on a bad
 * option or a bad "thread" header line, -ENOMEM, or -EIO when out fails;
 * err (may be NULL) gets the line. */
int viz_dot(const struct trace *t, FILE *out, const struct viz_opts *o,
	    char *err, size_t errlen);

/* The same into a malloc'd NUL-terminated string (*len without the NUL;
 * len may be NULL); the caller frees *dot. */
int viz_dot_string(const struct trace *t, const struct viz_opts *o,
		   char **dot, size_t *len, char *err, size_t errlen);

/* Lay out DOT text (len bytes, need not be NUL-terminated) with dot and
 * write out_path in format "svg" or "png". On error out_path is removed
 * and err (may be NULL) names out_path. 0, -EINVAL (bad DOT or format),
 * -ENOMEM or -EIO. */
int viz_render(const char *dot, size_t len, const char *out_path,
	       const char *format, char *err, size_t errlen);

/* viz_render() of a DOT file; err names dot_path when it cannot be read. */
int viz_render_file(const char *dot_path, const char *out_path,
		    const char *format, char *err, size_t errlen);

/* Read trace_path and write <base>.dot and <base>.<format> beside it, base
 * being trace_path less a ".trace" suffix (format "svg" or "png"; NULL:
 * "svg"; o NULL: defaults). 0, -EINVAL for a malformed trace or bad DOT, or
 * another -errno. */
int viz_trace_to(const char *trace_path, const struct viz_opts *o,
		 const char *format, char *err, size_t errlen);

/* viz_trace_to(trace_path, NULL, "svg", ...): x.trace -> x.dot, x.svg. */
int viz_trace_files(const char *trace_path, char *err, size_t errlen);

#endif
