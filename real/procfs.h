/* real/procfs.h — reading the small text files of /proc.
 *
 * Contract: real_read_small() reads at most n - 1 bytes of path into buf,
 * NUL-terminated: 0, or -errno. One read(2): the files it is for (a task's
 * stat, wchan, a uffd's fdinfo) are produced whole by the kernel per read.
 */
#ifndef UFFDLAB_REAL_PROCFS_H
#define UFFDLAB_REAL_PROCFS_H

#include <stddef.h>

int real_read_small(const char *path, char *buf, size_t n);

#endif
