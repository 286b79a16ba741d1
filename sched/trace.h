/* sched/trace.h — trace files: a versioned, line-oriented text record of a run.
 *
 * Contract: a trace is
 *     uffdlab-trace 1
 *     <key> <value>            any number, keys may repeat, in order
 *     steps
 *     <step> <tid> <label>     step numbers 0, 1, 2, ... consecutive
 *     violation <text>         optional, at most one
 *     end
 * Every line ends with '\n', holds at most TRACE_LINE_MAX bytes and no
 * control characters (the writer turns any it is given into spaces; the
 * reader rejects them). Nothing here knows what the keys or labels mean.
 *
 * The writer streams to a FILE; its first error is sticky and every later
 * call returns it, so a caller may check only trace_end(). The reader
 * returns 0, or -1 with exactly one line "path:line: message" in err for
 * any malformed or unreadable input; it never crashes or hangs on garbage
 * and reads no line beyond TRACE_LINE_MAX bytes.
 */
#ifndef UFFDLAB_SCHED_TRACE_H
#define UFFDLAB_SCHED_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TRACE_MAGIC "uffdlab-trace"
#define TRACE_VERSION 1
#define TRACE_LINE_MAX 4096 /* bytes of a line, its '\n' not counted */
#define TRACE_TID_MAX 65535

/* ---- writing ---- */

struct trace_writer {
	FILE *f;
	int state;          /* private: header, steps, ended */
	uint64_t next_step; /* the step number trace_step expects */
	int err;            /* first error (negative errno), sticky */
};

/* Write the magic line. 0 or -errno. */
int trace_writer_open(struct trace_writer *w, FILE *f);
/* A header line. key: printable ASCII without spaces, not one of the
 * reserved words (steps, end, violation, the magic). -EINVAL on a bad key,
 * -E2BIG on a line over TRACE_LINE_MAX, -EPROTO after trace_steps_begin. */
int trace_kv(struct trace_writer *w, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The "steps" line; implied by the first trace_step or trace_end. */
int trace_steps_begin(struct trace_writer *w);
/* One step: step must be the next number (-EINVAL otherwise), tid in
 * 0..TRACE_TID_MAX. label may be NULL or empty. */
int trace_step(struct trace_writer *w, uint64_t step, int tid,
	       const char *label);
/* trace_step with a sched_step_sink's signature (ctx: the writer); errors
 * are kept for trace_end. */
void trace_step_sink(void *w, uint64_t step, int tid, const char *label);
/* The optional violation line, "end", and a flush: 0 or the first error of
 * the whole write (-EIO when the FILE failed). */
int trace_end(struct trace_writer *w, const char *violation);

/* ---- reading ---- */

struct trace_kv {
	const char *key;
	const char *value;
};

struct trace_step {
	uint64_t step;
	uint32_t tid;
	const char *label; /* "" when the line has none */
};

struct trace {
	int version;
	size_t nkv;
	struct trace_kv *kv;     /* header lines, in file order */
	size_t nsteps;
	struct trace_step *steps;
	uint32_t *choices;       /* steps[i].tid, for sched_opts.replay */
	const char *violation;   /* NULL when the trace has none */
	char *strings;           /* private: storage of every string above */
};

/* Read and check a whole trace file. 0, or -1 with err filled; *out is
 * then empty (trace_free is still safe). err may be NULL. */
int trace_read(const char *path, struct trace *out, char *err, size_t errlen);
/* The same from an open stream; name is used in messages. */
int trace_read_stream(FILE *f, const char *name, struct trace *out, char *err,
		      size_t errlen);
/* First value of key, or NULL. */
const char *trace_get(const struct trace *t, const char *key);
/* Iterate over every value of key: start with *pos = 0; NULL at the end. */
const char *trace_get_next(const struct trace *t, const char *key,
			   size_t *pos);
/* The thread id of every step, n of them. */
const uint32_t *trace_choices(const struct trace *t, size_t *n);
void trace_free(struct trace *t);

#endif
