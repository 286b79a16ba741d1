/* tests/fuzz/corpus_main.h — stored fuzz inputs through a target, without
 * libFuzzer (see corpus_main.c). */
#ifndef UFFDLAB_TESTS_FUZZ_CORPUS_MAIN_H
#define UFFDLAB_TESTS_FUZZ_CORPUS_MAIN_H

#include <stddef.h>
#include <stdint.h>

typedef int (*fuzz_fn)(const uint8_t *data, size_t size);

/* The file at path through fn: 0, or -errno if it cannot be read. */
int fuzz_corpus_file(const char *path, fuzz_fn fn);
/* Every regular file of dir through fn, in name order: how many, or
 * -errno. verbose: name each file on stderr before running it. */
int fuzz_corpus_run(const char *dir, fuzz_fn fn, int verbose);

/* The targets as the gcc build names them (-DFUZZ_ENTRY=...). */
int fuzz_scenario_one(const uint8_t *data, size_t size);
int fuzz_trace_one(const uint8_t *data, size_t size);
int fuzz_viz_one(const uint8_t *data, size_t size);
int fuzz_sim_one(const uint8_t *data, size_t size);

#endif
