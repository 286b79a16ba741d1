/* Tests of viz/: the DOT text of known traces (lanes, every step in order,
 * the happens-before edges of a stale-source run, the red violation,
 * escaping, the window of a long trace), byte-for-byte determinism,
 * rendering through libgvc, and one clear error line for bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "handler/variants.h"
#include "model/world.h"
#include "scenarios/scenario.h"
#include "sched/trace.h"
#include "model/event.h"
#include "viz/viz.h"

struct fixture {
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/uffdlab-viz-XXXXXX");
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
	DIR *d = opendir(f->dir);
	struct dirent *e;
	char p[400];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- traces ---- */

/* A step: its thread and its line after the tid, "<events> | <label>"
 * (sched/trace.h, docs/TRACE.md): the events are what viz reads. */
struct st {
	int tid;
	const char *label;
};

/* A stale-source run as `uffdlab explore scenarios/zoo/b01-stale-source.scn
 * --variant stale-source` wrote it (seed 32): g0 faults on page 1, serve
 * reads the PF, b0's REMOVE of page 1 is queued and read, serve marks the
 * page zero, and the worker spawned for the fault installs snapshot(1)
 * after the zap. */
static const char *const stale_threads[] = {
	"0 harness 3", "1 serve 4", "2 g0 1", "3 b0 2", "4 worker 4", NULL,
};
static const struct st stale_steps[] = {
	{0, "| yield"},
	{0, "pipe rfd=4 wfd=5 | "
	    "pipe -> [4, 5]"},
	{0, "pipe rfd=6 wfd=7 | "
	    "pipe -> [6, 7]"},
	{0, "spawn child=1 | "
	    "spawn serve -> t1"},
	{2, "| yield"},
	{2, "fault mm=0 page=1 addr=0x7f0000001000 flags=0x0 val=0x0 msg=1 | "
	    "read p1 ; fault: PF 0x7f0000001000 queued, sleeps"},
	{1, "| yield"},
	{1, "poll nfds=3 res=1 ; poll_ready fd=3 revents=0x1 | "
	    "poll 3 fds -> 1 3:0x1"},
	{1, "mutex_lock lock=2 wait=0 | "
	    "mutex_lock"},
	{1, "uffd_read fd=3 max=1 res=1 ; read_pf msg=1 addr=0x7f0000001000 flags=0x0 | "
	    "uffd_read 3 max=1 -> 1: PF 0x7f0000001000"},
	{1, "uffd_read fd=3 max=1 res=-11 | "
	    "uffd_read 3 max=1 -> -11"},
	{3, "| yield"},
	{3, "madvise mm=0 start=0x7f0000001000 len=0x1000 ; remove_queued msg=2 start=0x7f0000001000 end=0x7f0000002000 mc=1 | "
	    "madvise(DONTNEED) mm0 0x7f0000001000 +0x1000; REMOVE 0x7f0000001000-0x7f0000002000 queued (mmap_changing=1), sleeps"},
	{1, "mutex_unlock lock=2 owner=1 | "
	    "mutex_unlock"},
	{1, "mutex_lock lock=2 wait=0 | "
	    "mutex_lock"},
	{1, "mutex_unlock lock=2 owner=1 | "
	    "mutex_unlock"},
	{1, "mutex_lock lock=2 wait=0 | "
	    "mutex_lock"},
	{1, "mutex_unlock lock=2 owner=1 | "
	    "mutex_unlock"},
	{1, "spawn child=4 | "
	    "spawn worker -> t4"},
	{1, "poll nfds=3 res=1 ; poll_ready fd=3 revents=0x1 | "
	    "poll 3 fds -> 1 3:0x1"},
	{1, "mutex_lock lock=2 wait=0 | "
	    "mutex_lock"},
	{1, "uffd_read fd=3 max=1 res=1 ; read_remove msg=2 start=0x7f0000001000 end=0x7f0000002000 | "
	    "uffd_read 3 max=1 -> 1: REMOVE 0x7f0000001000-0x7f0000002000"},
	{1, "uffd_read fd=3 max=1 res=-11 | "
	    "uffd_read 3 max=1 -> -11"},
	{3, "ev_resumed type=REMOVE msg=2 mc=0 | "
	    "REMOVE read: resumed, mmap_changing=0"},
	{3, "zap mm=0 start=0x7f0000001000 end=0x7f0000002000 ; madvise_ret res=0 | "
	    "madvise zaps 0x7f0000001000-0x7f0000002000; madvise -> 0"},
	{1, "wrlock lock=1 wait=none ; wrlock_acq lock=1 ; note what=tracker a=0x1 b=2 | "
	    "wrlock; wrlock acquired; note tracker 0x1 2"},
	{4, "note what=before_rlock a=0x7f0000001000 b=0 | "
	    "note before_rlock 0x7f0000001000 0"},
	{4, "rdlock_wait lock=1 writer=1 announced=0 | "
	    "rdlock waits (writer t1 inside)"},
	{1, "wrunlock lock=1 admits=1 bad=0 | "
	    "wrunlock (admits 1 readers)"},
	{4, "rdlock_acq lock=1 readers=1 ; note what=before_fault_page a=0x7f0000001000 b=0 | "
	    "rdlock acquired (readers=1); note before_fault_page 0x7f0000001000 0"},
	{4, "source_read page=1 res=0 val=0x5300000000000001 | "
	    "source_read p1 -> 0 S1"},
	{4, "uffd_copy dst=0x7f0000001000 len=4096 mode=0 src=0x5300000000000001 res=0 copied=4096 ; note what=tracker a=0x1 b=1 | "
	    "uffd_copy 0x7f0000001000 4096 mode=0 S1 -> 0 copied=4096; note tracker 0x1 1"},
};
#define NSTALE (sizeof(stale_steps) / sizeof(stale_steps[0]))
static const char stale_viol[] =
	"install-into-removed: thread worker installed snapshot(1) into page "
	"1, which the handler's tracker already marks removed (zero)";

static const char *path_in(const struct fixture *f, const char *name,
			   char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", f->dir, name);
	return buf;
}

/* Write a trace file of n steps; steps i >= nfix come from gen(i). */
static void write_trace_gen(const char *path, const char *const *threads,
			    const struct st *fix, size_t nfix, size_t n,
			    struct st (*gen)(size_t i, char *buf, size_t bn),
			    const char *violation)
{
	FILE *fp = fopen(path, "w");
	char buf[256];

	/* by hand, not trace_step_events: the test steps are text */
	assert_non_null(fp);
	fprintf(fp, "%s %d\ntool uffdlab test\nscenario test.scn\n"
		    "handler e2b-ref\n", TRACE_MAGIC, TRACE_VERSION);
	for (size_t i = 0; threads[i]; i++)
		fprintf(fp, "thread %s\n", threads[i]);
	fprintf(fp, "steps\n");
	for (size_t i = 0; i < n; i++) {
		struct st s = i < nfix ? fix[i] : gen(i, buf, sizeof(buf));

		fprintf(fp, "%zu %d %s\n", i, s.tid, s.label);
	}
	if (violation)
		fprintf(fp, "violation %s\n", violation);
	fprintf(fp, "end\n");
	assert_int_equal(fclose(fp), 0);
}

static void write_trace(const char *path, const char *const *threads,
			const struct st *steps, size_t n, const char *violation)
{
	write_trace_gen(path, threads, steps, n, n, NULL, violation);
}

static void read_ok(const char *path, struct trace *t)
{
	char err[512];

	if (trace_read(path, &mev_schema, t, err, sizeof(err)))
		fail_msg("%s", err);
}

/* o NULL: the defaults but every step shown (opts.all), as the tests of
 * lanes, windows and edges count steps; test_page_lanes_and_noise checks
 * the default hiding. */
static char *dot_of(const struct trace *t, const struct viz_opts *o)
{
	char *dot = NULL, err[512];
	size_t len = 0;
	struct viz_opts every;

	if (!o) {
		viz_opts_init(&every);
		every.all = 1;
		o = &every;
	}
	if (viz_dot_string(t, o, &dot, &len, err, sizeof(err)))
		fail_msg("viz_dot_string: %s", err);
	assert_non_null(dot);
	assert_int_equal(strlen(dot), len);
	return dot;
}

static char *dot_of_file(const char *path, const struct viz_opts *o)
{
	struct trace t;

	read_ok(path, &t);
	char *dot = dot_of(&t, o);

	trace_free(&t);
	return dot;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void has(const char *dot, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void has(const char *dot, const char *fmt, ...)
{
	char s[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s, sizeof(s), fmt, ap);
	va_end(ap);
	if (!strstr(dot, s)) {
		if (getenv("VIZ_TEST_DUMP")) /* to debug a failure */
			fputs(dot, stderr);
		fail_msg("DOT lacks '%s'", s);
	}
}

static void lacks(const char *dot, const char *s)
{
	if (strstr(dot, s))
		fail_msg("DOT has '%s'", s);
}

/* The DOT line of an edge from -> to, or fail. */
static const char *edge_line(const char *dot, size_t from, size_t to,
			     char *buf, size_t n)
{
	char key[64];

	snprintf(key, sizeof(key), "  s%zu -> s%zu [color=", from, to);
	const char *p = strstr(dot, key);

	if (!p)
		fail_msg("no happens-before edge s%zu -> s%zu", from, to);
	size_t l = strcspn(p, "\n");

	snprintf(buf, n, "%.*s", (int)l, p);
	return buf;
}

static void hb(const char *dot, size_t from, size_t to, const char *kind)
{
	char line[512];

	edge_line(dot, from, to, line, sizeof(line));
	if (!strstr(line, kind))
		fail_msg("edge s%zu -> s%zu is not %s: %s", from, to, kind, line);
}

/* ---- picture of a known trace ---- */

static void test_one_lane_per_thread_every_step_in_order(void **state)
{
	char p[256];
	const char *path = path_in(*state, "stale.trace", p, sizeof(p));

	write_trace(path, stale_threads, stale_steps, NSTALE, stale_viol);
	char *dot = dot_of_file(path, NULL);

	assert_int_equal(strncmp(dot, "digraph uffdlab {\n", 18), 0);
	assert_int_equal(count(dot, "subgraph cluster_t"), 5);
	has(dot, "subgraph cluster_t0 {\n    graph [label=\"t0 harness\\nharness / control\"");
	has(dot, "subgraph cluster_t1 {\n    graph [label=\"t1 serve\\nhandler: serve loop (reads the uffd)\"");
	has(dot, "subgraph cluster_t2 {\n    graph [label=\"t2 g0\\nguest vCPU\"");
	has(dot, "subgraph cluster_t3 {\n    graph [label=\"t3 b0\\nballoon / madvise\"");
	has(dot, "subgraph cluster_t4 {\n    graph [label=\"t4 worker\\nhandler thread\"");
	/* every step, labelled "step: label", in its thread's cluster */
	for (size_t i = 0; i < NSTALE; i++) {
		char node[64];

		snprintf(node, sizeof(node), "    s%zu [label=\"%zu: ", i, i);
		assert_int_equal(count(dot, node), 1);
		const char *at = strstr(dot, node);
		char lane[64];

		snprintf(lane, sizeof(lane), "subgraph cluster_t%d {",
			 stale_steps[i].tid);
		const char *l = strstr(dot, lane);

		assert_non_null(l);
		assert_true(l < at);
		/* no other cluster opens between the lane and the node */
		const char *next = strstr(l + 1, "subgraph cluster_");

		assert_true(!next || next > at);
	}
	/* in order: one time edge from each step to the next */
	for (size_t i = 1; i < NSTALE; i++)
		has(dot, "  s%zu -> s%zu [style=invis, weight=0];\n", i - 1, i);
	assert_int_equal(count(dot, "style=invis"), NSTALE - 1);
	/* a step's label, wrapped, and a tracker note as a page state */
	has(dot, "s5 [label=\"5: read p1 ;\\lfault: PF 0x7f0000001000 queued, sleeps\\l\"");
	has(dot, "s25 [label=\"25: wrlock;\\lwrlock acquired;\\lnote tracker 0x1 2\\l"
		 "tracker p1 := zero\\l\"");
	has(dot, "tracker p1 := dirty");
	/* the label as the trace has it, in the node and its tooltip */
	assert_int_equal(count(dot, "note tracker"), 4);
	has(dot, "tooltip=\"wrlock; wrlock acquired; note tracker 0x1 2\"");
	/* the kernel queue lane: the PF queued by g0, then read */
	has(dot, "q5 [label=\"PF 0x7f0000001000  from g0\\l\"");
	has(dot, "q9 [label=\"(empty)\"");
	has(dot, "q12 [label=\"REMOVE 0x7f0000001000-0x7f0000002000  from b0\\l\"");
	has(dot, "{ rank=same; s12; q12; }");
	assert_int_equal(dot[strlen(dot) - 2], '}');
	free(dot);
}

static void test_stale_source_happens_before(void **state)
{
	char p[256];
	const char *path = path_in(*state, "stale.trace", p, sizeof(p));

	write_trace(path, stale_threads, stale_steps, NSTALE, stale_viol);
	char *dot = dot_of_file(path, NULL);

	/* fault -> read -> spawn -> copy */
	hb(dot, 5, 9, "fault->read PF 0x7f0000001000");
	hb(dot, 9, 18, "read->spawn PF 0x7f0000001000");
	hb(dot, 18, 31, "spawn->install PF 0x7f0000001000");
	/* REMOVE queued -> read -> resumed -> zap */
	hb(dot, 12, 21, "event->read REMOVE 0x7f0000001000-0x7f0000002000");
	hb(dot, 21, 23, "read->resumed");
	hb(dot, 23, 24, "resumed->zap");
	/* spawns -> the new threads' first steps */
	hb(dot, 3, 6, "spawn->start");
	hb(dot, 18, 26, "spawn->start");
	/* and nothing else: the other reads returned nothing */
	assert_int_equal(count(dot, "tooltip=\"fault->read"), 1);
	assert_int_equal(count(dot, "tooltip=\"event->read"), 1);
	assert_int_equal(count(dot, "tooltip=\"read->install"), 0);
	assert_int_equal(count(dot, "tooltip=\"wake->woken"), 0);
	/* program order: g0's two steps, t4's first two */
	has(dot, "  s4 -> s5 [weight=20, arrowhead=none");
	has(dot, "  s26 -> s27 [weight=20, arrowhead=none");
	free(dot);
}

/* The run goes on: the copy wakes g0, whose retried read returns S1. */
static void test_copy_wakes_the_faulting_guest(void **state)
{
	char p[256];
	const char *path = path_in(*state, "woken.trace", p, sizeof(p));
	struct st steps[NSTALE + 1];

	memcpy(steps, stale_steps, sizeof(stale_steps));
	steps[NSTALE] = (struct st){2, "woken mm=0 page=1 msg=1 ; access mm=0 page=1 write=0 res=ok val=0x5300000000000001 ; checked_read page=1 val=0x5300000000000001 | woken: retries p1; read p1 -> S1; g0 read 1 -> snapshot(1)"};
	write_trace(path, stale_threads, steps, NSTALE + 1,
		    "stale-data: g0 read page 1 as snapshot(1), but the sequential spec allows only zeros");
	char *dot = dot_of_file(path, NULL);

	hb(dot, 5, 9, "fault->read");
	hb(dot, 9, 18, "read->spawn");
	hb(dot, 18, 31, "spawn->install");
	hb(dot, 31, 32, "wake->woken PF 0x7f0000001000");
	has(dot, "  s5 -> s32 [weight=20, arrowhead=none");
	free(dot);
}

/* A read whose fault message no fill answered while its vCPU sleeps on
 * to the trace's end is marked (B11's aliased batch: the lost message is
 * where the race shows); once the worker's COPY answers it, it is not. */
static void test_unanswered_fault_read_marked(void **state)
{
	char p[256];
	const char *path = path_in(*state, "unanswered.trace", p, sizeof(p));
	const char *mark = "no fill ever answered this fault message";

	write_trace(path, stale_threads, stale_steps, 20, "lost-wake: g0 is blocked");
	char *dot = dot_of_file(path, NULL);

	has(dot, "    s9 [label=\"9: uffd_read 3 max=1 -> 1: PF 0x7f0000001000\\l%s", mark);
	assert_int_equal(count(dot, mark), 1);
	free(dot);
	write_trace(path, stale_threads, stale_steps, NSTALE, NULL);
	dot = dot_of_file(path, NULL);
	lacks(dot, mark);
	free(dot);
}

/* The waker is the last step that woke the address before "woken": not a
 * DONTWAKE copy, not a copy of another page. The install answering the
 * read is the first copy at the address, whatever its mode. */
static void test_waker_is_the_last_real_wake(void **state)
{
	char p[256];
	const char *path = path_in(*state, "dontwake.trace", p, sizeof(p));
	static const char *const threads[] = {"0 g0 1", "1 serve 4", NULL};
	static const struct st steps[] = {
		{0, "fault mm=0 page=1 addr=0x7f0000001000 flags=0x0 val=0x0 msg=1 | "
	    "read p1 ; fault: PF 0x7f0000001000 queued, sleeps"},
		{1, "uffd_read fd=3 max=4 res=1 ; read_pf msg=1 addr=0x7f0000001000 flags=0x0 | "
	    "uffd_read 3 max=4 -> 1: PF 0x7f0000001000"},
		{1, "uffd_wake start=0x7f0000001000 len=4096 res=0 | "
	    "uffd_wake 0x7f0000001000 4096 -> 0"},
		{1, "uffd_copy dst=0x7f0000001000 len=4096 mode=1 src=0x5300000000000001 res=0 copied=4096 | "
	    "uffd_copy 0x7f0000001000 4096 mode=1 S1 -> 0 copied=4096"},
		{1, "uffd_copy dst=0x7f0000002000 len=4096 mode=0 src=0x5300000000000002 res=0 copied=4096 | "
	    "uffd_copy 0x7f0000002000 4096 mode=0 S2 -> 0 copied=4096"},
		{0, "woken mm=0 page=1 msg=1 ; access mm=0 page=1 write=0 res=ok val=0x5300000000000001 | "
	    "woken: retries p1; read p1 -> S1"},
	};
	write_trace(path, threads, steps, 6, NULL);
	char *dot = dot_of_file(path, NULL);

	hb(dot, 0, 1, "fault->read");
	hb(dot, 1, 3, "read->install"); /* the reader installs: no spawn */
	hb(dot, 2, 5, "wake->woken");
	assert_int_equal(count(dot, "tooltip=\"wake->woken"), 1);
	assert_int_equal(count(dot, "tooltip=\"read->install"), 1);
	free(dot);
}

/* Messages are matched to their reads by message id (two faults at one
 * address are told apart); a
 * batch read returns several. */
static void test_reads_match_fifo(void **state)
{
	char p[256];
	const char *path = path_in(*state, "fifo.trace", p, sizeof(p));
	static const char *const threads[] = {"0 g0 1", "1 g1 1", "2 serve 4",
					      NULL};
	static const struct st steps[] = {
		{0, "fault mm=0 page=1 addr=0x7f0000001000 flags=0x0 val=0x0 msg=1 | "
	    "read p1 ; fault: PF 0x7f0000001000 queued, sleeps"},
		{1, "fault mm=0 page=1 addr=0x7f0000001000 flags=0x0 val=0x0 msg=2 | "
	    "read p1 ; fault: PF 0x7f0000001000 queued, sleeps"},
		{2, "uffd_read fd=3 max=1 res=1 ; read_pf msg=1 addr=0x7f0000001000 flags=0x0 | "
	    "uffd_read 3 max=1 -> 1: PF 0x7f0000001000"},
		{2, "uffd_read fd=3 max=1 res=1 ; read_pf msg=2 addr=0x7f0000001000 flags=0x0 | "
	    "uffd_read 3 max=1 -> 1: PF 0x7f0000001000"},
		{2, "uffd_zeropage dst=0x7f0000001000 len=4096 mode=0 res=0 zeroed=4096 | "
	    "uffd_zeropage 0x7f0000001000 4096 mode=0 -> 0 zeroed=4096"},
		{1, "woken mm=0 page=1 msg=2 ; fault mm=0 page=1 addr=0x7f0000001000 flags=0x1 val=0x5700000000000001 msg=3 | "
	    "woken: retries p1; write p1 W1; fault: PF 0x7f0000001000 w queued, sleeps"},
		{0, "woken mm=0 page=1 msg=1 ; fault mm=0 page=1 addr=0x7f0000001000 flags=0x0 val=0x0 msg=4 | "
	    "woken: retries p1; read p1 ; fault: PF 0x7f0000001000 queued, sleeps"},
		{2, "uffd_read fd=3 max=4 res=2 ; read_pf msg=3 addr=0x7f0000001000 flags=0x1 ; read_pf msg=4 addr=0x7f0000001000 flags=0x0 | "
	    "uffd_read 3 max=4 -> 2: PF 0x7f0000001000 w; PF 0x7f0000001000"},
	};
	write_trace(path, threads, steps, 8, NULL);
	char *dot = dot_of_file(path, NULL);

	hb(dot, 0, 2, "fault->read PF 0x7f0000001000\"");
	hb(dot, 1, 3, "fault->read PF 0x7f0000001000\"");
	hb(dot, 2, 4, "read->install");
	hb(dot, 3, 4, "read->install");
	hb(dot, 4, 5, "wake->woken");
	hb(dot, 4, 6, "wake->woken");
	/* woken and faulting again in one step; both read by one batch */
	hb(dot, 5, 7, "fault->read PF 0x7f0000001000 w\"");
	hb(dot, 6, 7, "fault->read PF 0x7f0000001000\"");
	assert_int_equal(count(dot, "tooltip=\"fault->read"), 4);
	/* the queue: one, two, one, none, ..., two, none */
	has(dot, "q0 [label=\"PF 0x7f0000001000  from g0\\l\"");
	has(dot, "q1 [label=\"PF 0x7f0000001000  from g0\\lPF 0x7f0000001000  from g1\\l\"");
	has(dot, "q2 [label=\"PF 0x7f0000001000  from g1\\l\"");
	has(dot, "q3 [label=\"(empty)\"");
	has(dot, "q6 [label=\"PF 0x7f0000001000 w  from g1\\lPF 0x7f0000001000  from g0\\l\"");
	has(dot, "q7 [label=\"(empty)\"");
	lacks(dot, "q4 [");
	free(dot);
}

static void test_violation_in_red(void **state)
{
	char p[256];
	const char *path = path_in(*state, "stale.trace", p, sizeof(p));

	write_trace(path, stale_threads, stale_steps, NSTALE, stale_viol);
	char *dot = dot_of_file(path, NULL);
	char line[1024];
	const char *s31 = strstr(dot, "    s31 [label=");

	assert_non_null(s31);
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(s31, "\n"), s31);
	if (!strstr(line, "color=\"#cc0000\"") || !strstr(line, "fillcolor=\"#ffd0d0\""))
		fail_msg("last step not red: %s", line);
	has(dot, "violation [shape=note");
	has(dot, "label=\"VIOLATION install-into-removed: thread worker installed\\lsnapshot(1)");
	has(dot, "{ rank=same; s31; violation; }");
	has(dot, "s31 -> violation [color=\"#cc0000\"");
	has(dot, "VIOLATION install-into-removed\\l"); /* in the title */
	/* s31's border and text, the note's, the edge (a page lane's parting
	 * is a darker red of its own: it is no violation by itself) */
	assert_int_equal(count(dot, "#cc0000"), 5);
	free(dot);

	/* the same steps without a violation: nothing red */
	write_trace(path, stale_threads, stale_steps, NSTALE, NULL);
	dot = dot_of_file(path, NULL);
	lacks(dot, "#cc0000");
	lacks(dot, "violation");
	free(dot);
}

/* fd-after-close is checked when the handler stops, but it happened at
 * the call on the closed number: that step is the red one, the note
 * hangs there, and the failed calls say their errno in words. */
static void test_fd_after_close_marks_the_call(void **state)
{
	static const char *const th[] = {"0 harness 3", "1 serve 4", "2 worker 4", NULL};
	static const struct st steps[] = {
		{0, "spawn child=1 | spawn serve -> t1"},
		{1, "close fd=4 res=0 | close 4"},
		{2, "uffd_copy dst=0x7f0000000000 len=4096 mode=0 src=0x5300000000000000 res=-9 copied=-9 | uffd_copy -> -9"},
		{2, "uffd_copy dst=0x7f0000001000 len=4096 mode=0 src=0x5300000000000001 res=-11 copied=-11 | uffd_copy -> -11"},
		{0, "close fd=7 res=0 | close 7"},
	};
	char p[256];
	const char *path = path_in(*state, "fdclose.trace", p, sizeof(p));

	write_trace(path, th, steps, 5, "fd-after-close: worker made a uffd call on fd 4");
	char *dot = dot_of_file(path, NULL);
	char line[1024];
	const char *s2 = strstr(dot, "    s2 [label=");

	assert_non_null(s2);
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(s2, "\n"), s2);
	if (!strstr(line, "fillcolor=\"#ffd0d0\"") || !strstr(line, "= EBADF"))
		fail_msg("the call on the closed fd is not the red one: %s", line);
	has(dot, "s2 -> violation [color=\"#cc0000\"");
	has(dot, "= EAGAIN (a REMOVE is pending");
	lacks(dot, "s4 -> violation");
	free(dot);
}

/* A page lane shows WP as the pagemap would: armed by a COPY with
 * MODE_WP, cleared by a guest write that lands (WP_ASYNC); and an
 * UNREGISTER of its range. */
static void test_page_lane_wp_from_copy_and_write(void **state)
{
	static const char *const th[] = {"0 harness 3", "1 worker 4", "2 g0 1", NULL};
	static const struct st steps[] = {
		{1, "uffd_copy dst=0x7f0000000000 len=4096 mode=2 src=0x5300000000000000 res=0 copied=4096 | copy"},
		{2, "access mm=0 page=0 write=1 res=ok val=0x5700000000000001 | write p0"},
		{1, "unregister start=0x7f0000000000 end=0x7f0000001000 | unregister"},
	};
	char p[256];
	const char *path = path_in(*state, "wp.trace", p, sizeof(p));

	write_trace(path, th, steps, 3, NULL);
	char *dot = dot_of_file(path, NULL);
	has(dot, "label=\"{kernel: present: snapshot bytes, WP armed|");
	has(dot, "label=\"{kernel: present: a guest write, unregistered|");
	has(dot, "label=\"{kernel: present: a guest write|");
	lacks(dot, "a guest write, WP armed");
	free(dot);
}

static void test_same_trace_same_bytes(void **state)
{
	char p[256];
	const char *path = path_in(*state, "stale.trace", p, sizeof(p));

	write_trace(path, stale_threads, stale_steps, NSTALE, stale_viol);
	struct viz_opts def;

	viz_opts_init(&def); /* what viz_dot(NULL) uses */
	char *a = dot_of_file(path, &def), *b = dot_of_file(path, &def);

	assert_string_equal(a, b);
	/* and through a FILE */
	struct trace t;
	char *c = NULL, err[256];
	size_t len = 0;
	FILE *f = open_memstream(&c, &len);

	assert_non_null(f);
	read_ok(path, &t);
	assert_int_equal(viz_dot(&t, f, NULL, err, sizeof(err)), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(len, strlen(a));
	assert_memory_equal(a, c, len);
	trace_free(&t);
	free(a);
	free(b);
	free(c);
}

static void test_labels_escaped_for_dot(void **state)
{
	struct fixture *f = *state;
	char p[256], out[300];
	const char *path = path_in(f, "esc.trace", p, sizeof(p));
	static const char *const threads[] = {"0 g\"0 1", NULL};
	static const struct st steps[] = {
		{0, "| say \"hi\" C:\\dir\\n \\"},
		{0, "| bad byte \xff here, \xc3\xa9 kept"},
		{0, "| ends in a backslash \\"},
	};
	write_trace(path, threads, steps, 3, "deadlock: \"quoted\" \\ slash");
	char *dot = dot_of_file(path, NULL);

	/* a final backslash gets a space: it must not escape a quote */
	has(dot, "s0 [label=\"0: say \\\"hi\\\" C:\\\\dir\\\\n \\\\ \\l\"");
	has(dot, "s1 [label=\"1: bad byte ? here, \xc3\xa9 kept\\l\"");
	has(dot, "tooltip=\"ends in a backslash \\\\ \"");
	has(dot, "label=\"t0 g\\\"0\\nguest vCPU\"");
	has(dot, "VIOLATION deadlock: \\\"quoted\\\" \\\\ slash\\l");
	/* graphviz reads it back: the proof the escaping is right */
	char err[512];
	int e = viz_render(dot, strlen(dot), path_in(f, "esc.svg", out, sizeof(out)),
			   "svg", err, sizeof(err));

	if (e)
		fail_msg("%s", err);
	free(dot);
}

/* A page that ends absent while the tracker says installed: the two part. */
static const struct st parted_steps[] = {
	{2, "fault mm=0 page=1 addr=0x7f0000001000 flags=0x0 val=0x0 msg=1 | read p1 ; fault"},
	{1, "uffd_zeropage dst=0x7f0000001000 len=4096 mode=0 res=0 zeroed=4096 ; note what=tracker a=0x1 b=1 | zeropage"},
	{3, "zap mm=0 start=0x7f0000001000 end=0x7f0000002000 ; madvise_ret res=0 | zap"},
	{2, "woken mm=0 page=1 msg=1 ; fault mm=0 page=1 addr=0x7f0000001000 flags=0x0 val=0x0 msg=3 | fault again"},
};

/* Default pictures: a lane per page the race touches, the kernel's state
 * above the tracker's on the rows where one changed, red where they part;
 * lock/unlock pairs no other thread touched hidden unless opts.all. */
static void test_page_lanes_and_noise(void **state)
{
	char p[256];
	const char *path = path_in(*state, "stale.trace", p, sizeof(p));
	struct viz_opts o;

	write_trace(path, stale_threads, stale_steps, NSTALE, stale_viol);
	viz_opts_init(&o);
	char *dot = dot_of_file(path, &o);

	assert_int_equal(count(dot, "subgraph cluster_page"), 1);
	has(dot, "subgraph cluster_page1 {\n    graph [label=\"page 1\\nin the kernel | in the handler's tracker\"");
	has(dot, "    pg1_5 [shape=record, label=\"{kernel: absent|tracker: no note yet}\"");
	has(dot, "    pg1_25 [shape=record, label=\"{kernel: absent|tracker: zero (removed)}\"");
	/* the install notes dirty in its own step, over zero (removed) */
	has(dot, "    pg1_31 [shape=record, label=\"{kernel: present: snapshot bytes|tracker: dirty (installed)"
		 "\\nTHEY PART: it was zero (removed)}\", style=\"filled\", fillcolor=\"#ffd0d0\"");
	has(dot, "  { rank=same; s31; pg1_31; }");
	has(dot, "  pg1_25 -> pg1_31 [weight=20");
	assert_int_equal(count(dot, "    pg1_"), 3);
	assert_int_equal(count(dot, "THEY PART"), 1);
	/* serve's uncontended lock 2 around its reads: not shown */
	lacks(dot, "    s8 [");
	lacks(dot, "    s13 [");
	lacks(dot, "    s14 [");
	has(dot, "    s20 [label=\"20: "); /* released by nobody: shown */
	has(dot, "    s25 [label=\"25: "); /* a wrlock with a tracker note */
	has(dot, "  s7 -> s9 [weight=20, arrowhead=none, color=\"#c4c4c4\", style=dashed];");
	free(dot);
	o.all = 1;
	dot = dot_of_file(path, &o);
	has(dot, "    s8 [label=\"8: ");
	has(dot, "    s13 [label=\"13: ");
	free(dot);

	write_trace(path, stale_threads, parted_steps, 4, "lost-wake: g0 is blocked");
	viz_opts_init(&o);
	dot = dot_of_file(path, &o);
	has(dot, "    pg1_1 [shape=record, label=\"{kernel: present: zeros|tracker: dirty (installed)}\"");
	has(dot, "    pg1_2 [shape=record, label=\"{kernel: absent|tracker: dirty (installed)\\nTHEY PART}\", "
		 "style=\"filled\", fillcolor=\"#ffd0d0\"");
	lacks(dot, "pg1_3 ["); /* nothing changed at the second fault */
	free(dot);
}

static void test_label_max_shortens(void **state)
{
	char p[256];
	const char *path = path_in(*state, "stale.trace", p, sizeof(p));
	struct viz_opts o;

	write_trace(path, stale_threads, stale_steps, NSTALE, stale_viol);
	viz_opts_init(&o);
	o.label_max = 20;
	char *dot = dot_of_file(path, &o);

	has(dot, "s12 [label=\"12: madvise(DONTNEED) mm...\\l\"");
	free(dot);
	o.label_max = 3;
	struct trace t;
	char *d = NULL, err[256] = "";

	read_ok(path, &t);
	assert_int_equal(viz_dot_string(&t, &o, &d, NULL, err, sizeof(err)), -EINVAL);
	assert_null(d);
	assert_non_null(strstr(err, "label_max"));
	trace_free(&t);
}

/* Traces the explorer does not write but a person might: no steps, a step
 * of a thread the header does not name, a kind viz does not know. */
static void test_odd_traces_still_draw(void **state)
{
	struct fixture *f = *state;
	char p[256], out[300], err[512];
	static const char *const threads[] = {"0 g0 1", "1 helper 9", NULL};
	static const struct st steps[] = {
		{0, "| yield"}, {1, "| yield"}, {7, "| spawn x -> t99"}, {0, "|"},
	};

	write_trace(path_in(f, "empty.trace", p, sizeof(p)), threads, steps, 0,
		    NULL);
	char *dot = dot_of_file(p, NULL);

	assert_int_equal(count(dot, "subgraph"), 0);
	has(dot, "0 steps, 0 shown");
	if (viz_render(dot, strlen(dot), path_in(f, "empty.svg", out, sizeof(out)),
		       "svg", err, sizeof(err)))
		fail_msg("%s", err);
	free(dot);

	write_trace(path_in(f, "odd.trace", p, sizeof(p)), threads, steps, 4,
		    "deadlock: everyone waits");
	dot = dot_of_file(p, NULL);
	has(dot, "graph [label=\"t1 helper\\nthread\"");
	has(dot, "graph [label=\"t7\\nthread\"");
	has(dot, "    s3 [label=\"3: \"");
	has(dot, "{ rank=same; s3; violation; }");
	if (viz_render(dot, strlen(dot), path_in(f, "odd.png", out, sizeof(out)),
		       "png", err, sizeof(err)))
		fail_msg("%s", err);
	free(dot);
}

/* ---- long traces ---- */

/* serve reads a pipe and spawns a worker, the worker fails its copy and
 * defers: the busy loop of scenarios/zoo/b14-no-yield-on-retry.scn, 9 steps a
 * round, one new worker per round. */
static struct st spin_step(size_t i, char *buf, size_t n)
{
	size_t round = (i - 4) / 9, k = (i - 4) % 9;
	int worker = (int)(2 + round);
	static const char *const serve[] = {
		"poll nfds=3 res=1 ; poll_ready fd=4 revents=0x1 | "
		"poll 3 fds -> 1 4:0x1",
		"pipe_read fd=4 len=64 res=1 | read 4 64 -> 1",
		"mutex_lock lock=2 wait=0 | mutex_lock",
		"mutex_unlock lock=2 owner=1 | mutex_unlock"};

	if (k < 4)
		return (struct st){1, serve[k]};
	if (k == 4) {
		snprintf(buf, n, "spawn child=%d | spawn worker -> t%d", worker,
			 worker);
		return (struct st){1, buf};
	}
	static const char *const w[] = {
		"note what=before_rlock a=0x7f0000001000 b=0 | "
		"note before_rlock 0x7f0000001000 0",
		"uffd_copy dst=0x7f0000001000 len=4096 mode=0 "
		"src=0x5300000000000001 res=-11 copied=-11 | "
		"uffd_copy 0x7f0000001000 4096 mode=0 S1 -> -11 copied=-11",
		"mutex_unlock lock=2 owner=1 ; note what=defer a=0x7f0000001000 "
		"b=0 | mutex_unlock; note defer 0x7f0000001000 0",
		"pipe_write fd=5 len=1 res=1 | write 5 1 -> 1"};
	return (struct st){worker, w[k - 5]};
}

static void write_spin(const char *path, size_t n)
{
	static const struct st start[] = {
		{0, "spawn child=1 | spawn serve -> t1"},
		{1, "| yield"},
		{1, "poll nfds=3 res=1 ; poll_ready fd=3 revents=0x1 | "
		    "poll 3 fds -> 1 3:0x1"},
		{1, "uffd_read fd=3 max=1 res=1 ; read_pf msg=1 "
		    "addr=0x7f0000001000 flags=0x0 | "
		    "uffd_read 3 max=1 -> 1: PF 0x7f0000001000"},
	};
	char **threads = calloc(n + 4, sizeof(*threads));
	size_t nt = 0;

	assert_non_null(threads);
	threads[nt++] = strdup("0 harness 3");
	threads[nt++] = strdup("1 serve 4");
	for (size_t r = 0; 4 + r * 9 < n; r++) {
		threads[nt] = malloc(32);
		snprintf(threads[nt++], 32, "%zu worker 4", 2 + r);
	}
	write_trace_gen(path, (const char *const *)threads, start, 4, n, spin_step,
			"busy-spin: worker, serve spun for 9996 steps without progress");
	for (size_t i = 0; i < nt; i++)
		free(threads[i]);
	free(threads);
}

static size_t nodes(const char *dot)
{
	return count(dot, "    s") - count(dot, "    subgraph");
}

static void test_long_trace_shows_a_window(void **state)
{
	char p[256];
	const char *path = path_in(*state, "spin.trace", p, sizeof(p));

	write_spin(path, 10000);
	char *dot = dot_of_file(path, NULL);

	/* the first 40 steps less the repeats of the 9-step round, which
	 * start at step 4: 0-12 shown, 13-39 one node */
	for (size_t i = 0; i < 13; i++)
		has(dot, "    s%zu [label=\"%zu: ", i, i);
	lacks(dot, "    s13 [");
	has(dot, "  f13 [label=\"steps 13-39: the 9 steps above repeat 3 more times\"");
	/* the middle: one node saying who ran it */
	lacks(dot, "    s40 [");
	lacks(dot, "    s5000 [");
	has(dot, "  e40 [label=\"... steps 40-9879 not shown (9840 steps) ...\\n"
		 "serve: 5468 steps\\nworker: 4372 steps in 1093 threads\\n\"");
	/* the last 120: one round, its 12 repeats, the rest, the last step */
	for (size_t i = 9880; i < 9889; i++)
		has(dot, "    s%zu [label=\"%zu: ", i, i);
	lacks(dot, "    s9889 [");
	has(dot, "  f9889 [label=\"steps 9889-9996: the 9 steps above repeat 12 more times\"");
	has(dot, "    s9997 [label=\"9997: ");
	has(dot, "    s9999 [label=\"9999: ");
	has(dot, "  s12 -> f13 [style=invis");
	has(dot, "  f13 -> e40 [style=invis");
	has(dot, "  e40 -> s9880 [style=invis");
	has(dot, "  s9888 -> f9889 [style=invis");
	has(dot, "  f9889 -> s9997 [style=invis");
	assert_int_equal(nodes(dot), 13 + 9 + 3);
	/* harness, serve, one worker in the head, two in the tail: no lane
	 * for the 1096 hidden ones */
	assert_int_equal(count(dot, "subgraph cluster_t"), 5);
	has(dot, "subgraph cluster_t1099 {");
	has(dot, "subgraph cluster_t1112 {");
	/* serve's lane runs through the hidden steps, dashed */
	has(dot, "  s8 -> s9880 [weight=20, arrowhead=none, color=\"#c4c4c4\", style=dashed];");
	has(dot, "  s4 -> s5 [weight=20, arrowhead=none, color=\"#c4c4c4\"];");
	free(dot);

	/* the caller's window, without folding */
	struct viz_opts o;

	viz_opts_init(&o);
	o.all = 1;
	o.head = 10;
	o.tail = 20;
	o.fold_min = 0;
	dot = dot_of_file(path, &o);
	assert_int_equal(nodes(dot), 30);
	has(dot, "  e10 [label=\"... steps 10-9979 not shown (9970 steps) ...");
	lacks(dot, "  f");
	free(dot);

	/* every step */
	o.head = VIZ_ALL;
	dot = dot_of_file(path, &o);
	assert_int_equal(nodes(dot), 10000);
	lacks(dot, "not shown");
	free(dot);
}

/* The spin trace of n steps built in memory: the point is viz's speed, and
 * the trace reader is tested (and timed) elsewhere. */
struct mem_trace {
	struct trace t;
	char *labels;      /* n labels of LABEL_SZ bytes */
	struct trace_kv *kv;
};
#define LABEL_SZ 80

static void mem_spin(struct mem_trace *m, size_t n)
{
	static const struct st start[] = {
		{0, "spawn child=1 | spawn serve -> t1"},
		{1, "| yield"},
		{1, "poll nfds=3 res=1 ; poll_ready fd=3 revents=0x1 | "
		    "poll 3 fds -> 1 3:0x1"},
		{1, "uffd_read fd=3 max=1 res=1 ; read_pf msg=1 "
		    "addr=0x7f0000001000 flags=0x0 | "
		    "uffd_read 3 max=1 -> 1: PF 0x7f0000001000"},
	};
	size_t rounds = (n - 4) / 9 + 1, nkv = 2 + rounds;

	memset(m, 0, sizeof(*m));
	m->labels = malloc(n * LABEL_SZ + nkv * 32);
	m->kv = calloc(nkv, sizeof(*m->kv));
	m->t.steps = calloc(n, sizeof(*m->t.steps));
	assert_non_null(m->labels);
	assert_non_null(m->kv);
	assert_non_null(m->t.steps);
	for (size_t i = 0; i < n; i++) {
		char *l = m->labels + i * LABEL_SZ;
		struct st s = i < 4 ? start[i] : spin_step(i, l, LABEL_SZ);

		/* the label after "| ": in memory, no events (no edges) */
		const char *bar = strstr(s.label, "| ");

		memmove(l, bar ? bar + 2 : s.label,
			strlen(bar ? bar + 2 : s.label) + 1);
		m->t.steps[i] = (struct trace_step){i, (uint32_t)s.tid, l, NULL, 0};
	}
	char *kvs = m->labels + n * LABEL_SZ;

	m->kv[0] = (struct trace_kv){"thread", "0 harness 3"};
	m->kv[1] = (struct trace_kv){"thread", "1 serve 4"};
	for (size_t r = 0; r < rounds; r++) {
		snprintf(kvs, 32, "%zu worker 4", 2 + r);
		m->kv[2 + r] = (struct trace_kv){"thread", kvs};
		kvs += 32;
	}
	m->t.version = TRACE_VERSION;
	m->t.nkv = nkv;
	m->t.kv = m->kv;
	m->t.nsteps = n;
	m->t.violation = "busy-spin: worker, serve spun without progress";
}

static double since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

static void test_long_trace_renders_fast(void **state)
{
	struct fixture *f = *state;
	char out[300], err[512];
	struct mem_trace m;
	struct timespec a;
	char *dot = NULL;
	size_t len;

	mem_spin(&m, 100000);
	clock_gettime(CLOCK_MONOTONIC, &a);
	if (viz_dot_string(&m.t, NULL, &dot, &len, err, sizeof(err)))
		fail_msg("%s", err);
	double sd = since(&a);

	clock_gettime(CLOCK_MONOTONIC, &a);
	if (viz_render(dot, len, path_in(f, "spin.svg", out, sizeof(out)), "svg",
		       err, sizeof(err)))
		fail_msg("%s", err);
	double sr = since(&a);

	printf("  100000-step trace: dot %.3f s (%zu bytes), svg %.3f s\n", sd,
	       len, sr);
	/* a couple of seconds; the slack is for sanitizer builds */
	assert_true(sd + sr < 10.0);
	assert_true(len < 100000); /* a window, not 100000 nodes */
	struct stat st;

	assert_int_equal(stat(out, &st), 0);
	assert_true(st.st_size > 1000);
	free(dot);
	free(m.labels);
	free(m.kv);
	free(m.t.steps);
}

/* ---- rendering and files ---- */

static void file_starts(const char *path, const void *magic, size_t n,
			const void *alt, size_t altn)
{
	unsigned char buf[32] = {0};
	FILE *fp = fopen(path, "rb");

	assert_non_null(fp);
	size_t got = fread(buf, 1, sizeof(buf), fp);

	fclose(fp);
	if (got < n)
		fail_msg("%s: %zu bytes", path, got);
	if (memcmp(buf, magic, n) && (!alt || memcmp(buf, alt, altn)))
		fail_msg("%s starts with %02x %02x %02x %02x", path, buf[0],
			 buf[1], buf[2], buf[3]);
}

static void test_render_svg_and_png(void **state)
{
	struct fixture *f = *state;
	char p[256], svg[300], png[300], err[512];
	const char *path = path_in(f, "stale.trace", p, sizeof(p));

	write_trace(path, stale_threads, stale_steps, NSTALE, stale_viol);
	char *dot = dot_of_file(path, NULL);

	path_in(f, "stale.svg", svg, sizeof(svg));
	path_in(f, "stale.png", png, sizeof(png));
	if (viz_render(dot, strlen(dot), svg, "svg", err, sizeof(err)))
		fail_msg("%s", err);
	if (viz_render(dot, strlen(dot), png, "png", err, sizeof(err)))
		fail_msg("%s", err);
	file_starts(svg, "<?xml", 5, "<svg", 4);
	file_starts(png, "\x89PNG\r\n\x1a\n", 8, NULL, 0);
	struct stat st;

	assert_int_equal(stat(svg, &st), 0);
	assert_true(st.st_size > 1000);
	assert_int_equal(stat(png, &st), 0);
	assert_true(st.st_size > 1000);
	free(dot);
}

static void test_trace_files_beside_the_trace(void **state)
{
	struct fixture *f = *state;
	char p[256], q[300], err[512];
	struct stat st;

	write_trace(path_in(f, "x.trace", p, sizeof(p)), stale_threads,
		    stale_steps, NSTALE, stale_viol);
	if (viz_trace_files(p, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(stat(path_in(f, "x.dot", q, sizeof(q)), &st), 0);
	file_starts(q, "digraph uffdlab {", 17, NULL, 0);
	file_starts(path_in(f, "x.svg", q, sizeof(q)), "<?xml", 5, "<svg", 4);
	assert_int_equal(stat(path_in(f, "x.trace.dot", q, sizeof(q)), &st), -1);

	/* no .trace suffix: the whole name is the base */
	write_trace(path_in(f, "y.txt", p, sizeof(p)), stale_threads,
		    stale_steps, NSTALE, NULL);
	if (viz_trace_to(p, NULL, "png", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(stat(path_in(f, "y.txt.dot", q, sizeof(q)), &st), 0);
	file_starts(path_in(f, "y.txt.png", q, sizeof(q)), "\x89PNG", 4, NULL, 0);

	/* the .dot file renders on its own */
	if (viz_render_file(path_in(f, "x.dot", p, sizeof(p)),
			    path_in(f, "x2.png", q, sizeof(q)), "png", err,
			    sizeof(err)))
		fail_msg("%s", err);
	file_starts(q, "\x89PNG", 4, NULL, 0);
}

/* ---- bad input: one line naming the file, never a crash ---- */

static void one_line(const char *err, const char *prefix, const char *what)
{
	if (strncmp(err, prefix, strlen(prefix)) || !strstr(err, what) ||
	    strchr(err, '\n'))
		fail_msg("error '%s' is not one line '%s...%s...'", err, prefix,
			 what);
}

static void test_bad_input_one_error_line(void **state)
{
	struct fixture *f = *state;
	char p[256], q[300], prefix[320], err[512];
	struct stat st;

	/* not a trace at all */
	path_in(f, "notes.trace", p, sizeof(p));
	FILE *fp = fopen(p, "w");

	assert_non_null(fp);
	fputs("digraph { a -> b }\n", fp);
	fclose(fp);
	assert_int_equal(viz_trace_files(p, err, sizeof(err)), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s:1: ", p);
	one_line(err, prefix, "not a uffdlab trace");
	assert_int_equal(stat(path_in(f, "notes.dot", q, sizeof(q)), &st), -1);

	/* a truncated trace */
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("uffdlab-trace 2\nthread 0 g0 1\nsteps\n0 0 | yield\n", fp);
	fclose(fp);
	assert_int_equal(viz_trace_files(p, err, sizeof(err)), -EINVAL);
	one_line(err, p, "missing 'end'");

	/* a bad thread line: its line number */
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("uffdlab-trace 2\ntool x\nthread 0 g0\nsteps\n0 0 | yield\nend\n", fp);
	fclose(fp);
	assert_int_equal(viz_trace_files(p, err, sizeof(err)), -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s:3: ", p);
	one_line(err, prefix, "bad thread line");

	/* no such file */
	path_in(f, "missing.trace", p, sizeof(p));
	assert_int_equal(viz_trace_files(p, err, sizeof(err)), -ENOENT);
	snprintf(prefix, sizeof(prefix), "%s:1: cannot open: ", p);
	one_line(err, prefix, "No such file");

	/* bad DOT: nothing written */
	path_in(f, "bad.svg", q, sizeof(q));
	assert_int_equal(viz_render("digraph { a -> ", 15, q, "svg", err, sizeof(err)),
			 -EINVAL);
	snprintf(prefix, sizeof(prefix), "%s: bad DOT: ", q);
	one_line(err, prefix, "");
	assert_int_equal(stat(q, &st), -1);

	/* a format graphviz has but we do not promise */
	assert_int_equal(viz_render("digraph { a }", 13, q, "gif", err, sizeof(err)),
			 -EINVAL);
	one_line(err, q, "format 'gif' is not svg or png");
	assert_int_equal(stat(q, &st), -1);

	/* an unwritable output */
	assert_int_equal(viz_render("digraph { a }", 13, "/nonexistent-dir/x.svg",
				    "svg", err, sizeof(err)), -ENOENT);
	one_line(err, "/nonexistent-dir/x.svg: ", "No such file");

	/* and viz_render_file of a missing file */
	assert_int_equal(viz_render_file(p, q, "svg", err, sizeof(err)), -ENOENT);
	snprintf(prefix, sizeof(prefix), "%s: ", p);
	one_line(err, prefix, "No such file");
}

/* ---- a trace of a real run ---- */

struct rec {
	size_t n, cap;
	struct st *s;
};

/* A step sink as the driver's: the steps of one run, kept. */
static void rec_sink(void *ctx, const struct sched_step_info *si)
{
	struct rec *r = ctx;
	char *line = NULL;
	size_t len = 0;
	struct trace_writer w;
	FILE *f = open_memstream(&line, &len);

	assert_int_equal(si->step, r->n);
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->s = realloc(r->s, r->cap * sizeof(*r->s));
		assert_non_null(r->s);
	}
	/* the step's line as the trace writer formats it, less "0 <tid> " */
	assert_non_null(f);
	assert_int_equal(trace_writer_open(&w, f), 0);
	trace_writer_schema(&w, &mev_schema);
	assert_int_equal(trace_step_events(&w, 0, si->tid, si->ev, si->nev,
					   si->label), 0);
	assert_int_equal(fclose(f), 0);
	char *body = strchr(strchr(strchr(line, '\n') + 1, '\n') + 1, ' ');

	body = strchr(body + 1, ' ') + 1;
	body[strcspn(body, "\n")] = 0;
	r->s[r->n].tid = si->tid;
	r->s[r->n++].label = strdup(body);
	free(line);
}

/* B1's first violating random seed, run again with labels and written
 * to path as a trace; returns the run's thread count. */
static int write_first_violation(const char *path, struct verdict *vout)
{
	static struct scenario scn;
	char err[512];

	if (scn_parse_file("scenarios/zoo/b01-stale-source.scn", &scn, err, sizeof(err)))
		fail_msg("%s", err);
	uint64_t bits = variant_parse("stale-source");

	assert_true(bits != 0);
	struct world *w = world_new(&scn, "e2b-ref", bits);

	assert_non_null(w);
	/* the first violating seed, then its run again with labels */
	struct verdict v = {0};
	uint64_t seed = 0;

	for (uint64_t s = 1; s <= 2000 && !v.violated; s++) {
		struct sched_opts o = {.strategy = SCHED_RANDOM, .seed = s,
				       .max_steps = 100000};

		assert_int_equal(world_run(w, &o, NULL, NULL, &v), 0);
		seed = s;
	}
	assert_true(v.violated);
	struct sched_opts o = {.strategy = SCHED_RANDOM, .seed = seed,
			       .max_steps = 100000, .labels = 1};
	struct rec r = {0};

	assert_int_equal(world_run(w, &o, rec_sink, &r, &v), 0);
	assert_true(v.violated);
	const sched_t *sc = world_sched(w);
	int nthreads = sched_nthreads(sc);
	char **threads = calloc((size_t)nthreads + 1, sizeof(*threads));
	char viol[600];

	assert_non_null(threads);
	for (int t = 0; t < nthreads; t++) {
		threads[t] = malloc(64);
		snprintf(threads[t], 64, "%d %s %d", t, sched_thread_name(sc, t),
			 sched_thread_kind(sc, t));
	}
	snprintf(viol, sizeof(viol), "%s: %s", v.name, v.text);
	write_trace(path, (const char *const *)threads, r.s, r.n, viol);
	for (int t = 0; t < nthreads; t++)
		free(threads[t]);
	free(threads);
	for (size_t i = 0; i < r.n; i++)
		free((char *)r.s[i].label);
	free(r.s);
	world_free(w);
	*vout = v;
	return nthreads;
}

static void test_world_run_trace(void **state)
{
	struct fixture *f = *state;
	char p[256];
	const char *path = path_in(f, "world.trace", p, sizeof(p));
	struct verdict v;
	int nthreads = write_first_violation(path, &v);
	struct trace t;

	read_ok(path, &t);
	char *dot = dot_of(&t, NULL);

	assert_int_equal(count(dot, "subgraph cluster_t"), nthreads);
	for (size_t i = 0; i < t.nsteps; i++)
		has(dot, "    s%zu [label=\"%zu: ", i, i);
	/* every fault queued whose message a later read returned has its
	 * fault->read edge */
	size_t faults = 0;

	for (size_t i = 0; i < t.nsteps; i++) {
		const char *pf = strstr(t.steps[i].label, "fault: PF ");

		if (!pf)
			continue;
		char msg[64];

		snprintf(msg, sizeof(msg), "%.*s", (int)(strstr(pf, " queued") - pf - 7),
			 pf + 7);
		for (size_t j = i + 1; j < t.nsteps; j++)
			if (!strncmp(t.steps[j].label, "uffd_read ", 10) &&
			    strstr(t.steps[j].label, msg)) {
				hb(dot, i, j, "fault->read");
				faults++;
				break;
			}
	}
	assert_true(faults >= 1);
	has(dot, "VIOLATION %s", v.name);
	trace_free(&t);
	free(dot);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_lane_per_thread_every_step_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_source_happens_before, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_wakes_the_faulting_guest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waker_is_the_last_real_wake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reads_match_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_violation_in_red, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_after_close_marks_the_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_lane_wp_from_copy_and_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_trace_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_labels_escaped_for_dot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_max_shortens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_odd_traces_still_draw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_trace_shows_a_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_trace_renders_fast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_render_svg_and_png, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_files_beside_the_trace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_one_error_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_world_run_trace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unanswered_fault_read_marked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_lanes_and_noise, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
