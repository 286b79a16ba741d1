/* tests/fuzz/corpus_main.c — run a fuzz target over stored inputs without
 * libFuzzer (gcc, no sanitizer needed): what `make test` does with
 * tests/fuzz/corpus/<name>/ through tests/test_fuzz_corpus.c.
 *
 * fuzz_corpus_run() feeds every regular file of dir (dotfiles skipped, in
 * strcmp order so that a failure names the same file each time) to fn, and
 * returns how many it ran, or -errno when dir cannot be read or a file not
 * read (files open as the tool's inputs do, sched/files.h: a FIFO or a
 * device given on the command line is -EINVAL, never a hang). A target
 * that finds a broken contract aborts, naming it on stderr;
 * fuzz_corpus_run() prints each file's path first (with verbose), so the
 * culprit is the last one printed.
 *
 * Built with -DFUZZ_CORPUS_MAIN=fuzz_<name>_one it is also a program:
 * `corpus_<name> FILE|DIR...` runs the target over those, e.g. to replay an
 * input of tests/fuzz/known/ in a gcc build.
 */
#include "tests/fuzz/corpus_main.h"
#include "sched/files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *fuzz_current_input;

/* A stored input, read as the tool reads its inputs (sched/files.h): a
 * regular file only, never blocking on a FIFO. */
int fuzz_corpus_file(const char *path, fuzz_fn fn)
{
	char *data = NULL;
	size_t len = 0;
	int e = input_read_all(path, &data, &len);

	if (e)
		return e;
	/* an exact-size copy, so that ASan sees a read past the input */
	uint8_t *exact = malloc(len ? len : 1);

	if (!exact) {
		free(data);
		return -ENOMEM;
	}
	memcpy(exact, data, len);
	free(data);
	fuzz_current_input = path;
	fn(exact, len);
	fuzz_current_input = NULL;
	free(exact);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fuzz_corpus_run(const char *dir, fuzz_fn fn, int verbose)
{
	DIR *d = opendir(dir);
	struct dirent *ent;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int e = 0, ran = 0;

	if (!d)
		return -errno;
	while ((ent = readdir(d))) {
		if (ent->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *nn);

			if (!nn) {
				e = -ENOMEM;
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(ent->d_name))) {
			e = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; !e && i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		if (verbose) {
			fprintf(stderr, "corpus: %s\n", path);
			fflush(stderr);
		}
		e = fuzz_corpus_file(path, fn);
		if (!e)
			ran++;
		else
			fprintf(stderr, "corpus: %s: %s\n", path, strerror(-e));
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return e ? e : ran;
}

#ifdef FUZZ_CORPUS_MAIN
int FUZZ_CORPUS_MAIN(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int e;

		if (stat(argv[i], &st)) {
			perror(argv[i]);
			return 2;
		}
		if (S_ISDIR(st.st_mode)) {
			e = fuzz_corpus_run(argv[i], FUZZ_CORPUS_MAIN, 1);
		} else {
			fprintf(stderr, "corpus: %s\n", argv[i]);
			e = fuzz_corpus_file(argv[i], FUZZ_CORPUS_MAIN);
		}
		if (e < 0) {
			fprintf(stderr, "%s: %s\n", argv[i], strerror(-e));
			return 2;
		}
	}
	fprintf(stderr, "corpus: every input kept the contracts\n");
	return 0;
}
#endif
