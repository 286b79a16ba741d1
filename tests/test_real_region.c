/* Tests of the guest-memory side of the real backend: the snapshot pattern,
 * uffd creation errors, region setup and teardown (no fd or hugepage left
 * behind, even on failure), pagemap flags, and the hugepage pool being given
 * back on release, at exit, on SIGTERM, SIGHUP and SIGQUIT and by the
 * watchdog. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "real/hugepages.h"
#include "real/region.h"
#include "real/sys_real.h"
#include "real/watchdog.h"
#include "tests/realtest.h"

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static uint64_t nr_hugepages(void)
{
	uint64_t nr = 0, fr = 0;
	assert_int_equal(real_hugepages_read(&nr, &fr), 0);
	return nr;
}

/* ---------------- snapshot ---------------- */

static void test_snapshot_pattern(void **state)
{
	(void)state;
	unsigned char fill[4] = {REAL_FILL_PATTERN, REAL_FILL_ZERO,
				 REAL_FILL_SENTINEL, REAL_FILL_PATTERN};
	struct real_snapshot *s;
	assert_int_equal(real_snapshot_new(4096, 4, fill, &s), 0);
	assert_int_equal(real_snapshot_word(s, 0, 0), REAL_SNAP_MAGIC | 0);
	assert_int_equal(real_snapshot_word(s, 3, 0), REAL_SNAP_MAGIC | 3);
	assert_int_equal(real_snapshot_word(s, 2, 0) & 0xFF, REAL_SENTINEL);
	assert_int_equal(real_snapshot_word(s, 2, 0) >> 8, (REAL_SNAP_MAGIC | 2) >> 8);
	for (uint64_t w = 0; w < 512; w++) {
		assert_int_equal(real_snapshot_word(s, 1, w), 0);
		uint64_t x = real_snapshot_word(s, 3, w);
		assert_true(x != 0);
		assert_true(x != (x & 0xFF) * 0x0101010101010101ull);
		/* page 0 and page 3 differ in every word */
		assert_true(x != real_snapshot_word(s, 0, w));
	}
	/* the memfd holds what the mapping shows */
	uint64_t buf[512];
	assert_int_equal(pread(s->fd, buf, sizeof buf, 3 * 4096), 4096);
	assert_memory_equal(buf, s->words + 3 * 512, 4096);
	real_snapshot_free(s);
	assert_int_equal(real_snapshot_new(4000, 1, NULL, &s), -EINVAL);
}

/* ---------------- uffd creation ---------------- */

static void test_uffd_unsupported_feature_is_named(void **state)
{
	(void)state;
	RT_REQUIRE(0);
	char why[256] = "";
	uint64_t granted;
	int fd = real_uffd_open(UFFD_FEATURE_EVENT_REMOVE | (1ull << 62), &granted,
				why, sizeof why);
	assert_int_equal(fd, -EOPNOTSUPP);
	assert_non_null(strstr(why, "lacks"));
	assert_non_null(strstr(why, "0x4000000000000000"));
	assert_null(strstr(why, "EVENT_REMOVE")); /* only the missing bit */

	fd = real_uffd_open(UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_WP_ASYNC,
			    &granted, why, sizeof why);
	assert_true(fd >= 0);
	assert_true(granted & UFFD_FEATURE_EVENT_REMOVE);
	assert_true(granted & UFFD_FEATURE_WP_ASYNC);
	close(fd);

	char b[128];
	assert_string_equal(real_uffd_feature_str(UFFD_FEATURE_EVENT_REMOVE |
						  UFFD_FEATURE_WP_ASYNC, b, sizeof b),
			    "EVENT_REMOVE|WP_ASYNC");
}

/* ---------------- regions ---------------- */

static void test_region_open_close_leaves_nothing(void **state)
{
	uint64_t ps = rt_page_size(state);
	RT_REQUIRE(ps);
	if (ps == rt_2m) /* exact pool sizes: keep other test binaries out */
		assert_int_equal(real_hugepages_lock(), 0);
	uint64_t nr0 = nr_hugepages();
	int fds0 = count_fds();
	for (int i = 0; i < 3; i++) {
		struct real_region_opts o = {.page_size = ps, .pages = 4,
					     .features = UFFD_FEATURE_EVENT_REMOVE |
							 UFFD_FEATURE_WP_ASYNC,
					     .wp = 1};
		struct real_region *r;
		char why[256];
		int rc = real_region_open(&o, &r, why, sizeof why);
		if (rc)
			fail_msg("real_region_open: %s", why);
		assert_int_equal(r->base % ps, 0);
		assert_int_equal(r->size, 4 * ps);
		assert_true(r->ioctls & (1ull << _UFFDIO_COPY));
		assert_true(r->ioctls & (1ull << _UFFDIO_WRITEPROTECT));
		if (ps == rt_2m) {
			assert_true(r->features & UFFD_FEATURE_MISSING_HUGETLBFS);
			assert_int_equal(nr_hugepages(), nr0 + 4);
		}
		real_region_close(r);
		assert_int_equal(nr_hugepages(), nr0);
		assert_int_equal(count_fds(), fds0);
	}
	if (ps == rt_2m)
		assert_int_equal(real_hugepages_unlock(), 0);
}

/* A region that fails half-way gives its hugepages back. */
static void test_region_failure_gives_hugepages_back(void **state)
{
	(void)state;
	RT_REQUIRE(rt_2m);
	assert_int_equal(real_hugepages_lock(), 0);
	uint64_t nr0 = nr_hugepages();
	int fds0 = count_fds();
	struct real_region_opts o = {.page_size = rt_2m, .pages = 3,
				     .features = 1ull << 62};
	struct real_region *r = NULL;
	char why[256] = "";
	assert_int_equal(real_region_open(&o, &r, why, sizeof why), -EOPNOTSUPP);
	assert_null(r);
	assert_non_null(strstr(why, "lacks"));
	assert_int_equal(nr_hugepages(), nr0);
	assert_int_equal(real_hugepages_raised(), 0);
	assert_int_equal(count_fds(), fds0);
	assert_int_equal(real_hugepages_unlock(), 0);
	o = (struct real_region_opts){.page_size = 8192, .pages = 1};
	assert_int_equal(real_region_open(&o, &r, why, sizeof why), -EINVAL);
}

/* pagemap: present (63) and uffd-WP (57) as WP_ASYNC moves them. */
static void test_pagemap_flags_follow_wp_async(void **state)
{
	uint64_t ps = rt_page_size(state);
	RT_REQUIRE(ps);
	struct real_region_opts o = {.page_size = ps, .pages = 2,
				     .features = UFFD_FEATURE_WP_ASYNC, .wp = 1};
	struct real_region *r;
	char why[256];
	if (real_region_open(&o, &r, why, sizeof why))
		fail_msg("real_region_open: %s", why);
	struct sys_real_opts so = {.source_fd = r->snap->fd, .source_page = ps};
	sys_t *s = NULL;
	assert_int_equal(sys_real_new(&so, &s), 0);
	int present = 0, wp = 0;
	assert_int_equal(real_page_flags(r, 0, &present, &wp), 0);
	assert_int_equal(present, 0);

	void *buf = s->ops->buf_alloc(s, ps);
	assert_int_equal(s->ops->source_read(s, 0, buf, ps), 0);
	int64_t f;
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, r->base, buf, ps,
					   UFFDIO_COPY_MODE_WP, &f), 0);
	assert_int_equal(real_page_flags(r, 0, &present, &wp), 0);
	assert_int_equal(present, 1);
	assert_int_equal(wp, 1);
	char why2[256];
	assert_int_equal(real_guest_expect(r, 0, REAL_C_SNAPSHOT, 0, 1, why2, sizeof why2), 0);
	assert_int_equal(real_page_flags(r, 0, &present, &wp), 0);
	assert_int_equal(wp, 1); /* a read keeps it clean */
	real_guest_write(r, 0, 0x33); /* WP_ASYNC: no message, bit cleared */
	assert_int_equal(real_page_flags(r, 0, &present, &wp), 0);
	assert_int_equal(present, 1);
	assert_int_equal(wp, 0);
	assert_int_equal(real_guest_expect(r, 0, REAL_C_WRITTEN, 0x33, 1, why2, sizeof why2), 0);
	/* the content check says what it saw */
	assert_int_equal(real_guest_expect(r, 0, REAL_C_ZERO, 0, 1, why2, sizeof why2), -1);
	assert_non_null(strstr(why2, "want ZERO, got WRITTEN(0x33)"));
	assert_int_equal(real_guest_remove(r, 0, 1), 0);
	assert_int_equal(real_page_flags(r, 0, &present, &wp), 0);
	assert_int_equal(present, 0);
	s->ops->buf_free(s, buf, ps);
	sys_real_free(s);
	real_region_close(r);
}

/* ---------------- hugepage pool restore ---------------- */

static void test_hugepages_reserve_release(void **state)
{
	(void)state;
	RT_REQUIRE(rt_2m);
	assert_int_equal(real_hugepages_lock(), 0);
	uint64_t nr0 = nr_hugepages(), raised, raised2;
	char why[256];
	assert_int_equal(real_hugepages_reserve(3, &raised, why, sizeof why), 0);
	assert_int_equal(raised, 3);
	assert_int_equal(nr_hugepages(), nr0 + 3);
	assert_int_equal(real_hugepages_reserve(2, &raised2, why, sizeof why), 0);
	assert_int_equal(nr_hugepages(), nr0 + 5);
	assert_int_equal(real_hugepages_raised(), 5);
	real_hugepages_release(raised);
	assert_int_equal(nr_hugepages(), nr0 + 2);
	real_hugepages_release(raised2);
	assert_int_equal(nr_hugepages(), nr0);
	assert_int_equal(real_hugepages_raised(), 0);
	assert_int_equal(real_hugepages_unlock(), 0);
}

enum child_end { END_EXIT, END_SIGTERM, END_WATCHDOG, END_SIGHUP, END_SIGQUIT };

/* The child: borrows 2 pages and ends without releasing them. Its pipe
 * ends arrive as descriptors 3 (up) and 4 (down); every wait is bounded,
 * so a child whose parent forgot it still ends. */
static int hugepage_child(int how)
{
	const int up = 3, down = 4;
	uint64_t raised;
	char why[256], c = 1;
	if (real_hugepages_reserve(2, &raised, why, sizeof why)) {
		fprintf(stderr, "child: %s\n", why);
		return 2;
	}
	if (how == END_WATCHDOG)
		real_watchdog_arm(1, "child");
	if (write(up, &c, 1) != 1)
		return 3;
	/* wait for the parent to have looked (EOF: it is gone) */
	if (rt_read_timeout(down, &c, 1, 30000) != 1)
		return 4;
	if (how == END_EXIT)
		exit(0); /* atexit gives them back */
	for (int i = 0; i < 30; i++)
		sleep(1); /* the signal or the watchdog ends this */
	return 5;
}

static const int child_sig[] = {
	[END_SIGTERM] = SIGTERM, [END_SIGHUP] = SIGHUP, [END_SIGQUIT] = SIGQUIT,
};

static void check_child_status(enum child_end how, int st)
{
	if (how == END_EXIT)
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	else if (how == END_WATCHDOG)
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 124);
	else
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == child_sig[how]);
}

/* The pool must be back at its old size after the child is gone. The
 * parent holds the pool lock (shared with the child) so that test binaries
 * running meanwhile cannot move the numbers. */
static void run_child(enum child_end how)
{
	RT_REQUIRE(rt_2m);
	assert_int_equal(real_hugepages_lock(), 0);
	uint64_t nr0 = nr_hugepages();
	int up[2], down[2];
	assert_int_equal(pipe2(up, O_CLOEXEC), 0);
	assert_int_equal(pipe2(down, O_CLOEXEC), 0);
	char a[16];
	snprintf(a, sizeof a, "%d", (int)how);
	char *argv[] = {"test_real_region", "--hugepage-child", a, NULL};
	int keep[2] = {up[1], down[0]};
	pid_t pid = rt_spawn(argv, keep, 2, 1, NULL, 0);
	assert_true(pid > 0);
	close(up[1]);
	close(down[0]);
	char c = 0;
	assert_int_equal(rt_read_timeout(up[0], &c, 1, 30000), 1);
	close(up[0]);
	assert_int_equal(nr_hugepages(), nr0 + 2);
	uint64_t held = 0;
	assert_int_equal(real_hugepages_owner((uint64_t)pid, &held), 0);
	assert_int_equal(held, 2); /* in the ledger before it matters */
	if (how == END_EXIT)
		assert_int_equal(write(down[1], &c, 1), 1);
	if (how != END_EXIT && how != END_WATCHDOG)
		kill(pid, child_sig[how]);
	int st;
	assert_int_equal(rt_wait_child(pid, &st, 30000), 0);
	close(down[1]);
	check_child_status(how, st);
	assert_int_equal(nr_hugepages(), nr0);
	assert_int_equal(real_hugepages_owner((uint64_t)pid, &held), -ENOENT);
	assert_int_equal(real_hugepages_unlock(), 0);
}

static void test_hugepages_restored_at_exit(void **state)
{
	(void)state;
	run_child(END_EXIT);
}

static void test_hugepages_restored_on_sigterm(void **state)
{
	(void)state;
	run_child(END_SIGTERM);
}

static void test_hugepages_restored_on_sighup(void **state)
{
	(void)state;
	run_child(END_SIGHUP);
}

static void test_hugepages_restored_on_sigquit(void **state)
{
	(void)state;
	run_child(END_SIGQUIT);
}

static void test_hugepages_restored_by_watchdog(void **state)
{
	(void)state;
	run_child(END_WATCHDOG);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--hugepage-child") == 0)
		return hugepage_child(atoi(argv[2]));
	const struct CMUnitTest tests[] = {
		RT_ONE(test_snapshot_pattern),
		RT_ONE(test_uffd_unsupported_feature_is_named),
		RT_BOTH(test_region_open_close_leaves_nothing),
		RT_ONE(test_region_failure_gives_hugepages_back),
		RT_BOTH(test_pagemap_flags_follow_wp_async),
		RT_ONE(test_hugepages_reserve_release),
		RT_ONE(test_hugepages_restored_at_exit),
		RT_ONE(test_hugepages_restored_on_sigterm),
		RT_ONE(test_hugepages_restored_on_sighup),
		RT_ONE(test_hugepages_restored_on_sigquit),
		RT_ONE(test_hugepages_restored_by_watchdog),
	};
	return cmocka_run_group_tests_name("real_region", tests, NULL, NULL);
}
