/* sched/input.h — opening an input file (a scenario, a trace) safely.
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

#endif
