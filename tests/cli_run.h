/* tests/cli_run.h — driving the uffdlab binary from a cmocka test, as a
 * job runner would (tests/test_shard.c, tests/test_dfs_shard.c).
 *
 * Contract: cli_setup(tag) points `bin` at BUILD's uffdlab (default
 * build/, from the working directory) and makes a fresh `tmp` directory
 * /tmp/uffdlab-TAG-XXXXXX; cli_teardown() removes it with what is in it.
 * run(out, len, fmt, ...) runs the formatted shell command with stdout
 * and stderr into tmp, asserts it exited, and returns its exit status
 * with its stdout in out; cli_drop_shards() takes a merge's "shards"
 * member out. One test file includes this once: the state is the file's
 * own (static).
 */
#ifndef UFFDLAB_TESTS_CLI_RUN_H
#define UFFDLAB_TESTS_CLI_RUN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char bin[512];
static char tmp[256];

__attribute__((format(printf, 3, 4)))
static inline int run(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[2048], full[3000], o[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	snprintf(o, sizeof o, "%s/stdout", tmp);
	snprintf(full, sizeof full, "( %s ) >%s 2>%s/stderr", cmd, o, tmp);
	int st = system(full);
	assert_true(WIFEXITED(st));
	FILE *f = fopen(o, "r");
	assert_non_null(f);
	size_t n = fread(out, 1, outlen - 1, f);
	out[n] = 0;
	fclose(f);
	return WEXITSTATUS(st);
}

/* 0, or -1 when the directory cannot be made. */
static inline int cli_setup(const char *tag)
{
	const char *b = getenv("BUILD");
	char cwd[256];
	snprintf(bin, sizeof bin, "%s/%s/uffdlab", getcwd(cwd, sizeof cwd) ? cwd : ".",
		 b ? b : "build");
	snprintf(tmp, sizeof tmp, "/tmp/uffdlab-%s-XXXXXX", tag);
	return mkdtemp(tmp) ? 0 : -1;
}

/* A merged shards' JSON without its "shards":N, member: the part that
 * must be the same for any N. */
static inline void cli_drop_shards(char *json, int n)
{
	char key[32];
	snprintf(key, sizeof key, "\"shards\":%d,", n);
	char *k = strstr(json, key);
	assert_non_null(k);
	memmove(k, k + strlen(key), strlen(k + strlen(key)) + 1);
}

static inline int cli_teardown(void)
{
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

#endif
