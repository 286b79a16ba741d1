/* sched/trace.h — trace files: a versioned, line-oriented text record of a run.
 *
 * Contract: a trace (format version 2, docs/TRACE.md) is
 *     uffdlab-trace 2
 *     <key> <value>            any number, keys may repeat, in order
 *     steps
 *     <step> <tid>[ <event>[ ; <event>]...] |[ <label>]
 *                              step numbers 0, 1, 2, ... consecutive
 *     violation <text>         optional, at most one
 *     checksum <16 hex digits> FNV-1a 64 of every byte before this line
 *     end
 * where <event> is "<kind>[ <key>=<value>]..." with exactly the kind's keys
 * in the schema's order (sched/event.h): decimal, 0x-hex or a symbol as the
 * key says. The label is free text after "| " and is never parsed.
 * Every line ends with '\n', holds at most TRACE_LINE_MAX bytes and no
 * control characters (the writer turns any it is given into spaces; the
 * reader rejects them). Nothing here knows what the keys, kinds or labels
 * mean: the caller passes the schema to both the writer and the reader.
 * The writer always writes the checksum; the reader accepts a trace without
 * one (hand-made inputs) and says in trace.checksum whether it matched, so
 * that a replay can tell an edited trace (bad input) from a determinism bug.
 *
 * The writer streams to a FILE; its first error is sticky and every later
 * call returns it, so a caller may check only trace_end(). The reader
 * returns 0, or -1 with exactly one line "path:line: message" in err for
 * any malformed or unreadable input (an unknown kind or key, a missing or
 * extra field, a bad number or symbol included); it never crashes or hangs
 * on garbage and reads no line beyond TRACE_LINE_MAX bytes.
 */
#ifndef UFFDLAB_SCHED_TRACE_H
#define UFFDLAB_SCHED_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sched/event.h"
#include "sched/sched.h"

#define TRACE_MAGIC "uffdlab-trace"
#define TRACE_VERSION 2
#define TRACE_LINE_MAX 8192 /* bytes of a line, its '\n' not counted */
#define TRACE_TID_MAX 65535

/* ---- writing ---- */

struct trace_writer {
	FILE *f;
	int state;          /* private: header, steps, ended */
	uint64_t next_step; /* the step number trace_step expects */
	int err;            /* first error (negative errno), sticky */
	const struct sched_ev_schema *schema; /* NULL: steps carry no events */
	uint64_t sum;       /* FNV-1a 64 of every byte written so far */
};

/* Write the magic line. 0 or -errno. */
int trace_writer_open(struct trace_writer *w, FILE *f);
/* The schema trace_step_events() writes events with (kept, not copied). */
void trace_writer_schema(struct trace_writer *w,
			 const struct sched_ev_schema *schema);
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
/* The same with nev events: -EINVAL when there is no schema, a kind is
 * unknown, a field count differs from the kind's or a symbol is out of its
 * table; -E2BIG when the line would exceed TRACE_LINE_MAX. */
int trace_step_events(struct trace_writer *w, uint64_t step, int tid,
		      const struct sched_event *ev, size_t nev,
		      const char *label);
/* trace_step_events with a sched_step_sink's signature (ctx: the writer);
 * a step that lost events is -E2BIG. Errors are kept for trace_end. */
void trace_step_sink(void *w, const struct sched_step_info *st);
/* The optional violation line, "end", and a flush: 0 or the first error of
 * the whole write (the errno of the failed write, e.g. -ENOSPC; -EIO if stdio gave none). */
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
	const struct sched_event *ev; /* nev events, checked against the schema */
	size_t nev;
};

struct trace {
	int version;
	size_t nkv;
	struct trace_kv *kv;     /* header lines, in file order */
	size_t nsteps;
	struct trace_step *steps;
	uint32_t *choices;       /* steps[i].tid, for sched_opts.replay */
	const char *violation;   /* NULL when the trace has none */
	int checksum;            /* 1 it matches, -1 it does not, 0 none */
	unsigned long checksum_line; /* the checksum line's number, or 0 */
	char *strings;           /* private: storage of every string above */
	struct sched_event *events; /* private: storage of every step's events */
};

/* Read and check a whole trace file, events against schema (NULL: a step
 * with an event is an error). 0, or -1 with err filled; *out is then empty
 * (trace_free is still safe). err may be NULL. */
int trace_read(const char *path, const struct sched_ev_schema *schema,
	       struct trace *out, char *err, size_t errlen);
/* The same from an open stream; name is used in messages. */
int trace_read_stream(FILE *f, const char *name,
		      const struct sched_ev_schema *schema, struct trace *out,
		      char *err, size_t errlen);
/* First value of key, or NULL. */
const char *trace_get(const struct trace *t, const char *key);
/* Iterate over every value of key: start with *pos = 0; NULL at the end. */
const char *trace_get_next(const struct trace *t, const char *key,
			   size_t *pos);
/* The thread id of every step, n of them. */
const uint32_t *trace_choices(const struct trace *t, size_t *n);
void trace_free(struct trace *t);

#endif
