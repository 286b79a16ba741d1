/* model/kernel_ioctl.c — what the handler does to a uffd: read() and the
 * UFFDIO_COPY / ZEROPAGE / WAKE / WRITEPROTECT ioctls, and poll readiness.
 *
 * docs/KERNEL.md rules 1-5 (read order, batches, completion of events, poll) and
 * 13-19, 30, 33, 35 (ioctl semantics). Each function is one step body: the
 * sys layer passed its scheduling point before calling it, and nothing here
 * sleeps, so a fill is atomic with respect to a REMOVE being queued
 * (rule 16, the 6.9+ map_changing_lock). The checks run in the kernel's
 * order, which decides the errno and whether the output field is written.
 */
#include "model/kernel_impl.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

/* The context behind fd, or NULL with *err: -EBADF (not open) or notty
 * (open but not a uffd: -ENOTTY for ioctls, -EINVAL for read). */
static struct mk_ctx *fd_ctx(struct mkern *k, int fd, int notty, int *err,
			     int *mmi)
{
	struct mk_fd *f = mk_fd_get(k, fd);

	if (!f) {
		*err = -EBADF;
		mk_bad_uffd_call(k, fd, *err);
		return NULL;
	}
	if (f->kind != MK_FD_UFFD) {
		*err = notty;
		mk_bad_uffd_call(k, fd, *err);
		return NULL;
	}
	*mmi = f->idx;
	return &k->mm[f->idx].ctx;
}

void mk_bad_uffd_call(struct mkern *k, int fd, int err)
{
	if (!k->bad_uffd_calls++) {
		k->bad_uffd_tid = sched_self(k->s);
		k->bad_uffd_fd = fd;
		k->bad_uffd_err = err;
	}
	assert(k->bad_uffd_calls > 0 && k->bad_uffd_err < 0);
}

int mk_bad_uffd_calls(const struct mkern *k, int *tid, int *fd, int *err)
{
	*tid = k->bad_uffd_calls ? k->bad_uffd_tid : -1;
	*fd = k->bad_uffd_fd;
	*err = k->bad_uffd_err;
	return k->bad_uffd_calls;
}

short mk_uffd_revents(const struct mkern *k, int mmi)
{
	assert(mmi >= 0 && mmi < MK_MAX_MM);
	const struct mk_ctx *c = &k->mm[mmi].ctx;

	assert(c->nfpend >= 0 && c->nevents >= 0);
	/* rule 5: unread faults or queued events; read-but-waiting faults
	 * do not count. The model's uffds are all O_NONBLOCK. */
	return c->nfpend || c->nevents ? SYS_POLLIN : 0;
}

/* Readiness is a function of the uffd's state, which every step that
 * changes is found to have written (MK_OC_UFFD, kernel_seen.c); so whether a step changed it
 * is the same in every schedule of its equivalence class, and a poll
 * that reads only the readiness commutes with the steps that left it
 * alone. Checked at each step's end rather than declared at each site:
 * no site can be forgotten. */
void mk_touch_readiness(struct mkern *k)
{
	if (!k->touching)
		return;
	for (int m = 0; m < MK_MAX_MM; m++) {
		short r = mk_uffd_revents(k, m);
		if (r == k->ready_seen[m])
			continue;
		sched_touch(k->s, SCHED_OBJ(MK_OC_UREADY, m), 1);
		k->ready_seen[m] = r;
	}
}

/* ------------------------------------------------------------------ */
/* read                                                                */

int mk_uffd_read(struct mkern *k, int fd, struct uffd_msg *msgs, int max,
		 int64_t *ids, int nids)
{
	int err = 0, mmi = 0;
	struct mk_ctx *c = fd_ctx(k, fd, -EINVAL, &err, &mmi);

	if (!c)
		return err;
	assert(c->live); /* an open uffd fd holds a reference */
	if (max < 1)
		return -EINVAL; /* count < sizeof(struct uffd_msg) */
	struct mk_thr *self = mk_thr_self(k);
	if (self)
		self->reads_uffd = 1; /* the oracle's "serve loop", by behaviour */
	int n = 0;

	/* rules 1, 2: every message is the fault queue's head if any, else
	 * the event queue's; never wait to fill the buffer */
	while (n < max) {
		if (c->fpend.head) {
			struct mk_thr *t = c->fpend.head;

			assert(t->flist == MK_FL_PENDING && t->fctx == c);
			mk_fault_to_read(t); /* rule 3: it sleeps on */
			if (ids && n < nids)
				ids[n] = t->fmsg_id;
			msgs[n++] = t->fmsg;
			continue;
		}
		struct mk_thr *t = c->events.head;

		if (!t)
			break;
		assert(t->est == MK_EV_QUEUED && t->ectx == c && c->nevents > 0);
		struct uffd_msg m = t->emsg;

		if (m.event == UFFD_EVENT_FORK) {
			/* rule 4: the child's uffd fd is created by this read */
			int cfd = mk_fd_alloc(k, MK_FD_UFFD, t->efork);

			if (cfd < 0) {
				if (n)
					break;
				return cfd;
			}
			assert(k->mm[t->efork].ctx.live);
			k->mm[t->efork].ctx.refs++;
			m.arg.fork.ufd = (uint32_t)cfd;
		}
		/* rule 4: reading completes the event; its caller runs again */
		mk_event_unlink(t);
		t->est = MK_EV_DONE;
		int woke = sched_wake_one(k->s, &t->q);

		assert(woke == 1); /* its caller sleeps in mk_event_wait */
		(void)woke;
		if (ids && n < nids)
			ids[n] = t->emsg_id;
		msgs[n++] = m;
	}
	assert(n <= max && (n == max || (!c->fpend.head && !c->nfpend)));
	return n ? n : -EAGAIN;
}

/* ------------------------------------------------------------------ */
/* fills                                                               */

/* validate_range(): 4 KiB alignment whatever the VMA, len > 0 */
static int validate_range(uint64_t start, uint64_t len)
{
	if ((start & (MK_SMALL_PAGE - 1)) || (len & (MK_SMALL_PAGE - 1)) ||
	    !len || start + len < start)
		return -EINVAL;
	return 0;
}

/* The content COPY installs at page address a: the source's bytes at
 * the same offset, or -EFAULT where they cannot be read. */
static int src_page(struct mkern *k, uint64_t dst, uint64_t src, uint64_t a,
		    mk_content *tag)
{
	return mk_src_tag(k, src + (a - dst), k->ps, tag);
}

/* mfill_atomic(): returns bytes filled (> 0) or -errno (rules 14, 17, 18,
 * 30). Each page's content comes from src (ZEROPAGE: zeros). */
static int64_t mfill(struct mkern *k, int mmi, uint64_t dst, uint64_t len,
		     uint64_t src, int zeropage, int wp)
{
	struct mk_mm *mm = &k->mm[mmi];
	int vi = mk_vma_at(mm, k->ps, dst);

	/* find_dst_vma(): the range lies in one registered VMA */
	if (vi < 0 || dst + len > mk_vma_end(&mm->vmas[vi], k->ps) ||
	    !mm->vmas[vi].flags)
		return -ENOENT;
	const struct mk_vma *v = &mm->vmas[vi];

	/* "don't allow a wrprotect copy if the userfaultfd didn't register
	 * as WP" */
	if (wp && !(v->flags & MK_VM_WP))
		return -EINVAL;
	if (k->huge) {
		/* mfill_atomic_hugetlb(): no zero huge page; 2 MiB units */
		if (zeropage)
			return -EINVAL;
		if ((dst & (k->ps - 1)) || (len & (k->ps - 1)))
			return -EINVAL;
	}
	int64_t done = 0;
	int tid = sched_self(k->s);

	for (uint64_t a = dst; a < dst + len; a += k->ps) {
		int p = v->first + (int)((a - v->start) / k->ps);
		struct mk_page *pg = &mm->pages[p];

		mk_content tag = 0;

		assert(p >= v->first && p < v->first + v->npages);
		/* COPY: any non-none PTE; a WP marker is none enough
		 * (pte_none_mostly, rule 32). ZEROPAGE wants pte_none():
		 * it fails on a marker too, and leaves it. hugetlb checks the
		 * PTE first (mfill_atomic_hugetlb); a small page's copy reads
		 * the source before it looks at the PTE
		 * (mfill_atomic_pte_copy), so EFAULT wins there. */
		if (k->huge && pg->present)
			return done ? done : -EEXIST;
		if (!zeropage && src_page(k, dst, src, a, &tag))
			return done ? done : -EFAULT;
		/* a poison marker is none enough for COPY too (seen on
		 * 6.18.44), ZEROPAGE refuses it */
		if (pg->present || (zeropage && (pg->wp || pg->poison)))
			return done ? done : -EEXIST;
		pg->poison = 0;
		pg->present = 1;
		pg->content = tag;
		pg->wp = wp ? 1 : 0;
		/* the page is in place before the next one is tried: the
		 * observer sees installs in address order */
		if (mmi == 0 && k->obs.install)
			k->obs.install(k->obs.ctx, tid, p, tag, pg->wp);
		/* on a small page, done grows by 4 KiB; on hugetlb by 2 MiB */
		done += (int64_t)k->ps;
	}
	assert(done > 0 && (uint64_t)done == len); /* every page filled */
	return done;
}

/* userfaultfd_copy() / userfaultfd_zeropage() around mfill(). */
static int fill_ioctl(struct mkern *k, int fd, uint64_t dst, uint64_t len,
		      uint64_t mode, uint64_t src, int zeropage,
		      int64_t *field, int checked)
{
	int err = 0, mmi = 0;
	struct mk_ctx *c = fd_ctx(k, fd, -ENOTTY, &err, &mmi);

	if (!c)
		return err;
	assert(c->live && mmi < MK_MAX_MM);
	/* rule 13: refused first, field = -EAGAIN (6.15+; before, the
	 * field is left alone, which sys.h reports as the same -EAGAIN).
	 * checked: a pre-6.9 fill whose check passed in an earlier step
	 * (rule 16) */
	if (c->mmap_changing && !checked) {
		if (k->prof->field_on_eagain)
			*field = -EAGAIN;
		return -EAGAIN;
	}
	/* validation failures leave the field untouched */
	err = validate_range(dst, len);
	if (err)
		return err;
	uint64_t modes = zeropage ? UFFDIO_ZEROPAGE_MODE_DONTWAKE :
				    UFFDIO_COPY_MODE_DONTWAKE | UFFDIO_COPY_MODE_WP;

	if (mode & ~modes)
		return -EINVAL;
	/* rule 44: the mm is gone; returned before the field is written */
	if (c->mm_exited)
		return -ESRCH;
	int wp = !zeropage && (mode & UFFDIO_COPY_MODE_WP);
	int64_t r = mfill(k, mmi, dst, len, src, zeropage, wp);

	/* bytes done, whole pages of this memory; never past the range */
	assert(r < 0 || ((uint64_t)r <= len && r % (int64_t)k->ps == 0));
	*field = r;
	if (r < 0)
		return (int)r;
	/* rule 15: only the filled prefix is woken */
	if (!(mode & UFFDIO_COPY_MODE_DONTWAKE))
		mk_wake_range(k, c, dst, (uint64_t)r);
	return (uint64_t)r == len ? 0 : -EAGAIN; /* rule 14 */
}

int mk_uffd_copy(struct mkern *k, int fd, uint64_t dst, uint64_t src,
		 uint64_t len, uint64_t mode, int64_t *field, mk_content *first,
		 int checked)
{
	if (mk_src_tag(k, src, k->ps, first))
		*first = 0;
	return fill_ioctl(k, fd, dst, len, mode, src, 0, field, checked);
}

int mk_uffd_zeropage(struct mkern *k, int fd, uint64_t dst, uint64_t len,
		     uint64_t mode, int64_t *field, int checked)
{
	return fill_ioctl(k, fd, dst, len, mode, 0, 1, field, checked);
}

int mk_fill_precheck(struct mkern *k, int fd, int64_t *field)
{
	int err = 0, mmi = 0;
	struct mk_ctx *c = fd_ctx(k, fd, -ENOTTY, &err, &mmi);

	if (!c)
		return err;
	if (c->mmap_changing) {
		if (k->prof->field_on_eagain)
			*field = -EAGAIN;
		return -EAGAIN;
	}
	return 0;
}

int mk_uffd_changing(struct mkern *k, int fd)
{
	int err = 0, mmi = 0;
	struct mk_ctx *c = fd_ctx(k, fd, -ENOTTY, &err, &mmi);

	return c && c->mmap_changing > 0;
}

/* ------------------------------------------------------------------ */
/* the API handshake, POISON, MOVE                                     */

int mk_uffd_api(struct mkern *k, int fd, uint64_t want, uint64_t *features,
		uint64_t *ioctls)
{
	int err = 0, mmi = 0;
	struct mk_ctx *c = fd_ctx(k, fd, -EINVAL, &err, &mmi);

	*features = *ioctls = 0;
	if (!c)
		return err;
	/* userfaultfd_api(): "if (features & ~uffdio_api.features)" */
	if (want & ~k->prof->features)
		return -EINVAL;
	*features = c->features;
	*ioctls = k->prof->ioctls;
	return 0;
}

/* mfill_get_vma(): [dst, dst+len) inside one VMA registered to the
 * uffd; its index, or -ENOENT. */
static int dst_vma(struct mkern *k, int mmi, uint64_t dst, uint64_t len)
{
	struct mk_mm *mm = &k->mm[mmi];
	int vi = mk_vma_at(mm, k->ps, dst);

	if (vi < 0 || dst + len > mk_vma_end(&mm->vmas[vi], k->ps) ||
	    !mm->vmas[vi].flags)
		return -ENOENT;
	return vi;
}

static int has_ioctl(const struct mkern *k, int nr)
{
	return (k->prof->ioctls >> nr) & 1;
}

int mk_uffd_poison(struct mkern *k, int fd, uint64_t dst, uint64_t len,
		   uint64_t mode, int64_t *field)
{
	int err = 0, mmi = 0;
	struct mk_ctx *c = fd_ctx(k, fd, -ENOTTY, &err, &mmi);

	if (!c)
		return err;
	if (!has_ioctl(k, _UFFDIO_POISON))
		return -EINVAL; /* userfaultfd_ioctl(): an unknown cmd */
	if (c->mmap_changing) {
		*field = -EAGAIN;
		return -EAGAIN;
	}
	err = validate_range(dst, len);
	if (err)
		return err;
	if (mode & ~UFFDIO_POISON_MODE_DONTWAKE)
		return -EINVAL;
	int vi = dst_vma(k, mmi, dst, len);

	if (vi < 0) {
		*field = vi;
		return vi;
	}
	struct mk_mm *mm = &k->mm[mmi];
	const struct mk_vma *v = &mm->vmas[vi];
	int64_t done = 0;

	for (uint64_t a = dst; a < dst + len; a += k->ps) {
		struct mk_page *pg = &mm->pages[v->first + (int)((a - v->start) / k->ps)];

		/* mfill_atomic_pte_poison(): only over a none PTE */
		if (pg->present || pg->poison) {
			done = done ? done : -EEXIST;
			break;
		}
		pg->poison = 1;
		done += (int64_t)k->ps;
	}
	*field = done;
	if (done < 0)
		return (int)done;
	if (!(mode & UFFDIO_POISON_MODE_DONTWAKE))
		mk_wake_range(k, c, dst, (uint64_t)done);
	return (uint64_t)done == len ? 0 : -EAGAIN;
}

/* One page of a MOVE: 0 moved, 1 a hole skipped, or -errno. */
static int move_page(struct mkern *k, int mmi, struct mk_page *d, int dp,
		     uint64_t sa, uint64_t mode)
{
	struct mk_mm *mm = &k->mm[mmi];
	int si = mk_vma_at(mm, k->ps, sa);

	if (si < 0)
		return -ENOENT;
	int sp = mm->vmas[si].first + (int)((sa - mm->vmas[si].start) / k->ps);
	struct mk_page *s = &mm->pages[sp];

	if (d->present)
		return -EEXIST;
	if (!s->present)
		return mode & UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ? 1 : -ENOENT;
	*d = *s;
	d->wp = 0;
	memset(s, 0, sizeof(*s));
	if (mmi == 0 && k->obs.zap)
		k->obs.zap(k->obs.ctx, sp);
	if (mmi == 0 && k->obs.install)
		k->obs.install(k->obs.ctx, sched_self(k->s), dp, d->content, 0);
	return 0;
}

int mk_uffd_move(struct mkern *k, int fd, uint64_t dst, uint64_t src,
		 uint64_t len, uint64_t mode, int64_t *field)
{
	int err = 0, mmi = 0;
	struct mk_ctx *c = fd_ctx(k, fd, -ENOTTY, &err, &mmi);

	if (!c)
		return err;
	if (!has_ioctl(k, _UFFDIO_MOVE))
		return -EINVAL;
	if (c->mmap_changing) {
		*field = -EAGAIN;
		return -EAGAIN;
	}
	if ((err = validate_range(dst, len)) || (err = validate_range(src, len)))
		return err;
	if (mode & ~(UFFDIO_MOVE_MODE_DONTWAKE | UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES))
		return -EINVAL;
	if (k->huge)
		return -EINVAL; /* anonymous private memory only */
	int vi = dst_vma(k, mmi, dst, len);

	if (vi < 0) {
		*field = vi;
		return vi;
	}
	struct mk_mm *mm = &k->mm[mmi];
	const struct mk_vma *v = &mm->vmas[vi];
	int64_t done = 0;

	for (uint64_t off = 0; off < len; off += k->ps) {
		int dp = v->first + (int)((dst + off - v->start) / k->ps);
		int r = move_page(k, mmi, &mm->pages[dp], dp, src + off, mode);

		if (r < 0) {
			done = done ? done : r;
			break;
		}
		done += (int64_t)k->ps;
	}
	*field = done;
	if (done < 0)
		return (int)done;
	if (!(mode & UFFDIO_MOVE_MODE_DONTWAKE))
		mk_wake_range(k, c, dst, (uint64_t)done);
	return (uint64_t)done == len ? 0 : -EAGAIN;
}

/* ------------------------------------------------------------------ */
/* wake, writeprotect                                                  */

int mk_uffd_wake(struct mkern *k, int fd, uint64_t start, uint64_t len)
{
	int err = 0, mmi = 0;
	struct mk_ctx *c = fd_ctx(k, fd, -ENOTTY, &err, &mmi);

	if (!c)
		return err;
	/* rule 19: alignment only; no waiter or no VMA is fine */
	err = validate_range(start, len);
	if (err)
		return err;
	mk_wake_range(k, c, start, len);
	return 0;
}

/* uffd_wp_range() on the part of v inside [start, end). */
static void wp_range(struct mkern *k, struct mk_mm *mm, struct mk_ctx *c,
		     const struct mk_vma *v, uint64_t start, uint64_t end,
		     int enable)
{
	uint64_t vs = v->start > start ? v->start : start;
	uint64_t ve = mk_vma_end(v, k->ps);
	/* rule 35: markers on empty PTEs only for hugetlb or with
	 * WP_UNPOPULATED (implied by WP_ASYNC) */
	int markers = k->huge || (c->features & UFFD_FEATURE_WP_UNPOPULATED);

	if (ve > end)
		ve = end;
	for (uint64_t a = vs; a < ve; a += k->ps) {
		int p = v->first + (int)((a - v->start) / k->ps);
		struct mk_page *pg = &mm->pages[p];

		assert(p >= v->first && p < v->first + v->npages);
		if (!enable)
			pg->wp = 0;
		else if (pg->present || markers)
			pg->wp = 1;
	}
}

int mk_uffd_writeprotect(struct mkern *k, int fd, uint64_t start,
			 uint64_t len, uint64_t mode)
{
	int err = 0, mmi = 0;
	struct mk_ctx *c = fd_ctx(k, fd, -ENOTTY, &err, &mmi);

	if (!c)
		return err;
	if (c->mmap_changing)
		return -EAGAIN; /* rule 13; WRITEPROTECT has no output field */
	err = validate_range(start, len);
	if (err)
		return err;
	if (mode & ~(uint64_t)(UFFDIO_WRITEPROTECT_MODE_WP |
			       UFFDIO_WRITEPROTECT_MODE_DONTWAKE))
		return -EINVAL;
	int enable = (mode & UFFDIO_WRITEPROTECT_MODE_WP) != 0;
	int dontwake = (mode & UFFDIO_WRITEPROTECT_MODE_DONTWAKE) != 0;

	if (enable && dontwake)
		return -EINVAL; /* rule 33 */
	if (c->mm_exited)
		return -ESRCH; /* rule 44 */
	/* mwriteprotect_range(): VMA by VMA; a VMA without WP stops the
	 * walk with ENOENT (earlier VMAs stay changed); no VMA at all is
	 * ENOENT too */
	struct mk_mm *mm = &k->mm[mmi];
	uint64_t end = start + len;

	assert(end > start && mm->nvmas <= MK_MAX_VMAS);
	err = -ENOENT;
	for (int i = 0; i < mm->nvmas; i++) {
		const struct mk_vma *v = &mm->vmas[i];

		if (mk_vma_end(v, k->ps) <= start || v->start >= end)
			continue;
		if (!(v->flags & MK_VM_WP)) {
			err = -ENOENT;
			break;
		}
		if (k->huge && ((start | len) & (k->ps - 1))) {
			err = -EINVAL;
			break;
		}
		wp_range(k, mm, c, v, start, end, enable);
		err = 0;
	}
	if (err)
		return err;
	if (!enable && !dontwake)
		mk_wake_range(k, c, start, len); /* rule 33 */
	return 0;
}
