/* Inputs are opened non-blocking, checked to be regular files, then read
 * as ordinary streams. */
#include "sched/input.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *input_open(const char *path, int *err)
{
	assert(path && err);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		*err = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		close(fd);
		return NULL;
	}
	/* a regular file never blocks; the flag is dropped for tidiness */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		*err = -errno;
		close(fd);
	}
	return f;
}

const char *input_strerror(int err)
{
	assert(err < 0);
	return err == -EINVAL ? "not a regular file" : strerror(-err);
}
