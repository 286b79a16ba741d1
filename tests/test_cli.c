/* The command line as a user sees it: exit codes, one-line errors naming
 * file:line, byte-identical traces from two processes, byte-exact replay. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/wait.h>
#include <unistd.h>

static char bin[512];
static char tmp[256];

/* Run a shell command line; returns its exit status, its stdout in out and
 * its stderr in err (either may be NULL). */
static int run(char *out, size_t outlen, char *err, size_t errlen,
	       const char *fmt, ...)
{
	char cmd[2048], o[300], e[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(o, sizeof o, "%s/stdout", tmp);
	snprintf(e, sizeof e, "%s/stderr", tmp);
	char full[3000];
	snprintf(full, sizeof full, "( %s ) >%s 2>%s", cmd, o, e);
	int st = system(full);
	assert_true(WIFEXITED(st));
	FILE *f;
	if (out && (f = fopen(o, "r"))) {
		size_t n = fread(out, 1, outlen - 1, f);
		out[n] = 0;
		fclose(f);
	}
	if (err && (f = fopen(e, "r"))) {
		size_t n = fread(err, 1, errlen - 1, f);
		err[n] = 0;
		fclose(f);
	}
	return WEXITSTATUS(st);
}

static long file_bytes(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, len, f);
	fclose(f);
	return (long)n;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int setup(void **state)
{
	(void)state;
	const char *b = getenv("BUILD");
	char cwd[256];
	/* absolute: some tests run it from another directory */
	snprintf(bin, sizeof bin, "%s/%s/uffdlab", getcwd(cwd, sizeof cwd) ? cwd : ".",
		 b ? b : "build");
	snprintf(tmp, sizeof tmp, "/tmp/uffdlab-cli-XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

#define STALE "scenarios/zoo/b01-stale-source.scn"
#define TRACE_A "b01-stale-source-e2b-ref-stale-source-random-"

static void test_two_processes_write_identical_traces(void **state)
{
	(void)state;
	char out1[4096], out2[4096];
	assert_int_equal(run(out1, sizeof out1, NULL, 0,
			     "%s explore %s --variant stale-source --seed 5 --runs 2000 --out %s/a",
			     bin, STALE, tmp), 1);
	assert_int_equal(run(out2, sizeof out2, NULL, 0,
			     "%s explore %s --variant stale-source --seed 5 --runs 2000 --out %s/b",
			     bin, STALE, tmp), 1);
	/* both found it at the same seed: same trace file name */
	const char *p = strstr(out1, "trace ");
	assert_non_null(p);
	char name[256];
	assert_int_equal(sscanf(strstr(p, TRACE_A), "%255s", name), 1);
	char pa[600], pb[600];
	snprintf(pa, sizeof pa, "%s/a/%s", tmp, name);
	snprintf(pb, sizeof pb, "%s/b/%s", tmp, name);
	static char ba[1 << 20], bb[1 << 20];
	long na = file_bytes(pa, ba, sizeof ba), nb = file_bytes(pb, bb, sizeof bb);
	assert_true(na > 100);
	assert_int_equal(na, nb);
	assert_memory_equal(ba, bb, (size_t)na);
	assert_non_null(strstr(ba, "\nviolation install-into-removed: "));
	/* the picture is written beside the trace, and is the same too */
	char sa[600], sb[600];
	snprintf(sa, sizeof sa, "%s/a/%.*s.dot", tmp, (int)(strlen(name) - 6), name);
	snprintf(sb, sizeof sb, "%s/b/%.*s.dot", tmp, (int)(strlen(name) - 6), name);
	na = file_bytes(sa, ba, sizeof ba);
	nb = file_bytes(sb, bb, sizeof bb);
	assert_true(na > 100);
	assert_int_equal(na, nb);
	assert_memory_equal(ba, bb, (size_t)na);
	snprintf(sa, sizeof sa, "%s/a/%.*s.svg", tmp, (int)(strlen(name) - 6), name);
	na = file_bytes(sa, ba, sizeof ba);
	assert_true(na > 100);
	assert_non_null(strstr(ba, "<svg"));
}

static void test_replay_reproduces_byte_for_byte(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "%s explore %s --variant stale-source --seed 1 --runs 5000 --out %s/r",
			     bin, STALE, tmp), 1);
	char trace[512];
	const char *p = strstr(out, "replay:    uffdlab replay ");
	assert_non_null(p);
	assert_int_equal(sscanf(p + strlen("replay:    uffdlab replay "), "%511s", trace), 1);
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s replay %s", bin, trace), 1);
	assert_non_null(strstr(out, "reproduced byte for byte"));
	/* a step bound other than the default is part of the reproduce line */
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "%s explore %s --variant stale-source --seed 1 --runs 5000 --max-steps 5000 --out %s/r",
			     bin, STALE, tmp), 1);
	assert_non_null(strstr(out, " --max-steps 5000 --strategy random --seed "));
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s replay %s", bin, trace), 1);
	/* --json: the same schema as explore's */
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s replay %s --json", bin, trace), 1);
	assert_true(strncmp(out, "{\"schema\":1,\"trace\":", strlen("{\"schema\":1,\"trace\":")) == 0);
	assert_non_null(strstr(out, "\"identical\":true,"));
	assert_non_null(strstr(out, "\"violation\":{\"name\":\"install-into-removed\""));
	/* the regenerated trace is the same file */
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s replay %s --out %s/again; cmp %s %s/again",
			     bin, trace, tmp, trace, tmp), 0);
}

/* --kernel: on 6.1 (no WP_ASYNC) e2b-ref dies at the first WP fault of
 * async-wp, which passes on 6.18; the trace says "kernel 6.1", replays
 * byte for byte, and an unknown profile is bad input. */
static void test_kernel_profile_in_the_trace(void **state)
{
	(void)state;
	char out[4096], err[512];
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "%s explore scenarios/async-wp.scn --runs 200 --out %s/k", bin, tmp), 0);
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "%s explore scenarios/async-wp.scn --kernel 6.1 --runs 200 --out %s/k",
			     bin, tmp), 1);
	assert_non_null(strstr(out, "VIOLATION handler-exit"));
	assert_non_null(strstr(out, " --kernel 6.1 "));
	char trace[512];
	const char *p = strstr(out, "replay:    uffdlab replay ");
	assert_non_null(p);
	assert_int_equal(sscanf(p + strlen("replay:    uffdlab replay "), "%511s", trace), 1);
	assert_int_equal(run(out, sizeof out, NULL, 0, "grep -c '^kernel 6.1$' %s", trace), 0);
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s replay %s", bin, trace), 1);
	assert_non_null(strstr(out, "reproduced byte for byte"));
	assert_int_equal(run(NULL, 0, err, sizeof err,
			     "%s explore scenarios/async-wp.scn --kernel 5.4", bin), 2);
	assert_non_null(strstr(err, "--kernel: '5.4' is not a kernel profile"));
}

/* What a determinism bug would look like: the trace's schedule changed and
 * its checksum made to fit again (FNV-1a 64 of the bytes before the
 * "checksum" line), so that the trace is authentic but does not replay. */
static void refit_checksum(const char *path)
{
	char buf[1 << 20];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *c = strstr(buf, "\nchecksum ");
	assert_non_null(c);
	uint64_t h = 0xcbf29ce484222325ull;
	for (char *p = buf; p <= c; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	char hex[17];
	snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
	memcpy(c + strlen("\nchecksum "), hex, 16);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
}

static void test_tampered_trace_is_refused_or_diverges(void **state)
{
	(void)state;
	char out[4096], err[4096];
	/* the scenario at a path of its own, to change and remove it later */
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "cp %s %s/own.scn && %s explore %s/own.scn --variant stale-source --seed 1 "
			     "--runs 5000 --out %s/t", STALE, tmp, bin, tmp, tmp), 1);
/* the trace, not the minimal one beside it (X.min.trace) */
#define OWN_T "%s/t/own-e2b-ref-stale-source-random-[0-9]*[0-9].trace"
	/* a changed scenario file at the recorded path: refused */
	assert_int_equal(run(NULL, 0, err, sizeof err,
			     "cp %s/own.scn %s/keep.scn && echo '# changed' >> %s/own.scn && "
			     "%s replay " OWN_T "; st=$?; cp %s/keep.scn %s/own.scn; exit $st",
			     tmp, tmp, tmp, bin, tmp, tmp, tmp), 2);
	assert_int_equal(count_lines(err), 1);
	assert_non_null(strstr(err, ".trace:5: scenario "));
	assert_non_null(strstr(err, "/own.scn changed since the trace was recorded"));
	/* no file there: the embedded text replays it */
	assert_int_equal(run(out, sizeof out, NULL, 0, "rm %s/own.scn && %s replay " OWN_T
			     "; st=$?; cp %s/keep.scn %s/own.scn; exit $st", tmp, bin, tmp, tmp, tmp), 1);
	assert_non_null(strstr(out, "reproduced byte for byte"));
	/* embedded text and hash disagree */
	assert_int_equal(run(NULL, 0, err, sizeof err,
			     "sed 's/^scenario-hash .*/scenario-hash 0000000000000000/' " OWN_T
			     " > %s/x.trace && %s replay %s/x.trace", tmp, tmp, bin, tmp), 2);
	assert_int_equal(count_lines(err), 1);
	assert_non_null(strstr(err, "/x.trace:5: the embedded scenario-text has hash"));
	/* another semantics version */
	assert_int_equal(run(NULL, 0, err, sizeof err,
			     "sed 's/^semantics .*/semantics 1/' " OWN_T " > %s/v.trace && %s replay %s/v.trace",
			     tmp, tmp, bin, tmp), 2);
	assert_int_equal(count_lines(err), 1);
	assert_non_null(strstr(err, "/v.trace:2: trace of semantics 1, this uffdlab is semantics"));
	/* a typed field that is not the kind's */
	assert_int_equal(run(NULL, 0, err, sizeof err,
			     "sed 's/ fault mm=/ fault mmm=/' " OWN_T " > %s/f.trace && %s replay %s/f.trace",
			     tmp, tmp, bin, tmp), 2);
	assert_int_equal(count_lines(err), 1);
	assert_non_null(strstr(err, "event 'fault' needs 'mm=' as field 1"));
	/* an edited step (the schedule names another thread): bad input,
	 * naming the edited line, not a determinism bug */
	char path[512];
	snprintf(path, sizeof path, "%s/d.trace", tmp);
	assert_int_equal(run(NULL, 0, err, sizeof err,
			     "sed 's/^4 2 /4 0 /' " OWN_T " > %s && %s replay %s", tmp, path, bin, path), 2);
	assert_int_equal(count_lines(err), 1);
	assert_non_null(strstr(err, "the trace was edited (its checksum does not match)"));
	int edited_line = 0;
	assert_int_equal(run(out, sizeof out, NULL, 0, "grep -n '^4 0 ' %s | cut -d: -f1", path), 0);
	edited_line = atoi(out);
	char want[64];
	snprintf(want, sizeof want, "/d.trace:%d: ", edited_line);
	assert_non_null(strstr(err, want));
	/* an edited seed: the replay follows the choices, the seed check sees it */
	assert_int_equal(run(NULL, 0, err, sizeof err,
			     "sed 's/^seed .*/seed 2/' " OWN_T " > %s/s.trace && %s replay %s/s.trace",
			     tmp, tmp, bin, tmp), 2);
	assert_non_null(strstr(err, "the trace was edited"));
	assert_non_null(strstr(err, "seed 2 now gives"));
	/* the same edit with the checksum refitted: authentic, yet it does not
	 * replay: a determinism bug (3), named at the first differing line */
	refit_checksum(path);
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s replay %s", bin, path), 3);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "determinism bug"));
	/* garbage */
	assert_int_equal(run(NULL, 0, err, sizeof err, "printf 'hello\\n' > %s/g.trace && %s replay %s/g.trace",
			     tmp, bin, tmp), 2);
	assert_int_equal(count_lines(err), 1);
	assert_non_null(strstr(err, "/g.trace:1: "));
}

/* Each bad command line and a piece of its one error line. */
static const char *const bad_cases[][2] = {
	{"explore", "no such"},
	{"explore " STALE " --seed abc", "--seed: 'abc' is not a non-negative integer"},
	/* decimal or 0x hex only: no sign, no space, no octal, no NaN */
	{"explore " STALE " --seed ' -1'", "--seed: ' -1' is not a non-negative integer"},
	{"explore " STALE " --runs ' 5'", "--runs: ' 5' is not a non-negative integer"},
	{"explore " STALE " --seed 99999999999999999999", "is out of range"},
	{"explore " STALE " --time nan", "--time: 'nan' is not a positive number"},
	{"explore " STALE " --time ' 1'", "is not a positive number"},
	{"explore " STALE " --time inf", "is not a positive number"},
	{"run --runs -1", "--runs: '-1' is not a positive integer"},
	/* a FIFO as input would block an open() forever */
	{"explore /tmp/uffdlab-cli-fifo.scn", "cannot open: not a regular file"},
	{"replay /tmp/uffdlab-cli-fifo.scn", "cannot open: not a regular file"},
	{"replay /nonexistent.trace", "/nonexistent.trace:1: cannot open"},
	{"explore " STALE " --strategy bogus", "unknown strategy 'bogus'"},
	{"explore " STALE " --variant nope", "unknown variant 'nope'"},
	{"explore " STALE " --handler nope", "unknown handler 'nope'"},
	/* a variant applies to the handler its bug is put back into */
	{"explore " STALE " --variant no-read-gate",
	 "variant 'no-read-gate' puts its bug into reference, not into e2b-ref"},
	{"explore " STALE " --handler reference --variant stale-source",
	 "variant 'stale-source' puts its bug into e2b-ref, not into reference"},
	{"explore " STALE " --variant ,,", "empty variant name in the --variant list"},
	{"explore " STALE " --variant ''", "--variant needs a variant name"},
	{"explore " STALE " --variant stale-source,", "empty variant name"},
	{"real " STALE " --variant no-read-gate", "puts its bug into reference"},
	{"explore " STALE " --frobnicate", "unknown or incomplete option '--frobnicate'"},
	{"explore " STALE " --runs 0", "--runs must be at least 1"},
	{"explore " STALE " --strategy dfs --time 3", "--strategy dfs takes --runs, not --time"},
	{"explore " STALE " --strategy dfs --bound 99", "--bound must be at most 8"},
	{"explore " STALE " --bound 1", "--bound is only for --strategy dfs, not --strategy random"},
	{"explore " STALE " --strategy pct --bound 1", "--bound is only for --strategy dfs"},
	{"explore " STALE " --depth 2", "--depth is only for --strategy pct, not --strategy random"},
	{"explore " STALE " --strategy dfs --pct-k 9", "--pct-k is only for --strategy pct"},
	{"explore /nonexistent.scn", "/nonexistent.scn"},
	{"replay", "replay needs a TRACE file"},
	{"replay /nonexistent.trace", "/nonexistent.trace"},
	{"frob", "unknown command 'frob'"},
	{"viz", "viz needs a TRACE file"},
	{"viz /nonexistent.trace", "/nonexistent.trace"},
	{"viz " STALE, STALE ":1: "},
	{"viz x.trace --head", "--head needs a value"},
};

static void test_bad_input_is_one_line_exit_2(void **state)
{
	(void)state;
	char err[4096];
	unlink("/tmp/uffdlab-cli-fifo.scn");
	assert_int_equal(mkfifo("/tmp/uffdlab-cli-fifo.scn", 0600), 0);
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		int st = run(NULL, 0, err, sizeof err, "timeout 20 %s %s", bin, bad_cases[i][0]);
		if (st != 2 || count_lines(err) != 1 ||
		    (strcmp(bad_cases[i][1], "no such") && !strstr(err, bad_cases[i][1])))
			fail_msg("'uffdlab %s' -> exit %d, stderr '%s'", bad_cases[i][0], st, err);
	}
	unlink("/tmp/uffdlab-cli-fifo.scn");
	/* 032 is thirty-two, as in the scenario language (strtoull base 0: 26) */
	char out[4096];
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s explore " STALE " --variant stale-source "
			     "--seed 032 --runs 1 --no-shrink --out %s/s40", bin, tmp), 1);
	assert_non_null(strstr(out, "--seed 32 --runs 1"));
	/* a scenario the hardware cannot run is a skip (77), not a pass */
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "printf 'memory 4k 2\\nfeatures wp\\nthread g guest\\n  read 0\\n' > %s/wp.scn && "
			     "%s real %s/wp.scn --iterations 1", tmp, bin, tmp), 77);
	assert_non_null(strstr(out, "skipped: WP without WP_ASYNC"));
	/* a broken scenario names file:line:col */
	int st = run(NULL, 0, err, sizeof err,
		     "printf 'memory 4k 2\\nthread g0 guest\\n  read 7\\n' > %s/bad.scn && %s explore %s/bad.scn",
		     tmp, bin, tmp);
	assert_int_equal(st, 2);
	assert_int_equal(count_lines(err), 1);
	assert_non_null(strstr(err, "/bad.scn:3:"));
}

static void test_clean_scenario_exits_0_and_list_names_things(void **state)
{
	(void)state;
	char out[8192];
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s explore scenarios/missing.scn --runs 500 --out %s/m",
			     bin, tmp), 0);
	assert_non_null(strstr(out, "no violation in 500 runs"));
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s explore scenarios/missing.scn --runs 50 --json --out %s/m",
			     bin, tmp), 0);
	assert_true(strncmp(out, "{\"schema\":1,", strlen("{\"schema\":1,")) == 0);
	assert_non_null(strstr(out, "\"runs\":50,"));
	assert_non_null(strstr(out, "\"violation\":null"));
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s list", bin), 0);
	assert_non_null(strstr(out, "e2b-ref"));
	assert_non_null(strstr(out, "stale-source"));
	assert_non_null(strstr(out, "zoo/b01-stale-source.scn"));
}

/* The trace explore's output names on its "replay:" line. */
static void replay_path(const char *out, char *path, size_t n)
{
	const char *p = strstr(out, "replay:    uffdlab replay ");
	assert_non_null(p);
	p += strlen("replay:    uffdlab replay ");
	size_t k = strcspn(p, "\n");
	assert_true(k > 0 && k < n);
	memcpy(path, p, k);
	path[k] = 0;
}

static void test_dfs_exhausts_or_reports(void **state)
{
	(void)state;
	char out[4096];
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "%s explore %s --handler reference --strategy dfs --bound 1 --out %s/d",
			     bin, STALE, tmp), 0);
	assert_non_null(strstr(out, "exhausted: "));
	assert_non_null(strstr(out, "pruned), under delay bound 1"));
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "%s explore %s --strategy dfs --bound 1 --out %s/d", bin, STALE, tmp), 1);
	assert_non_null(strstr(out, "VIOLATION lost-wake"));
	/* split by default (over the cores), the same answer for any split */
	assert_non_null(strstr(out, "--strategy dfs --bound 1 --seed 0\n"));
	assert_non_null(strstr(out, "split: "));
	char path[512];
	replay_path(out, path, sizeof path);
	assert_non_null(strstr(path, "b01-stale-source-e2b-ref-dfs-0-p"));
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s replay %s", bin, path), 1);
	assert_non_null(strstr(out, "reproduced byte for byte"));
	/* --jobs 0: the unsplit search, which its reproduce line asks for */
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "%s explore %s --strategy dfs --bound 1 --jobs 0 --out %s/d", bin, STALE,
			     tmp), 1);
	assert_non_null(strstr(out, "--strategy dfs --bound 1 --seed 0 --jobs 0\n"));
	assert_null(strstr(out, "split: "));
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s replay %s/d/b01-stale-source-e2b-ref-dfs-0.trace",
			     bin, tmp), 1);
	assert_non_null(strstr(out, "reproduced byte for byte"));
	/* a run limit leaves the space unexhausted, and says so */
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "%s explore %s --handler reference --strategy dfs --bound 2 --runs 10 --out %s/d",
			     bin, STALE, tmp), 0);
	assert_non_null(strstr(out, "not exhausted: 10 schedules in"));
	/* --preemptions: the reduced search, whose trace says so and replays */
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "%s explore %s --strategy dfs --preemptions 1 --out %s/u", bin, STALE, tmp), 1);
	assert_non_null(strstr(out, "VIOLATION"));
	assert_non_null(strstr(out, "--strategy dfs --preemptions 1 --seed 0"));
	replay_path(out, path, sizeof path);
	assert_int_equal(run(out, sizeof out, NULL, 0, "%s replay %s", bin, path), 1);
	assert_non_null(strstr(out, "reproduced byte for byte"));
}

/* Every flag a parser compares against (a "--name" literal in the
 * command-line sources) is in `uffdlab --help` and in the man page, so the
 * documentation cannot fall behind the parser. */
static void test_every_flag_is_documented(void **state)
{
	(void)state;
	static char help[1 << 16], man[1 << 17], src[1 << 18];
	assert_int_equal(run(help, sizeof help, NULL, 0, "%s --help", bin), 0);
	assert_int_equal(run(man, sizeof man, NULL, 0, "sed 's/\\\\-/-/g' docs/man/uffdlab.1"), 0);
	assert_int_equal(run(src, sizeof src, NULL, 0,
			     "cat uffdlab.c campaign.c | grep -o '\"--[a-z-]*\"' | tr -d '\"' | sort -u"), 0);
	int n = 0;
	for (char *save = NULL, *f = strtok_r(src, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
		n++;
		if (!strcmp(f, "--help") || !strcmp(f, "--version"))
			continue; /* the help itself */
		char word[80];
		snprintf(word, sizeof word, "%s", f);
		if (!strstr(help, word))
			fail_msg("%s is parsed but not in uffdlab --help", f);
		if (!strstr(man, word))
			fail_msg("%s is parsed but not in docs/man/uffdlab.1", f);
	}
	assert_true(n >= 15);
}

/* uffdlab run is a gate a CI job can trust: 0 when every finding is one
 * the scenarios expect and every variant's bug is found as the table says,
 * 1 when one is not (here: eagain-fatal's balloon no longer removes, so
 * the variant's EAGAIN never happens). Simulator part only. */
static void test_run_exit_status_follows_the_expectations(void **state)
{
	(void)state;
	char out[1 << 16];
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "rm -rf %s/lib && mkdir -p %s/lib && cp -r scenarios %s/lib/ && "
			     "cd %s/lib && %s run --runs 100 --bound 0 --no-shrink --sim-only", tmp, tmp, tmp, tmp, bin), 0);
	assert_non_null(strstr(out, "== as expected"));
	assert_int_equal(run(out, sizeof out, NULL, 0,
			     "cd %s/lib && sed -i 's/^  remove 0$//' scenarios/zoo/b13-eagain-fatal.scn && "
			     "! grep -q 'remove 0' scenarios/zoo/b13-eagain-fatal.scn && %s run --runs 100 --bound 0 --no-shrink --sim-only",
			     tmp, bin), 1);
	assert_non_null(strstr(out, "NOT AS EXPECTED"));
	assert_non_null(strstr(out, "== FAILED: an expectation failed"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_processes_write_identical_traces),
		cmocka_unit_test(test_replay_reproduces_byte_for_byte),
		cmocka_unit_test(test_kernel_profile_in_the_trace),
		cmocka_unit_test(test_tampered_trace_is_refused_or_diverges),
		cmocka_unit_test(test_bad_input_is_one_line_exit_2),
		cmocka_unit_test(test_clean_scenario_exits_0_and_list_names_things),
		cmocka_unit_test(test_dfs_exhausts_or_reports),
		cmocka_unit_test(test_every_flag_is_documented),
		cmocka_unit_test(test_run_exit_status_follows_the_expectations),
	};
	return cmocka_run_group_tests_name("cli", tests, setup, teardown);
}
