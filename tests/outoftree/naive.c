/* A minimal handler written against the installed interface alone
 * (<uffdlab/handler.h>): it serves every fault from the snapshot and
 * ignores REMOVE, so a page the balloon removed comes back with its old
 * bytes. tests/test_handler_api.c registers it in-tree; tests/test_install.c
 * builds it out of tree with pkg-config against an installed uffdlab. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "naive.h"

struct naive {
	struct handler base; /* first, as the interface requires */
	sys_t *sys;
	struct handler_config cfg;
	int exit_fds[2];
	sys_thread_t *loop;
	void *buf;
	char err[128];
};

static struct naive *of(struct handler *h)
{
	return (struct naive *)h;
}

static int serve_one(struct naive *n, const struct uffd_msg *m)
{
	const struct sys_ops *o = n->sys->ops;
	if (m->event != UFFD_EVENT_PAGEFAULT)
		return 0; /* the bug under test: REMOVE is ignored */
	uint64_t ps = n->cfg.page_size;
	uint64_t addr = m->arg.pagefault.address & ~(ps - 1);
	int err = o->source_read(n->sys, addr - n->cfg.base, n->buf, ps);
	if (err)
		return err;
	int64_t done;
	err = o->uffd_copy(n->sys, n->cfg.uffd, addr, n->buf, ps, 0, &done);
	if (err == -EEXIST)
		err = o->uffd_wake(n->sys, n->cfg.uffd, addr, ps);
	return err;
}

static void loop_main(void *arg)
{
	struct naive *n = arg;
	const struct sys_ops *o = n->sys->ops;
	for (;;) {
		struct sys_pollfd p[2] = {{n->cfg.uffd, SYS_POLLIN, 0},
					  {n->exit_fds[0], SYS_POLLIN, 0}};
		if (o->poll(n->sys, p, 2, -1) < 0 || p[1].revents)
			return;
		struct uffd_msg m;
		int r;
		while ((r = o->uffd_read(n->sys, n->cfg.uffd, &m, 1)) == 1) {
			int err = serve_one(n, &m);
			if (err) {
				snprintf(n->err, sizeof n->err, "serve: %s", strerror(-err));
				return;
			}
		}
	}
}

static int naive_init(struct handler *h, sys_t *sys, const struct handler_config *cfg)
{
	struct naive *n = of(h);
	n->sys = sys;
	n->cfg = *cfg;
	n->exit_fds[0] = n->exit_fds[1] = -1;
	int err = sys->ops->pipe(sys, n->exit_fds);
	if (!err && !(n->buf = sys->ops->buf_alloc(sys, cfg->page_size)))
		err = -ENOMEM;
	return err; /* the registry calls naive_free on an error */
}

static int naive_start(struct handler *h)
{
	struct naive *n = of(h);
	return n->sys->ops->spawn(n->sys, &n->loop, "loop", loop_main, n);
}

static int naive_pause(struct handler *h)
{
	struct naive *n = of(h);
	if (!n->loop)
		return 0;
	char c = 1;
	long w = n->sys->ops->write(n->sys, n->exit_fds[1], &c, 1);
	if (w != 1)
		return w < 0 ? (int)w : -EIO;
	int err = n->sys->ops->join(n->sys, n->loop);
	n->loop = NULL;
	n->sys->ops->read(n->sys, n->exit_fds[0], &c, 1);
	return err;
}

static int naive_resume(struct handler *h)
{
	return of(h)->loop ? 0 : naive_start(h);
}

static int naive_stop(struct handler *h)
{
	int err = naive_pause(h);
	return err ? err : of(h)->err[0] ? -EIO : 0;
}

static enum hpage naive_view(const struct handler *h, uint64_t page)
{
	(void)h;
	(void)page;
	return HPAGE_UNKNOWN; /* it keeps no record at all */
}

static int naive_export(struct handler *h, uint64_t first, uint64_t n, enum hpage *out)
{
	(void)h;
	for (uint64_t i = 0; i < n; i++)
		out[i] = naive_view(h, first + i);
	return 0;
}

static void naive_stats(const struct handler *h, struct handler_stats *out)
{
	(void)h;
	memset(out, 0, sizeof *out);
}

static const char *naive_error(const struct handler *h)
{
	const struct naive *n = (const struct naive *)h;
	return n->err[0] ? n->err : NULL;
}

static void naive_free(struct handler *h)
{
	struct naive *n = of(h);
	naive_pause(h);
	for (int i = 0; i < 2; i++)
		if (n->exit_fds[i] >= 0)
			n->sys->ops->close(n->sys, n->exit_fds[i]);
	if (n->buf)
		n->sys->ops->buf_free(n->sys, n->buf, n->cfg.page_size);
}

static void naive_discard(struct handler *h)
{
	(void)h; /* nothing of its own: the backend reclaims fds and buffers */
}

static const struct handler_ops naive_ops = {
	.init = naive_init, .start = naive_start, .pause = naive_pause,
	.resume = naive_resume, .stop = naive_stop, .prefault = NULL,
	.page_view = naive_view, .export_pages = naive_export,
	.get_stats = naive_stats, .error = naive_error, .free = naive_free,
	.discard = naive_discard,
};

const struct handler_desc naive_desc = {
	"naive", "serves every fault from the snapshot, ignores REMOVE (test)", 0,
	sizeof(struct naive), &naive_ops,
	0, 0, /* not declared data-race-free: the reducing dfs keeps its steps ordered */
};
