/* Nothing half-written (issue 7 item 4): outputs go to a temporary file
 * renamed over the target only when complete; a full disk leaves no
 * truncated trace and is reported as ENOSPC, not EIO. */
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
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/files.h"

static char dir[64];

static int count_entries(const char *d)
{
	DIR *dp = opendir(d);
	assert_non_null(dp);
	int n = 0;
	for (struct dirent *e; (e = readdir(dp));)
		n += e->d_name[0] != '.';
	closedir(dp);
	return n;
}

static void slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t r = fread(buf, 1, n - 1, f);
	buf[r] = '\0';
	fclose(f);
}

/* A committed output replaces the old file whole; an aborted one leaves
 * the old file as it was; neither leaves a temporary file behind. */
static void test_commit_and_abort(void **state)
{
	(void)state;
	char path[128], buf[64];
	snprintf(dir, sizeof dir, "/tmp/uffdlab-out-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/x.trace", dir);
	struct output o;
	assert_int_equal(output_open(&o, path), 0);
	fputs("first\n", o.f);
	assert_int_equal(output_commit(&o), 0);
	assert_int_equal(output_open(&o, path), 0);
	fputs("second, never committed\n", o.f);
	output_abort(&o);
	slurp(path, buf, sizeof buf);
	assert_string_equal(buf, "first\n");
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(output_open(&o, "/nonexistent-dir/x.trace"), -ENOENT);
	unlink(path);
	rmdir(dir);
}

/* explore onto a 12 KiB tmpfs: the trace of a 1,000-step spin does not
 * fit. Needs root (mount); skipped with the reason otherwise. */
static void test_full_disk_is_enospc_and_leaves_nothing(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/uffdlab-full-XXXXXX");
	assert_non_null(mkdtemp(dir));
	if (mount("tmpfs", dir, "tmpfs", 0, "size=12k")) {
		fprintf(stderr, "skipped: cannot mount a tmpfs (%s): needs root\n", strerror(errno));
		rmdir(dir);
		skip();
	}
	char cmd[512];
	snprintf(cmd, sizeof cmd,
		 "./%s/uffdlab explore scenarios/zoo/b14-no-yield-on-retry.scn --strategy pct --seed 94 "
		 "--pct-k 68 --runs 1 --no-shrink --out %s 2>%s.err >/dev/null",
		 getenv("BUILD") ? getenv("BUILD") : "build", dir, dir);
	int st = system(cmd);
	int files = count_entries(dir);
	umount(dir);
	rmdir(dir);
	char err[512], errpath[80];
	snprintf(errpath, sizeof errpath, "%s.err", dir);
	slurp(errpath, err, sizeof err);
	unlink(errpath);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 2);
	if (!strstr(err, "No space left on device"))
		fail_msg("expected ENOSPC, got: %s", err);
	assert_int_equal(files, 0); /* no truncated trace, no temporary file */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commit_and_abort),
		cmocka_unit_test(test_full_disk_is_enospc_and_leaves_nothing),
	};
	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
