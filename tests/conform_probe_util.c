/* tests/conform_probe_util.c — one logged step per call (contract in
 * tests/conform_probe_util.h). */
#include "tests/conform_probe_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "handler/sys.h"

const char *p_err(int rc, char *buf, int n)
{
	static const struct {
		int e;
		const char *name;
	} names[] = {
		{EAGAIN, "EAGAIN"}, {EEXIST, "EEXIST"}, {EINVAL, "EINVAL"},
		{ENOENT, "ENOENT"}, {EFAULT, "EFAULT"}, {ENOMEM, "ENOMEM"},
		{EBADF, "EBADF"}, {ETIMEDOUT, "ETIMEDOUT"}, {EINTR, "EINTR"},
		{ENOSPC, "ENOSPC"}, {EBUSY, "EBUSY"}, {EPERM, "EPERM"},
		{ENOSYS, "ENOSYS"}, {ENOTTY, "ENOTTY"}, {EIO, "EIO"},
		{ESRCH, "ESRCH"}, {EPIPE, "EPIPE"}, {EOPNOTSUPP, "EOPNOTSUPP"},
	};

	if (rc >= 0) {
		snprintf(buf, (size_t)n, "%d", rc);
		return buf;
	}
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].e == -rc) {
			snprintf(buf, (size_t)n, "%s", names[i].name);
			return buf;
		}
	snprintf(buf, (size_t)n, "E%d", -rc);
	return buf;
}

/* An output field: bytes done, or -errno shown as "-EEXIST". */
static const char *field_str(int64_t f, char *buf, int n)
{
	char e[24];

	if (f >= 0)
		snprintf(buf, (size_t)n, "%" PRId64, f);
	else if (f >= -4095)
		snprintf(buf, (size_t)n, "-%s", p_err((int)f, e, sizeof e));
	else
		snprintf(buf, (size_t)n, "%" PRId64, f);
	return buf;
}

const char *p_where(const struct cenv *e, uint64_t a, char *buf, int n)
{
	uint64_t end = e->base + (uint64_t)e->pages * e->ps;

	if (a < e->base || a > end) {
		snprintf(buf, (size_t)n, "out");
		return buf;
	}
	uint64_t off = a - e->base;

	if (off % e->ps)
		snprintf(buf, (size_t)n, "p%" PRIu64 "+0x%" PRIx64, off / e->ps,
			 off % e->ps);
	else
		snprintf(buf, (size_t)n, "p%" PRIu64, off / e->ps);
	return buf;
}

void p_rc(struct pc *c, const char *what, int rc)
{
	char eb[24];

	clog_add(c->L, "%s -> %s", what, p_err(rc, eb, sizeof eb));
}

int p_open(struct pc *c, uint64_t ps, int pages, uint64_t features, int wp)
{
	struct cmem m = {.page_size = ps, .pages = pages, .features = features,
			 .wp = wp};
	int err = c->e->ops->open(c->e, &m);

	if (err) {
		clog_add(c->L, "ERROR open: %s (%d)", c->e->why, err);
		return -1;
	}
	return 0;
}

int p_open_proc(struct pc *c, int pages, uint64_t features, int wp)
{
	struct cmem m = {.page_size = KB4, .pages = pages, .features = features,
			 .wp = wp, .proc = 1};
	int err = c->e->ops->open(c->e, &m);

	if (err) {
		clog_add(c->L, "ERROR open: %s (%d)", c->e->why, err);
		return -1;
	}
	return 0;
}

static int start(struct pc *c, const struct cop *op, const char *what)
{
	int h = c->e->ops->start(c->e, op);

	if (h < 0) {
		char eb[24];

		clog_add(c->L, "ERROR start %s: %s", what, p_err(h, eb, sizeof eb));
		return -1;
	}
	c->nops = h + 1;
	return h;
}

int p_read(struct pc *c, int page)
{
	struct cop op = {.kind = COP_READ, .page = page};

	return start(c, &op, "read");
}

int p_write(struct pc *c, int page, int value)
{
	struct cop op = {.kind = COP_WRITE, .page = page, .value = value};

	return start(c, &op, "write");
}

int p_kread(struct pc *c, int page)
{
	struct cop op = {.kind = COP_KREAD, .page = page};

	return start(c, &op, "kread");
}

int p_madvise(struct pc *c, uint64_t off, uint64_t len)
{
	struct cop op = {.kind = COP_MADVISE, .off = off, .len = len};

	return start(c, &op, "madvise");
}

int p_dontneed(struct pc *c, int first, int n)
{
	return p_madvise(c, (uint64_t)first * c->e->ps, (uint64_t)n * c->e->ps);
}

int p_munmap(struct pc *c, int first, int n)
{
	struct cop op = {.kind = COP_MUNMAP, .off = (uint64_t)first * c->e->ps,
			 .len = (uint64_t)n * c->e->ps};

	return start(c, &op, "munmap");
}

int p_mremap(struct pc *c, int first, int n, int to)
{
	struct cop op = {.kind = COP_MREMAP, .page = first,
			 .off = (uint64_t)to * c->e->ps,
			 .len = (uint64_t)n * c->e->ps};

	return start(c, &op, "mremap");
}

void p_settle(struct pc *c)
{
	int err = c->e->ops->settle(c->e);

	if (err) {
		char eb[24];

		clog_add(c->L, "ERROR settle: %s", p_err(err, eb, sizeof eb));
	}
}

int p_await(struct pc *c)
{
	int err = c->e->ops->await_msg(c->e);

	if (err) {
		char eb[24];

		clog_add(c->L, "ERROR await: %s", p_err(err, eb, sizeof eb));
	}
	return err;
}

int p_copy_async(struct pc *c, int first, int n, const void *src)
{
	struct cop op = {.kind = COP_COPY, .off = (uint64_t)first * c->e->ps,
			 .len = (uint64_t)n * c->e->ps, .src = src};

	return start(c, &op, "copy");
}

int p_fork(struct pc *c, int page)
{
	struct cop op = {.kind = COP_FORK, .page = page};

	return start(c, &op, "fork");
}

int p_exit(struct pc *c)
{
	struct cop op = {.kind = COP_EXIT};

	return start(c, &op, "exit");
}

int p_signal(struct pc *c, const char *tag, int h)
{
	char eb[24];
	int rc = c->e->ops->signal(c->e, h);

	clog_add(c->L, "%s: signal h%d -> %s", tag, h, p_err(rc, eb, sizeof eb));
	return rc;
}

int p_reg(struct pc *c, const char *tag, int first, int n, uint64_t mode)
{
	char eb[24];
	int rc = c->e->ops->reg(c->e, first, n, mode);

	clog_add(c->L, "%s: register p%d n=%d mode=0x%" PRIx64 " -> %s", tag,
		 first, n, mode, p_err(rc, eb, sizeof eb));
	return rc;
}

void p_state(struct pc *c, const char *tag, int h)
{
	struct cres r;
	char eb[24], cb[24];

	if (h < 0) {
		clog_add(c->L, "ERROR %s: no such operation", tag);
		return;
	}
	c->e->ops->result(c->e, h, &r);
	if (!r.done && r.forked)
		clog_add(c->L, "%s: h%d forked", tag, h);
	else if (!r.done)
		clog_add(c->L, "%s: h%d blocked", tag, h);
	else if (r.seen.kind != CC_NONE)
		clog_add(c->L, "%s: h%d done rc=%s seen=%s", tag, h,
			 p_err(r.rc, eb, sizeof eb), cc_str(r.seen, cb, sizeof cb));
	else
		clog_add(c->L, "%s: h%d done rc=%s", tag, h,
			 p_err(r.rc, eb, sizeof eb));
}

void p_view(struct pc *c, const char *tag, int page)
{
	struct cview v;
	char cb[24], eb[24];
	int err = c->e->ops->view(c->e, page, &v);

	if (err) {
		clog_add(c->L, "ERROR %s: view p%d: %s", tag, page,
			 p_err(err, eb, sizeof eb));
		return;
	}
	clog_add(c->L, "%s: p%d present=%d wp=%d %s", tag, page, v.present,
		 v.wp, cc_str(v.content, cb, sizeof cb));
}

/* The op whose thread has this kernel-visible id, as "h1". */
static const char *ptid_str(struct pc *c, uint32_t ptid, char *buf, int n)
{
	for (int h = 0; h < c->nops; h++) {
		struct cres r;

		c->e->ops->result(c->e, h, &r);
		if (r.ptid == ptid) {
			snprintf(buf, (size_t)n, "h%d", h);
			return buf;
		}
	}
	snprintf(buf, (size_t)n, ptid ? "unknown" : "0");
	return buf;
}

static const char *flags_str(uint64_t f)
{
	switch (f) {
	case 0: return "0";
	case UFFD_PAGEFAULT_FLAG_WRITE: return "W";
	case UFFD_PAGEFAULT_FLAG_WP: return "WP";
	case UFFD_PAGEFAULT_FLAG_WRITE | UFFD_PAGEFAULT_FLAG_WP: return "WP|W";
	default: return "other";
	}
}

static void log_msg(struct pc *c, const char *tag, const struct uffd_msg *m)
{
	char a[32], b[32], t[32];

	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		p_where(c->e, m->arg.pagefault.address, a, sizeof a);
		if (c->e->features & UFFD_FEATURE_THREAD_ID)
			clog_add(c->L, "%s:  PF %s flags=%s ptid=%s", tag, a,
				 flags_str(m->arg.pagefault.flags),
				 ptid_str(c, m->arg.pagefault.feat.ptid, t, sizeof t));
		else
			clog_add(c->L, "%s:  PF %s flags=%s", tag, a,
				 flags_str(m->arg.pagefault.flags));
		break;
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		clog_add(c->L, "%s:  %s [%s,%s)", tag,
			 m->event == UFFD_EVENT_REMOVE ? "REMOVE" : "UNMAP",
			 p_where(c->e, m->arg.remove.start, a, sizeof a),
			 p_where(c->e, m->arg.remove.end, b, sizeof b));
		break;
	case UFFD_EVENT_REMAP:
		clog_add(c->L, "%s:  REMAP %s->%s len=%llu", tag,
			 p_where(c->e, m->arg.remap.from, a, sizeof a),
			 p_where(c->e, m->arg.remap.to, b, sizeof b),
			 (unsigned long long)m->arg.remap.len);
		break;
	case UFFD_EVENT_FORK:
		/* several FORKs in one read: the probe's own business */
		c->fork_ufd = (int)m->arg.fork.ufd;
		clog_add(c->L, "%s:  FORK ufd", tag);
		break;
	default:
		clog_add(c->L, "%s:  event 0x%x", tag, (unsigned)m->event);
	}
}

int p_uread(struct pc *c, const char *tag, int max)
{
	struct uffd_msg m[16];
	char eb[24];

	if (max > 16)
		max = 16;
	int n = c->e->sys->ops->uffd_read(c->e->sys, c->e->uffd, m, max);

	clog_add(c->L, "%s: read(%d) -> %s", tag, max, p_err(n, eb, sizeof eb));
	for (int i = 0; i < n; i++)
		log_msg(c, tag, &m[i]);
	return n;
}

void p_poll(struct pc *c, const char *tag)
{
	struct sys_pollfd p = {.fd = c->e->uffd, .events = SYS_POLLIN};
	char eb[24];
	int n = c->e->sys->ops->poll(c->e->sys, &p, 1, 0);

	clog_add(c->L, "%s: poll -> %s revents=0x%x", tag, p_err(n, eb, sizeof eb),
		 (unsigned)(n > 0 ? p.revents : 0));
}

int p_copy_raw(struct pc *c, const char *tag, uint64_t dst, uint64_t len,
	       const struct cc *src, uint64_t mode, int show_field)
{
	sys_t *s = c->e->sys;
	char wb[32], eb[24], fb[24], cb[24];
	/* at least one page, so that odd lengths still have a buffer */
	uint64_t blen = len > c->e->ps ? (len + c->e->ps - 1) / c->e->ps * c->e->ps :
					  c->e->ps;
	void *buf = NULL;
	const void *from;

	if (src) {
		buf = s->ops->buf_alloc(s, blen);
		if (!buf) {
			clog_add(c->L, "ERROR %s: buf_alloc", tag);
			return -1;
		}
		int err = c->e->ops->fill(c->e, buf, blen, *src);

		if (err) {
			clog_add(c->L, "ERROR %s: fill: %s", tag, p_err(err, eb, sizeof eb));
			s->ops->buf_free(s, buf, blen);
			return -1;
		}
		from = buf;
	} else {
		from = c->e->ops->bad_src(c->e);
	}
	int64_t f = 0;
	int rc = s->ops->uffd_copy(s, c->e->uffd, dst, from, len, mode, &f);

	if (buf)
		s->ops->buf_free(s, buf, blen);
	char line[CLOG_LINE];
	int o = snprintf(line, sizeof line, "%s: COPY %s len=%" PRIu64 " src=%s mode=0x%" PRIx64 " -> %s",
			 tag, p_where(c->e, dst, wb, sizeof wb), len,
			 src ? cc_str(*src, cb, sizeof cb) : "unreadable", mode,
			 p_err(rc, eb, sizeof eb));

	if (show_field && o > 0 && (size_t)o < sizeof line)
		snprintf(line + o, sizeof line - (size_t)o, " copied=%s",
			 field_str(f, fb, sizeof fb));
	clog_add(c->L, "%s", line);
	return rc;
}

int p_copy(struct pc *c, const char *tag, int page, int n, struct cc src,
	   uint64_t mode)
{
	return p_copy_raw(c, tag, c_addr(c->e, page), (uint64_t)n * c->e->ps,
			  &src, mode, 1);
}

int p_zero_raw(struct pc *c, const char *tag, uint64_t dst, uint64_t len,
	       uint64_t mode, int show_field)
{
	sys_t *s = c->e->sys;
	char wb[32], eb[24], fb[24];
	int64_t f = 0;
	int rc = s->ops->uffd_zeropage(s, c->e->uffd, dst, len, mode, &f);

	if (show_field)
		clog_add(c->L, "%s: ZEROPAGE %s len=%" PRIu64 " mode=0x%" PRIx64 " -> %s zeroed=%s",
			 tag, p_where(c->e, dst, wb, sizeof wb), len, mode,
			 p_err(rc, eb, sizeof eb), field_str(f, fb, sizeof fb));
	else
		clog_add(c->L, "%s: ZEROPAGE %s len=%" PRIu64 " mode=0x%" PRIx64 " -> %s",
			 tag, p_where(c->e, dst, wb, sizeof wb), len, mode,
			 p_err(rc, eb, sizeof eb));
	return rc;
}

int p_zero(struct pc *c, const char *tag, int page, int n, uint64_t mode)
{
	return p_zero_raw(c, tag, c_addr(c->e, page), (uint64_t)n * c->e->ps,
			  mode, 1);
}

int p_wake_raw(struct pc *c, const char *tag, uint64_t start, uint64_t len)
{
	char wb[32], eb[24];
	int rc = c->e->sys->ops->uffd_wake(c->e->sys, c->e->uffd, start, len);

	clog_add(c->L, "%s: WAKE %s len=%" PRIu64 " -> %s", tag,
		 p_where(c->e, start, wb, sizeof wb), len, p_err(rc, eb, sizeof eb));
	return rc;
}

int p_wake(struct pc *c, const char *tag, int page, int n)
{
	return p_wake_raw(c, tag, c_addr(c->e, page), (uint64_t)n * c->e->ps);
}

int p_wp_raw(struct pc *c, const char *tag, uint64_t start, uint64_t len,
	     uint64_t mode)
{
	char wb[32], eb[24];
	int rc = c->e->sys->ops->uffd_writeprotect(c->e->sys, c->e->uffd, start,
						   len, mode);

	clog_add(c->L, "%s: WRITEPROTECT %s len=%" PRIu64 " mode=0x%" PRIx64 " -> %s",
		 tag, p_where(c->e, start, wb, sizeof wb), len, mode,
		 p_err(rc, eb, sizeof eb));
	return rc;
}

int p_wp(struct pc *c, const char *tag, int page, int n, uint64_t mode)
{
	return p_wp_raw(c, tag, c_addr(c->e, page), (uint64_t)n * c->e->ps, mode);
}
