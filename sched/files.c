/* Inputs are opened non-blocking, checked to be regular files, then read
 * as ordinary streams; outputs go to a temporary file that is renamed over
 * the target only once everything reached it. */
#include "sched/files.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

int input_read_all(const char *path, char **buf, size_t *len)
{
	int err = 0;
	FILE *f = input_open(path, &err);
	if (!f)
		return err;
	char *b = NULL;
	size_t n = 0, cap = 0;
	for (size_t r = 1; r;) {
		if (n + 1 >= cap) {
			char *nb = realloc(b, cap = cap ? cap * 2 : 4096);
			if (!nb) {
				free(b);
				fclose(f);
				return -ENOMEM;
			}
			b = nb;
		}
		n += r = fread(b + n, 1, cap - n - 1, f);
	}
	err = ferror(f) ? -EIO : 0;
	fclose(f);
	assert(n < cap);
	b[n] = '\0';
	if (err)
		free(b);
	else
		*buf = b, *len = n;
	return err;
}

int output_open(struct output *o, const char *path)
{
	assert(o && path);
	memset(o, 0, sizeof *o);
	if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path ||
	    snprintf(o->tmp, sizeof o->tmp, "%s.tmp.%ld", path, (long)getpid()) >=
		    (int)sizeof o->tmp)
		return -ENAMETOOLONG;
	int fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	o->f = fdopen(fd, "w");
	if (!o->f) {
		int e = -errno;
		close(fd);
		unlink(o->tmp);
		return e;
	}
	return 0;
}

int output_commit(struct output *o)
{
	assert(o->f);
	errno = 0;
	int e = 0;
	if (fflush(o->f) || ferror(o->f))
		e = errno ? -errno : -EIO;
	if (!e && fsync(fileno(o->f)))
		e = -errno;
	errno = 0;
	if (fclose(o->f) && !e)
		e = errno ? -errno : -EIO;
	o->f = NULL;
	if (!e && rename(o->tmp, o->path))
		e = -errno;
	if (e)
		unlink(o->tmp);
	assert(!o->f);
	return e;
}

void output_abort(struct output *o)
{
	if (o->f)
		fclose(o->f);
	o->f = NULL;
	unlink(o->tmp);
}
