/* Golden traces (tests/golden/README.md): every stored failure replays
 * byte for byte with the current build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static void test_every_golden_trace_replays(void **state)
{
	(void)state;
	const char *b = getenv("BUILD");
	DIR *d = opendir("tests/golden");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (len < 7 || strcmp(e->d_name + len - 6, ".trace"))
			continue;
		char cmd[1024], out[2048] = "";
		snprintf(cmd, sizeof cmd, "%s/uffdlab replay tests/golden/%s 2>&1",
			 b ? b : "build", e->d_name);
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		size_t got = fread(out, 1, sizeof out - 1, p);
		out[got] = 0;
		int st = pclose(p);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 1 ||
		    !strstr(out, "reproduced byte for byte"))
			fail_msg("%s: exit %d: %s", e->d_name, WEXITSTATUS(st), out);
		n++;
	}
	closedir(d);
	assert_true(n >= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_golden_trace_replays),
	};
	return cmocka_run_group_tests_name("golden", tests, NULL, NULL);
}
