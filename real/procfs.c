/* /proc's small files, read in one call. */
#include "real/procfs.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int real_read_small(const char *path, char *buf, size_t n)
{
	assert(buf && n > 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t k = read(fd, buf, n - 1);
	int err = k < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[k] = 0;
	return 0;
}
