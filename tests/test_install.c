/* make install into a temporary prefix, as a user would: the installed
 * binary finds its scenario library from any directory, a handler built
 * out of the tree with pkg-config against the installed library is
 * explored and its bug found, the man pages render, make uninstall removes
 * what install put there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char prefix[] = "/tmp/uffdlab-install-XXXXXX";
static const char *build;

/* Run a shell command; its exit status, its output in out. */
static int sh(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t n, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t got = fread(out, 1, n - 1, p);
	out[got] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int setup(void **state)
{
	(void)state;
	build = getenv("BUILD") ? getenv("BUILD") : "build";
	if (!mkdtemp(prefix))
		return -1;
	char out[65536];
	/* a fresh make: the suite's own jobserver is not ours */
	int st = sh(out, sizeof out, "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "
		    "install BUILD=%s PREFIX=%s 2>&1", build, prefix);
	if (st)
		fprintf(stderr, "make install failed:\n%s\n", out);
	return st ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	char out[4096], cmd[300];
	sh(out, sizeof out, "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory "
	   "uninstall BUILD=%s PREFIX=%s 2>&1", build, prefix);
	snprintf(cmd, sizeof cmd, "rm -rf %s", prefix);
	return system(cmd) ? -1 : 0;
}

static void test_installed_binary_finds_its_library_anywhere(void **state)
{
	(void)state;
	char out[65536];
	assert_int_equal(sh(out, sizeof out, "cd / && %s/bin/uffdlab list", prefix), 0);
	char want[256];
	snprintf(want, sizeof want, "%s/share/uffdlab/scenarios/zoo/b01-stale-source.scn", prefix);
	assert_non_null(strstr(out, want));
	/* a library path named as in the docs resolves from any directory */
	assert_int_equal(sh(out, sizeof out, "cd / && %s/bin/uffdlab explore scenarios/zoo/b01-stale-source.scn "
			    "--variant stale-source --runs 2000 --out %s/o", prefix, prefix), 1);
	assert_non_null(strstr(out, "VIOLATION install-into-removed"));
	assert_int_equal(sh(out, sizeof out, "%s/bin/uffdlab --version", prefix), 0);
	assert_non_null(strstr(out, "semantics"));
}

/* The handler of tests/outoftree, compiled as a stranger would: its own
 * directory, the installed headers and library, pkg-config. */
static void test_out_of_tree_handler_is_explored(void **state)
{
	(void)state;
	char out[65536];
	/* the sanitizer build's library needs its runtime at the link; this
	 * test is built with the library's flags, so it knows */
#if defined(__SANITIZE_ADDRESS__)
	int asan = 1;
#else
	int asan = 0;
#endif
	int st = sh(out, sizeof out,
		    "mkdir -p %s/src && cp tests/outoftree/main.c tests/outoftree/naive.c "
		    "tests/outoftree/naive.h tests/outoftree/naive.scn %s/src/ && cd %s/src && "
		    "cc -std=c11 -Wall -Wextra -Werror -DUFFDLAB_INSTALLED %s main.c naive.c -o naive "
		    "$(PKG_CONFIG_PATH=%s/lib/pkgconfig pkg-config --cflags --libs uffdlab) 2>&1",
		    prefix, prefix, prefix, asan ? "-fsanitize=address,undefined" : "", prefix);
	if (st)
		fail_msg("the out-of-tree build failed:\n%s", out);
	assert_int_equal(sh(out, sizeof out, "cd %s/src && ./naive list", prefix), 0);
	assert_non_null(strstr(out, "naive "));
	assert_non_null(strstr(out, "scenarios: no library found"));
	/* a program of one's own finds the installed library by the variable */
	assert_int_equal(sh(out, sizeof out, "cd %s/src && UFFDLAB_SCENARIOS=%s/share/uffdlab/scenarios "
			    "./naive explore scenarios/zoo/b01-stale-source.scn --handler naive --runs 50 "
			    "--out %s/o3", prefix, prefix, prefix), 1);
	assert_int_equal(sh(out, sizeof out, "cd %s/src && ./naive explore naive.scn --handler naive "
			    "--runs 10 --out %s/o2", prefix, prefix), 1);
	assert_non_null(strstr(out, "VIOLATION stale-data"));
}

static void test_man_pages_render(void **state)
{
	(void)state;
	char out[65536];
	if (sh(out, sizeof out, "command -v man >/dev/null") != 0) {
		fprintf(stderr, "skipped: man is not installed\n");
		skip();
	}
	assert_int_equal(sh(out, sizeof out, "MANWIDTH=80 man -l %s/share/man/man1/uffdlab.1 2>&1", prefix), 0);
	assert_non_null(strstr(out, "EXIT STATUS"));
	assert_int_equal(sh(out, sizeof out, "MANWIDTH=80 man -l %s/share/man/man5/uffdlab-scenario.5 2>&1",
			    prefix), 0);
	assert_non_null(strstr(out, "DIRECTIVES"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_installed_binary_finds_its_library_anywhere),
		cmocka_unit_test(test_out_of_tree_handler_is_explored),
		cmocka_unit_test(test_man_pages_render),
	};
	return cmocka_run_group_tests_name("install", tests, setup, teardown);
}
