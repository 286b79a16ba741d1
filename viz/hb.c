/* viz/hb.c — happens-before edges and the kernel queue, from step events.
 *
 * Reads only the typed events of each step (model/event.h), never the
 * label text. Every uffd message carries the sequence number it was
 * queued with (a fault's MEV_FAULT msg, an event's MEV_*_QUEUED msg) and
 * the read that returns it names it (MEV_READ_* msg): a queued message is
 * matched to its read by that id, exactly, whatever the address spaces.
 * A fault's install is the first uffd_copy/zeropage covering its address
 * after the read; its waker the last wake covering it before MEV_WOKEN.
 * Events of a step are taken in the order the model emitted them.
 */
#include "viz/viz_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handler/sys.h"

#define MODE_DONTWAKE 1 /* UFFDIO_COPY/ZEROPAGE_MODE_DONTWAKE */
#define WP_MODE_WP 1    /* UFFDIO_WRITEPROTECT_MODE_WP */
#define WP_MODE_DONTWAKE 2
#define QSHOW_MAX 6     /* queue entries listed in a queue node */
#define MSG_MAX 80      /* a message's text: mk_fmt_msg()'s buffer */

const char *viz_hb_name(enum viz_hb_kind k)
{
	static const char *const names[VIZ_HB_NKINDS] = {
		[VIZ_HB_FAULT_READ] = "fault->read",
		[VIZ_HB_READ_SPAWN] = "read->spawn",
		[VIZ_HB_SPAWN_INSTALL] = "spawn->install",
		[VIZ_HB_READ_INSTALL] = "read->install",
		[VIZ_HB_WAKE_WOKEN] = "wake->woken",
		[VIZ_HB_EVENT_READ] = "event->read",
		[VIZ_HB_READ_RESUMED] = "read->resumed",
		[VIZ_HB_RESUMED_ZAP] = "resumed->zap",
		[VIZ_HB_SPAWN_START] = "spawn->start",
	};
	return (unsigned)k < VIZ_HB_NKINDS ? names[k] : "?";
}

struct qent {              /* a queued, unread message */
	char msg[MSG_MAX];
	int64_t id;
	size_t step;
	uint32_t tid;
};

struct wait_install {      /* a fault read, its install not seen yet */
	uint64_t addr;
	size_t read;
	uint32_t reader;
	uint32_t faulter;      /* the thread asleep in that fault */
	char msg[MSG_MAX];
};

struct tstate {
	int64_t fault;         /* step it sleeps in a fault since, or -1 */
	uint64_t addr;
	int64_t fid;           /* its fault's message id */
	char fmsg[MSG_MAX];
	int64_t waker;         /* last step that woke its fault, or -1 */
	char emsg[MSG_MAX];    /* its event's message */
	int64_t eid;           /* and its id */
	int64_t ev_read;       /* the read of its event, or -1 */
	int64_t resumed;       /* its "read: resumed" step, or -1 */
	int64_t spawned;       /* the step that spawned it, or -1 */
	int started;           /* ran a step already */
};

struct pass {
	const struct trace *tr;
	const struct viz_threads *th;
	const unsigned char *shown;
	struct viz_hb *h;
	struct tstate *ts;
	uint32_t nts;
	struct qent *q;
	size_t nq, qcap;
	struct wait_install *wi;
	size_t nwi, wicap;
	uint32_t *sleepers;    /* tids with ts.fault >= 0 */
	size_t nsl;
	int qchanged;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : 16;

	while (c < need)
		c *= 2;
	void *n = realloc(*p, c * elem);

	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = c;
	return 0;
}

static int shown(const struct pass *ps, size_t step)
{
	return !ps->shown || ps->shown[step];
}

static int edge(struct pass *ps, size_t from, size_t to, enum viz_hb_kind k,
		const char *what)
{
	struct viz_hb *h = ps->h;

	if (!shown(ps, from) || !shown(ps, to) || from == to)
		return 0;
	if (grow((void **)&h->e, &h->ecap, h->ne + 1, sizeof(*h->e)))
		return -ENOMEM;
	struct viz_edge *e = &h->e[h->ne++];

	e->from = from;
	e->to = to;
	e->kind = k;
	snprintf(e->what, sizeof(e->what), "%s", what);
	return 0;
}

/* A message's text, as the kernel's label writes it (mk_fmt_msg). */
static void fmt_msg(char *buf, size_t n, const struct sched_event *e)
{
	const int64_t *f = e->f;
	unsigned long long a = (uint64_t)f[1], b = (uint64_t)f[2];

	switch (e->kind) {
	case MEV_FAULT: /* mm page addr flags val msg */
		snprintf(buf, n, "PF 0x%llx%s%s", (unsigned long long)f[2],
			 f[3] & UFFD_PAGEFAULT_FLAG_WRITE ? " w" : "",
			 f[3] & UFFD_PAGEFAULT_FLAG_WP ? " wp" : "");
		break;
	case MEV_READ_PF: /* msg addr flags */
		snprintf(buf, n, "PF 0x%llx%s%s", a,
			 f[2] & UFFD_PAGEFAULT_FLAG_WRITE ? " w" : "",
			 f[2] & UFFD_PAGEFAULT_FLAG_WP ? " wp" : "");
		break;
	case MEV_REMOVE_QUEUED:
	case MEV_READ_REMOVE:
		snprintf(buf, n, "REMOVE 0x%llx-0x%llx", a, b);
		break;
	case MEV_UNMAP_QUEUED:
	case MEV_READ_UNMAP:
		snprintf(buf, n, "UNMAP 0x%llx-0x%llx", a, b);
		break;
	case MEV_REMAP_QUEUED:
	case MEV_READ_REMAP:
		snprintf(buf, n, "REMAP 0x%llx->0x%llx len=0x%llx", a, b,
			 (unsigned long long)f[3]);
		break;
	case MEV_FORK_QUEUED: /* its ufd exists only once read */
		snprintf(buf, n, "FORK of mm%lld", (long long)f[1]);
		break;
	default:
		snprintf(buf, n, "FORK ufd=%lld", (long long)f[1]);
	}
}

static int queue_add(struct pass *ps, const struct sched_event *e,
		     int64_t id, size_t step, uint32_t tid)
{
	if (grow((void **)&ps->q, &ps->qcap, ps->nq + 1, sizeof(*ps->q)))
		return -ENOMEM;
	struct qent *q = &ps->q[ps->nq++];

	fmt_msg(q->msg, sizeof(q->msg), e);
	q->id = id;
	q->step = step;
	q->tid = tid;
	ps->qchanged = 1;
	return 0;
}

static void queue_del(struct pass *ps, size_t i)
{
	memmove(&ps->q[i], &ps->q[i + 1], (ps->nq - i - 1) * sizeof(*ps->q));
	ps->nq--;
	ps->qchanged = 1;
}

/* The queue entry of message id, or nq. */
static size_t queue_find(const struct pass *ps, int64_t id)
{
	size_t i = 0;

	while (i < ps->nq && ps->q[i].id != id)
		i++;
	return i;
}

/* Drop message id if still unread (a fault woken or killed before its
 * message was read, an event withdrawn). */
static void queue_drop(struct pass *ps, int64_t id)
{
	size_t i = queue_find(ps, id);

	if (i < ps->nq)
		queue_del(ps, i);
}

static void sleeper_del(struct pass *ps, uint32_t tid)
{
	for (size_t i = 0; i < ps->nsl; i++)
		if (ps->sleepers[i] == tid) {
			ps->sleepers[i] = ps->sleepers[--ps->nsl];
			return;
		}
}

/* Every fault sleeping in [start, start+len) (or all, when all) was woken
 * by step. */
static void wake_range(struct pass *ps, size_t step, uint64_t start,
		       uint64_t len, int all)
{
	for (size_t i = 0; i < ps->nsl; i++) {
		struct tstate *t = &ps->ts[ps->sleepers[i]];

		if (all || (t->addr >= start && t->addr - start < len))
			t->waker = (int64_t)step;
	}
}

/* MEV_WOKEN or MEV_KILLED: the thread's fault is over. */
static int fault_over(struct pass *ps, size_t step, uint32_t tid, int woken)
{
	struct tstate *t = &ps->ts[tid];
	int err = 0;

	if (t->fault < 0)
		return 0;
	if (woken && t->waker >= 0)
		err = edge(ps, (size_t)t->waker, step, VIZ_HB_WAKE_WOKEN, t->fmsg);
	queue_drop(ps, t->fid);
	t->fault = -1;
	sleeper_del(ps, tid);
	return err;
}

/* A MEV_READ_*: the message it names leaves the queue. */
static int on_read(struct pass *ps, size_t step, uint32_t tid,
		   const struct sched_event *ev)
{
	char msg[MSG_MAX];
	size_t j = queue_find(ps, ev->f[0]);

	if (j == ps->nq)
		return 0; /* queued before the trace's first step */
	struct qent e = ps->q[j];
	int err;

	queue_del(ps, j);
	fmt_msg(msg, sizeof(msg), ev);
	if (ev->kind != MEV_READ_PF) {
		err = edge(ps, e.step, step, VIZ_HB_EVENT_READ, msg);
		if (!err)
			ps->ts[e.tid].ev_read = (int64_t)step;
		return err;
	}
	err = edge(ps, e.step, step, VIZ_HB_FAULT_READ, msg);
	if (!err)
		err = grow((void **)&ps->wi, &ps->wicap, ps->nwi + 1,
			   sizeof(*ps->wi));
	if (err)
		return err;
	struct wait_install *w = &ps->wi[ps->nwi++];

	w->addr = (uint64_t)ev->f[1];
	w->read = step;
	w->reader = tid;
	w->faulter = e.tid;
	snprintf(w->msg, sizeof(w->msg), "%s", msg);
	return 0;
}

/* uffd_copy / uffd_zeropage at dst, len bytes; field: what it filled. */
static int on_install(struct pass *ps, size_t step, uint32_t tid,
		      uint64_t dst, uint64_t len, uint64_t mode, int64_t field)
{
	/* the first install attempt at a read fault's address answers it */
	for (size_t i = 0; i < ps->nwi;) {
		struct wait_install *w = &ps->wi[i];

		if (w->addr < dst || w->addr - dst >= len) {
			i++;
			continue;
		}
		const struct tstate *t = &ps->ts[tid];
		int err;

		if (tid != w->reader && t->spawned > (int64_t)w->read) {
			err = edge(ps, w->read, (size_t)t->spawned,
				   VIZ_HB_READ_SPAWN, w->msg);
			if (!err)
				err = edge(ps, (size_t)t->spawned, step,
					   VIZ_HB_SPAWN_INSTALL, w->msg);
		} else {
			err = edge(ps, w->read, step, VIZ_HB_READ_INSTALL, w->msg);
		}
		if (err)
			return err;
		*w = ps->wi[--ps->nwi];
	}
	/* rule 15 of the model: only the filled prefix is woken */
	if (!(mode & MODE_DONTWAKE) && field > 0)
		wake_range(ps, step, dst, (uint64_t)field, 0);
	return 0;
}

/* MEV_FAULT: mm page addr flags val msg */
static int on_fault(struct pass *ps, size_t step, uint32_t tid,
		    const struct sched_event *ev)
{
	struct tstate *t = &ps->ts[tid];

	fmt_msg(t->fmsg, sizeof(t->fmsg), ev);
	if (t->fault < 0) /* sleepers has room for every tid once */
		ps->sleepers[ps->nsl++] = tid;
	t->fault = (int64_t)step;
	t->addr = (uint64_t)ev->f[2];
	t->fid = ev->f[5];
	t->waker = -1;
	return queue_add(ps, ev, t->fid, step, tid);
}

/* MEV_*_QUEUED: msg first */
static int on_event(struct pass *ps, size_t step, uint32_t tid,
		    const struct sched_event *ev)
{
	struct tstate *t = &ps->ts[tid];

	t->ev_read = -1;
	t->resumed = -1;
	t->eid = ev->f[0];
	fmt_msg(t->emsg, sizeof(t->emsg), ev);
	return queue_add(ps, ev, t->eid, step, tid);
}

static int on_resumed(struct pass *ps, size_t step, uint32_t tid,
		      int withdrawn)
{
	struct tstate *t = &ps->ts[tid];
	int err = 0;

	if (withdrawn) {
		/* its message was never read */
		queue_drop(ps, t->eid);
		t->resumed = -1;
	} else {
		if (t->ev_read >= 0)
			err = edge(ps, (size_t)t->ev_read, step,
				   VIZ_HB_READ_RESUMED, t->emsg);
		t->resumed = (int64_t)step;
	}
	t->ev_read = -1;
	return err;
}

static int on_zap(struct pass *ps, size_t step, struct tstate *t,
		  const struct sched_event *ev)
{
	char what[48];

	if (t->resumed < 0)
		return 0;
	snprintf(what, sizeof(what), "madvise zaps 0x%llx-0x%llx",
		 (unsigned long long)ev->f[1], (unsigned long long)ev->f[2]);
	int err = edge(ps, (size_t)t->resumed, step, VIZ_HB_RESUMED_ZAP, what);

	t->resumed = -1;
	return err;
}

/* A wake that does not complete a fault (UFFDIO_WAKE, WRITEPROTECT, a
 * signal, a release, a spawn): who to remember as the waker. */
static void on_other(struct pass *ps, size_t step,
		     const struct sched_event *ev)
{
	const int64_t *f = ev->f;

	switch (ev->kind) {
	case MEV_UFFD_WAKE: /* start len res */
		if (!f[2])
			wake_range(ps, step, (uint64_t)f[0], (uint64_t)f[1], 0);
		break;
	case MEV_UFFD_WP: /* start len mode res */
		if (!f[3] && !(f[2] & (WP_MODE_WP | WP_MODE_DONTWAKE)))
			wake_range(ps, step, (uint64_t)f[0], (uint64_t)f[1], 0);
		break;
	case MEV_SIGNAL: /* target fatal */
		if (f[0] >= 0 && (uint64_t)f[0] < ps->nts &&
		    ps->ts[f[0]].fault >= 0)
			ps->ts[f[0]].waker = (int64_t)step;
		break;
	case MEV_RELEASED:
		wake_range(ps, step, 0, 0, 1);
		break;
	case MEV_SPAWN: /* child */
		if (f[0] >= 0 && (uint64_t)f[0] < ps->nts)
			ps->ts[f[0]].spawned = (int64_t)step;
		break;
	}
}

static int one_event(struct pass *ps, size_t i, uint32_t tid,
		     const struct sched_event *ev)
{
	const int64_t *f = ev->f;

	switch (ev->kind) {
	case MEV_WOKEN:
	case MEV_KILLED:
		return fault_over(ps, i, tid, ev->kind == MEV_WOKEN);
	case MEV_EV_RESUMED:
	case MEV_EV_WITHDRAWN:
		return on_resumed(ps, i, tid, ev->kind == MEV_EV_WITHDRAWN);
	case MEV_ZAP:
		return on_zap(ps, i, &ps->ts[tid], ev);
	case MEV_READ_PF:
	case MEV_READ_REMOVE:
	case MEV_READ_UNMAP:
	case MEV_READ_REMAP:
	case MEV_READ_FORK:
		return on_read(ps, i, tid, ev);
	case MEV_UFFD_COPY: /* dst len mode src res copied */
		return on_install(ps, i, tid, (uint64_t)f[0], (uint64_t)f[1],
				  (uint64_t)f[2], f[5]);
	case MEV_UFFD_ZEROPAGE: /* dst len mode res zeroed */
		return on_install(ps, i, tid, (uint64_t)f[0], (uint64_t)f[1],
				  (uint64_t)f[2], f[4]);
	case MEV_FAULT:
		return on_fault(ps, i, tid, ev);
	case MEV_REMOVE_QUEUED:
	case MEV_UNMAP_QUEUED:
	case MEV_REMAP_QUEUED:
	case MEV_FORK_QUEUED:
		return on_event(ps, i, tid, ev);
	}
	on_other(ps, i, ev);
	return 0;
}

static int one_step(struct pass *ps, size_t i)
{
	const struct trace_step *s = &ps->tr->steps[i];
	uint32_t tid = s->tid;
	struct tstate *t = &ps->ts[tid];
	int err = 0;

	if (!t->started) {
		t->started = 1;
		if (t->spawned >= 0)
			err = edge(ps, (size_t)t->spawned, i, VIZ_HB_SPAWN_START,
				   ps->tr->steps[t->spawned].label);
	}
	for (size_t k = 0; !err && k < s->nev; k++)
		err = one_event(ps, i, tid, &s->ev[k]);
	return err;
}

static int snapshot(struct pass *ps, size_t step)
{
	struct viz_hb *h = ps->h;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < ps->nq && i < QSHOW_MAX; i++)
		fprintf(f, "%s%s  from %s", i ? "\n" : "", ps->q[i].msg,
			ps->th->t[ps->q[i].tid].name);
	if (ps->nq > QSHOW_MAX)
		fprintf(f, "\n+%zu more", ps->nq - QSHOW_MAX);
	if (fclose(f) || !buf) {
		free(buf);
		return -ENOMEM;
	}
	if (grow((void **)&h->q, &h->qcap, h->nq + 1, sizeof(*h->q))) {
		free(buf);
		return -ENOMEM;
	}
	h->q[h->nq].step = step;
	h->q[h->nq++].text = buf;
	return 0;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/* The shown reads of a fault whose message no fill answered and whose
 * thread still sleeps in that fault at the trace's end: where a lost
 * message (B11's aliased batch, a dropped fault) becomes visible. */
static int unanswered(struct pass *ps)
{
	struct viz_hb *h = ps->h;

	for (size_t i = 0; i < ps->nwi; i++) {
		const struct wait_install *w = &ps->wi[i];

		if (ps->ts[w->faulter].fault < 0 || !shown(ps, w->read))
			continue;
		int err = grow((void **)&h->unanswered, &h->uncap, h->nun + 1,
			       sizeof(*h->unanswered));
		if (err)
			return err;
		h->unanswered[h->nun++] = w->read;
	}
	if (h->nun) /* ps->wi is in swap-delete order: sort by step */
		qsort(h->unanswered, h->nun, sizeof(*h->unanswered), cmp_size);
	return 0;
}

static int cmp_edge(const void *a, const void *b)
{
	const struct viz_edge *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return (int)x->kind - (int)y->kind;
}

int viz_hb_derive(const struct trace *tr, const struct viz_threads *th,
		  const unsigned char *shownmap, struct viz_hb *h)
{
	struct pass ps = {.tr = tr, .th = th, .shown = shownmap, .h = h};
	int err = 0;

	memset(h, 0, sizeof(*h));
	ps.nts = th->n; /* every step's tid is below it */
	ps.ts = malloc(ps.nts * sizeof(*ps.ts));
	ps.sleepers = malloc(ps.nts * sizeof(*ps.sleepers));
	if (!ps.ts || !ps.sleepers)
		err = -ENOMEM;
	for (uint32_t i = 0; !err && i < ps.nts; i++)
		ps.ts[i] = (struct tstate){.fault = -1, .waker = -1,
					   .ev_read = -1, .resumed = -1,
					   .spawned = -1, .fid = -1, .eid = -1};
	for (size_t i = 0; !err && i < tr->nsteps; i++) {
		ps.qchanged = 0;
		err = one_step(&ps, i);
		if (!err && ps.qchanged && shown(&ps, i))
			err = snapshot(&ps, i);
	}
	if (!err)
		err = unanswered(&ps);
	free(ps.ts);
	free(ps.sleepers);
	free(ps.q);
	free(ps.wi);
	if (err) {
		viz_hb_free(h);
		return err;
	}
	/* one edge per (from, to, kind), in a fixed order */
	if (h->ne)
		qsort(h->e, h->ne, sizeof(*h->e), cmp_edge);
	size_t k = 0;

	for (size_t i = 0; i < h->ne; i++)
		if (!k || cmp_edge(&h->e[k - 1], &h->e[i]))
			h->e[k++] = h->e[i];
	h->ne = k;
	return 0;
}

void viz_hb_free(struct viz_hb *h)
{
	for (size_t i = 0; i < h->nq; i++)
		free(h->q[i].text);
	free(h->e);
	free(h->q);
	free(h->unanswered);
	memset(h, 0, sizeof(*h));
}
