/* Golden traces (tests/golden/README.md): every stored failure replays
 * byte for byte with the current build, and the traces change only with
 * the semantics version (tests/golden/VERSION, model/version.h). */
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

#include "model/version.h"

#define FNV_PRIME 0x100000001b3ULL

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* FNV-1a 64 over every golden trace, in name order: its name, a NUL, its
 * bytes, a NUL. */
static uint64_t golden_digest(int *ntraces)
{
	DIR *d = opendir("tests/golden");
	char *names[64];
	int n = 0;
	struct dirent *e;
	uint64_t h = 0xcbf29ce484222325ULL;

	assert_non_null(d);
	while ((e = readdir(d)) && n < 64) {
		size_t len = strlen(e->d_name);
		if (len >= 7 && !strcmp(e->d_name + len - 6, ".trace"))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, (size_t)n, sizeof *names, cmp_str);
	for (int i = 0; i < n; i++) {
		char path[512];
		snprintf(path, sizeof path, "tests/golden/%s", names[i]);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		for (const char *c = names[i];; c++) {
			h = (h ^ (unsigned char)*c) * FNV_PRIME;
			if (!*c)
				break;
		}
		for (int c; (c = getc(f)) != EOF;)
			h = (h ^ (unsigned char)c) * FNV_PRIME;
		h = h * FNV_PRIME; /* the NUL after the bytes */
		fclose(f);
		free(names[i]);
	}
	*ntraces = n;
	return h;
}

/* tests/golden/VERSION names the semantics the goldens were made with and
 * their digest: regenerated goldens with the same semantics fail here, so
 * that a change of the model, a handler or the format that alters a trace
 * cannot pass by regenerating them without bumping UFFDLAB_SEMANTICS. */
static void test_goldens_change_only_with_the_version(void **state)
{
	(void)state;
	FILE *f = fopen("tests/golden/VERSION", "r");
	int sem = -1, n = 0;
	unsigned long long want = 0;
	char line[256];

	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "semantics %d", &sem) == 1)
			continue;
		if (sscanf(line, "digest %llx", &want) != 1)
			fail_msg("tests/golden/VERSION: bad line: %s", line);
	}
	fclose(f);
	uint64_t got = golden_digest(&n);
	assert_true(n >= 3);
	if (sem != UFFDLAB_SEMANTICS)
		fail_msg("tests/golden/VERSION says semantics %d, model/version.h %d: "
			 "regenerate the goldens and write semantics %d and digest %016llx there",
			 sem, UFFDLAB_SEMANTICS, UFFDLAB_SEMANTICS,
			 (unsigned long long)got);
	if (got != want)
		fail_msg("the golden traces changed (digest %016llx, VERSION has %016llx) "
			 "while the semantics stayed %d: bump UFFDLAB_SEMANTICS in "
			 "model/version.h and tests/golden/VERSION, or restore the goldens",
			 (unsigned long long)got, want, sem);
}

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

/* Draw tests/golden/<name>.trace in a fresh directory with `uffdlab viz`,
 * in a process whose memory layout is shifted (env, a perturbing malloc,
 * ASLR on or off); 0 if the SVG equals the stored one byte for byte. */
static int draw_matches(const char *name, const char *how)
{
	const char *b = getenv("BUILD");
	char cmd[2048];
	snprintf(cmd, sizeof cmd,
		 "d=$(mktemp -d) && cp tests/golden/%s.trace $d/ && "
		 "%s ./%s/uffdlab viz $d/%s.trace >/dev/null 2>&1 && "
		 "cmp -s $d/%s.svg tests/golden/%s.svg; st=$?; rm -rf $d; exit $st",
		 name, how, b ? b : "build", name, name, name);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The pictures beside the golden traces are what viz draws, in any
 * process: graphviz must not see pointer order (issue 7 item 8). */
static void test_golden_pictures_are_byte_stable(void **state)
{
	(void)state;
	static const char *const layouts[] = {
		"",
		"env UFFDLAB_PAD=$(head -c 6000 /dev/zero | tr '\\0' x) MALLOC_PERTURB_=165",
		"setarch -R", /* no ASLR: another placement of every mapping */
	};
	DIR *d = opendir("tests/golden");
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 7 || strcmp(e->d_name + len - 6, ".trace"))
			continue;
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(len - 6), e->d_name);
		for (size_t l = 0; l < sizeof layouts / sizeof layouts[0]; l++) {
			if (l == 2 && system("setarch -R true >/dev/null 2>&1") != 0)
				continue; /* setarch cannot drop ASLR here */
			if (draw_matches(name, layouts[l]))
				fail_msg("%s.svg differs when drawn with '%s'", name, layouts[l]);
		}
		n++;
	}
	closedir(d);
	assert_true(n >= 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_golden_trace_replays),
		cmocka_unit_test(test_goldens_change_only_with_the_version),
		cmocka_unit_test(test_golden_pictures_are_byte_stable),
	};
	return cmocka_run_group_tests_name("golden", tests, NULL, NULL);
}
