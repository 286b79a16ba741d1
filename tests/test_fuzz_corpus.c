/* The fuzz targets of tests/fuzz/ over their stored corpora, without
 * libFuzzer: each file of tests/fuzz/corpus/<name>/ goes once through
 * fuzz_<name>.c's entry point (built here by gcc as fuzz_<name>_one), which
 * aborts on a broken contract. Seconds, not a fuzzing run: `make fuzz`
 * fuzzes. Each corpus must hold a few inputs and stay small (< 1 MiB). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/corpus_main.h"

#define CORPUS "tests/fuzz/corpus"
#define CORPUS_MIN_FILES 5
#define CORPUS_MAX_BYTES (1L << 20)

static long corpus_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long total = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char p[4096];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (!stat(p, &st) && S_ISREG(st.st_mode))
			total += (long)st.st_size;
	}
	closedir(d);
	return total;
}

static void run_corpus(const char *name, fuzz_fn fn)
{
	char dir[256];

	snprintf(dir, sizeof dir, CORPUS "/%s", name);
	int n = fuzz_corpus_run(dir, fn, 0);

	if (n < CORPUS_MIN_FILES)
		fail_msg("%s: %d inputs run (want at least %d)", dir, n,
			 CORPUS_MIN_FILES);
	long bytes = corpus_bytes(dir);

	if (bytes >= CORPUS_MAX_BYTES)
		fail_msg("%s: %ld bytes, keep it under 1 MiB", dir, bytes);
	print_message("%s: %d inputs, %ld bytes\n", dir, n, bytes);
}

static void test_scenario_corpus(void **state)
{
	(void)state;
	run_corpus("scenario", fuzz_scenario_one);
}

static void test_trace_corpus(void **state)
{
	(void)state;
	run_corpus("trace", fuzz_trace_one);
}

static void test_viz_corpus(void **state)
{
	(void)state;
	run_corpus("viz", fuzz_viz_one);
}

static void test_sim_corpus(void **state)
{
	(void)state;
	run_corpus("sim", fuzz_sim_one);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario_corpus),
		cmocka_unit_test(test_trace_corpus),
		cmocka_unit_test(test_viz_corpus),
		cmocka_unit_test(test_sim_corpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
