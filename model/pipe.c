/* model/pipe.c — the handler process's fds: simulated non-blocking pipes,
 * close() and poll().
 *
 * Contract: a pipe holds MK_PIPE_CAP bytes; write returns -EAGAIN when it is
 * full and -EPIPE when the read end is closed; read returns -EAGAIN when it
 * is empty and 0 (EOF) once the write end is closed. fds are numbered like
 * POSIX (lowest free, from 3). poll() reports POLLIN/POLLOUT/POLLHUP/
 * POLLERR/POLLNVAL as Linux does for pipes, and POLLIN on a uffd per rule 5.
 * With nothing ready it sleeps on the kernel's "readiness changed" queue,
 * which every queued message, pipe write/read, close and release wakes,
 * and checks again; with timeout_ms >= 0 it returns 0 at once (the model
 * has no time: the timeout always expires).
 */
#include "model/kernel_impl.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Footprints: MK_FD_TABLE is the fd table (written by pipe, close and
 * a read of a FORK event, read by every fd op); MK_FD_PIPE(i) is pipe i's
 * bytes and ends (written by read, write and close, read by poll). The
 * pollq wake of a readiness change is the scheduler's own object. */
#define MK_FD_TABLE 0
#define MK_FD_PIPE(i) (1 + (uint64_t)(i))

static int pipe_alloc(struct mkern *k)
{
	assert(k->npipes >= 0);
	for (int i = 0; i < k->npipes; i++)
		if (!k->pipes[i].used)
			return i;
	int n = k->npipes ? k->npipes * 2 : 8;
	struct mk_pipe *a = realloc(k->pipes, (size_t)n * sizeof(*a));

	if (!a)
		return -ENOMEM;
	for (int i = k->npipes; i < n; i++)
		a[i].used = 0;
	k->pipes = a;
	int idx = k->npipes;

	k->npipes = n;
	assert(idx < k->npipes && !k->pipes[idx].used);
	return idx;
}

int mk_sys_pipe(sys_t *sys, int fds[2])
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_FDS, MK_FD_TABLE, 1);
	int idx = pipe_alloc(k);

	if (idx < 0)
		return idx;
	int rfd = mk_fd_alloc(k, MK_FD_PIPE_R, idx);

	if (rfd < 0)
		return rfd;
	int wfd = mk_fd_alloc(k, MK_FD_PIPE_W, idx);

	if (wfd < 0) {
		k->fds[rfd].kind = MK_FD_FREE;
		return wfd;
	}
	struct mk_pipe *p = &k->pipes[idx];

	MK_TOUCH(k, MK_OC_FDS, MK_FD_PIPE(idx), 1);
	memset(p, 0, sizeof(*p));
	p->used = 1;
	p->rd_open = 1;
	p->wr_open = 1;
	fds[0] = rfd;
	fds[1] = wfd;
	assert(rfd != wfd && k->fds[rfd].kind == MK_FD_PIPE_R &&
	       k->fds[wfd].kind == MK_FD_PIPE_W);
	assert(k->fds[rfd].idx == idx && k->fds[wfd].idx == idx && !p->len);
	MK_LABEL(k, "pipe -> [%d, %d]", rfd, wfd);
	MEV(k->s, MEV_PIPE, rfd, wfd);
	return 0;
}

/* The pipe behind fd if it is the wanted end; else *err. */
static struct mk_pipe *fd_pipe(struct mkern *k, int fd, int kind, int *err)
{
	struct mk_fd *f = mk_fd_get(k, fd);

	if (!f) {
		*err = -EBADF;
		return NULL;
	}
	if (f->kind != kind) {
		/* the wrong end of a pipe is EBADF; a uffd takes no bytes */
		*err = f->kind == MK_FD_UFFD ? -EINVAL : -EBADF;
		return NULL;
	}
	struct mk_pipe *p = &k->pipes[f->idx];

	/* an open end of a pipe: the pipe is in use and that end open */
	assert(p->used && (kind == MK_FD_PIPE_R ? p->rd_open : p->wr_open));
	return p;
}


/* fd_pipe, declaring the table read and the pipe written. */
static struct mk_pipe *touch_pipe(struct mkern *k, int fd, int kind, int *err)
{
	MK_TOUCH(k, MK_OC_FDS, MK_FD_TABLE, 0);
	struct mk_pipe *p = fd_pipe(k, fd, kind, err);

	if (p)
		MK_TOUCH(k, MK_OC_FDS, MK_FD_PIPE(p - k->pipes), 1);
	return p;
}

long mk_sys_write(sys_t *sys, int fd, const void *buf, size_t len)
{
	struct mkern *k = mk_of_sys(sys);
	int err = 0;

	sched_point(k->s);
	struct mk_pipe *p = touch_pipe(k, fd, MK_FD_PIPE_W, &err);
	long r;

	if (!p)
		r = err;
	else if (!p->rd_open)
		r = -EPIPE;
	else if (len == 0)
		r = 0;
	else if (p->len == MK_PIPE_CAP)
		r = -EAGAIN;
	else {
		size_t n = (size_t)(MK_PIPE_CAP - p->len);

		if (n > len)
			n = len;
		for (size_t i = 0; i < n; i++)
			p->buf[(p->head + p->len + (int)i) % MK_PIPE_CAP] =
				((const unsigned char *)buf)[i];
		p->len += (int)n;
		r = (long)n;
		assert(n > 0 && p->len <= MK_PIPE_CAP);
		mk_ready(k);
	}
	MK_LABEL(k, "write %d %zu -> %ld", fd, len, r);
	MEV(k->s, MEV_PIPE_WRITE, fd, (int64_t)len, r);
	return r;
}

long mk_sys_read(sys_t *sys, int fd, void *buf, size_t len)
{
	struct mkern *k = mk_of_sys(sys);
	int err = 0;

	sched_point(k->s);
	struct mk_pipe *p = touch_pipe(k, fd, MK_FD_PIPE_R, &err);
	long r;

	if (!p)
		r = err;
	else if (len == 0)
		r = 0;
	else if (p->len == 0)
		r = p->wr_open ? -EAGAIN : 0;
	else {
		size_t n = (size_t)p->len;

		if (n > len)
			n = len;
		for (size_t i = 0; i < n; i++)
			((unsigned char *)buf)[i] =
				p->buf[(p->head + (int)i) % MK_PIPE_CAP];
		p->head = (p->head + (int)n) % MK_PIPE_CAP;
		p->len -= (int)n;
		r = (long)n;
		assert(n > 0 && p->len >= 0 && p->head < MK_PIPE_CAP);
		mk_ready(k); /* room for a writer polling POLLOUT */
	}
	MK_LABEL(k, "read %d %zu -> %ld", fd, len, r);
	MEV(k->s, MEV_PIPE_READ, fd, (int64_t)len, r);
	return r;
}

int mk_sys_close(sys_t *sys, int fd)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_FDS, MK_FD_TABLE, 1);
	struct mk_fd *f = mk_fd_get(k, fd);

	MK_LABEL(k, "close %d%s", fd, f ? "" : " -> EBADF");
	MEV(k->s, MEV_CLOSE, fd, f ? 0 : -EBADF);
	if (!f)
		return -EBADF;
	int kind = f->kind, idx = f->idx;

	if (kind != MK_FD_UFFD)
		MK_TOUCH(k, MK_OC_FDS, MK_FD_PIPE(idx), 1);
	f->kind = MK_FD_FREE;
	if (kind == MK_FD_UFFD) {
		mk_ctx_put(k, idx); /* rule 40: release at the last reference */
		return 0;
	}
	struct mk_pipe *p = &k->pipes[idx];

	/* the end being closed was open (one fd per end, no dup) */
	assert(p->used && (kind == MK_FD_PIPE_R ? p->rd_open : p->wr_open));
	if (kind == MK_FD_PIPE_R)
		p->rd_open = 0;
	else
		p->wr_open = 0;
	if (!p->rd_open && !p->wr_open)
		p->used = 0;
	mk_ready(k); /* POLLHUP / POLLERR on the other end */
	return 0;
}

int mk_sys_dup(sys_t *sys, int fd)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_FDS, 0, 1); /* the fd table */
	struct mk_fd *f = mk_fd_get(k, fd);
	int r;

	if (!f)
		r = -EBADF;
	else if (f->kind != MK_FD_UFFD)
		r = -EINVAL; /* pipes keep one fd per end here */
	else {
		int mmi = f->idx; /* f may move: mk_fd_alloc reallocs */

		r = mk_fd_alloc(k, MK_FD_UFFD, mmi);
		if (r >= 0) {
			assert(k->mm[mmi].ctx.live && k->mm[mmi].ctx.refs > 0);
			k->mm[mmi].ctx.refs++; /* rule 40: one more reference */
		}
	}
	MK_LABEL(k, "dup %d -> %d", fd, r);
	return r;
}

static short fd_revents(struct mkern *k, int fd, short events)
{
	if (fd < 0)
		return 0;
	struct mk_fd *f = mk_fd_get(k, fd);

	if (!f)
		return SYS_POLLNVAL;
	short r = 0;

	if (f->kind == MK_FD_UFFD) {
		/* only its readiness: a COPY that wakes a read fault changes
		 * the uffd, not what poll sees (mk_touch_readiness) */
		MK_TOUCH(k, MK_OC_UREADY, f->idx, 0);
		r = mk_uffd_revents(k, f->idx);
	} else {
		const struct mk_pipe *p = &k->pipes[f->idx];

		MK_TOUCH(k, MK_OC_FDS, MK_FD_PIPE(f->idx), 0);
		assert(p->used && p->len >= 0 && p->len <= MK_PIPE_CAP);
		if (f->kind == MK_FD_PIPE_R) {
			if (p->len)
				r |= SYS_POLLIN;
			if (!p->wr_open)
				r |= SYS_POLLHUP;
		} else {
			if (p->len < MK_PIPE_CAP)
				r |= MK_POLLOUT;
			if (!p->rd_open)
				r |= SYS_POLLERR;
		}
	}
	return (short)(r & (events | SYS_POLLERR | SYS_POLLHUP | SYS_POLLNVAL));
}

static void poll_events(struct mkern *k, const struct sys_pollfd *fds,
			int nfds, int n)
{
	MEV(k->s, MEV_POLL, nfds, n);
	for (int i = 0; i < nfds; i++)
		if (fds[i].revents)
			MEV(k->s, MEV_POLL_READY, fds[i].fd,
			    (uint16_t)fds[i].revents);
}

int mk_sys_poll(sys_t *sys, struct sys_pollfd *fds, int nfds, int timeout_ms)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_FDS, MK_FD_TABLE, 0); /* and each fd it asks about */
	if (nfds < 0) {
		MK_LABEL(k, "poll -> EINVAL");
		MEV(k->s, MEV_POLL, nfds, -EINVAL);
		return -EINVAL;
	}
	for (;;) {
		int n = 0;

		for (int i = 0; i < nfds; i++) {
			fds[i].revents = fd_revents(k, fds[i].fd, fds[i].events);
			n += fds[i].revents != 0;
		}
		assert(n >= 0 && n <= nfds);
		if (n || timeout_ms >= 0) {
			if (sched_labels_on(k->s)) {
				char rs[128] = "";
				size_t o = 0;

				for (int i = 0; i < nfds && o < sizeof(rs); i++)
					if (fds[i].revents)
						o += (size_t)snprintf(rs + o,
							sizeof(rs) - o, " %d:%#x",
							fds[i].fd,
							(unsigned)fds[i].revents);
				sched_label(k->s, "poll %d fds -> %d%s", nfds, n,
					    rs);
				poll_events(k, fds, nfds, n);
			}
			return n;
		}
		MK_LABEL(k, "poll %d fds: nothing ready, sleeps", nfds);
		MEV(k->s, MEV_POLL_SLEEP, nfds);
		sched_block(k->s, &k->pollq);
		MK_TOUCH(k, MK_OC_FDS, MK_FD_TABLE, 0);
	}
}
