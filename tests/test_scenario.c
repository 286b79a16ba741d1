/* tests/test_scenario.c — the scenario language: every bundled scenario
 * parses with the fields it claims; every malformed input gets its exact
 * "file:line:col: message"; truncated and bit-flipped copies of the bundled
 * files never crash the parser and always get a one-line error or a sane
 * result. Run from the repository root (paths are relative to it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unistd.h>

#include "scenarios/scenario.h"

#define MAX_FILES 128

static char files[MAX_FILES][256];
static struct scenario scn; /* ~45 KiB: keep it off the stack */

static int list_bundled(void)
{
	int n = scn_list_dir("scenarios", files, MAX_FILES);

	assert_true(n > 0);
	return n;
}

static int find_file(int n, const char *path)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(files[i], path))
			return i;
	return -1;
}

static void parse_ok(const char *path)
{
	char err[512] = "";

	if (scn_parse_file(path, &scn, err, sizeof(err)) != 0)
		fail_msg("%s: %s", path, err);
}

static int thread_index(const char *name)
{
	int t;

	for (t = 0; t < scn.nthreads; t++)
		if (!strcmp(scn.threads[t].name, name))
			return t;
	fail_msg("%s: no thread %s", scn.path, name);
	return -1;
}

static const struct scn_op *op_of(const char *thread, int k)
{
	int t = thread_index(thread);

	assert_in_range(k, 1, scn.threads[t].nops);
	return &scn.threads[t].ops[k - 1];
}

/* A parsed scenario must satisfy everything the parser promises; drivers
 * rely on it without re-checking. */
static void check_invariants(const struct scenario *s)
{
	int t, i, u;

	assert_true(s->page_size == 4096 || s->page_size == 2097152);
	assert_in_range(s->pages, 1, SCN_MAX_PAGES);
	if (s->page_size == 2097152)
		assert_true(s->pages <= SCN_MAX_2M_PAGES);
	assert_in_range(s->nthreads, 1, SCN_MAX_THREADS);
	assert_true(!s->wp_async || s->wp);
	assert_true(s->workers >= 0 && s->workers <= 4096);
	assert_true(s->retries >= -1 && s->retries <= 16);
	for (i = 0; i < SCN_MAX_PAGES; i++)
		assert_true(s->fill[i] <= SCN_FILL_SENTINEL);
	for (t = 0; t < s->nthreads; t++) {
		const struct scn_thread *th = &s->threads[t];

		assert_in_range(th->nops, 0, SCN_MAX_OPS);
		assert_true(th->name[0] != '\0');
		for (u = 0; u < t; u++)
			assert_string_not_equal(th->name, s->threads[u].name);
		for (i = 0; i < th->nops; i++) {
			const struct scn_op *op = &th->ops[i];

			assert_true(op->kind >= SCN_READ && op->kind <= SCN_EXPORT);
			assert_string_not_equal(scn_op_name(op->kind), "?");
			if (op->kind == SCN_READ || op->kind == SCN_WRITE ||
			    op->kind == SCN_SOURCE_FAIL)
				assert_true(op->a < (uint64_t)s->pages);
			if (op->kind == SCN_WRITE)
				assert_in_range(op->b, 1, 255);
			if (op->kind == SCN_REMOVE || op->kind == SCN_UNMAP ||
			    op->kind == SCN_REMAP || op->kind == SCN_PREFETCH) {
				assert_true(op->a <= op->b);
				assert_true(op->b < (uint64_t)s->pages);
			}
			if (op->after_thread < 0) {
				assert_int_equal(op->after_op, -1);
				continue;
			}
			assert_in_range(op->after_thread, 0, s->nthreads - 1);
			assert_int_not_equal(op->after_thread, t);
			assert_in_range(op->after_op, 0,
					s->threads[op->after_thread].nops - 1);
		}
	}
}

/* ---- the bundled library ------------------------------------------- */

static void test_bundled_all_parse(void **state)
{
	int n = list_bundled(), i;
	(void)state;

	/* 14 upstream shapes + the 3 upstream race tests at least */
	assert_true(n >= 17);
	for (i = 0; i < n; i++) {
		const char *base = strrchr(files[i], '/') + 1;
		size_t len = strlen(base) - 4;
		FILE *f;
		char buf[8192];
		size_t got;

		parse_ok(files[i]);
		check_invariants(&scn);
		assert_string_equal(scn.path, files[i]);
		assert_int_equal(strlen(scn.name), len);
		assert_memory_equal(scn.name, base, len);
		/* the hash is of the file's bytes, as traces will check */
		f = fopen(files[i], "rb");
		assert_non_null(f);
		got = fread(buf, 1, sizeof(buf), f);
		assert_true(feof(f));
		fclose(f);
		assert_true(scn.hash == scn_hash_bytes(buf, got));
		/* every file says what it models, first thing */
		assert_true(got > 2 && buf[0] == '#');
		/* zoo scenarios name the invariant their bug breaks; a library
		 * scenario may name a defect of a handler as written (e2b-ref's
		 * B14 spin), never a variant's: those live in the zoo */
		if (strstr(files[i], "/zoo/"))
			assert_true(scn.expect[0] != '\0');
		for (int e = 0; !strstr(files[i], "/zoo/") && e < scn.nexpect; e++)
			for (int k = 0; k < scn.expects[e].nwho; k++)
				assert_string_equal(scn.expects[e].who[k].variant, "");
	}
}

static void test_bundled_required_present(void **state)
{
	static const char *const need[] = {
		"scenarios/missing.scn", "scenarios/missing-write.scn",
		"scenarios/parallel.scn", "scenarios/serial.scn",
		"scenarios/prefetch.scn", "scenarios/async-wp.scn",
		"scenarios/remove-then-write.scn",
		"scenarios/write-then-remove.scn",
		"scenarios/remove-multipage.scn",
		"scenarios/gated-pause-resume.scn",
		"scenarios/source-retry.scn",
		"scenarios/source-fail-fatal.scn",
		"scenarios/missing-2m.scn",
		"scenarios/remove-then-write-2m.scn",
		"scenarios/zoo/b01-stale-source.scn",
		"scenarios/zoo/b04-read-under-settle.scn",
		"scenarios/zoo/b05-dispatch-before-remove.scn",
	};
	int n = list_bundled();
	size_t i;
	(void)state;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (find_file(n, need[i]) < 0)
			fail_msg("missing %s", need[i]);
}

static void test_bundled_fields(void **state)
{
	int t;
	(void)state;

	parse_ok("scenarios/missing.scn");
	assert_string_equal(scn.name, "missing");
	assert_int_equal(scn.page_size, 4096);
	assert_int_equal(scn.pages, 32);
	assert_int_equal(scn.nthreads, 1);
	assert_int_equal(scn.threads[0].role, SCN_GUEST);
	assert_int_equal(scn.threads[0].nops, 4);
	assert_int_equal(op_of("g0", 3)->kind, SCN_READ);
	assert_int_equal(op_of("g0", 3)->a, 31);
	assert_int_equal(scn.workers, 0);
	assert_int_equal(scn.retries, -1);
	assert_int_equal(scn.contract, SCN_CONTRACT_KEEPS);
	assert_int_equal(scn.fill[5], SCN_FILL_PATTERN);

	parse_ok("scenarios/missing-2m.scn");
	assert_int_equal(scn.page_size, 2097152);
	assert_int_equal(scn.pages, 8);

	parse_ok("scenarios/parallel.scn");
	assert_int_equal(scn.nthreads, 3);
	for (t = 0; t < 3; t++) {
		assert_int_equal(scn.threads[t].role, SCN_GUEST);
		assert_int_equal(scn.threads[t].ops[0].kind, SCN_READ);
		assert_int_equal(scn.threads[t].ops[0].a, 0);
	}

	parse_ok("scenarios/async-wp.scn");
	assert_int_equal(scn.wp, 1);
	assert_int_equal(scn.wp_async, 1);
	assert_int_equal(scn.event_remove, 0);
}

static void test_bundled_fields_remove(void **state)
{
	const struct scn_op *op;
	(void)state;

	parse_ok("scenarios/remove-multipage.scn");
	assert_int_equal(scn.pages, 6);
	op = op_of("b0", 1);
	assert_int_equal(op->kind, SCN_REMOVE);
	assert_int_equal(op->a, 1);
	assert_int_equal(op->b, 4);
	assert_int_equal(op->after_thread, thread_index("g0"));
	assert_int_equal(op->after_op, 1);

	parse_ok("scenarios/gated-pause-resume.scn");
	assert_int_equal(scn.contract, SCN_CONTRACT_BREAKS);
	assert_int_equal(scn.threads[thread_index("c0")].role, SCN_CONTROL);
	assert_int_equal(scn.threads[thread_index("b0")].role, SCN_BALLOON);
	assert_int_equal(op_of("c0", 1)->kind, SCN_PAUSE);
	assert_int_equal(op_of("c0", 2)->kind, SCN_EXPORT);
	assert_int_equal(op_of("c0", 3)->kind, SCN_RESUME);
	/* the remove starts only once the loop is paused */
	assert_int_equal(op_of("b0", 1)->after_thread, thread_index("c0"));
	assert_int_equal(op_of("b0", 1)->after_op, 0);
	/* the export (and then resume) waits for the write that races the
	 * blocked remove */
	assert_int_equal(op_of("c0", 2)->after_thread, thread_index("g0"));
	assert_int_equal(op_of("c0", 2)->after_op, 1);
	assert_int_equal(op_of("c0", 3)->after_thread, -1);

	parse_ok("scenarios/source-retry.scn");
	op = op_of("c0", 1);
	assert_int_equal(op->kind, SCN_SOURCE_FAIL);
	assert_int_equal(op->a, 1);
	assert_int_equal(op->b, 2);
	assert_int_equal(scn.retries, 3);
}

static void test_bundled_fields_zoo(void **state)
{
	(void)state;

	parse_ok("scenarios/source-fail-fatal.scn");
	assert_int_equal(op_of("c0", 1)->b, 0);
	assert_int_equal(op_of("g0", 1)->after_thread, thread_index("c0"));

	parse_ok("scenarios/zoo/b01-stale-source.scn");
	assert_string_equal(scn.name, "b01-stale-source");
	assert_string_equal(scn.expect, "install-into-removed");
	assert_int_equal(scn.event_remove, 1);
	assert_int_equal(scn.pages, 4);
	assert_int_equal(scn.fill[1], SCN_FILL_SENTINEL);
	assert_int_equal(scn.fill[0], SCN_FILL_PATTERN);
	assert_int_equal(op_of("g0", 1)->after_thread, -1); /* concurrent */
	assert_int_equal(op_of("b0", 1)->after_thread, -1);
	assert_int_equal(op_of("g0", 2)->after_thread, thread_index("b0"));
	assert_int_equal(op_of("g0", 2)->after_op, 0);

	parse_ok("scenarios/zoo/b04-read-under-settle.scn");
	assert_string_equal(scn.expect, "madvise-blocked");
	assert_int_equal(op_of("g0", 1)->kind, SCN_WRITE);
	assert_int_equal(op_of("g0", 1)->a, 2);
	assert_int_equal(op_of("b0", 1)->a, 2);
	assert_int_equal(op_of("b0", 1)->after_thread, -1);

	/* B5 on the same page: the remove and the re-touch share page 0 */
	parse_ok("scenarios/zoo/b05-dispatch-before-remove.scn");
	assert_string_equal(scn.expect, "lost-wake");
	assert_int_equal(op_of("b0", 1)->a, 0);
	assert_int_equal(op_of("g0", 2)->a, 0);
	assert_int_equal(op_of("b0", 1)->after_thread, thread_index("g0"));
	assert_int_equal(op_of("g0", 2)->after_thread, -1);
}

/* ---- scn_list_dir ---------------------------------------------------- */

static void test_list_sorted_and_grouped(void **state)
{
	char again[MAX_FILES][256];
	int n = list_bundled(), m, i, zoo = -1;
	(void)state;

	for (i = 0; i < n; i++) {
		int in_zoo = strncmp(files[i], "scenarios/zoo/", 14) == 0;

		if (in_zoo && zoo < 0)
			zoo = i;
		/* top-level first, then zoo/; each sorted */
		assert_true(in_zoo == (zoo >= 0));
		if (i > 0 && (zoo < 0 || i > zoo))
			assert_true(strcmp(files[i - 1], files[i]) < 0);
	}
	assert_true(zoo > 0);
	/* trailing slashes do not change the paths */
	m = scn_list_dir("scenarios/", again, MAX_FILES);
	assert_int_equal(m, n);
	for (i = 0; i < n; i++)
		assert_string_equal(again[i], files[i]);
	assert_int_equal(scn_list_dir("scenarios", again, n - 1), -ENOSPC);
	assert_int_equal(scn_list_dir("no/such/dir", again, MAX_FILES),
			 -ENOENT);
}

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fclose(f);
}

static void test_list_filters(void **state)
{
	char dir[] = "/tmp/uffdlab-scn-XXXXXX", p[512];
	char got[8][256];
	static const char *const made[] = {
		"b.scn", "a.scn", ".hidden.scn", "notes.txt", "x.scn.bak",
		".scn", "sub/c.scn", "zoo/z.scn", "zoo/y.scn", "zoo/deep/d.scn",
	};
	size_t i;
	int n;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/zoo", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/zoo/deep", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/dir.scn", dir); /* a directory: skipped */
	assert_int_equal(mkdir(p, 0755), 0);
	for (i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, made[i]);
		touch(p);
	}
	n = scn_list_dir(dir, got, 8);
	assert_int_equal(n, 4);
	snprintf(p, sizeof(p), "%s/a.scn", dir);
	assert_string_equal(got[0], p);
	snprintf(p, sizeof(p), "%s/b.scn", dir);
	assert_string_equal(got[1], p);
	snprintf(p, sizeof(p), "%s/zoo/y.scn", dir);
	assert_string_equal(got[2], p);
	snprintf(p, sizeof(p), "%s/zoo/z.scn", dir);
	assert_string_equal(got[3], p);
	/* no zoo/ at all is fine */
	for (i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		if (strncmp(made[i], "zoo/", 4))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, made[i]);
		assert_int_equal(unlink(p), 0);
	}
	snprintf(p, sizeof(p), "%s/zoo/deep", dir);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/zoo", dir);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(scn_list_dir(dir, got, 8), 2);
	for (i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		if (!strncmp(made[i], "zoo/", 4))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, made[i]);
		assert_int_equal(unlink(p), 0);
	}
	snprintf(p, sizeof(p), "%s/sub", dir);
	assert_int_equal(rmdir(p), 0);
	snprintf(p, sizeof(p), "%s/dir.scn", dir);
	assert_int_equal(rmdir(p), 0);
	assert_int_equal(rmdir(dir), 0);
}

/* ---- small pieces ---------------------------------------------------- */

static void test_hash_fnv1a(void **state)
{
	(void)state;
	/* published FNV-1a 64 test vectors */
	assert_true(scn_hash_bytes("", 0) == 0xcbf29ce484222325ULL);
	assert_true(scn_hash_bytes("a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(scn_hash_bytes("foobar", 6) == 0x85944171f73967e8ULL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(scn_op_name(SCN_READ), "read");
	assert_string_equal(scn_op_name(SCN_WRITE), "write");
	assert_string_equal(scn_op_name(SCN_REMOVE), "remove");
	assert_string_equal(scn_op_name(SCN_PAUSE), "pause");
	assert_string_equal(scn_op_name(SCN_RESUME), "resume");
	assert_string_equal(scn_op_name(SCN_PREFETCH), "prefetch");
	assert_string_equal(scn_op_name(SCN_SOURCE_FAIL), "source-fail");
	assert_string_equal(scn_op_name(SCN_UNMAP), "unmap");
	assert_string_equal(scn_op_name(SCN_REMAP), "remap");
	assert_string_equal(scn_op_name(SCN_FORK), "fork");
	assert_string_equal(scn_op_name(SCN_EXPORT), "export");
	assert_string_equal(scn_op_name((enum scn_op_kind)0), "?");
	assert_string_equal(scn_op_name((enum scn_op_kind)99), "?");
	assert_string_equal(scn_role_name(SCN_GUEST), "guest");
	assert_string_equal(scn_role_name(SCN_BALLOON), "balloon");
	assert_string_equal(scn_role_name(SCN_CONTROL), "control");
	assert_string_equal(scn_role_name((enum scn_role)7), "?");
}

static void parse_str_ok(const char *text)
{
	char err[512] = "";

	if (scn_parse_string("dir/t.scn", text, &scn, err, sizeof(err)))
		fail_msg("unexpected error: %s", err);
	check_invariants(&scn);
}

static void test_accepts(void **state)
{
	(void)state;

	/* defaults */
	parse_str_ok("memory 4k 1\nthread g guest\n");
	assert_string_equal(scn.name, "t");
	assert_string_equal(scn.path, "dir/t.scn");
	assert_int_equal(scn.workers, 0);
	assert_int_equal(scn.retries, -1);
	assert_int_equal(scn.prefetch, 0);
	assert_int_equal(scn.contract, SCN_CONTRACT_KEEPS);
	assert_int_equal(scn.event_remove + scn.wp + scn.wp_async, 0);
	assert_string_equal(scn.expect, "");
	/* `prefetch` is a key without a value, anywhere among the others */
	parse_str_ok("memory 4k 1\nhandler workers 2 prefetch retries 1\nthread g guest\n");
	assert_int_equal(scn.prefetch, 1);
	assert_int_equal(scn.workers, 2);
	assert_int_equal(scn.retries, 1);
	assert_int_equal(scn.threads[0].nops, 0);
}

static void test_accepts_every_directive(void **state)
{
	(void)state;

	/* every directive, any order, hex numbers, CRLF, tabs, comments
	 * (UTF-8 inside them), 'after' naming a thread declared later */
	parse_str_ok("# caf\xc3\xa9 \xe2\x80\x94 comment\r\n"
		     "expect lost-wake\r\n"
		     "snapshot 0x2..3 zero   # before memory: checked by it\n"
		     "handler retries 0 workers 0x10\n"
		     "\tcontract breaks\n"
		     "features wp-async remove wp\n"
		     "memory 2M 0x40\n"
		     "snapshot 63 sentinel\n"
		     "\n"
		     "thread g0 guest\n"
		     "  read 0 after c.2#trailing comment\n"
		     "  write 63 0xff after b.1\n"
		     "thread b balloon\n"
		     "  remove 0..63\n  unmap 1\n  remap 2..2\n  fork\n"
		     "thread c control\n"
		     "  pause\n  resume\n  prefetch 0..1 after b.4\n"
		     "  source-fail 3 0\n");
	assert_int_equal(scn.page_size, 2097152);
	assert_int_equal(scn.pages, 64);
	assert_int_equal(scn.fill[1], SCN_FILL_PATTERN);
	assert_int_equal(scn.fill[2], SCN_FILL_ZERO);
	assert_int_equal(scn.fill[3], SCN_FILL_ZERO);
	assert_int_equal(scn.fill[63], SCN_FILL_SENTINEL);
	assert_int_equal(scn.workers, 16);
	assert_int_equal(scn.retries, 0);
	assert_int_equal(scn.contract, SCN_CONTRACT_BREAKS);
	assert_int_equal(scn.event_remove + scn.wp + scn.wp_async, 3);
	assert_string_equal(scn.expect, "lost-wake");
	assert_int_equal(op_of("g0", 1)->after_thread, thread_index("c"));
	assert_int_equal(op_of("g0", 1)->after_op, 1);
	assert_int_equal(op_of("g0", 1)->line, 11);
	assert_int_equal(op_of("g0", 2)->b, 255);
	assert_int_equal(op_of("b", 1)->b, 63);
	assert_int_equal(op_of("b", 2)->a, 1);
	assert_int_equal(op_of("b", 2)->b, 1);
	assert_int_equal(op_of("b", 4)->kind, SCN_FORK);
	assert_int_equal(op_of("c", 3)->kind, SCN_PREFETCH);
	assert_int_equal(op_of("c", 4)->kind, SCN_SOURCE_FAIL);
}

static void test_accepts_long_line_and_diamond(void **state)
{
	char line[2048];
	(void)state;

	/* 'features none'; a 1024-byte line is still fine */
	memset(line, 0, sizeof(line));
	strcpy(line, "memory 4k 4\nfeatures none\nthread g guest\n#");
	memset(line + strlen(line), 'x', 1023);
	parse_str_ok(line);

	/* a diamond of constraints is ordered, not a cycle */
	parse_str_ok("memory 4k 1\n"
		     "thread a control\n pause\n resume after b.1\n"
		     "thread b control\n pause after a.1\n"
		     "thread c control\n pause after a.1\n resume after b.1\n"
		     "thread d control\n pause after c.2\n");
}

/* ---- malformed inputs: exact file:line:col prefix --------------------- */

#define H "memory 4k 4\nthread g0 guest\n"
#define HB "memory 4k 4\nthread b0 balloon\n"
#define HC "memory 4k 4\nthread c0 control\n"

static const struct bad {
	const char *text;
	const char *want; /* prefix of the error */
} bad[] = {
	{"", "t.scn:1:1: empty file"},
	{"# nothing\n\n", "t.scn:3:1: missing 'memory' directive"},
	{"memory 4k 4\n", "t.scn:2:1: no thread"},
	{"memory 4k 4", "t.scn:1:12: no thread"},
	{"thread g0 guest\n",
	 "t.scn:1:1: missing 'memory' directive before the first thread"},
	{"memory 8k 4\n", "t.scn:1:8: unknown page size '8k'"},
	{"memory\n", "t.scn:1:7: expected page size 4k or 2m"},
	{"memory 4k\n", "t.scn:1:10: expected page count"},
	{"memory 4k 0\n", "t.scn:1:11: page count 0 out of range (1..4096)"},
	{"memory 4k 4097\n",
	 "t.scn:1:11: page count 4097 out of range (1..4096)"},
	{"memory 2m 2049\n", "t.scn:1:11: 2m memory has at most 2048 pages"},
	{"memory 4k 99999999999999999999\n",
	 "t.scn:1:11: page count '99999999999999999999' does not fit"},
	{"memory 4k 0x10000000000000000\n",
	 "t.scn:1:11: page count '0x10000000000000000' does not fit"},
	{"memory 4k -1\n",
	 "t.scn:1:11: expected page count (a number), got '-1'"},
	{"memory 4k 0x\n", "t.scn:1:11: expected page count (a number)"},
	{"memory 4k 4 extra\n", "t.scn:1:13: unexpected 'extra'"},
	{"memory 4k 4\n  memory 4k 4\n",
	 "t.scn:2:3: duplicate 'memory' directive (first at line 1)"},
	{"memory 4k 4\nfeatures none\nfeatures wp\n",
	 "t.scn:3:1: duplicate 'features' directive (first at line 2)"},
	{"bogus 1\n", "t.scn:1:1: unknown directive 'bogus'"},
	{"memory 4k 4\nsnapshot 4 zero\n",
	 "t.scn:2:10: page 4 out of range (memory has 4 pages)"},
	{"snapshot 9 zero\nmemory 4k 4\n",
	 "t.scn:1:10: page 9 out of range (memory has 4 pages)"},
	{"memory 4k 4\nsnapshot 2..1 zero\n", "t.scn:2:10: reversed range 2..1"},
	{"memory 4k 4\nsnapshot 1 shiny\n", "t.scn:2:12: unknown fill 'shiny'"},
	{"memory 4k 4\nsnapshot 1\n",
	 "t.scn:2:11: expected pattern, zero or sentinel"},
	{"memory 4k 4\nsnapshot 1.. zero\n",
	 "t.scn:2:10: expected a page P or a range P..Q, got '1..'"},
	{"memory 4k 4\nsnapshot 1...2 zero\n",
	 "t.scn:2:10: expected a page P or a range P..Q, got '1...2'"},
	{"memory 4k 4\nsnapshot 0..99999999999999999999 zero\n",
	 "t.scn:2:10: page number in '0..99999999999999999999' does not fit"},
	{"memory 4k 4\nfeatures wp-async\n",
	 "t.scn:2:10: feature 'wp-async' requires 'wp'"},
	{"memory 4k 4\nfeatures remove none\n",
	 "t.scn:2:17: 'none' cannot be combined with other features"},
	{"memory 4k 4\nfeatures remove remove\n",
	 "t.scn:2:17: duplicate feature 'remove'"},
	{"memory 4k 4\nfeatures uffd\n", "t.scn:2:10: unknown feature 'uffd'"},
	{"memory 4k 4\nfeatures\n", "t.scn:2:9: expected remove, wp"},
	{"memory 4k 4\nhandler workers 0\n",
	 "t.scn:2:17: workers 0 out of range (1..4096)"},
	{"memory 4k 4\nhandler workers 4097\n",
	 "t.scn:2:17: workers 4097 out of range (1..4096)"},
	{"memory 4k 4\nhandler retries 17\n",
	 "t.scn:2:17: retries 17 out of range (0..16)"},
	{"memory 4k 4\nhandler workers\n", "t.scn:2:16: expected workers"},
	{"memory 4k 4\nhandler threads 2\n",
	 "t.scn:2:9: unknown handler key 'threads'"},
	{"memory 4k 4\nhandler workers 1 workers 2\n",
	 "t.scn:2:19: duplicate handler key 'workers'"},
	{"memory 4k 4\nhandler prefetch prefetch\n",
	 "t.scn:2:18: duplicate handler key 'prefetch'"},
	{"memory 4k 4\nhandler prefetch 3\n",
	 "t.scn:2:18: unknown handler key '3'"},
	{"memory 4k 4\ncontract maybe\n", "t.scn:2:10: unknown contract 'maybe'"},
	{"memory 4k 4\ncontract keeps now\n", "t.scn:2:16: unexpected 'now'"},
	{"memory 4k 4\nexpect Lost_Wake\n",
	 "t.scn:2:8: unknown invariant 'Lost_Wake'"},
	/* expect names a registered invariant, handler and variant */
	{"memory 4k 4\nexpect stale-dat\n", "t.scn:2:8: unknown invariant 'stale-dat'"},
	{"memory 4k 4\nexpect lost-wake no-such\n", "t.scn:2:18: unknown handler 'no-such'"},
	{"memory 4k 4\nexpect lost-wake e2b-ref/no-read-gate\n",
	 "t.scn:2:18: 'no-read-gate' is not a variant of e2b-ref"},
	{"memory 4k 4\nexpect lost-wake e2b-ref/\n",
	 "t.scn:2:18: '' is not a variant of e2b-ref" /* empty variant */},
	{"memory 4k 4\nexpect lost-wake /x\n",
	 "t.scn:2:18: expected HANDLER or HANDLER/VARIANT, got '/x'"},
	{"memory 4k 4\nexpect\n", "t.scn:2:7: expected an invariant name"},
	{"memory 4k 4\nexpect "
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	 "t.scn:2:8: unknown invariant 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'"},
	{H "thread g0 guest\n",
	 "t.scn:3:8: duplicate thread 'g0' (first at line 2)"},
	{"memory 4k 4\nthread 0g guest\n", "t.scn:2:8: invalid thread name '0g'"},
	{"memory 4k 4\nthread g-0 guest\n",
	 "t.scn:2:8: invalid thread name 'g-0'"},
	{"memory 4k 4\nthread aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa guest\n",
	 "t.scn:2:8: thread name too long (32 characters, max 31)"},
	{"memory 4k 4\nthread g0 vcpu\n", "t.scn:2:11: unknown role 'vcpu'"},
	{"memory 4k 4\nthread g0\n", "t.scn:2:10: expected a role"},
	{"memory 4k 4\nthread\n", "t.scn:2:7: expected a thread name"},
	{"memory 4k 4\nthread g0 guest now\n", "t.scn:2:17: unexpected 'now'"},
	{H "features wp\n",
	 "t.scn:3:1: directive 'features' must come before the first thread"},
	{"memory 4k 4\nread 1\n",
	 "t.scn:2:1: operation 'read' outside a thread"},
	{H "  jump 1\n", "t.scn:3:3: unknown operation 'jump'"},
	{HB "  fork\n  fork\n  fork\n  fork\n",
	 "t.scn:6:3: at most 3 fork operations per scenario (the simulated kernel's limit of 3 child processes)"},
	{H "  read\n", "t.scn:3:7: expected page"},
	{H "  read 4\n", "t.scn:3:8: page 4 out of range (memory has 4 pages)"},
	{H "  read x\n", "t.scn:3:8: expected page (a number), got 'x'"},
	{H "  read 1 2\n", "t.scn:3:10: unexpected '2'"},
	{H "  write 1\n", "t.scn:3:10: expected value"},
	{H "  write 1 0\n", "t.scn:3:11: value 0 out of range (1..255)"},
	{H "  write 1 256\n", "t.scn:3:11: value 256 out of range (1..255)"},
	{H "  remove 1\n",
	 "t.scn:3:3: 'remove' is a balloon operation; thread 'g0' is a guest"},
	{HB "  read 1\n",
	 "t.scn:3:3: 'read' is a guest operation; thread 'b0' is a balloon"},
	{HB "  pause\n",
	 "t.scn:3:3: 'pause' is a control operation; thread 'b0' is a balloon"},
	{HC "  fork\n",
	 "t.scn:3:3: 'fork' is a balloon operation; thread 'c0' is a control"},
	{HB "  remove\n", "t.scn:3:9: expected a page P or a range P..Q"},
	{HB "  remove 3..2\n", "t.scn:3:10: reversed range 3..2"},
	{HB "  unmap 0..4\n",
	 "t.scn:3:9: page 4 out of range (memory has 4 pages)"},
	{HB "  fork now\n", "t.scn:3:8: unexpected 'now'"},
	{HC "  prefetch 0..9\n",
	 "t.scn:3:12: page 9 out of range (memory has 4 pages)"},
	{HC "  source-fail 1\n", "t.scn:3:16: expected count"},
	{HC "  source-fail 1 65536\n",
	 "t.scn:3:17: count 65536 out of range (0..65535)"},
	{H "  read 1 before b0.1\n", "t.scn:3:10: unexpected 'before'"},
	{H "  read 1 after\n", "t.scn:3:15: expected THREAD.OP after 'after'"},
	{H "  read 1 after b0\n",
	 "t.scn:3:16: invalid 'after' target 'b0' (expected THREAD.OP)"},
	{H "  read 1 after b0.x\n",
	 "t.scn:3:16: invalid 'after' target 'b0.x'"},
	{H "  read 1 after .1\n", "t.scn:3:16: invalid thread name ''"},
	{H "  read 1 after b0.0\n",
	 "t.scn:3:16: operation index in 'b0.0' starts at 1"},
	{H "  read 1 after b0.99999999999999999999\n",
	 "t.scn:3:16: operation index in 'b0.99999999999999999999' does not fit"},
	{H "  read 1 after g0.1\n", "t.scn:3:16: 'after' on its own thread 'g0'"},
	{H "  read 1 after b0.1 now\n", "t.scn:3:21: unexpected 'now'"},
	{H "  read 1 after zz.1\n", "t.scn:3:16: unknown thread 'zz' in 'after'"},
	{H "  read 1\nthread b0 balloon\n  remove 1 after g0.2\n",
	 "t.scn:5:18: thread 'g0' has no operation 2 (it has 1)"},
	/* direct cycle: reported at the constraint that closes it */
	{H "  read 1 after b0.1\nthread b0 balloon\n  remove 1 after g0.1\n",
	 "t.scn:5:18: 'after g0.1' closes an ordering cycle"},
	/* through program order: g0.1 < g0.2 < b0.1 < b0.2 < g0.1 */
	{H "  read 0 after b0.2\n  read 1\nthread b0 balloon\n"
	   "  remove 2 after g0.2\n  remove 3\n",
	 "t.scn:6:18: 'after g0.2' closes an ordering cycle"},
	/* through three threads */
	{"memory 4k 1\nthread a control\n pause after c.1\n"
	 "thread b control\n pause after a.1\nthread c control\n"
	 " pause after b.1\n",
	 "t.scn:7:14: 'after b.1' closes an ordering cycle"},
	/* an earlier unresolved name wins over a later cycle */
	{H "  read 1 after nope.1\n  read 2 after b0.1\nthread b0 balloon\n"
	   "  remove 1 after g0.2\n",
	 "t.scn:3:16: unknown thread 'nope' in 'after'"},
	{H "\x7f" "ELF\n", "t.scn:3:1: control byte 0x7f"},
	{"memory\x01 4k 4\n", "t.scn:1:7: control byte 0x01"},
	{"memory 4k 4 \xc3\xa9\n",
	 "t.scn:1:13: non-ASCII byte 0xc3 outside a comment"},
	{"memory 4k 4 # tab\tand \x1b escape\n", "t.scn:1:23: control byte 0x1b"},
};

static void check_one_line(const char *err)
{
	assert_true(err[0] != '\0');
	assert_null(strchr(err, '\n'));
	assert_null(strchr(err, '\r'));
}

static void test_malformed_table(void **state)
{
	char err[512];
	size_t i;
	(void)state;

	assert_true(sizeof(bad) / sizeof(bad[0]) >= 30);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&scn, 0x5a, sizeof(scn));
		err[0] = '\0';
		if (scn_parse_string("t.scn", bad[i].text, &scn, err,
				     sizeof(err)) != -1)
			fail_msg("case %zu parsed: want '%s'", i, bad[i].want);
		check_one_line(err);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)))
			fail_msg("case %zu:\n  want '%s...'\n  got  '%s'", i,
				 bad[i].want, err);
		/* a failed parse leaves no half-filled scenario behind */
		assert_int_equal(scn.nthreads, 0);
		assert_int_equal(scn.pages, 0);
	}
}

static void test_limits(void **state)
{
	char *text = malloc(64 * 1024), err[512];
	size_t n;
	int i;
	(void)state;

	assert_non_null(text);
	/* 16 threads are fine, the 17th is not */
	n = (size_t)sprintf(text, "memory 4k 1\n");
	for (i = 0; i < SCN_MAX_THREADS; i++)
		n += (size_t)sprintf(text + n, "thread t%d guest\n", i);
	assert_int_equal(scn_parse_string("t.scn", text, &scn, err,
					  sizeof(err)), 0);
	assert_int_equal(scn.nthreads, SCN_MAX_THREADS);
	sprintf(text + n, "thread t99 guest\n");
	assert_int_equal(scn_parse_string("t.scn", text, &scn, err,
					  sizeof(err)), -1);
	assert_string_equal(err, "t.scn:18:1: too many threads (max 16)");

	/* 64 ops are fine, the 65th is not */
	n = (size_t)sprintf(text, "memory 4k 1\nthread g guest\n");
	for (i = 0; i < SCN_MAX_OPS; i++)
		n += (size_t)sprintf(text + n, "  read 0\n");
	assert_int_equal(scn_parse_string("t.scn", text, &scn, err,
					  sizeof(err)), 0);
	assert_int_equal(scn.threads[0].nops, SCN_MAX_OPS);
	sprintf(text + n, "  read 0\n");
	assert_int_equal(scn_parse_string("t.scn", text, &scn, err,
					  sizeof(err)), -1);
	assert_string_equal(err,
			    "t.scn:67:3: too many operations in thread 'g' (max 64)");

	/* the longest constraint chain: 16 x 64 ops, each after the last op
	 * of the previous thread — resolves without a cycle; made circular
	 * by t0's first op waiting for t15's first, the cycle is reported at
	 * the constraint that closes it: t15's first op, line 2 + 15*65 + 1 */
	for (int circular = 0; circular < 2; circular++) {
		n = (size_t)sprintf(text, "memory 4k 1\n");
		for (i = 0; i < SCN_MAX_THREADS; i++) {
			int k;

			n += (size_t)sprintf(text + n, "thread t%d control\n", i);
			for (k = 0; k < SCN_MAX_OPS; k++) {
				if (i > 0)
					n += (size_t)sprintf(text + n,
							     " pause after t%d.%d\n",
							     i - 1, SCN_MAX_OPS);
				else if (k == 0 && circular)
					n += (size_t)sprintf(text + n,
							     " pause after t15.1\n");
				else
					n += (size_t)sprintf(text + n, " pause\n");
			}
		}
		if (!circular) {
			assert_int_equal(scn_parse_string("t.scn", text, &scn,
							  err, sizeof(err)), 0);
			check_invariants(&scn);
			assert_int_equal(scn.threads[15].ops[0].after_thread, 14);
			assert_int_equal(scn.threads[15].ops[0].after_op, 63);
			continue;
		}
		assert_int_equal(scn_parse_string("t.scn", text, &scn, err,
						  sizeof(err)), -1);
		assert_string_equal(err,
				    "t.scn:978:14: 'after t14.64' closes an ordering cycle");
	}
	free(text);
}

static void test_long_line(void **state)
{
	char text[2200], err[512];
	size_t n;
	(void)state;


	strcpy(text, "memory 4k 4\n#");
	n = strlen(text);
	memset(text + n, 'x', 1024); /* '#' + 1024 = 1025 bytes */
	strcpy(text + n + 1024, "\nthread g guest\n");
	assert_int_equal(scn_parse_string("t.scn", text, &scn, err,
					  sizeof(err)), -1);
	assert_string_equal(err,
			    "t.scn:2:1025: line too long (1025 bytes, max 1024)");
}

static void test_nul_byte(void **state)
{
	static const char text[] = "memory 4k 4\nthr\0ead g guest\n";
	char err[512];
	(void)state;

	assert_int_equal(scn_parse_bytes("t.scn", text, sizeof(text) - 1, &scn,
					 err, sizeof(err)), -1);
	assert_string_equal(err, "t.scn:2:4: NUL byte");
	/* the same bytes without the NUL parse: the error was the NUL */
	assert_int_equal(scn_parse_bytes("t.scn", "memory 4k 4\nthread g guest\n",
					 27, &scn, err, sizeof(err)), 0);
}

static void test_error_buffer_edges(void **state)
{
	char err[16];
	(void)state;

	/* a small buffer truncates, never overflows; NULL is allowed */
	assert_int_equal(scn_parse_string("t.scn", "", &scn, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "t.scn:1:1: empt");
	assert_int_equal(scn_parse_string("t.scn", "", &scn, NULL, 0), -1);
	assert_int_equal(scn_parse_string("t.scn", NULL, &scn, err,
					  sizeof(err)), -1);
	assert_int_equal(scn_parse_string(NULL, "memory 4k 1\n", &scn, err,
					  sizeof(err)), -1);
}

static void test_path_in_error(void **state)
{
	char err[512], path[300];
	(void)state;

	/* control bytes in a file name cannot split the one-line error */
	assert_int_equal(scn_parse_string("a\nb.scn", "", &scn, err,
					  sizeof(err)), -1);
	assert_string_equal(err, "a?b.scn:1:1: empty file");
	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(scn_parse_string(path, "memory 4k 1\nthread g guest\n",
					  &scn, err, sizeof(err)), -1);
	check_one_line(err);
	assert_non_null(strstr(err, ":1:1: path too long"));
}

static void test_parse_file_errors(void **state)
{
	char err[512];
	(void)state;

	assert_int_equal(scn_parse_file("no/such.scn", &scn, err, sizeof(err)),
			 -1);
	assert_string_equal(err,
			    "no/such.scn:1:1: cannot open: No such file or directory");
	assert_int_equal(scn_parse_file("scenarios", &scn, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "scenarios:1:1: cannot open: Is a directory");
	/* a FIFO would block fopen() for good: refused before any read */
	char fifo[] = "/tmp/uffdlab-fifo-XXXXXX";
	assert_non_null(mkdtemp(fifo));
	char fp[64];
	snprintf(fp, sizeof fp, "%s/f.scn", fifo);
	assert_int_equal(mkfifo(fp, 0600), 0);
	assert_int_equal(scn_parse_file(fp, &scn, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1:1: cannot open: not a regular file"));
	unlink(fp);
	rmdir(fifo);
}

static void test_string_matches_file(void **state)
{
	static struct scenario from_file;
	char err[512], buf[8192];
	FILE *f;
	size_t n;
	(void)state;

	parse_ok("scenarios/zoo/b01-stale-source.scn");
	from_file = scn;
	f = fopen("scenarios/zoo/b01-stale-source.scn", "rb");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_int_equal(scn_parse_string("scenarios/zoo/b01-stale-source.scn", buf,
					  &scn, err, sizeof(err)), 0);
	assert_memory_equal(&scn, &from_file, sizeof(scn));
}

/* ---- robustness: truncations and byte flips of the bundled files ------ */

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(1 << 16);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 16, f);
	assert_true(feof(f));
	fclose(f);
	return buf;
}

/* Either a scenario that keeps every promise, or one line naming the
 * file and a position inside (or just past) the input. */
static void check_outcome(int rc, const char *err, const char *data,
			  size_t len)
{
	int line, col, used = 0, lines = 1;
	size_t i;

	if (rc == 0) {
		check_invariants(&scn);
		return;
	}
	assert_int_equal(rc, -1);
	check_one_line(err);
	if (sscanf(err, "m.scn:%d:%d: %n", &line, &col, &used) != 2 || !used)
		fail_msg("malformed error '%s'", err);
	assert_true(err[used] != '\0');
	for (i = 0; i < len; i++)
		lines += data[i] == '\n';
	assert_in_range(line, 1, lines);
	assert_in_range(col, 1, 1024 + 1); /* the line limit, +1 */
}

static void test_fuzz_truncate(void **state)
{
	int n = list_bundled(), i, parsed = 0, failed = 0;
	char err[512];
	(void)state;

	for (i = 0; i < n; i++) {
		size_t len, cut;
		char *data = read_all(files[i], &len);

		for (cut = 0; cut <= len; cut++) {
			int rc = scn_parse_bytes("m.scn", data, cut, &scn, err,
						 sizeof(err));

			check_outcome(rc, err, data, cut);
			rc ? failed++ : parsed++;
		}
		free(data);
	}
	/* both outcomes happen: cuts inside the header fail, cuts after a
	 * complete op line parse */
	assert_true(parsed > 0);
	assert_true(failed > 0);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64*: fixed seed, so a failure replays exactly */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void test_fuzz_flip(void **state)
{
	static const char interesting[] = {
		0, '\n', '\r', '\t', ' ', '#', '.', '0', '9', 'x', '-', '_',
		(char)0x80, (char)0xff, 0x7f, 'a',
	};
	int n = list_bundled(), i, iter, parsed = 0, failed = 0;
	char err[512];
	(void)state;

	for (i = 0; i < n; i++) {
		size_t len;
		char *orig = read_all(files[i], &len);
		char *data = malloc(len);

		assert_non_null(data);
		for (iter = 0; iter < 400; iter++) {
			int flips = 1 + (int)(rng() % 4), f, rc;

			memcpy(data, orig, len);
			for (f = 0; f < flips; f++) {
				size_t at = rng() % len;
				uint64_t r = rng();

				if (r & 1)
					data[at] = interesting[(r >> 1) %
							       sizeof(interesting)];
				else
					data[at] ^= (char)(1u << ((r >> 1) % 8));
			}
			rc = scn_parse_bytes("m.scn", data, len, &scn, err,
					     sizeof(err));
			check_outcome(rc, err, data, len);
			rc ? failed++ : parsed++;
		}
		free(data);
		free(orig);
	}
	assert_true(parsed > 0);
	assert_true(failed > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundled_all_parse),
		cmocka_unit_test(test_bundled_required_present),
		cmocka_unit_test(test_bundled_fields),
		cmocka_unit_test(test_bundled_fields_remove),
		cmocka_unit_test(test_bundled_fields_zoo),
		cmocka_unit_test(test_list_sorted_and_grouped),
		cmocka_unit_test(test_list_filters),
		cmocka_unit_test(test_hash_fnv1a),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_accepts_every_directive),
		cmocka_unit_test(test_accepts_long_line_and_diamond),
		cmocka_unit_test(test_malformed_table),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_error_buffer_edges),
		cmocka_unit_test(test_path_in_error),
		cmocka_unit_test(test_parse_file_errors),
		cmocka_unit_test(test_string_matches_file),
		cmocka_unit_test(test_fuzz_truncate),
		cmocka_unit_test(test_fuzz_flip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
