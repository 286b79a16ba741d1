/* tests/conform_model.c — the probe environment on the simulated kernel
 * (contract in tests/conform.h).
 *
 * The probe runs as a coroutine ("probe") of a fresh scheduler, because
 * every sys op and guest operation of model/ is a scheduling point and may
 * block, which only a coroutine can do. Each started guest operation is a
 * coroutine of its own. settle() yields until no other coroutine is
 * runnable: then each has ended or sleeps in a fault or an event wait,
 * the model's counterpart of the real backend's "finished or asleep in
 * the kernel". Between settles only the probe runs, so a probe that
 * settles observes the same thing under every seed.
 */
#include "tests/conform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/kernel.h"
#include "model/sys_model.h"
#include "sched/sched.h"

#define M_STACK (256u << 10)
#define M_MAX_STEPS 2000000u

struct mcenv;

struct mop {
	struct mcenv *m;
	struct cop op;
	int tid;
	int done;
	int rc;
	int forked;
	int64_t field;
	mk_content seen;
};

struct mcenv {
	struct cenv e;          /* first: a struct cenv * is a struct mcenv * */
	sched_t *s;
	struct mkern *k;
	int self;               /* the probe's coroutine */
	const struct cprobe *p;
	struct clog *log;
	struct mop ops[C_MAX_OPS];
	int nops;
	int kver;               /* the profile open() asks for */
};

static struct mcenv *M(struct cenv *e)
{
	return (struct mcenv *)e;
}

static struct cc tag_cc(mk_content t)
{
	if (t == 0)
		return cc_zero();
	if (MK_IS_SNAP(t))
		return cc_snap((int)MK_SNAP_PAGE(t));
	if (MK_IS_WRITE(t))
		return cc_write((int)MK_WRITE_ID(t));
	return (struct cc){CC_OTHER, 0};
}

static int cc_tag(struct cc c, mk_content *t)
{
	switch (c.kind) {
	case CC_ZERO: *t = 0; return 0;
	case CC_SNAP: *t = MK_SNAP((uint64_t)c.arg); return 0;
	case CC_WRITE: *t = MK_WRITE((uint64_t)c.arg); return 0;
	default: return -EINVAL;
	}
}

static int m_open(struct cenv *e, const struct cmem *mem)
{
	struct mcenv *m = M(e);

	if (m->k) {
		snprintf(e->why, sizeof e->why, "open() called twice");
		return -EBUSY;
	}
	struct mk_config c = {
		.page_size = mem->page_size,
		.pages = mem->pages,
		.features = mem->features,
		.register_wp = mem->wp,
		.kver = m->kver,
	};

	/* mk_new has no scheduling point: creating the kernel from inside
	 * the probe's coroutine is fine */
	m->k = mk_new(m->s, &c);
	if (!m->k) {
		int err = errno ? errno : ENOMEM;

		snprintf(e->why, sizeof e->why, "mk_new: %s", strerror(err));
		return -err;
	}
	e->sys = mk_sys(m->k);
	e->uffd = mk_uffd(m->k);
	e->base = MK_BASE_DEFAULT;
	e->ps = mem->page_size;
	e->pages = mem->pages;
	e->features = mem->features;
	return 0;
}

/* COP_FORK: the child is mm `ci` of the same kernel; its read goes to
 * the child's uffd (rule 39). */
static int fork_and_read(struct mkern *k, int page, int *forked, mk_content *seen)
{
	int ci = mk_fork(k);

	if (ci < 0)
		return ci;
	*forked = 1;
	return mk_access(k, ci, page, 0, 0, 0, seen);
}

static void op_main(void *arg)
{
	struct mop *o = arg;
	struct mkern *k = o->m->k;
	const struct cenv *e = &o->m->e;
	const struct cop *op = &o->op;

	switch (op->kind) {
	case COP_READ:
		o->rc = mk_access(k, 0, op->page, 0, 0, 0, &o->seen);
		break;
	case COP_WRITE:
		o->rc = mk_access(k, 0, op->page, 1,
				  MK_WRITE((uint64_t)op->value), 0, NULL);
		break;
	case COP_KREAD:
		o->rc = mk_access(k, 0, op->page, 0, 0, 1, &o->seen);
		break;
	case COP_MADVISE:
		o->rc = mk_madvise(k, 0, e->base + op->off, op->len);
		break;
	case COP_MUNMAP:
		/* the model unmaps whole pages of its region only */
		if (op->off % e->ps || op->len % e->ps || !op->len)
			o->rc = -EINVAL;
		else
			o->rc = mk_munmap(k, (int)(op->off / e->ps),
					  (int)((op->off + op->len) / e->ps) - 1);
		break;
	case COP_MREMAP:
		if (op->off % e->ps || op->len % e->ps || !op->len)
			o->rc = -EINVAL;
		else
			o->rc = mk_mremap_to(k, op->page, op->page +
					     (int)(op->len / e->ps) - 1,
					     e->base + op->off);
		break;
	case COP_COPY:
		o->rc = e->sys->ops->uffd_copy(e->sys, e->uffd, e->base + op->off,
					       op->src, op->len, 0, &o->field);
		break;
	case COP_FORK:
		o->rc = fork_and_read(k, op->page, &o->forked, &o->seen);
		break;
	case COP_EXIT:
		o->rc = mk_exit(k);
		break;
	default:
		o->rc = -EINVAL;
	}
	o->done = 1;
}

static int m_start(struct cenv *e, const struct cop *op)
{
	struct mcenv *m = M(e);

	if (!m->k)
		return -EBADF;
	if (m->nops == C_MAX_OPS)
		return -ENOSPC;
	int guest = op->kind == COP_READ || op->kind == COP_WRITE ||
		    op->kind == COP_KREAD || op->kind == COP_FORK;

	if (guest && (op->page < 0 || op->page >= e->pages))
		return -EINVAL;
	/* a COPY is the handler's call; the rest the guest process's */
	int kind = op->kind == COP_COPY ? MK_HANDLER :
		   guest || op->kind == COP_EXIT ? MK_GUEST : MK_BALLOON;
	struct mop *o = &m->ops[m->nops];

	memset(o, 0, sizeof(*o));
	o->m = m;
	o->op = *op;
	int tid = sched_spawn(m->s, kind == MK_HANDLER ? "handler" :
			      kind == MK_GUEST ? "guest" : "balloon", kind,
			      op_main, o);

	if (tid < 0)
		return tid;
	o->tid = tid;
	return m->nops++;
}

static void m_result(struct cenv *e, int h, struct cres *out)
{
	struct mcenv *m = M(e);

	memset(out, 0, sizeof(*out));
	if (h < 0 || h >= m->nops)
		return;
	const struct mop *o = &m->ops[h];

	out->done = o->done;
	out->rc = o->rc;
	out->ptid = (uint32_t)o->tid; /* the model's ptid is the sched id */
	out->forked = o->forked;
	out->field = o->field;
	if (o->done && o->rc == 0 &&
	    (o->op.kind == COP_READ || o->op.kind == COP_KREAD ||
	     o->op.kind == COP_FORK))
		out->seen = tag_cc(o->seen);
}

static int m_settle(struct cenv *e)
{
	struct mcenv *m = M(e);

	for (;;) {
		int busy = 0, n = sched_nthreads(m->s);

		for (int t = 0; t < n && !busy; t++)
			busy = t != m->self &&
			       sched_thread_state(m->s, t) == SCHED_T_RUNNABLE;
		if (!busy)
			return 0;
		/* a yield, not a point: under PCT it lets the others go first */
		sched_yield(m->s);
	}
}

static int others_runnable(struct mcenv *m)
{
	for (int t = 0; t < sched_nthreads(m->s); t++)
		if (t != m->self && sched_thread_state(m->s, t) == SCHED_T_RUNNABLE)
			return 1;
	return 0;
}

/* Rule 16's probe looks as soon as the REMOVE is queued: the others run
 * one yield at a time until a message is. */
static int m_await_msg(struct cenv *e)
{
	struct mcenv *m = M(e);

	if (!m->k)
		return -EBADF;
	for (;;) {
		if (mk_pending_events(m->k) + mk_pending_faults(m->k) > 0)
			return 0;
		if (!others_runnable(m))
			return -ETIMEDOUT;
		sched_yield(m->s);
	}
}

static int m_view(struct cenv *e, int page, struct cview *out)
{
	struct mcenv *m = M(e);
	struct mk_page_view v;

	memset(out, 0, sizeof(*out));
	if (!m->k)
		return -EBADF;
	if (page < 0 || page >= e->pages)
		return -EINVAL;
	mk_page_view(m->k, page, &v);
	out->present = v.present;
	out->wp = v.wp;
	if (v.present)
		out->content = tag_cc(v.content);
	return 0;
}

static int m_fill(struct cenv *e, void *buf, uint64_t len, struct cc c)
{
	struct mcenv *m = M(e);
	mk_content t;

	if (!m->k)
		return -EBADF;
	int err = cc_tag(c, &t);

	return err ? err : mk_buf_fill(m->k, buf, len, t);
}

static const void *m_short_src(struct cenv *e, uint64_t len, struct cc c)
{
	/* nothing readable follows a model buffer (model/buffer.c) */
	void *b = e->sys->ops->buf_alloc(e->sys, len);

	if (b && m_fill(e, b, len, c))
		return NULL;
	return b;
}

static const void *m_bad_src(struct cenv *e)
{
	/* anything that is not a live buffer of the kernel reads as an
	 * unreadable source (model/sys_model.h) */
	static const char not_a_buffer[8];

	(void)e;
	return not_a_buffer;
}

static int m_reg(struct cenv *e, int first, int n, uint64_t mode)
{
	struct mcenv *m = M(e);

	if (!m->k)
		return -EBADF;
	int err = mk_unregister(m->k, first, first + n - 1);

	if (err || !mode)
		return err;
	return mk_register(m->k, first, first + n - 1, mode);
}

static int m_signal(struct cenv *e, int h)
{
	struct mcenv *m = M(e);

	if (!m->k)
		return -EBADF;
	if (h < 0 || h >= m->nops)
		return -EINVAL;
	/* whether it interrupted a wait is for the probe to observe through
	 * the thread's state and the messages, as on the real kernel */
	mk_signal(m->k, m->ops[h].tid, 0);
	return 0;
}

static int m_release(struct cenv *e)
{
	struct mcenv *m = M(e);

	if (!m->k || e->uffd < 0)
		return -EBADF;
	/* the uffd is released when both the guest process's reference and
	 * the handler's fd are gone, as in the kernel */
	mk_release(m->k);
	int err = e->sys->ops->close(e->sys, e->uffd);

	e->uffd = -1;
	return err;
}

/* The model keeps no /proc: its kernel state says the same (rule 43). */
static int m_fdinfo(struct cenv *e, long *pending, long *total)
{
	struct mcenv *m = M(e);
	long waiting = 0;

	if (!m->k)
		return -EBADF;
	for (int t = 0; t < sched_nthreads(m->s); t++) {
		int rd = 0;

		if (mk_waiting_page(m->k, t, &rd) >= 0 && rd)
			waiting++;
	}
	*pending = mk_pending_faults(m->k);
	*total = *pending + waiting;
	return 0;
}

static void m_wstate(struct cenv *e, int h, char *buf, size_t n)
{
	struct mcenv *m = M(e);
	int tid = h >= 0 && h < m->nops && !m->ops[h].done ? m->ops[h].tid : -1;

	if (tid >= 0 && mk_waiting_page(m->k, tid, NULL) >= 0)
		snprintf(buf, n, "S handle_userfault");
	else if (tid >= 0 && mk_waiting_event(m->k, tid))
		snprintf(buf, n, "D userfaultfd_event_wait_completion");
	else
		snprintf(buf, n, "other");
}

static const struct cenv_ops model_ops = {
	.open = m_open,
	.start = m_start,
	.result = m_result,
	.settle = m_settle,
	.view = m_view,
	.fill = m_fill,
	.bad_src = m_bad_src,
	.short_src = m_short_src,
	.fdinfo = m_fdinfo,
	.wstate = m_wstate,
	.reg = m_reg,
	.signal = m_signal,
	.release = m_release,
	.await_msg = m_await_msg,
};

static void probe_main(void *arg)
{
	struct mcenv *m = arg;

	m->self = sched_self(m->s);
	m->p->fn(&m->e, m->log);
	if (!m->k)
		return;
	/* teardown: releasing the uffd wakes every fault and event waiter
	 * (rule 40), so that the run can end */
	if (m->e.uffd >= 0) {
		int err = m_release(&m->e);

		if (err)
			clog_add(m->log, "ERROR teardown: release -> %d", err);
	}
	m_settle(&m->e);
	for (int h = 0; h < m->nops; h++)
		if (!m->ops[h].done)
			clog_add(m->log, "ERROR teardown: h%d still blocked after release", h);
}

int conform_model_run(const struct cprobe *p, uint64_t seed, struct clog *log)
{
	return conform_model_run_kver(p, seed, 0, log);
}

int conform_model_run_kver(const struct cprobe *p, uint64_t seed, int kver,
			   struct clog *log)
{
	struct sched_opts o = {
		.strategy = SCHED_RANDOM,
		.seed = seed,
		.max_steps = M_MAX_STEPS,
		.stack_size = M_STACK,
	};
	struct mcenv *m = calloc(1, sizeof(*m));

	if (!m) {
		clog_add(log, "ERROR model: out of memory");
		return -ENOMEM;
	}
	m->e.ops = &model_ops;
	m->e.backend = "model";
	m->e.uffd = -1;
	m->p = p;
	m->log = log;
	m->kver = kver;
	m->s = sched_new(&o);
	if (!m->s) {
		clog_add(log, "ERROR model: sched_new failed");
		free(m);
		return -ENOMEM;
	}
	int rc = 0;
	int tid = sched_spawn(m->s, "probe", MK_HANDLER, probe_main, m);

	if (tid < 0) {
		clog_add(log, "ERROR model: spawn probe -> %d", tid);
		rc = tid;
	} else {
		enum sched_result r = sched_run(m->s);

		if (r != SCHED_DONE) {
			clog_add(log, "ERROR model: run ended with sched result %d after %llu steps",
				 (int)r, (unsigned long long)sched_steps(m->s));
			rc = -EDEADLK;
		}
	}
	mk_free(m->k);
	sched_free(m->s);
	free(m);
	return rc;
}
