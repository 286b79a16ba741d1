/* Tests of trace files (sched/trace.c): round trips, writer errors, and a
 * table of malformed inputs, each rejected with its exact file:line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sched/rng.h"
#include "sched/sched.h"
#include "sched/trace.h"

struct fixture {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/uffdlab-trace-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Write len bytes to the fixture's file (named `name`), return its path. */
static const char *put_file(struct fixture *f, const char *name,
			    const void *data, size_t len)
{
	if (f->path[0])
		unlink(f->path);
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	FILE *fp = fopen(f->path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	return f->path;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	static char buf[1 << 16];

	assert_non_null(fp);
	*len = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	return buf;
}

/* A schema of three kinds, one of each field format. */
static const char *const mark_sym[] = {"a", "b", NULL};
static const struct sched_ev_kind tkinds[] = {
	{"copy", 3, {{"dst", SCHED_EV_HEX, NULL}, {"len", SCHED_EV_DEC, NULL},
		     {"res", SCHED_EV_DEC, NULL}}},
	{"mark", 1, {{"what", SCHED_EV_SYM, mark_sym}}},
	{"nop", 0, {{NULL, SCHED_EV_DEC, NULL}}},
};
static const struct sched_ev_schema tsc = {tkinds, 3};

/* ------------------------------------------------------------------ */

static void write_sample(FILE *fp, const char *violation)
{
	struct trace_writer w;

	assert_int_equal(trace_writer_open(&w, fp), 0);
	trace_writer_schema(&w, &tsc);
	assert_int_equal(trace_kv(&w, "tool", "uffdlab %s", "0.1.0"), 0);
	assert_int_equal(trace_kv(&w, "scenario", "%s",
				  "scenarios/zoo/b01-stale-source.scn"), 0);
	assert_int_equal(trace_kv(&w, "scenario-hash", "%016llx",
				  0x9f1c2a3b4c5d6e7fULL), 0);
	assert_int_equal(trace_kv(&w, "thread", "0 g0 guest"), 0);
	assert_int_equal(trace_kv(&w, "thread", "1 w1 worker"), 0);
	assert_int_equal(trace_kv(&w, "empty", "%s", ""), 0);
	assert_int_equal(trace_steps_begin(&w), 0);
	const struct sched_event ev[] = {
		{0, 3, {0x7f0000001000, 4096, -11}},
		{2, 0, {0}},
		{1, 1, {1}},
	};

	assert_int_equal(trace_step_events(&w, 0, 1, ev, 3,
				    "uffd_copy 0x7f0000001000 4096 mode=0 -> 0"),
			 0);
	assert_int_equal(trace_step(&w, 1, 0, "read page=1 -> snapshot"), 0);
	assert_int_equal(trace_step(&w, 2, 0, NULL), 0);
	assert_int_equal(trace_step(&w, 3, 1, "two\nlines\tand tab"), 0);
	assert_int_equal(trace_end(&w, violation), 0);
}

static void check_sample_read(const char *path);

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	size_t n;

	snprintf(f->path, sizeof(f->path), "%s/rt.trace", f->dir);
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	write_sample(fp, "lost-wake: guest g0 blocked on page 1 forever");
	assert_int_equal(fclose(fp), 0);

	/* The bytes are the documented format. */
	const char *want =
		"uffdlab-trace 2\n"
		"tool uffdlab 0.1.0\n"
		"scenario scenarios/zoo/b01-stale-source.scn\n"
		"scenario-hash 9f1c2a3b4c5d6e7f\n"
		"thread 0 g0 guest\n"
		"thread 1 w1 worker\n"
		"empty \n"
		"steps\n"
		"0 1 copy dst=0x7f0000001000 len=4096 res=-11 ; nop ; mark what=b | "
		"uffd_copy 0x7f0000001000 4096 mode=0 -> 0\n"
		"1 0 | read page=1 -> snapshot\n"
		"2 0 |\n"
		"3 1 | two lines and tab\n"
		"violation lost-wake: guest g0 blocked on page 1 forever\n"
		"checksum bc3063c0e03c5cb0\n" /* FNV-1a 64 of every byte above */
		"end\n";
	char *got = slurp(f->path, &n);

	assert_int_equal(n, strlen(want));
	assert_memory_equal(got, want, n);
	check_sample_read(f->path);
}

/* The sample read back: header keys, choices and typed events as written. */
static void check_sample_read(const char *path)
{
	struct trace t;
	char err[256];
	size_t n, pos = 0;

	assert_int_equal(trace_read(path, &tsc, &t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(t.version, 2);
	assert_int_equal(t.nkv, 6);
	assert_string_equal(trace_get(&t, "tool"), "uffdlab 0.1.0");
	assert_string_equal(trace_get(&t, "scenario-hash"),
			    "9f1c2a3b4c5d6e7f");
	assert_string_equal(trace_get(&t, "empty"), "");
	assert_null(trace_get(&t, "variant"));
	assert_string_equal(trace_get(&t, "thread"), "0 g0 guest");
	assert_string_equal(trace_get_next(&t, "thread", &pos), "0 g0 guest");
	assert_string_equal(trace_get_next(&t, "thread", &pos),
			    "1 w1 worker");
	assert_null(trace_get_next(&t, "thread", &pos));
	assert_null(trace_get_next(&t, "thread", &pos));

	const uint32_t *c = trace_choices(&t, &n);

	assert_int_equal(n, 4);
	assert_int_equal(c[0], 1);
	assert_int_equal(c[1], 0);
	assert_int_equal(c[2], 0);
	assert_int_equal(c[3], 1);
	assert_int_equal(t.steps[1].step, 1);
	assert_string_equal(t.steps[0].label,
			    "uffd_copy 0x7f0000001000 4096 mode=0 -> 0");
	assert_string_equal(t.steps[2].label, "");
	/* the events, typed again */
	assert_int_equal(t.steps[0].nev, 3);
	assert_int_equal(t.steps[0].ev[0].kind, 0);
	assert_int_equal(t.steps[0].ev[0].f[0], 0x7f0000001000);
	assert_int_equal(t.steps[0].ev[0].f[2], -11);
	assert_int_equal(t.steps[0].ev[1].kind, 2);
	assert_int_equal(t.steps[0].ev[1].nf, 0);
	assert_int_equal(t.steps[0].ev[2].kind, 1);
	assert_int_equal(t.steps[0].ev[2].f[0], 1);
	assert_int_equal(t.steps[1].nev, 0);
	assert_string_equal(t.steps[3].label, "two lines and tab");
	assert_string_equal(t.violation,
			    "lost-wake: guest g0 blocked on page 1 forever");
	trace_free(&t);
	trace_free(&t); /* idempotent */
}

static void check_err(const char *err, const char *path, unsigned line,
		      const char *msg);

/* The checksum line: it matches what was written, it tells an edited
 * byte, it may be absent (hand-made traces), and a malformed one is an
 * error like any other bad line. */
static void test_checksum(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	char err[256];
	static const char good[] = "uffdlab-trace 2\nsteps\n0 0 |\nchecksum %s\nend\n";
	char buf[256];
	/* the writer's sum of "uffdlab-trace 2\nsteps\n0 0 |\n" */
	char text[256];
	size_t n;
	FILE *fp = fmemopen(buf, sizeof(buf), "w");
	struct trace_writer w;

	assert_int_equal(trace_writer_open(&w, fp), 0);
	/* a header line too: the reader cuts it in place while parsing, and
	 * must hash it as it was */
	assert_int_equal(trace_kv(&w, "seed", "%d", 7), 0);
	assert_int_equal(trace_step(&w, 0, 0, NULL), 0);
	assert_int_equal(trace_end(&w, NULL), 0);
	n = (size_t)ftell(fp);
	fclose(fp);
	put_file(f, "sum.trace", buf, n);
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), 0);
	assert_int_equal(t.checksum, 1);
	assert_int_equal(t.checksum_line, 5);
	trace_free(&t);
	/* one byte edited in a step: still a valid trace, the sum differs */
	memcpy(text, buf, n);
	text[strlen("uffdlab-trace 2\nseed 7\nsteps\n0 ")] = '1';
	put_file(f, "edited.trace", text, n);
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), 0);
	assert_int_equal(t.checksum, -1);
	trace_free(&t);
	/* no checksum line at all */
	static const char none[] = "uffdlab-trace 2\nsteps\n0 0 |\nend\n";
	put_file(f, "none.trace", none, strlen(none));
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), 0);
	assert_int_equal(t.checksum, 0);
	trace_free(&t);
	/* malformed */
	snprintf(text, sizeof text, good, "12AB");
	put_file(f, "bad.trace", text, strlen(text));
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), -1);
	check_err(err, f->path, 4, "bad checksum line");
	snprintf(text, sizeof text, "uffdlab-trace 2\nsteps\nchecksum 0123456789abcdef\n0 0 |\nend\n");
	put_file(f, "late.trace", text, strlen(text));
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), -1);
	check_err(err, f->path, 4, "expected 'end' after 'checksum'");
}

static void test_round_trip_minimal(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	char err[256];
	size_t n;
	char buf[256];
	FILE *fp = fmemopen(buf, sizeof(buf), "w");
	struct trace_writer w;

	assert_non_null(fp);
	assert_int_equal(trace_writer_open(&w, fp), 0);
	assert_int_equal(trace_end(&w, NULL), 0); /* implies "steps" */
	long len = ftell(fp);

	fclose(fp);
	assert_string_equal(buf, "uffdlab-trace 2\nsteps\nchecksum 3586e7d1c5519e3e\nend\n");
	put_file(f, "min.trace", buf, (size_t)len);
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), 0);
	assert_int_equal(t.nkv, 0);
	assert_int_equal(t.nsteps, 0);
	assert_null(t.violation);
	assert_non_null(trace_choices(&t, &n));
	assert_int_equal(n, 0);
	trace_free(&t);
}

static void test_writer_errors(void **state)
{
	(void)state;
	struct trace_writer w;
	char buf[8192], big[TRACE_LINE_MAX + 8];
	FILE *fp = fmemopen(buf, sizeof(buf), "w");

	assert_non_null(fp);
	assert_int_equal(trace_writer_open(&w, fp), 0);
	/* Bad keys are refused, and the refusal sticks. */
	assert_int_equal(trace_kv(&w, "two words", "x"), -EINVAL);
	assert_int_equal(trace_kv(&w, "fine", "x"), -EINVAL);
	assert_int_equal(trace_end(&w, NULL), -EINVAL);
	fclose(fp);

	static const char *const bad_keys[] = {"", "steps", "end",
					       "violation", "uffdlab-trace",
					       "tab\tkey"};

	for (size_t i = 0; i < sizeof(bad_keys) / sizeof(*bad_keys); i++) {
		fp = fmemopen(buf, sizeof(buf), "w");
		assert_int_equal(trace_writer_open(&w, fp), 0);
		assert_int_equal(trace_kv(&w, bad_keys[i], "v"), -EINVAL);
		fclose(fp);
	}

	fp = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(trace_writer_open(&w, fp), 0);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(trace_kv(&w, "k", "%s", big), -E2BIG);
	fclose(fp);

	/* Exactly TRACE_LINE_MAX bytes is fine: "k " + value. */
	fp = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(trace_writer_open(&w, fp), 0);
	big[TRACE_LINE_MAX - 2] = '\0';
	assert_int_equal(trace_kv(&w, "k", "%s", big), 0);
	fclose(fp);

	fp = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(trace_writer_open(&w, fp), 0);
	assert_int_equal(trace_step(&w, 0, 0, "a"), 0);
	assert_int_equal(trace_kv(&w, "late", "x"), -EPROTO);
	fclose(fp);

	fp = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(trace_writer_open(&w, fp), 0);
	assert_int_equal(trace_step(&w, 0, 0, "a"), 0);
	assert_int_equal(trace_step(&w, 2, 0, "skips 1"), -EINVAL);
	fclose(fp);

	fp = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(trace_writer_open(&w, fp), 0);
	assert_int_equal(trace_step(&w, 0, TRACE_TID_MAX + 1, "a"), -EINVAL);
	fclose(fp);

	fp = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(trace_writer_open(&w, fp), 0);
	assert_int_equal(trace_step(&w, 0, -1, "a"), -EINVAL);
	fclose(fp);
}

static void test_writer_errors_sink(void **state)
{
	(void)state;
	struct trace_writer w;
	char buf[8192];
	FILE *fp;

	/* The sink form keeps its error for trace_end. */
	fp = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(trace_writer_open(&w, fp), 0);
	trace_step_sink(&w, &(struct sched_step_info){0, 0, "a", NULL, 0, 0});
	trace_step_sink(&w, &(struct sched_step_info){5, 0, "no", NULL, 0, 0});
	trace_step_sink(&w, &(struct sched_step_info){1, 0, "b", NULL, 0, 0});
	assert_int_equal(trace_end(&w, NULL), -EINVAL);
	fclose(fp);

	/* A step that lost events is not written as if complete. */
	fp = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(trace_writer_open(&w, fp), 0);
	trace_step_sink(&w, &(struct sched_step_info){0, 0, "a", NULL, 0, 1});
	assert_int_equal(trace_end(&w, NULL), -E2BIG);
	fclose(fp);

	/* Events that do not fit the schema, or no schema: nothing of the
	 * line is written. */
	static const struct sched_event bad_ev[] = {
		{0, 2, {1, 2}},    /* copy has 3 fields */
		{3, 0, {0}},       /* no kind 3 */
		{1, 1, {2}},       /* mark has symbols 0 and 1 */
		{1, 1, {-1}},
	};

	for (size_t i = 0; i <= sizeof(bad_ev) / sizeof(*bad_ev); i++) {
		fp = fmemopen(buf, sizeof(buf), "w");
		assert_int_equal(trace_writer_open(&w, fp), 0);
		if (i < sizeof(bad_ev) / sizeof(*bad_ev))
			trace_writer_schema(&w, &tsc);
		assert_int_equal(trace_steps_begin(&w), 0);
		long at = ftell(fp);

		assert_int_equal(trace_step_events(&w, 0, 0, &bad_ev[i % 4], 1,
						   "x"), -EINVAL);
		assert_int_equal(ftell(fp), at);
		fclose(fp);
	}

	/* A full disk shows at the end, as the errno the write got. */
	fp = fopen("/dev/full", "w");
	if (fp) {
		assert_int_equal(trace_writer_open(&w, fp), 0);
		assert_int_equal(trace_step(&w, 0, 0, "a"), 0);
		assert_int_equal(trace_end(&w, NULL), -ENOSPC);
		fclose(fp);
	}
}

/* ------------------------------------------------------------------ */
/* a scheduler run through the sink, read back, replayed               */

struct tprog {
	sched_t *s;
};

static void tprog_fn(void *arg)
{
	struct tprog *p = arg;

	for (int i = 0; i < 6; i++) {
		sched_label(p->s, "op %d of t%d", i, sched_self(p->s));
		sched_point(p->s);
	}
}

static void test_sched_trace_replay(void **state)
{
	struct fixture *f = *state;
	struct sched_opts o = {.strategy = SCHED_RANDOM, .seed = 99,
			       .labels = 1};
	struct trace_writer w;
	struct tprog p[3];
	struct trace t;
	char err[256];
	size_t n, nt;

	snprintf(f->path, sizeof(f->path), "%s/run.trace", f->dir);
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	sched_t *s = sched_new(&o);

	assert_non_null(s);
	assert_int_equal(trace_writer_open(&w, fp), 0);
	assert_int_equal(trace_kv(&w, "seed", "%llu",
				  (unsigned long long)o.seed), 0);
	sched_set_step_sink(s, trace_step_sink, &w);
	for (int i = 0; i < 3; i++) {
		p[i].s = s;
		assert_true(sched_spawn(s, "t", 0, tprog_fn, &p[i]) >= 0);
	}
	assert_int_equal(sched_run(s), SCHED_DONE);
	assert_int_equal(trace_end(&w, NULL), 0);
	assert_int_equal(fclose(fp), 0);
	const uint32_t *c = sched_choices(s, &n);
	uint32_t rec[64];

	assert_int_equal(n, 21);
	memcpy(rec, c, n * sizeof(*c));

	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), 0);
	assert_string_equal(trace_get(&t, "seed"), "99");
	const uint32_t *tc = trace_choices(&t, &nt);

	assert_int_equal(nt, n);
	assert_memory_equal(tc, rec, n * sizeof(*rec));
	assert_int_equal(strncmp(t.steps[0].label, "op 0 of t", 9), 0);

	/* Replaying the file's choices gives the same run. */
	struct sched_opts r = {.strategy = SCHED_REPLAY, .replay = tc,
			       .replay_len = nt};

	assert_int_equal(sched_reset(s, &r), 0);
	sched_set_step_sink(s, NULL, NULL);
	for (int i = 0; i < 3; i++)
		assert_true(sched_spawn(s, "t", 0, tprog_fn, &p[i]) >= 0);
	assert_int_equal(sched_run(s), SCHED_DONE);
	c = sched_choices(s, &n);
	assert_int_equal(n, nt);
	assert_memory_equal(c, rec, n * sizeof(*rec));
	sched_free(s);
	trace_free(&t);
}

/* ------------------------------------------------------------------ */
/* malformed inputs                                                    */

#define HDR "uffdlab-trace 2\n"

struct bad {
	const char *name;
	const char *data;
	size_t len;       /* 0: strlen(data) */
	unsigned line;
	const char *msg;  /* expected part of the message */
};

static const struct bad bad_inputs[] = {
	{"empty", "", 0, 1, "empty file"},
	{"bad-magic", "hello world\n", 0, 1, "not a uffdlab trace"},
	{"magic-no-version", "uffdlab-trace\n", 0, 1, "not a uffdlab trace"},
	{"version-1", "uffdlab-trace 1\nsteps\nend\n", 0, 1,
	 "unsupported trace format version 1 (this reader reads 2)"},
	{"version-text", "uffdlab-trace one\n", 0, 1,
	 "bad format version 'one'"},
	{"version-leading-zero", "uffdlab-trace 01\n", 0, 1,
	 "bad format version '01'"},
	{"magic-only", HDR, 0, 2, "missing 'steps' line"},
	{"header-only", HDR "tool x\nseed 1\n", 0, 4, "missing 'steps' line"},
	{"header-no-value", HDR "tool x\nlonely\nsteps\nend\n", 0, 3,
	 "bad header line"},
	{"header-leading-space", HDR " key value\nsteps\nend\n", 0, 2,
	 "bad header line"},
	{"header-empty-line", HDR "\nsteps\nend\n", 0, 2, "bad header line"},
	{"end-before-steps", HDR "tool x\nend\n", 0, 3,
	 "'end' before 'steps'"},
	{"missing-end", HDR "steps\n0 1 | a\n1 0 | b\n", 0, 5,
	 "missing 'end' line"},
	{"missing-end-after-violation", HDR "steps\n0 1 | a\nviolation v\n", 0,
	 5, "missing 'end' line"},
	{"step-not-number", HDR "steps\nx 1 a\nend\n", 0, 3,
	 "bad step number 'x'"},
	{"step-negative", HDR "steps\n-1 1 a\nend\n", 0, 3,
	 "bad step number '-1'"},
	{"step-plus", HDR "steps\n+0 1 a\nend\n", 0, 3,
	 "bad step number '+0'"},
	{"step-hex", HDR "steps\n0x0 1 a\nend\n", 0, 3,
	 "bad step number '0x0'"},
	{"step-overflow", HDR "steps\n99999999999999999999999 1 | a\nend\n", 0,
	 3, "bad step number '99999999999999999999999'"},
	{"step-starts-at-1", HDR "steps\n1 0 | a\nend\n", 0, 3,
	 "step 1 out of order, expected 0"},
	{"step-gap", HDR "steps\n0 0 | a\n1 0 | b\n3 0 | c\nend\n", 0, 5,
	 "step 3 out of order, expected 2"},
	{"step-repeat", HDR "steps\n0 0 | a\n0 0 | b\nend\n", 0, 4,
	 "step 0 out of order, expected 1"},
	{"step-leading-zero", HDR "steps\n0 0 | a\n01 0 | b\nend\n", 0, 4,
	 "bad step number '01'"},
	{"step-no-tid", HDR "steps\n0\nend\n", 0, 3, "step line needs"},
	{"step-empty-line", HDR "steps\n\nend\n", 0, 3,
	 "bad step number ''"},
	{"tid-not-number", HDR "steps\n0 g0 a\nend\n", 0, 3,
	 "bad thread id 'g0'"},
	{"tid-double-space", HDR "steps\n0  1 a\nend\n", 0, 3,
	 "bad thread id ''"},
	{"tid-out-of-range", HDR "steps\n0 65536 | a\nend\n", 0, 3,
	 "thread id 65536 out of range (0..65535)"},
	{"tid-huge", HDR "steps\n0 18446744073709551616 | a\nend\n", 0, 3,
	 "bad thread id"},
	{"step-after-violation", HDR "steps\n0 0 | a\nviolation v\n1 0 | b\nend\n",
	 0, 5, "expected 'checksum' or 'end' after 'violation'"},
	{"two-violations", HDR "steps\nviolation a\nviolation b\nend\n", 0, 4,
	 "expected 'checksum' or 'end' after 'violation'"},
	/* header keys the writer refuses are refused on reading too (fuzzing
	 * found a reader that took them, so trace_get("violation") was
	 * header text) */
	{"reserved-key", HDR "violation x\nsteps\nend\n", 0, 2,
	 "'violation' is not a header key"},
	{"reserved-checksum", HDR "checksum 0\nsteps\nend\n", 0, 2,
	 "'checksum' is not a header key"},
	{"magic-as-key", HDR "uffdlab-trace 1\nsteps\nend\n", 0, 2,
	 "'uffdlab-trace' is not a header key"},
	{"non-ascii-key", HDR "k\xc3\xa9y v\nsteps\nend\n", 0, 2,
	 "is not a header key"},
	{"data-after-end", HDR "steps\n0 0 | a\nend\nmore\n", 0, 5,
	 "data after 'end'"},
	{"second-trace-after-end", HDR "steps\nend\n" HDR "steps\nend\n", 0,
	 4, "data after 'end'"},
	{"truncated-mid-line", HDR "steps\n0 0 | a\n1 0 b", 0, 4,
	 "truncated file: last line has no newline"},
	{"truncated-in-end", HDR "steps\n0 0 | a\nen", 0, 4,
	 "truncated file: last line has no newline"},
	{"truncated-in-magic", "uffdlab-tr", 0, 1, "truncated file"},
	{"nul-first", "\0\0\0\0garbage", 11, 1, "binary data (byte 0x00) at "
						"column 1"},
	{"nul-in-label", HDR "steps\n0 0 | a\0b\nend\n", sizeof(HDR) - 1 + 20, 3,
	 "binary data (byte 0x00) at column 8"},
	{"control-in-header", HDR "k v\x01\nsteps\nend\n", 0, 2,
	 "binary data (byte 0x01) at column 4"},
	{"crlf", "uffdlab-trace 2\r\nsteps\r\nend\r\n", 0, 1,
	 "binary data (byte 0x0d) at column 16"},
	{"tab", HDR "k\tv\nsteps\nend\n", 0, 2, "binary data (byte 0x09)"},
	{"del", HDR "steps\n0 0 | \x7f\nend\n", 0, 3, "binary data (byte 0x7f)"},
	/* events */
	{"no-bar", HDR "steps\n0 0 ab\nend\n", 0, 3, "unknown event kind 'ab'"},
	{"no-bar-after-events", HDR "steps\n0 0 nop\nend\n", 0, 3,
	 "needs ' |' before its label"},
	{"unknown-kind", HDR "steps\n0 0 zap | x\nend\n", 0, 3,
	 "unknown event kind 'zap'"},
	{"field-first", HDR "steps\n0 0 len=1 | x\nend\n", 0, 3,
	 "field 'len=1' before any event kind"},
	{"missing-field", HDR "steps\n0 0 copy dst=0x1 len=1 | x\nend\n", 0, 3,
	 "event 'copy' needs 'res=' as field 3, got '|'"},
	{"field-order", HDR "steps\n0 0 copy len=1 dst=0x1 res=0 | x\nend\n", 0,
	 3, "needs 'dst=' as field 1, got 'len=1'"},
	{"extra-field", HDR "steps\n0 0 nop x=1 | x\nend\n", 0, 3,
	 "expected ';' or '|' after an event, got 'x=1'"},
	{"no-separator", HDR "steps\n0 0 nop nop | x\nend\n", 0, 3,
	 "expected ';' or '|' after an event, got 'nop'"},
	{"empty-event", HDR "steps\n0 0 nop ; | x\nend\n", 0, 3,
	 "unknown event kind '|'"},
	{"leading-separator", HDR "steps\n0 0 ; nop | x\nend\n", 0, 3,
	 "unknown event kind ';'"},
	{"hex-leading-zero", HDR "steps\n0 0 copy dst=0x01 len=1 res=0 |\nend\n",
	 0, 3, "bad value '0x01' for 'dst'"},
	{"hex-upper", HDR "steps\n0 0 copy dst=0xA len=1 res=0 |\nend\n", 0, 3,
	 "bad value '0xA'"},
	{"hex-decimal", HDR "steps\n0 0 copy dst=10 len=1 res=0 |\nend\n", 0, 3,
	 "bad value '10'"},
	{"hex-overflow", HDR "steps\n0 0 copy dst=0x10000000000000000 len=1 "
			 "res=0 |\nend\n", 0, 3, "bad value"},
	{"dec-minus-zero", HDR "steps\n0 0 copy dst=0x0 len=1 res=-0 |\nend\n",
	 0, 3, "bad value '-0' for 'res'"},
	{"dec-overflow", HDR "steps\n0 0 copy dst=0x0 len=9223372036854775808 "
			 "res=0 |\nend\n", 0, 3, "bad value"},
	{"dec-empty", HDR "steps\n0 0 copy dst=0x0 len= res=0 |\nend\n", 0, 3,
	 "bad value '' for 'len'"},
	{"sym-unknown", HDR "steps\n0 0 mark what=c |\nend\n", 0, 3,
	 "bad value 'c' for 'what'"},
	{"sym-number", HDR "steps\n0 0 mark what=1 |\nend\n", 0, 3,
	 "bad value '1' for 'what'"},
	{"elf", "\x7f" "ELF\x02\x01\x01", 0, 1, "binary data (byte 0x7f)"},
	{"gzip", "\x1f\x8b\x08\x00", 0, 1, "binary data (byte 0x1f)"},
};

static void check_err(const char *err, const char *path, unsigned line,
		      const char *msg)
{
	char prefix[256];

	snprintf(prefix, sizeof(prefix), "%s:%u: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 ||
	    !strstr(err + strlen(prefix), msg))
		fail_msg("got \"%s\", want \"%s%s...\"", err, prefix, msg);
	assert_null(strchr(err, '\n'));
}

static void test_malformed_table(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	char err[512];

	for (size_t i = 0; i < sizeof(bad_inputs) / sizeof(*bad_inputs); i++) {
		const struct bad *b = &bad_inputs[i];
		char name[64];

		snprintf(name, sizeof(name), "%s.trace", b->name);
		const char *path = put_file(f, name, b->data,
					    b->len ? b->len : strlen(b->data));

		memset(&t, 0x5a, sizeof(t));
		err[0] = '\0';
		if (trace_read(path, &tsc, &t, err, sizeof(err)) != -1)
			fail_msg("%s: accepted", b->name);
		check_err(err, path, b->line, b->msg);
		/* The failed trace is empty and safe to free. */
		assert_int_equal(t.nsteps, 0);
		assert_null(t.strings);
		trace_free(&t);
	}
}

static void test_overlong_lines(void **state)
{
	struct fixture *f = *state;
	static char data[3 * TRACE_LINE_MAX];
	struct trace t;
	char err[512];
	size_t n;

	/* A value that makes the line exactly TRACE_LINE_MAX: accepted. */
	n = (size_t)sprintf(data, HDR "k ");
	memset(data + n, 'v', TRACE_LINE_MAX - 2);
	n += TRACE_LINE_MAX - 2;
	n += (size_t)sprintf(data + n, "\nsteps\nend\n");
	put_file(f, "max.trace", data, n);
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), 0);
	assert_int_equal(strlen(trace_get(&t, "k")), TRACE_LINE_MAX - 2);
	trace_free(&t);

	/* One byte more: line 2 is too long. */
	n = (size_t)sprintf(data, HDR "k ");
	memset(data + n, 'v', TRACE_LINE_MAX - 1);
	n += TRACE_LINE_MAX - 1;
	n += (size_t)sprintf(data + n, "\nsteps\nend\n");
	put_file(f, "over.trace", data, n);
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), -1);
	check_err(err, f->path, 2, "line longer than 8192 bytes");

	/* A long label line in the steps. */
	n = (size_t)sprintf(data, HDR "steps\n0 0 | ");
	memset(data + n, 'x', 2 * TRACE_LINE_MAX);
	n += 2 * TRACE_LINE_MAX;
	n += (size_t)sprintf(data + n, "\nend\n");
	put_file(f, "longlabel.trace", data, n);
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), -1);
	check_err(err, f->path, 3, "line longer than");

	/* No newline at all in a big file. */
	memset(data, 'a', sizeof(data));
	put_file(f, "oneline.trace", data, sizeof(data));
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), -1);
	check_err(err, f->path, 1, "line longer than");
}

static void test_unreadable(void **state)
{
	struct fixture *f = *state;
	struct trace t;
	char err[512], path[160];

	snprintf(path, sizeof(path), "%s/does-not-exist.trace", f->dir);
	assert_int_equal(trace_read(path, &tsc, &t, err, sizeof(err)), -1);
	check_err(err, path, 1, "cannot open"); /* line 1, never 0 */
	assert_int_equal(trace_read(f->dir, &tsc, &t, err, sizeof(err)), -1);
	check_err(err, f->dir, 1, "cannot open: Is a directory");
	/* a device (or a FIFO, which would block fopen forever) is refused
	 * before anything is read */
	assert_int_equal(trace_read("/dev/zero", &tsc, &t, err, sizeof(err)), -1);
	check_err(err, "/dev/zero", 1, "cannot open: not a regular file");
	/* A tiny err buffer is truncated, not overrun; NULL is allowed. */
	char tiny[8];

	memset(tiny, 'z', sizeof(tiny));
	assert_int_equal(trace_read("/dev/zero", &tsc, &t, tiny, 4), -1);
	assert_int_equal(strlen(tiny), 3);
	assert_int_equal(tiny[4], 'z');
	assert_int_equal(trace_read("/dev/zero", &tsc, &t, NULL, 0), -1);
}

/* Every proper prefix of a valid trace is rejected, and random byte
 * corruption never crashes the reader: it accepts or names a line. */
static void test_prefixes_and_corruption(void **state)
{
	struct fixture *f = *state;
	char buf[1024], copy[1024];
	struct trace t;
	char err[512];
	FILE *fp = fmemopen(buf, sizeof(buf), "w");
	struct rng r;

	assert_non_null(fp);
	write_sample(fp, "v");
	size_t len = (size_t)ftell(fp);

	fclose(fp);
	for (size_t cut = 0; cut < len; cut++) {
		put_file(f, "prefix.trace", buf, cut);
		if (trace_read(f->path, &tsc, &t, err, sizeof(err)) != -1)
			fail_msg("prefix of %zu bytes accepted", cut);
		assert_int_equal(strncmp(err, f->path, strlen(f->path)), 0);
	}
	put_file(f, "whole.trace", buf, len);
	assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)), 0);
	trace_free(&t);

	rng_seed(&r, 1);
	for (int i = 0; i < 500; i++) {
		memcpy(copy, buf, len);
		int flips = 1 + (int)rng_below(&r, 4);

		for (int k = 0; k < flips; k++)
			copy[rng_below(&r, len)] = (char)rng_next(&r);
		put_file(f, "corrupt.trace", copy, len);
		int rc = trace_read(f->path, &tsc, &t, err, sizeof(err));

		if (rc == 0) {
			trace_free(&t);
			continue;
		}
		assert_int_equal(rc, -1);
		assert_int_equal(strncmp(err, f->path, strlen(f->path)), 0);
		assert_int_equal(err[strlen(f->path)], ':');
		assert_null(strchr(err, '\n'));
	}
	/* Pure noise. */
	for (int i = 0; i < 100; i++) {
		for (size_t k = 0; k < sizeof(copy); k++)
			copy[k] = (char)rng_next(&r);
		put_file(f, "noise.trace", copy, sizeof(copy));
		assert_int_equal(trace_read(f->path, &tsc, &t, err, sizeof(err)),
				 -1);
		check_err(err, f->path, 1, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_minimal, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_writer_errors, setup,
						teardown),
		cmocka_unit_test(test_writer_errors_sink),
		cmocka_unit_test_setup_teardown(test_sched_trace_replay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed_table, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_overlong_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prefixes_and_corruption,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
