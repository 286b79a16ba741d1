/* viz/hb.c — happens-before edges and the kernel queue, from step labels.
 *
 * The labels are the simulated kernel's (formats in model/kernel_fault.c,
 * model/kernel_events.c, model/kernel.c mk_fmt_msg, model/sys_model.c):
 *   "... fault: PF 0x<addr>[ w][ wp] queued, sleeps"         a guest faults
 *   "<msg> queued (mmap_changing=N), sleeps"                  an event waits
 *   "uffd_read <fd> max=<m> -> <n>: <msg>; <msg>..."          messages read
 *   "uffd_copy|uffd_zeropage 0x<dst> <len> mode=<m>[ <src>] -> <r> <f>=<v>"
 *   "uffd_wake 0x<start> <len> -> <r>", "uffd_writeprotect ... mode=<m> -> <r>"
 *   "woken: retries p<N>", "<read p<N>|write p<N>> -> killed"
 *   "<EV> read: resumed, ..." / "<EV> withdrawn: resumed, ..."
 *   "madvise zaps ...", "spawn <name> -> t<N>", "signal t<N>[ fatal]",
 *   "uffd of mm<N> released: ..."
 * A message read is matched to the oldest unread queued message with the
 * same text (the kernel queues are FIFO per message kind; two address
 * spaces faulting at the same address after a fork could be mismatched).
 * A fault's install is the first uffd_copy/zeropage covering its address
 * after the read; its waker the last wake covering it before "woken".
 */
#include "viz/viz_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	size_t step;
	uint32_t tid;
};

struct wait_install {      /* a fault read, its install not seen yet */
	uint64_t addr;
	size_t read;
	uint32_t reader;
	char msg[MSG_MAX];
};

struct tstate {
	int64_t fault;         /* step it sleeps in a fault since, or -1 */
	uint64_t addr;
	char fmsg[MSG_MAX];
	int64_t waker;         /* last step that woke its fault, or -1 */
	char emsg[MSG_MAX];    /* its event's message */
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

/* Copy the item at p up to one of the stop strings (or the end). */
static void copy_upto(char *dst, size_t n, const char *p, const char *stop1,
		      const char *stop2)
{
	const char *e1 = stop1 ? strstr(p, stop1) : NULL;
	const char *e2 = stop2 ? strstr(p, stop2) : NULL;
	const char *e = e1 && (!e2 || e1 < e2) ? e1 : e2;
	size_t l = e ? (size_t)(e - p) : strlen(p);

	if (l >= n)
		l = n - 1;
	memcpy(dst, p, l);
	dst[l] = 0;
}

static int queue_add(struct pass *ps, const char *msg, size_t step,
		     uint32_t tid)
{
	if (grow((void **)&ps->q, &ps->qcap, ps->nq + 1, sizeof(*ps->q)))
		return -ENOMEM;
	struct qent *e = &ps->q[ps->nq++];

	snprintf(e->msg, sizeof(e->msg), "%s", msg);
	e->step = step;
	e->tid = tid;
	ps->qchanged = 1;
	return 0;
}

/* The text a message is queued with is the text it is read with, but for
 * a FORK's ufd, which the read creates. */
static int msg_same(const char *queued, const char *read)
{
	if (!strncmp(queued, "FORK ", 5))
		return !strncmp(read, "FORK ", 5);
	return !strcmp(queued, read);
}

static void queue_del(struct pass *ps, size_t i)
{
	memmove(&ps->q[i], &ps->q[i + 1], (ps->nq - i - 1) * sizeof(*ps->q));
	ps->nq--;
	ps->qchanged = 1;
}

/* Drop tid's unread message, if any (a fault woken or killed before its
 * message was read, an event withdrawn). */
static void queue_drop_tid(struct pass *ps, uint32_t tid, const char *msg)
{
	for (size_t i = 0; i < ps->nq; i++)
		if (ps->q[i].tid == tid && !strcmp(ps->q[i].msg, msg)) {
			queue_del(ps, i);
			return;
		}
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

/* "woken: retries" or "-> killed": the thread's fault is over. */
static int fault_over(struct pass *ps, size_t step, uint32_t tid, int woken)
{
	struct tstate *t = &ps->ts[tid];
	int err = 0;

	if (t->fault < 0)
		return 0;
	if (woken && t->waker >= 0)
		err = edge(ps, (size_t)t->waker, step, VIZ_HB_WAKE_WOKEN, t->fmsg);
	queue_drop_tid(ps, tid, t->fmsg);
	t->fault = -1;
	sleeper_del(ps, tid);
	return err;
}

static int on_read(struct pass *ps, size_t step, uint32_t tid, const char *p)
{
	uint64_t n;

	p = strstr(p, " -> ");
	if (!p)
		return 0;
	p += 4;
	if (*p == '-' || viz_num(&p, &n) || n == 0 || strncmp(p, ": ", 2))
		return 0;
	p += 2;
	for (uint64_t i = 0; i < n && p && *p; i++) {
		char msg[MSG_MAX];
		const char *next = strstr(p, "; ");

		copy_upto(msg, sizeof(msg), p, "; ", NULL);
		p = next ? next + 2 : NULL;
		size_t j = 0;

		while (j < ps->nq && !msg_same(ps->q[j].msg, msg))
			j++;
		if (j == ps->nq)
			continue; /* queued by a step we cannot parse */
		struct qent e = ps->q[j];
		int err;

		queue_del(ps, j);
		if (!strncmp(msg, "PF ", 3)) {
			const char *a = msg + 3;
			uint64_t addr;

			if (viz_num(&a, &addr))
				continue;
			err = edge(ps, e.step, step, VIZ_HB_FAULT_READ, msg);
			if (!err)
				err = grow((void **)&ps->wi, &ps->wicap, ps->nwi + 1,
					   sizeof(*ps->wi));
			if (err)
				return err;
			struct wait_install *w = &ps->wi[ps->nwi++];

			w->addr = addr;
			w->read = step;
			w->reader = tid;
			snprintf(w->msg, sizeof(w->msg), "%s", msg);
		} else {
			err = edge(ps, e.step, step, VIZ_HB_EVENT_READ, msg);
			if (err)
				return err;
			ps->ts[e.tid].ev_read = (int64_t)step;
		}
	}
	return 0;
}

/* "uffd_copy|uffd_zeropage 0x<dst> <len> mode=<m>[ <src>] -> <r> <f>=<v>" */
static int on_install(struct pass *ps, size_t step, uint32_t tid,
		      const char *p)
{
	uint64_t dst, len, mode;
	int64_t r, field; /* r only checks the format: field is what filled */

	p = strchr(p, ' ');
	if (!p || (p++, viz_num(&p, &dst)) || *p++ != ' ' || viz_num(&p, &len) ||
	    strncmp(p, " mode=", 6))
		return 0;
	p += 6;
	if (viz_num(&p, &mode) || !(p = strstr(p, " -> ")))
		return 0;
	p += 4;
	if (viz_snum(&p, &r) || *p != ' ' || !(p = strchr(p, '=')))
		return 0;
	p++;
	if (viz_snum(&p, &field))
		return 0;
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

static void on_wake(struct pass *ps, size_t step, const char *p, int wp)
{
	uint64_t start, len, mode = 0;
	int64_t r;

	p = strchr(p, ' ');
	if (!p || (p++, viz_num(&p, &start)) || *p++ != ' ' || viz_num(&p, &len))
		return;
	if (wp) {
		if (strncmp(p, " mode=", 6))
			return;
		p += 6;
		if (viz_num(&p, &mode))
			return;
	}
	if (!(p = strstr(p, " -> ")))
		return;
	p += 4;
	if (viz_snum(&p, &r) || r)
		return;
	if (!wp || !(mode & (WP_MODE_WP | WP_MODE_DONTWAKE)))
		wake_range(ps, step, start, len, 0);
}

static int on_fault(struct pass *ps, size_t step, uint32_t tid, const char *p)
{
	struct tstate *t = &ps->ts[tid];
	const char *a = p + strlen("fault: PF ");
	uint64_t addr;

	if (viz_num(&a, &addr))
		return 0;
	copy_upto(t->fmsg, sizeof(t->fmsg), p + strlen("fault: "), " queued",
		  NULL);
	if (t->fault < 0) /* sleepers has room for every tid once */
		ps->sleepers[ps->nsl++] = tid;
	t->fault = (int64_t)step;
	t->addr = addr;
	t->waker = -1;
	return queue_add(ps, t->fmsg, step, tid);
}

/* "<msg> queued (mmap_changing=": the message starts after the last "; ". */
static int on_event(struct pass *ps, size_t step, uint32_t tid,
		    const char *label, const char *q)
{
	const char *s = label;
	char msg[MSG_MAX];

	for (const char *p = label; (p = strstr(p, "; ")) && p < q; p += 2)
		s = p + 2;
	size_t l = (size_t)(q - s);

	if (l >= sizeof(msg))
		l = sizeof(msg) - 1;
	memcpy(msg, s, l);
	msg[l] = 0;
	ps->ts[tid].ev_read = -1;
	ps->ts[tid].resumed = -1;
	memcpy(ps->ts[tid].emsg, msg, sizeof(msg));
	return queue_add(ps, msg, step, tid);
}

static int on_resumed(struct pass *ps, size_t step, uint32_t tid,
		      int withdrawn)
{
	struct tstate *t = &ps->ts[tid];
	int err = 0;

	if (withdrawn) {
		/* its message was never read */
		queue_drop_tid(ps, tid, t->emsg);
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

static int one_step(struct pass *ps, size_t i)
{
	const struct trace_step *s = &ps->tr->steps[i];
	const char *l = s->label, *p;
	uint32_t tid = s->tid;
	struct tstate *t = &ps->ts[tid];
	int err = 0;
	uint64_t n;

	if (!t->started) {
		t->started = 1;
		if (t->spawned >= 0)
			err = edge(ps, (size_t)t->spawned, i, VIZ_HB_SPAWN_START,
				   ps->tr->steps[t->spawned].label);
	}
	/* in the order a step's labels are written */
	if (!err && viz_item(l, "woken: retries"))
		err = fault_over(ps, i, tid, 1);
	if (!err && strstr(l, " -> killed"))
		err = fault_over(ps, i, tid, 0);
	if (!err && strstr(l, " read: resumed, mmap_changing="))
		err = on_resumed(ps, i, tid, 0);
	else if (!err && strstr(l, " withdrawn: resumed, mmap_changing="))
		err = on_resumed(ps, i, tid, 1);
	if (!err && viz_item(l, "madvise zaps ") && t->resumed >= 0) {
		char what[48];

		copy_upto(what, sizeof(what), viz_item(l, "madvise zaps "), ";",
			  NULL);
		err = edge(ps, (size_t)t->resumed, i, VIZ_HB_RESUMED_ZAP, what);
		t->resumed = -1;
	}
	if (!err && (p = viz_item(l, "uffd_read ")))
		err = on_read(ps, i, tid, p);
	if (!err && (p = viz_item(l, "uffd_copy ")))
		err = on_install(ps, i, tid, p);
	if (!err && (p = viz_item(l, "uffd_zeropage ")))
		err = on_install(ps, i, tid, p);
	if (!err && (p = viz_item(l, "uffd_wake ")))
		on_wake(ps, i, p, 0);
	if (!err && (p = viz_item(l, "uffd_writeprotect ")))
		on_wake(ps, i, p, 1);
	if (!err && (p = viz_item(l, "signal t"))) {
		p += strlen("signal t");
		if (!viz_num(&p, &n) && n < ps->nts && ps->ts[n].fault >= 0)
			ps->ts[n].waker = (int64_t)i;
	}
	if (!err && viz_item(l, "uffd of mm") && strstr(l, " released: "))
		wake_range(ps, i, 0, 0, 1);
	if (!err && (p = viz_item(l, "spawn ")) && (p = strstr(p, " -> t"))) {
		p += 5;
		if (!viz_num(&p, &n) && n < ps->nts)
			ps->ts[n].spawned = (int64_t)i;
	}
	if (!err && (p = viz_item(l, "fault: PF ")))
		err = on_fault(ps, i, tid, p);
	if (!err && (p = strstr(l, " queued (mmap_changing=")))
		err = on_event(ps, i, tid, l, p);
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
					   .spawned = -1};
	for (size_t i = 0; !err && i < tr->nsteps; i++) {
		ps.qchanged = 0;
		err = one_step(&ps, i);
		if (!err && ps.qchanged && shown(&ps, i))
			err = snapshot(&ps, i);
	}
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
	memset(h, 0, sizeof(*h));
}
