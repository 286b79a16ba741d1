/* model/kernel_events.c — non-cooperative events and the address-space
 * changes that raise them: madvise(DONTNEED) and REMOVE (rules 21-32),
 * munmap/UNMAP (37), mremap/REMAP (38), fork/FORK (39), UNREGISTER (20),
 * and the release of a uffd (40).
 *
 * An event's caller raises mmap_changing, queues the event and sleeps until
 * a read() completes it (rule 4) or the uffd is released or a fatal signal
 * arrives (rule 28); it lowers mmap_changing in the step in which it runs
 * again (rule 29), not at the read: that gap is where COPY keeps failing
 * with EAGAIN (rule 25).
 */
#include "model/kernel_impl.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#define MK_GIB (UINT64_C(1) << 30)

/* ------------------------------------------------------------------ */
/* the event queue                                                     */

static void elist_append(struct mk_list *l, struct mk_thr *t)
{
	assert(!t->eprev && !t->enext && l->head != t);
	assert(!l->head == !l->tail && (!l->tail || !l->tail->enext));
	t->enext = NULL;
	t->eprev = l->tail;
	if (l->tail)
		l->tail->enext = t;
	else
		l->head = t;
	l->tail = t;
	assert(l->tail == t && (!t->eprev || t->eprev->enext == t));
}

void mk_event_unlink(struct mk_thr *t)
{
	struct mk_ctx *c = t->ectx;

	if (t->est != MK_EV_QUEUED)
		return;
	/* queued on its context: the links point back, the count covers it */
	assert(c && c->nevents > 0);
	assert(t->eprev ? t->eprev->enext == t : c->events.head == t);
	assert(t->enext ? t->enext->eprev == t : c->events.tail == t);
	if (t->eprev)
		t->eprev->enext = t->enext;
	else
		c->events.head = t->enext;
	if (t->enext)
		t->enext->eprev = t->eprev;
	else
		c->events.tail = t->eprev;
	t->eprev = t->enext = NULL;
	c->nevents--;
	assert(c->nevents >= 0 && !c->events.head == !c->events.tail);
	assert(c->nevents > 0 || !c->events.head);
}

static void ev_queued(struct mkern *k, const struct mk_thr *t, int mc)
{
	const struct uffd_msg *m = &t->emsg;

	switch (m->event) {
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		MEV(k->s, m->event == UFFD_EVENT_REMOVE ? MEV_REMOVE_QUEUED :
							  MEV_UNMAP_QUEUED,
		    t->emsg_id, (int64_t)m->arg.remove.start,
		    (int64_t)m->arg.remove.end, mc);
		break;
	case UFFD_EVENT_REMAP:
		MEV(k->s, MEV_REMAP_QUEUED, t->emsg_id,
		    (int64_t)m->arg.remap.from, (int64_t)m->arg.remap.to,
		    (int64_t)m->arg.remap.len, mc);
		break;
	default:
		assert(m->event == UFFD_EVENT_FORK);
		MEV(k->s, MEV_FORK_QUEUED, t->emsg_id, t->efork, mc);
	}
}

int mk_event_wait(struct mkern *k, struct mk_ctx *ctx, struct mk_thr *t,
		  const struct uffd_msg *msg)
{
	/* one wait at a time; the caller raised mmap_changing first (rule 29) */
	assert(t->est == MK_EV_NONE && t->flist == MK_FL_NONE);
	assert(ctx->mmap_changing > ctx->nevents);
	MK_UFFD_READ(k, mk_ctx_mm(k, ctx), 1u << MK_UFFD_CTL | 1u << MK_UFFD_EVQ);
	/* rule 40: a released uffd has no reader; the kernel's
	 * userfaultfd_event_wait_completion() sees ctx->released and returns
	 * at once (mremap's UNMAP after a REMAP withdrawn by the release) */
	if (!ctx->live) {
		MK_LABEL(k, "event not queued: the uffd is released");
		return -EINTR;
	}
	t->emsg = *msg;
	t->emsg_id = ++k->msg_seq;
	t->ectx = ctx;
	t->est = MK_EV_QUEUED;
	elist_append(&ctx->events, t);
	ctx->nevents++;
	assert(ctx->events.tail == t && ctx->nevents <= ctx->mmap_changing);
	mk_ready(k);
	if (sched_labels_on(k->s)) {
		char ms[80];

		mk_fmt_msg(ms, sizeof(ms), msg);
		sched_label(k->s, "%s queued (mmap_changing=%d), sleeps", ms,
			    ctx->mmap_changing);
		ev_queued(k, t, ctx->mmap_changing);
	}
	while (t->est == MK_EV_QUEUED) {
		sched_block(k->s, &t->q);
		/* the reader (or release) completed it under the uffd */
		MK_UFFD_READ(k, mk_ctx_mm(k, ctx), 1u << MK_UFFD_EVQ);
	}
	/* rule 4 / 28, 40: read, or withdrawn; either way off the queue */
	assert(t->est == MK_EV_DONE || t->est == MK_EV_WITHDRAWN);
	assert(!t->eprev && !t->enext && ctx->events.head != t);
	int r = t->est == MK_EV_DONE ? 0 : -EINTR;

	t->est = MK_EV_NONE;
	t->ectx = NULL;
	return r;
}

/* The caller's event is over: lower the counter it raised. type: MEV_T_* */
static void event_done(struct mkern *k, struct mk_ctx *c, const char *what,
		       int type, int r)
{
	/* the counter still covers this caller's event */
	assert(c->mmap_changing > 0 && c->mmap_changing > c->nevents);
	c->mmap_changing--;
	assert(c->mmap_changing >= c->nevents);
	MK_UFFD_READ(k, mk_ctx_mm(k, c), 1u << MK_UFFD_CHG);
	if (type != MEV_T_REMOVE)
		sched_touch_all(k->s); /* munmap, mremap, fork go on: VMAs */
	MK_LABEL(k, "%s %s: resumed, mmap_changing=%d", what,
		 r ? "withdrawn" : "read", c->mmap_changing);
	if (sched_labels_on(k->s)) {
		const struct mk_thr *t = mk_thr_self(k);

		MEV(k->s, r ? MEV_EV_WITHDRAWN : MEV_EV_RESUMED, type,
		    t ? t->emsg_id : -1, c->mmap_changing);
	}
}

/* ------------------------------------------------------------------ */
/* page tables                                                         */

/* Un-protect a whole VMA, markers included (uffd_wp_range(.., false)). */
static void clear_wp(struct mk_mm *mm, const struct mk_vma *v)
{
	for (int p = v->first; p < v->first + v->npages; p++)
		mm->pages[p].wp = 0;
}

/* Zap [start, end) of mm: pages become missing (rule 24). On anon the
 * uffd-wp state goes with them; hugetlb keeps a WP marker (rule 32). */
void mk_zap(struct mkern *k, int mmi, uint64_t start, uint64_t end)
{
	assert(mmi >= 0 && mmi < MK_MAX_MM && k->mm[mmi].used);
	assert(start <= end);
	struct mk_mm *mm = &k->mm[mmi];

	for (int i = 0; i < mm->nvmas; i++) {
		const struct mk_vma *v = &mm->vmas[i];
		uint64_t vs = v->start > start ? v->start : start;
		uint64_t ve = mk_vma_end(v, k->ps);

		if (ve > end)
			ve = end;
		for (uint64_t a = vs; a < ve; a += k->ps) {
			int p = v->first + (int)((a - v->start) / k->ps);
			struct mk_page *pg = &mm->pages[p];

			assert(p >= v->first && p < v->first + v->npages);
			MK_TOUCH(k, MK_OC_PAGE, MK_PAGE_ID(mmi, p), mk_page_write(k, 1));
			pg->present = 0;
			pg->content = 0;
			pg->poison = 0;
			if (!k->huge)
				pg->wp = 0;
			if (mmi == 0 && k->obs.zap)
				k->obs.zap(k->obs.ctx, p);
		}
	}
}

/* Ensure boundaries at start and end; -ENOMEM (nothing changed) when the
 * VMA table cannot take the split. */
static int split_range(struct mkern *k, struct mk_mm *mm, uint64_t start,
		       uint64_t end)
{
	if (mm->nvmas + 2 > MK_MAX_VMAS)
		return -ENOMEM;
	int e1 = mk_vma_split(mm, k->ps, start);
	int e2 = mk_vma_split(mm, k->ps, end);

	/* room was checked: both splits succeed */
	assert(e1 == 0 && e2 == 0 && mm->nvmas <= MK_MAX_VMAS);
	(void)e1;
	(void)e2;
	return 0;
}

static int inside(const struct mk_vma *v, uint64_t ps, uint64_t start,
		  uint64_t end)
{
	return v->start >= start && mk_vma_end(v, ps) <= end;
}

static int pages_range(struct mkern *k, int first, int last, uint64_t *start,
		       uint64_t *end)
{
	if (first < 0 || last < first || last >= k->npages)
		return -EINVAL;
	int err = mk_page_addr(k, 0, first, start);

	if (err)
		return err == -EFAULT ? -EINVAL : err;
	*end = *start + (uint64_t)(last - first + 1) * k->ps;
	assert(*end > *start && !(*start & (k->ps - 1)));
	return 0;
}

/* ------------------------------------------------------------------ */
/* release                                                             */

static void ctx_release(struct mkern *k, int mmi)
{
	sched_touch_all(k->s); /* every VMA, queue and waiter of the mm */
	struct mk_mm *mm = &k->mm[mmi];
	struct mk_ctx *c = &mm->ctx;

	assert(c->live && !c->released);
	c->live = 0;
	c->released = 1;
	/* userfaultfd_release_all(): every VMA unregistered, WP cleared */
	for (int i = 0; i < mm->nvmas; i++) {
		if (mm->vmas[i].flags & MK_VM_WP)
			clear_wp(mm, &mm->vmas[i]);
		mm->vmas[i].flags = 0;
	}
	/* rule 40: every fault waiter retries against plain memory */
	int nf = mk_wake_range(k, c, 0, 0);
	int ne = 0;

	while (c->events.head) {
		struct mk_thr *t = c->events.head;

		mk_event_unlink(t);
		t->est = MK_EV_WITHDRAWN;
		sched_wake_one(k->s, &t->q);
		ne++;
		/* the child of an unread FORK never gets a reader */
		if (t->emsg.event == UFFD_EVENT_FORK && k->mm[t->efork].ctx.live)
			ctx_release(k, t->efork);
	}
	/* nothing waits on a released uffd any more */
	assert(!c->events.head && !c->nevents && !c->nfpend);
	assert(!c->fpend.head && !c->fread.head && ne >= 0 && nf >= 0);
	mk_ready(k);
	MK_LABEL(k, "uffd of mm%d released: %d fault waiters, %d event waiters woken",
		 mmi, nf, ne);
	MEV(k->s, MEV_RELEASED, mmi, nf, ne);
}

void mk_ctx_put(struct mkern *k, int mmi)
{
	struct mk_ctx *c = &k->mm[mmi].ctx;

	assert(c->refs > 0);
	if (--c->refs == 0 && c->live)
		ctx_release(k, mmi);
	assert(c->refs >= 0 && (c->refs > 0 || !c->live));
}

void mk_release(struct mkern *k)
{
	sched_point(k->s);
	sched_touch_all(k->s);
	struct mk_ctx *c = &k->mm[0].ctx;

	MK_LABEL(k, "guest process closes its uffd reference");
	MEV0(k->s, MEV_PROC_CLOSE);
	if (!c->proc_ref)
		return;
	assert(c->refs > 0);
	c->proc_ref = 0;
	mk_ctx_put(k, 0);
	assert(!c->proc_ref);
}

/* ------------------------------------------------------------------ */
/* madvise                                                             */

/* One registered VMA's part of the range with EVENT_REMOVE: steps (a),
 * (b), (c) of rule 21. Blocks. */
static void remove_with_event(struct mkern *k, int mmi, struct mk_ctx *c,
			      struct mk_thr *t, uint64_t rs, uint64_t re)
{
	struct uffd_msg m;

	memset(&m, 0, sizeof(m));
	m.event = UFFD_EVENT_REMOVE;
	m.arg.remove.start = rs;
	m.arg.remove.end = re;
	assert(c->live && (c->features & UFFD_FEATURE_EVENT_REMOVE) && rs < re);
	/* (a) the whole ioctl that might race it already ran: one step */
	c->mmap_changing++;
	int r = mk_event_wait(k, c, t, &m);

	/* (b) running again after the read (or the release) */
	event_done(k, c, "REMOVE", MEV_T_REMOVE, r);
	/* (c) a later step: mmap_read_lock, find the VMA again, zap */
	sched_point(k->s);
	MK_TOUCH(k, MK_OC_MM, mmi, 0); /* the pages: mk_zap */
	assert(t->est == MK_EV_NONE);
	mk_zap(k, mmi, rs, re);
	MK_LABEL(k, "madvise zaps 0x%llx-0x%llx", (unsigned long long)rs,
		 (unsigned long long)re);
	MEV(k->s, MEV_ZAP, mmi, (int64_t)rs, (int64_t)re);
}

/* The first VMA (in address order) that ends after addr, or -1. */
static int vma_ending_after(const struct mkern *k, const struct mk_mm *mm,
			    uint64_t addr)
{
	for (int i = 0; i < mm->nvmas; i++)
		if (mk_vma_end(&mm->vmas[i], k->ps) > addr) {
			assert(i == 0 || mk_vma_end(&mm->vmas[i - 1], k->ps) <= addr);
			return i;
		}
	return -1;
}

int mk_madvise(struct mkern *k, int mmi, uint64_t start, uint64_t len)
{
	if (mmi < 0 || mmi >= MK_MAX_MM || !k->mm[mmi].used)
		return -EINVAL;
	sched_point(k->s);
	MK_TOUCH(k, MK_OC_MM, mmi, 0);
	MK_UFFD_READ(k, mmi, 1u << MK_UFFD_CTL | 1u << MK_UFFD_CHG);
	MK_LABEL(k, "madvise(DONTNEED) mm%d 0x%llx +0x%llx", mmi,
		 (unsigned long long)start, (unsigned long long)len);
	MEV(k->s, MEV_MADVISE, mmi, (int64_t)start, (int64_t)len);
	if (start & (MK_SMALL_PAGE - 1))
		return -EINVAL;
	if (len == 0)
		return 0;
	uint64_t end = start + ((len + MK_SMALL_PAGE - 1) & ~(MK_SMALL_PAGE - 1));

	if (end <= start)
		return -EINVAL;
	struct mk_thr *t = mk_thr_self(k);

	if (!t)
		return -ENOMEM;
	struct mk_mm *mm = &k->mm[mmi];
	int unmapped = 0;
	uint64_t addr = start;

	/* VMA by VMA in address order (rule 21); the table is looked up
	 * afresh after every sleep, as the kernel does after retaking
	 * mmap_lock */
	while (addr < end) {
		int vi = vma_ending_after(k, mm, addr);

		if (vi < 0 || mm->vmas[vi].start >= end) {
			unmapped = 1;
			break;
		}
		const struct mk_vma *v = &mm->vmas[vi];

		if (v->start > addr) {
			unmapped = 1;
			addr = v->start;
		}
		uint64_t vend = mk_vma_end(v, k->ps);
		uint64_t rs = addr, re = vend < end ? vend : end;
		uint64_t next = re;

		if (k->huge) {
			/* rule 31: madvise_dontneed_free_valid_vma() */
			if (rs & (MK_HUGE_PAGE - 1))
				return -EINVAL;
			re &= ~(MK_HUGE_PAGE - 1);
			if (re <= rs) {
				addr = next;
				continue;
			}
		}
		struct mk_ctx *c = &mm->ctx;

		if (v->flags && c->live &&
		    (c->features & UFFD_FEATURE_EVENT_REMOVE))
			remove_with_event(k, mmi, c, t, rs, re);
		else
			mk_zap(k, mmi, rs, re); /* rule 27 */
		addr = next;
	}
	assert(t->est == MK_EV_NONE && mm->nvmas <= MK_MAX_VMAS);
	MK_LABEL(k, "madvise -> %d", unmapped ? -ENOMEM : 0);
	MEV(k->s, MEV_MADVISE_RET, unmapped ? -ENOMEM : 0);
	return unmapped ? -ENOMEM : 0;
}

int mk_madvise_dontneed(struct mkern *k, int first, int last)
{
	uint64_t start, end;
	int err = pages_range(k, first, last, &start, &end);

	if (err)
		return err;
	return mk_madvise(k, 0, start, end - start);
}

/* ------------------------------------------------------------------ */
/* munmap, mremap, fork                                                */

/* munmap of [start, end) after the caller's scheduling point: rule 37.
 * Blocks for the UNMAP to be read. */
static int unmap_range(struct mkern *k, struct mk_thr *t, uint64_t start,
		       uint64_t end)
{
	struct mk_mm *mm = &k->mm[0];
	struct mk_ctx *c = &mm->ctx;
	int ev = 0;
	int err = split_range(k, mm, start, end);

	if (err)
		return err;
	for (int i = 0; i < mm->nvmas; i++)
		if (inside(&mm->vmas[i], k->ps, start, end) &&
		    mm->vmas[i].flags && c->live &&
		    (c->features & UFFD_FEATURE_EVENT_UNMAP))
			ev = 1;
	/* rule 37: userfaultfd_unmap_prep() raises the counter before the
	 * unmap; the event is queued once the range is gone */
	if (ev)
		c->mmap_changing++;
	mk_zap(k, 0, start, end);
	for (int i = mm->nvmas - 1; i >= 0; i--)
		if (inside(&mm->vmas[i], k->ps, start, end)) {
			for (int p = mm->vmas[i].first;
			     p < mm->vmas[i].first + mm->vmas[i].npages; p++)
				mm->pages[p].wp = 0;
			mk_vma_remove(mm, i);
		}
	assert(mk_vma_at(mm, k->ps, start) < 0 && mm->nvmas >= 0);
	if (ev) {
		struct uffd_msg m;

		memset(&m, 0, sizeof(m));
		m.event = UFFD_EVENT_UNMAP;
		m.arg.remove.start = start;
		m.arg.remove.end = end;
		event_done(k, c, "UNMAP", MEV_T_UNMAP, mk_event_wait(k, c, t, &m));
	}
	assert(t->est == MK_EV_NONE);
	return 0;
}

int mk_munmap(struct mkern *k, int first, int last)
{
	uint64_t start, end;
	int err = pages_range(k, first, last, &start, &end);

	if (err)
		return err;
	struct mk_thr *t = mk_thr_self(k);

	if (!t)
		return -ENOMEM;
	sched_point(k->s);
	sched_touch_all(k->s); /* VMAs, queues, pages: rare, not refined */
	MK_LABEL(k, "munmap 0x%llx-0x%llx", (unsigned long long)start,
		 (unsigned long long)end);
	MEV(k->s, MEV_MUNMAP, (int64_t)start, (int64_t)end);
	return unmap_range(k, t, start, end);
}

/* The target of a move: page-aligned, no wrap, not overlapping the old
 * range (mremap_to: EINVAL). 0, -EINVAL; *mapped = some VMA is there
 * (MREMAP_FIXED unmaps it first). */
static int mremap_target_ok(const struct mkern *k, const struct mk_mm *mm,
			    uint64_t start, uint64_t end, uint64_t to,
			    int *mapped)
{
	uint64_t len = end - start;

	*mapped = 0;
	if ((to & (k->ps - 1)) || to + len < to)
		return -EINVAL;
	if (to < end && start < to + len)
		return -EINVAL;
	for (int i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].start < to + len &&
		    mk_vma_end(&mm->vmas[i], k->ps) > to)
			*mapped = 1;
	return 0;
}

/* Move the VMAs of [start, end) to `to`; without EVENT_REMAP they arrive
 * unregistered (rule 38). */
static void mremap_move(struct mkern *k, struct mk_mm *mm, uint64_t start,
			uint64_t end, uint64_t to, int remap_ev)
{
	for (int i = 0; i < mm->nvmas; i++) {
		struct mk_vma *v = &mm->vmas[i];

		if (!inside(v, k->ps, start, end))
			continue;
		v->start = to + (v->start - start);
		if (!remap_ev) {
			if (v->flags & MK_VM_WP)
				clear_wp(mm, v);
			v->flags = 0;
		}
	}
	mk_vma_sort(mm);
	/* the old range is empty, the table sorted again */
	assert(mk_vma_at(mm, k->ps, start) < 0);
	assert(mm->nvmas < 2 || mm->vmas[0].start < mm->vmas[1].start);
}

int mk_mremap_to(struct mkern *k, int first, int last, uint64_t to)
{
	uint64_t start, end;
	int err = pages_range(k, first, last, &start, &end);

	if (err)
		return err;
	struct mk_thr *t = mk_thr_self(k);

	if (!t)
		return -ENOMEM;
	sched_point(k->s);
	sched_touch_all(k->s); /* VMAs, queues, pages: rare, not refined */
	struct mk_mm *mm = &k->mm[0];
	struct mk_ctx *c = &mm->ctx;
	uint64_t len = end - start;
	int vi = mk_vma_at(mm, k->ps, start);

	/* the old range must lie in one VMA (vma_to_resize: EFAULT) */
	if (vi < 0 || end > mk_vma_end(&mm->vmas[vi], k->ps))
		return -EFAULT;
	unsigned flags = mm->vmas[vi].flags;
	int mapped;

	if (!to) {
		to = k->next_map;
		k->next_map += (len + MK_GIB - 1) / MK_GIB * MK_GIB + MK_GIB;
	}
	err = mremap_target_ok(k, mm, start, end, to, &mapped);
	if (err)
		return err;
	/* MREMAP_FIXED: do_munmap() of the target first, with its own
	 * UNMAP (the tail of mm/mremap.c: early UNMAP, REMAP, UNMAP) */
	if (mapped && (err = unmap_range(k, t, to, to + len)))
		return err;
	err = split_range(k, mm, start, end);
	if (err)
		return err;
	int registered = flags && c->live;
	int remap_ev = registered && (c->features & UFFD_FEATURE_EVENT_REMAP);
	int unmap_ev = registered && (c->features & UFFD_FEATURE_EVENT_UNMAP);

	MK_LABEL(k, "mremap 0x%llx-0x%llx -> 0x%llx", (unsigned long long)start,
		 (unsigned long long)end, (unsigned long long)to);
	MEV(k->s, MEV_MREMAP, (int64_t)start, (int64_t)end, (int64_t)to);
	if (remap_ev)
		c->mmap_changing++; /* mremap_userfaultfd_prep() */
	if (unmap_ev)
		c->mmap_changing++; /* unmap_prep of the old range */
	mremap_move(k, mm, start, end, to, remap_ev);
	struct uffd_msg m;

	if (remap_ev) {
		m = (struct uffd_msg){.event = UFFD_EVENT_REMAP};
		m.arg.remap.from = start;
		m.arg.remap.to = to;
		m.arg.remap.len = len;
		event_done(k, c, "REMAP", MEV_T_REMAP, mk_event_wait(k, c, t, &m));
	}
	if (unmap_ev) {
		m = (struct uffd_msg){.event = UFFD_EVENT_UNMAP};
		m.arg.remove.start = start;
		m.arg.remove.end = end;
		event_done(k, c, "UNMAP", MEV_T_UNMAP, mk_event_wait(k, c, t, &m));
	}
	assert(t->est == MK_EV_NONE);
	return 0;
}

int mk_mremap(struct mkern *k, int first, int last)
{
	return mk_mremap_to(k, first, last, 0);
}

int mk_fork(struct mkern *k)
{
	struct mk_thr *t = mk_thr_self(k);

	if (!t)
		return -ENOMEM;
	sched_point(k->s);
	sched_touch_all(k->s); /* VMAs, queues, pages: rare, not refined */
	int ci = 1;

	while (ci < MK_MAX_MM && k->mm[ci].used)
		ci++;
	if (ci == MK_MAX_MM)
		return -EAGAIN;
	struct mk_mm *p = &k->mm[0], *ch = &k->mm[ci];
	struct mk_ctx *pc = &p->ctx;
	int registered = 0;

	assert(ci >= 1 && !ch->used && p->used);
	ch->used = 1;
	memcpy(ch->pages, p->pages, (size_t)k->npages * sizeof(*ch->pages));
	memcpy(ch->vmas, p->vmas, sizeof(p->vmas));
	ch->nvmas = p->nvmas;
	memset(&ch->ctx, 0, sizeof(ch->ctx));
	for (int i = 0; i < ch->nvmas; i++)
		registered |= ch->vmas[i].flags != 0;
	int ev = registered && pc->live &&
		 (pc->features & UFFD_FEATURE_EVENT_FORK);

	MK_LABEL(k, "fork -> mm%d", ci);
	MEV(k->s, MEV_FORK, ci);
	if (!ev) {
		/* rule 39: dup_userfaultfd() resets the child's VMAs */
		for (int i = 0; i < ch->nvmas; i++) {
			if (ch->vmas[i].flags & MK_VM_WP)
				clear_wp(ch, &ch->vmas[i]);
			ch->vmas[i].flags = 0;
		}
		return ci;
	}
	ch->ctx.live = 1;
	ch->ctx.refs = 1;
	ch->ctx.proc_ref = 1;
	ch->ctx.features = pc->features;
	ch->ctx.user_mode_only = pc->user_mode_only;
	pc->mmap_changing++;
	struct uffd_msg m;

	memset(&m, 0, sizeof(m));
	m.event = UFFD_EVENT_FORK; /* ufd is set by the read (rule 4) */
	t->efork = ci;
	int r = mk_event_wait(k, pc, t, &m);

	event_done(k, pc, "FORK", MEV_T_FORK, r);
	if (r && ch->ctx.live)
		ctx_release(k, ci);
	/* read: the child's uffd has an fd (refs 2); withdrawn: released */
	assert(r ? !ch->ctx.live : ch->ctx.refs >= 1);
	assert(ch->used && t->est == MK_EV_NONE);
	return ci;
}

/* ------------------------------------------------------------------ */
/* UFFDIO_(UN)REGISTER                                                 */

/* vma_modify_flags_uffd() merges a VMA with its neighbours when their
 * flags and page offsets line up: unregister + re-register with the same
 * mode gives back one VMA (one REMOVE, not three). */
static void merge_vmas(struct mkern *k, struct mk_mm *mm)
{
	for (int i = 0; i + 1 < mm->nvmas;) {
		struct mk_vma *a = &mm->vmas[i];
		const struct mk_vma *b = &mm->vmas[i + 1];

		if (a->flags == b->flags && mk_vma_end(a, k->ps) == b->start &&
		    a->first + a->npages == b->first) {
			a->npages += b->npages;
			mk_vma_remove(mm, i + 1);
		} else {
			i++;
		}
	}
}


/* The work of UFFDIO_UNREGISTER of [start, end) on mm 0, after the
 * caller's scheduling point (rule 20). */
static int unregister_range(struct mkern *k, uint64_t start, uint64_t end)
{
	struct mk_mm *mm = &k->mm[0];
	struct mk_ctx *c = &mm->ctx;
	int err = split_range(k, mm, start, end);

	if (err)
		return err;
	for (int i = 0; i < mm->nvmas; i++) {
		struct mk_vma *v = &mm->vmas[i];

		if (!inside(v, k->ps, start, end) || !v->flags)
			continue;
		/* rule 20: "wake any concurrent pending userfault" */
		if ((v->flags & MK_VM_MISSING) && c->live)
			mk_wake_range(k, c, v->start,
				      (uint64_t)v->npages * k->ps);
		if (v->flags & MK_VM_WP)
			clear_wp(mm, v);
		v->flags = 0;
	}
	merge_vmas(k, mm);
	assert(mm->nvmas <= MK_MAX_VMAS);
	return 0;
}

int mk_unregister(struct mkern *k, int first, int last)
{
	uint64_t start, end;
	int err = pages_range(k, first, last, &start, &end);

	if (err)
		return err;
	sched_point(k->s);
	sched_touch_all(k->s); /* VMAs, queues, pages: rare, not refined */
	MK_LABEL(k, "UFFDIO_UNREGISTER 0x%llx-0x%llx",
		 (unsigned long long)start, (unsigned long long)end);
	MEV(k->s, MEV_UNREGISTER, (int64_t)start, (int64_t)end);
	return unregister_range(k, start, end);
}

int mk_uffd_unregister(struct mkern *k, int fd, uint64_t start, uint64_t len)
{
	struct mk_fd *f = mk_fd_get(k, fd);

	if (!f || f->kind != MK_FD_UFFD) {
		mk_bad_uffd_call(k, fd, f ? -ENOTTY : -EBADF);
		return f ? -ENOTTY : -EBADF;
	}
	if (f->idx != 0)
		return -EINVAL; /* a forked child's uffd: no region of mm 0 */
	/* validate_unregister_range(): page-aligned, non-empty, no wrap;
	 * on hugetlb the VMA's huge-page alignment */
	if (!len || start + len < start || ((start | len) & (k->ps - 1)))
		return -EINVAL;
	const struct mk_mm *mm = &k->mm[0];
	int any = 0;

	for (int i = 0; i < mm->nvmas; i++)
		any |= mk_vma_end(&mm->vmas[i], k->ps) > start &&
		       mm->vmas[i].start < start + len;
	if (!any)
		return -EINVAL; /* no VMA in the range */
	return unregister_range(k, start, start + len);
}

int mk_register(struct mkern *k, int first, int last, uint64_t mode)
{
	uint64_t start, end;
	int err = pages_range(k, first, last, &start, &end);

	if (err)
		return err;
	if (!mode || (mode & ~(uint64_t)(UFFDIO_REGISTER_MODE_MISSING |
					 UFFDIO_REGISTER_MODE_WP)))
		return -EINVAL;
	sched_point(k->s);
	sched_touch_all(k->s); /* VMAs, queues, pages: rare, not refined */
	struct mk_mm *mm = &k->mm[0];

	MK_LABEL(k, "UFFDIO_REGISTER 0x%llx-0x%llx mode=%llu",
		 (unsigned long long)start, (unsigned long long)end,
		 (unsigned long long)mode);
	MEV(k->s, MEV_REGISTER, (int64_t)start, (int64_t)end, (int64_t)mode);
	if (!mm->ctx.live)
		return -EBADF;
	err = split_range(k, mm, start, end);
	if (err)
		return err;
	unsigned flags = ((mode & UFFDIO_REGISTER_MODE_MISSING) ?
				  MK_VM_MISSING : 0) |
			 ((mode & UFFDIO_REGISTER_MODE_WP) ? MK_VM_WP : 0);

	assert(flags && mm->nvmas <= MK_MAX_VMAS);
	for (int i = 0; i < mm->nvmas; i++) {
		struct mk_vma *v = &mm->vmas[i];

		if (!inside(v, k->ps, start, end))
			continue;
		if ((v->flags & MK_VM_WP) && !(flags & MK_VM_WP))
			clear_wp(mm, v);
		v->flags = flags;
	}
	merge_vmas(k, mm);
	return 0;
}
