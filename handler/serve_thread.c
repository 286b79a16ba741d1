/* The seed handlers' serve thread and exit pipe; see serve_thread.h. */
#include "serve_thread.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>

int serve_thread_start(sys_t *sys, const struct sys_ops *o, sys_thread_t **thr, int fds[2],
		       void (*fn)(void *), void *arg)
{
	assert(!*thr && fds[0] < 0 && fds[1] < 0);
	int err = o->pipe(sys, fds);
	if (err) {
		fds[0] = fds[1] = -1;
		return err;
	}
	err = o->spawn(sys, thr, "serve", fn, arg);
	if (err) {
		o->close(sys, fds[0]);
		o->close(sys, fds[1]);
		fds[0] = fds[1] = -1;
		*thr = NULL;
	}
	return err;
}

int serve_thread_stop(sys_t *sys, const struct sys_ops *o, sys_thread_t **thr, int fds[2])
{
	if (!*thr)
		return 0;
	assert(fds[0] >= 0 && fds[1] >= 0);
	char b = 0;
	long w = o->write(sys, fds[1], &b, 1);
	if (w < 0 && w != -EAGAIN) /* a full pipe already says "exit" */
		return (int)w;
	int err = o->join(sys, *thr);
	if (err)
		return err;
	*thr = NULL;
	o->close(sys, fds[0]);
	o->close(sys, fds[1]);
	fds[0] = fds[1] = -1;
	return 0;
}
