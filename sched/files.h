/* sched/files.h — opening an input file (a scenario, a trace) safely.
 *
 * Contract: input_open() returns a stream on a regular file, or NULL with
 * *err a negative errno: what open() said, or -EINVAL for anything that is
 * not a regular file (a FIFO, a device, a directory). It never blocks: a
 * FIFO without a writer would hang fopen() for good. The descriptor is
 * close-on-exec. input_strerror() gives the one-line reason.
 */
#ifndef UFFDLAB_SCHED_INPUT_H
#define UFFDLAB_SCHED_INPUT_H

#include <stdio.h>

FILE *input_open(const char *path, int *err);
const char *input_strerror(int err);
/* The whole of a regular file (input_open's rules), NUL-terminated for
 * text use (*len excludes the NUL): 0, or -errno (-EIO on a read error). */
int input_read_all(const char *path, char **buf, size_t *len);

/* Contract (outputs: traces, DOT, SVG, PNG): output_open() opens a
 * temporary file beside path ("<path>.tmp.<pid>", close-on-exec);
 * output_commit() flushes it, checks every write and the close, and only
 * then renames it over path. On any failure the temporary file is removed,
 * path is left as it was (never truncated), and the result is the real
 * -errno (-ENOSPC on a full disk, not -EIO). output_abort() drops it. */
struct output {
	FILE *f;
	char path[4096];
	char tmp[4096 + 32];
};

int output_open(struct output *o, const char *path);
int output_commit(struct output *o);
void output_abort(struct output *o);

#endif
