/* model/kernel_fault.c — guest accesses, page faults and their wake-ups.
 *
 * docs/KERNEL.md rules 6-12 (faults, messages, wakes, signals, kernel-mode
 * accesses), 18 (writes to the zero page), 33-36 (write-protect faults) and
 * 41 (SIGBUS). A faulting thread queues its message and sleeps on its own
 * wait queue in one step: handle_userfault() queues and re-checks the PTE
 * under the same VMA lock the filling ioctls need, so nothing can slip in
 * between. Whoever wakes it unlinks its message from whichever queue it is
 * in (rule 9); the thread then retries the access from the start.
 */
#include "model/kernel_impl.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* the two fault queues                                                */

static void flist_append(struct mk_list *l, struct mk_thr *t)
{
	/* on no list yet; the list's ends agree */
	assert(!t->fprev && !t->fnext && !l->head == !l->tail);
	t->fnext = NULL;
	t->fprev = l->tail;
	if (l->tail)
		l->tail->fnext = t;
	else
		l->head = t;
	l->tail = t;
}

static void flist_remove(struct mk_list *l, struct mk_thr *t)
{
	/* t is on l: its neighbours point back at it */
	assert(t->fprev ? t->fprev->fnext == t : l->head == t);
	assert(t->fnext ? t->fnext->fprev == t : l->tail == t);
	if (t->fprev)
		t->fprev->fnext = t->fnext;
	else
		l->head = t->fnext;
	if (t->fnext)
		t->fnext->fprev = t->fprev;
	else
		l->tail = t->fprev;
	t->fprev = t->fnext = NULL;
}

void mk_fault_unlink(struct mk_thr *t)
{
	struct mk_ctx *c = t->fctx;

	if (t->flist == MK_FL_PENDING) {
		assert(c->nfpend > 0);
		flist_remove(&c->fpend, t);
		c->nfpend--;
	} else if (t->flist == MK_FL_READ) {
		flist_remove(&c->fread, t);
	}
	t->flist = MK_FL_NONE;
}

void mk_fault_to_read(struct mk_thr *t)
{
	struct mk_ctx *c = t->fctx;

	assert(t->flist == MK_FL_PENDING && c && c->nfpend > 0);
	flist_remove(&c->fpend, t);
	c->nfpend--;
	flist_append(&c->fread, t);
	t->flist = MK_FL_READ;
	assert(c->nfpend > 0 || !c->fpend.head); /* the count follows the list */
}

/* l holds the faults in state `want` (MK_FL_PENDING or MK_FL_READ) */
static int wake_list(struct mkern *k, struct mk_list *l, int want,
		     uint64_t start, uint64_t len)
{
	int n = 0;

	for (struct mk_thr *t = l->head, *next; t; t = next) {
		uint64_t a = t->fmsg.arg.pagefault.address;

		next = t->fnext;
		/* membership matches the state: fpend holds PENDING ones */
		assert(t->flist == want);
		/* userfaultfd_wake_function(): start <= address < start+len,
		 * len 0 = everything */
		if (len && (a < start || a - start >= len))
			continue;
		mk_fault_unlink(t);
		int woke = sched_wake_one(k->s, &t->q);

		assert(woke == 1); /* a listed fault's thread sleeps on t->q */
		(void)woke;
		n++;
	}
	return n;
}

/* __wake_userfault(): unread waiters first, then the read ones. */
int mk_wake_range(struct mkern *k, struct mk_ctx *ctx, uint64_t start,
		  uint64_t len)
{
	int n = wake_list(k, &ctx->fpend, MK_FL_PENDING, start, len) +
		wake_list(k, &ctx->fread, MK_FL_READ, start, len);

	/* len 0 (release) wakes everyone */
	assert(len || (!ctx->fpend.head && !ctx->fread.head && !ctx->nfpend));
	return n;
}

/* ------------------------------------------------------------------ */
/* accesses                                                            */

/* what: the outcome; v: the content shown after it, if show */
static void label_access(struct mkern *k, int mmi, int page, int write,
			 const char *what, int show, mk_content v)
{
	char cs[32] = "", pre[16] = "";

	if (!sched_labels_on(k->s))
		return;
	if (show)
		mk_fmt_content(cs, sizeof(cs), v);
	if (mmi)
		snprintf(pre, sizeof(pre), "mm%d ", mmi);
	sched_label(k->s, "%s%s p%d %s%s", pre, write ? "write" : "read",
		    page, what, cs);
}

/* Try the access once. Returns 0 when it completed, 1 when it must fault
 * (*reason = MK_VM_MISSING or MK_VM_WP), -EFAULT when unmapped. */
static int try_access(struct mkern *k, struct mk_mm *mm, int page, int write,
		      mk_content v, struct mk_ctx **ctxp, uint64_t *addrp,
		      unsigned *reason)
{
	int vi = mk_vma_of_page(mm, page);

	assert(page >= 0 && page < k->npages);
	if (vi < 0)
		return -EFAULT;
	const struct mk_vma *vma = &mm->vmas[vi];
	struct mk_page *pg = &mm->pages[page];
	struct mk_ctx *ctx = vma->flags && mm->ctx.live ? &mm->ctx : NULL;

	*addrp = vma->start + (uint64_t)(page - vma->first) * k->ps;
	*ctxp = ctx;
	*reason = 0;
	if (!pg->present) {
		if (pg->poison)
			return -EFAULT; /* SIGBUS (rule 42) */
		if (ctx && (vma->flags & MK_VM_MISSING)) {
			/* a WP marker does not change that: rule 32 */
			*reason = MK_VM_MISSING;
			return 1;
		}
		/* Plain anonymous memory: the zero page or a fresh page. A WP
		 * marker of a WP-registered range carries over to the PTE
		 * (do_anonymous_page), so the write below WP-faults (rule 35). */
		pg->present = 1;
		pg->content = 0;
		pg->wp = pg->wp && ctx && (vma->flags & MK_VM_WP);
	}
	if (write && pg->wp) {
		if (ctx && (vma->flags & MK_VM_WP) &&
		    !(ctx->features & UFFD_FEATURE_WP_ASYNC)) {
			*reason = MK_VM_WP;
			return 1;
		}
		pg->wp = 0; /* WP_ASYNC resolves it silently (rule 36) */
	}
	if (write)
		pg->content = v;
	assert(pg->present && (!write || pg->content == v));
	return 0;
}

/* Rules 6, 7: queue t's PAGEFAULT on ctx's unread list; the caller sleeps
 * in the same step. Accesses are page-granular here, so EXACT_ADDRESS
 * changes nothing: the exact address is the page's start. */
static void fault_queue(struct mkern *k, struct mk_thr *t,
			struct mk_ctx *ctx, int mmi, int page, int write,
			mk_content v, uint64_t addr, unsigned reason)
{
	/* a thread waits for one thing at a time */
	assert(t->flist == MK_FL_NONE && t->est == MK_EV_NONE);
	assert(ctx && ctx->live);
	memset(&t->fmsg, 0, sizeof(t->fmsg));
	t->fmsg.event = UFFD_EVENT_PAGEFAULT;
	t->fmsg.arg.pagefault.address = addr;
	t->fmsg.arg.pagefault.flags =
		(write ? UFFD_PAGEFAULT_FLAG_WRITE : 0) |
		(reason == MK_VM_WP ? UFFD_PAGEFAULT_FLAG_WP : 0);
	if (ctx->features & UFFD_FEATURE_THREAD_ID)
		t->fmsg.arg.pagefault.feat.ptid = (uint32_t)t->tid;
	t->fmsg_id = ++k->msg_seq;
	t->fctx = ctx;
	t->fmm = mmi;
	t->fpage = page;
	t->fkilled = 0;
	flist_append(&ctx->fpend, t);
	ctx->nfpend++;
	t->flist = MK_FL_PENDING;
	assert(ctx->fpend.tail == t && ctx->nfpend > 0);
	mk_ready(k);
	if (sched_labels_on(k->s)) {
		char ms[64];

		mk_fmt_msg(ms, sizeof(ms), &t->fmsg);
		label_access(k, mmi, page, write, "", write, v);
		sched_label(k->s, "fault: %s queued, sleeps", ms);
		MEV(k->s, MEV_FAULT, mmi, page, (int64_t)addr,
		    t->fmsg.arg.pagefault.flags,
		    write ? (int64_t)v : 0, t->fmsg_id);
	}
}

/* try_access, declaring the page: an access that changed nothing (a read
 * of a present page) only read it; a write, a fault or a population
 * (zero page, WP bits) wrote it. */
static int touched_access(struct mkern *k, int mmi, int page, int write, mk_content v,
			  struct mk_ctx **ctx, uint64_t *addr, unsigned *reason)
{
	struct mk_mm *mm = &k->mm[mmi];
	struct mk_page before = mm->pages[page];
	int r = try_access(k, mm, page, write, v, ctx, addr, reason);
	const struct mk_page *now = &mm->pages[page];

	MK_TOUCH(k, MK_OC_PAGE, MK_PAGE_ID(mmi, page),
		 write || r != 0 || before.content != now->content ||
			 before.present != now->present || before.wp != now->wp ||
			 before.poison != now->poison);
	return r;
}

int mk_access(struct mkern *k, int mmi, int page, int write, mk_content v,
	      int kernel, mk_content *out)
{
	if (mmi < 0 || mmi >= MK_MAX_MM || !k->mm[mmi].used || page < 0 ||
	    page >= k->npages)
		return -EINVAL;
	sched_point(k->s);
	struct mk_thr *t = NULL;

	for (;;) {
		struct mk_mm *mm = &k->mm[mmi];
		struct mk_ctx *ctx;
		uint64_t addr;
		unsigned reason;
		MK_TOUCH(k, MK_OC_MM, mmi, 0);
		if (mm->ctx.mm_exited) { /* rule 44: the thread died with it */
			MK_TOUCH(k, MK_OC_PAGE, MK_PAGE_ID(mmi, page), 1);
			label_access(k, mmi, page, write, "-> killed (the process exited)", 0, 0);
			MEV(k->s, MEV_KILLED, mmi, page, 0);
			return -EINTR;
		}
		int r = touched_access(k, mmi, page, write, v, &ctx, &addr, &reason);

		if (r < 0) {
			label_access(k, mmi, page, write, "-> SEGV", 0, 0);
			MEV(k->s, MEV_ACCESS, mmi, page, write, MEV_RES_SEGV, 0);
			return r;
		}
		if (r == 0) {
			if (out)
				*out = mm->pages[page].content;
			label_access(k, mmi, page, write, "-> ", 1,
				     mm->pages[page].content);
			MEV(k->s, MEV_ACCESS, mmi, page, write, MEV_RES_OK,
			    (int64_t)mm->pages[page].content);
			return 0;
		}
		/* its settings, and the queue it joins; writes: kernel_seen.c */
		MK_UFFD_READ(k, mk_ctx_mm(k, ctx), 1u << MK_UFFD_CTL | 1u << MK_UFFD_FQ);
		/* rule 12: with UFFD_USER_MODE_ONLY a kernel-mode access gets
		 * EFAULT instead of a message; rule 41: SIGBUS feature, for a
		 * WP fault too (handle_userfault checks it before the reason) */
		if ((kernel && ctx->user_mode_only) ||
		    (ctx->features & UFFD_FEATURE_SIGBUS)) {
			label_access(k, mmi, page, write,
				     kernel ? "-> EFAULT" : "-> SIGBUS", 0, 0);
			MEV(k->s, MEV_ACCESS, mmi, page, write,
			    kernel ? MEV_RES_EFAULT : MEV_RES_SIGBUS, 0);
			return -EFAULT;
		}
		if (!t) {
			t = mk_thr_self(k);
			if (!t)
				return -ENOMEM;
		}
		fault_queue(k, t, ctx, mmi, page, write, v, addr, reason);
		sched_block(k->s, &t->q);
		/* Nothing of the uffd is read here: the thread is off every
		 * queue, and only its waker (ordered before this step as its
		 * enabler) wrote the fields checked below. */
		/* rule 9: whoever woke it took its message off the queues
		 * (a COPY/WAKE after or before the read, a signal, release) */
		assert(t->flist == MK_FL_NONE && t->est == MK_EV_NONE);
		if (t->fkilled) {
			t->fkilled = 0;
			label_access(k, mmi, page, write, "-> killed", 0, 0);
			MEV(k->s, MEV_KILLED, mmi, page, t->fmsg_id);
			return -EINTR;
		}
		MK_LABEL(k, "woken: retries p%d", page);
		MEV(k->s, MEV_WOKEN, mmi, page, t->fmsg_id);
	}
}

mk_content mk_guest_read(struct mkern *k, int page)
{
	mk_content c = 0;
	int err = mk_access(k, 0, page, 0, 0, 0, &c);

	if (err == -EINTR)
		return MK_KILLED;
	return err ? MK_SEGV : c;
}

int mk_guest_write(struct mkern *k, int page, mk_content v)
{
	return mk_access(k, 0, page, 1, v, 0, NULL);
}

/* ------------------------------------------------------------------ */
/* signals                                                             */

int mk_signal(struct mkern *k, int tid, int fatal)
{
	sched_point(k->s);
	sched_touch_all(k->s);
	struct mk_thr *t = tid >= 0 && tid < k->nthr ? k->thr[tid] : NULL;

	MK_LABEL(k, "signal t%d%s", tid, fatal ? " fatal" : "");
	MEV(k->s, MEV_SIGNAL, tid, fatal != 0);
	if (!t)
		return 0;
	/* rule 10: a fault sleeps interruptibly; its message is dropped
	 * and the retried access queues a new one */
	if (t->flist != MK_FL_NONE) {
		assert(t->est == MK_EV_NONE && tid != sched_self(k->s));
		mk_fault_unlink(t);
		t->fkilled = fatal != 0;
		int woke = sched_wake_one(k->s, &t->q);

		assert(woke == 1 && t->flist == MK_FL_NONE);
		(void)woke;
		return 1;
	}
	/* rule 28: an event wait is killable only */
	if (t->est == MK_EV_QUEUED && fatal) {
		assert(tid != sched_self(k->s));
		mk_event_unlink(t);
		t->est = MK_EV_WITHDRAWN;
		int woke = sched_wake_one(k->s, &t->q);

		assert(woke == 1 && !t->eprev && !t->enext);
		(void)woke;
		return 1;
	}
	return 0;
}
