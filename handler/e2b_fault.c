/* e2b-ref: the worker, fault_page and Prefault (docs/HANDLER.md 1.5, 1.10, 1.11). */
#include "e2b.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fault_req {
	uint64_t addr;   /* page-aligned */
	uint64_t offset; /* in the snapshot */
	int write;
	enum source_kind src;
	const void *data;     /* prefault: the bytes to install */
	struct serve *fail_sv; /* NULL: no SignalExit on failure (prefault) */
	int eexist_discards;   /* fix 8: EEXIST leaves the tracker as it is */
};

static void on_failure(const struct fault_req *r)
{
	if (r->fail_sv)
		e2b_signal_exit(r->fail_sv);
}

/* Source read with REF's retries: min(base << k, cap) + jitter [0, d/2). */
static int read_source(struct e2b *h, const struct fault_req *r, void *buf)
{
	const struct sys_ops *o = h->o;
	int err = 0;
	for (int k = 0; k <= h->cfg.source_retries; k++) {
		if (k > 0) {
			uint64_t d = h->cfg.backoff_base_ns << (k - 1);
			if (d > h->cfg.backoff_cap_ns)
				d = h->cfg.backoff_cap_ns;
			uint64_t jitter = d / 2 ? o->random(h->sys) % (d / 2) : 0;
			e2b_stat(h, &h->st.source_retries);
			o->sleep_ns(h->sys, d + jitter);
		}
		err = o->source_read(h->sys, h->cfg.src_offset + r->offset, buf,
				     h->cfg.page_size);
		if (!err)
			return 0;
	}
	return err;
}

/* COPY result: errno if any; else a short/negative copy field -> EAGAIN. */
static int copy_result(int ret, int64_t copied, uint64_t len)
{
	if (ret)
		return ret;
	if (copied < 0)
		return (int)copied;
	if ((uint64_t)copied != len)
		return -EAGAIN;
	return 0;
}

/* A page of zeros: ZEROPAGE on 4 KiB (armed for WP when registered, since
 * there is no WP on a none PTE without WP_UNPOPULATED: fill, arm, wake),
 * a COPY of a zero buffer on hugetlb, which has no ZEROPAGE. */
static int install_zeros(struct e2b *h, const struct fault_req *r, uint64_t mode)
{
	const struct sys_ops *o = h->o;
	sys_t *s = h->sys;
	uint64_t ps = h->cfg.page_size;
	int64_t field = 0;
	int e;
	int arm = h->cfg.wp && (!r->write || (h->fixes & FIX_ARM_WRITE_FILL));
	/* FIX_ZERO_COPY_WP: install and arm in one ioctl. Split, a zap between
	 * the ZEROPAGE and the WRITEPROTECT (a REMOVE read, madvise not yet
	 * resumed) leaves a WP marker on the empty PTE, and every later
	 * ZEROPAGE of the re-fault gets EEXIST (KERNEL.md A1): a livelock */
	if (ps != 4096 || (arm && (h->fixes & FIX_ZERO_COPY_WP))) {
		e = o->uffd_copy(s, h->cfg.uffd, r->addr, h->zero_buf, ps, mode, &field);
		return copy_result(e, field, ps);
	}
	e = o->uffd_zeropage(s, h->cfg.uffd, r->addr, ps,
			     arm ? UFFDIO_ZEROPAGE_MODE_DONTWAKE : 0, &field);
	if (!e && field != (int64_t)ps)
		e = field < 0 ? (int)field : -EIO;
	/* B10's variant: the page is there (a retry after WRITEPROTECT
	 * failed), so go on and arm it; REF reports EEXIST, and B9 follows */
	if (e == -EEXIST && arm && (h->cfg.variants & VARIANT_ZERO_WP_SPLIT))
		e = 0;
	if (!e && arm)
		e = o->uffd_writeprotect(s, h->cfg.uffd, r->addr, ps,
					 UFFDIO_WRITEPROTECT_MODE_WP);
	if (!e && arm)
		e = o->uffd_wake(s, h->cfg.uffd, r->addr, ps);
	return e;
}

/* The snapshot's bytes, read now unless the caller already has them. A
 * failure to get them ends the handler: *fatal is set. */
static int install_source(struct e2b *h, const struct fault_req *r, uint64_t mode,
			  int *fatal)
{
	const struct sys_ops *o = h->o;
	sys_t *s = h->sys;
	uint64_t ps = h->cfg.page_size;
	int64_t field = 0;
	if (r->data) {
		int e = o->uffd_copy(s, h->cfg.uffd, r->addr, r->data, ps, mode, &field);
		return copy_result(e, field, ps); /* field is set only once the call ran */
	}
	*fatal = 1;
	void *buf = o->buf_alloc(s, ps);
	if (!buf) {
		on_failure(r);
		e2b_fail(h, -ENOMEM, "no memory for a %llu-byte page buffer",
			 (unsigned long long)ps);
		return -ENOMEM;
	}
	int derr = read_source(h, r, buf);
	if (derr && (h->cfg.variants & VARIANT_ERROR_COUNTED_INSTALLED)) {
		/* B17 (before d540917): faultPage's recover returned the zero
		 * values, which the caller reads as INSTALLED and no error */
		o->buf_free(s, buf, ps);
		*fatal = 0;
		return 0;
	}
	if (derr) {
		o->buf_free(s, buf, ps);
		on_failure(r);
		e2b_fail(h, derr, "source read of offset 0x%llx failed after %d attempts: %s",
			 (unsigned long long)r->offset, h->cfg.source_retries + 1,
			 strerror(-derr));
		return derr;
	}
	*fatal = 0;
	int e = o->uffd_copy(s, h->cfg.uffd, r->addr, buf, ps, mode, &field);
	o->buf_free(s, buf, ps);
	return copy_result(e, field, ps);
}

static int fault_page(struct e2b *h, const struct fault_req *r,
		      enum outcome *out)
{
	const struct sys_ops *o = h->o;
	sys_t *s = h->sys;
	uint64_t ps = h->cfg.page_size;
	uint64_t wpm = h->cfg.wp ? UFFDIO_COPY_MODE_WP : 0;
	uint64_t mode = r->write ? h->cfg.default_copy_mode : wpm;
	if (r->write && (h->fixes & FIX_ARM_WRITE_FILL))
		mode |= wpm; /* fix 7: WP_ASYNC lets the write through */
	int fatal = 0;
	assert(r->addr >= h->cfg.base && r->addr - h->cfg.base < h->cfg.size);
	*out = OUT_DISCARDED;
	int e = r->src == SRC_NONE ? install_zeros(h, r, mode) : install_source(h, r, mode, &fatal);
	if (fatal)
		return e;
	if (e == -EEXIST) {
		(void)o->uffd_wake(s, h->cfg.uffd, r->addr, ps); /* best effort */
		e2b_stat(h, &h->st.eexist);
		*out = r->eexist_discards ? OUT_DISCARDED : OUT_INSTALLED;
		return 0;
	}
	if (e == -ESRCH)
		return 0; /* the mm is gone: DISCARDED, no exit signal */
	if (e == -EAGAIN && !(h->cfg.variants & VARIANT_EAGAIN_FATAL)) {
		*out = OUT_DEFERRED;
		return 0;
	}
	if (e) {
		on_failure(r);
		e2b_fail(h, e, "installing 0x%llx failed: %s",
			 (unsigned long long)r->addr, strerror(-e));
		return e;
	}
	*out = OUT_INSTALLED;
	return 0;
}

static void defer(struct serve *sv, const struct uffd_msg *m)
{
	struct e2b *h = sv->h;
	const struct sys_ops *o = h->o;
	o->mutex_lock(h->sys, sv->dmu);
	if (sv->ndeferred == sv->capdeferred) {
		int nc = sv->capdeferred ? sv->capdeferred * 2 : 8;
		struct uffd_msg *na = realloc(sv->deferred, (size_t)nc * sizeof *na);
		if (!na) {
			o->mutex_unlock(h->sys, sv->dmu);
			e2b_fail(h, -ENOMEM, "no memory to defer a fault");
			e2b_signal_exit(sv);
			return;
		}
		sv->deferred = na;
		sv->capdeferred = nc;
	}
	sv->deferred[sv->ndeferred++] = *m;
	assert(sv->ndeferred <= sv->capdeferred);
	assert(m->event == UFFD_EVENT_PAGEFAULT);
	o->mutex_unlock(h->sys, sv->dmu);
	e2b_stat(h, &h->st.deferred);
	o->note(h->sys, SYS_NOTE_DEFER, m->arg.pagefault.address, 0);
	if (!(h->cfg.variants & VARIANT_NO_WAKE_PIPE)) {
		char b = 1;
		(void)o->write(h->sys, h->wake_fds[1], &b, 1); /* full = already woken */
	}
}

/* FIX_READ_GATE: the source is read before the settle lock, so that the
 * lock (which the serve loop needs to read the uffd) is never held across
 * I/O and retries. The state seen here is only a hint: it is re-read under
 * the lock, and a page that became ZERO meanwhile gets zeros. */
static int read_source_early(struct e2b *h, struct work *w, void **buf)
{
	const struct sys_ops *o = h->o;
	uint64_t idx = w->offset / h->cfg.page_size;
	*buf = NULL;
	if (tracker_get(&h->tr, idx) != PAGE_NOT_PRESENT)
		return 0;
	*buf = o->buf_alloc(h->sys, h->cfg.page_size);
	if (!*buf) {
		e2b_signal_exit(w->sv);
		e2b_fail(h, -ENOMEM, "no memory for a %llu-byte page buffer",
			 (unsigned long long)h->cfg.page_size);
		return -ENOMEM;
	}
	struct fault_req r = {.offset = w->offset};
	int err = read_source(h, &r, *buf);
	if (err) {
		o->buf_free(h->sys, *buf, h->cfg.page_size);
		*buf = NULL;
		e2b_signal_exit(w->sv);
		e2b_fail(h, err, "source read of offset 0x%llx failed after %d attempts: %s",
			 (unsigned long long)w->offset, h->cfg.source_retries + 1,
			 strerror(-err));
	}
	return err;
}

/* The worker's side of the settle lock. B2 (bc94cdf, before d6de753): no
 * lock at all, so a REMOVE batch applied between a worker's COPY and its
 * DIRTY mark is overwritten by that mark. */
static void worker_rdlock(struct e2b *h)
{
	if (!(h->cfg.variants & VARIANT_NO_REMOVE_EXCLUSION))
		h->o->rdlock(h->sys, h->settle);
}

static void worker_rdunlock(struct e2b *h)
{
	if (!(h->cfg.variants & VARIANT_NO_REMOVE_EXCLUSION))
		h->o->rdunlock(h->sys, h->settle);
}

/* A read zero-fill of a removed page stays ZERO where the pagemap is the
 * dirty set (#2541): a later write shows there, and the page stays in the
 * export's empty set until then. REF (and B24's variant) makes it DIRTY. */
static int keeps_zero(const struct e2b *h, enum page_state st, const struct fault_req *r)
{
	/* fix 7: a write fault's armed fill too; its write shows in the
	 * pagemap when it lands */
	int armed = !r->write || (h->fixes & FIX_ARM_WRITE_FILL);
	return st == PAGE_ZERO && armed && e2b_pagemap_export(h) &&
	       !(h->cfg.variants & VARIANT_ZERO_INSTALL_MERGE);
}

static void worker(struct work *w)
{
	struct serve *sv = w->sv;
	struct e2b *h = sv->h;
	const struct sys_ops *o = h->o;
	uint64_t addr = h->cfg.base + w->offset;
	uint64_t idx = w->offset / h->cfg.page_size;
	assert(idx < h->pages && w->offset % h->cfg.page_size == 0);
	/* a deferred fault: an EAGAIN again defers it again, and nothing
	 * else this worker does before its fill is new (the tracker only
	 * leaves NOT_PRESENT, a source read that got bytes has no failure
	 * left to use up) */
	if (w->retry)
		sys_retrying(h->sys);
	void *early = NULL;
	if ((h->fixes & FIX_READ_GATE) && read_source_early(h, w, &early))
		return;
	o->note(h->sys, SYS_NOTE_BEFORE_RLOCK, addr, 0);
	worker_rdlock(h);
	enum page_state st = w->pre_state >= 0 ? (enum page_state)w->pre_state
					       : tracker_get(&h->tr, idx);
	if (st == PAGE_DIRTY && !(h->fixes & FIX_NO_SHORT_CIRCUIT)) {
		e2b_stat(h, &h->st.short_circuit);
		worker_rdunlock(h);
		if (early)
			o->buf_free(h->sys, early, h->cfg.page_size);
		return;
	}
	/* DIRTY without the short-circuit: the page is present (EEXIST wakes)
	 * or was zapped behind the tracker's back, which only a REMOVE does:
	 * zeros are then its content */
	struct fault_req r = {
		.addr = addr,
		.offset = w->offset,
		.write = !!(w->msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE),
		.src = st == PAGE_NOT_PRESENT ? SRC_SNAPSHOT : SRC_NONE,
		.data = st == PAGE_NOT_PRESENT ? early : NULL,
		.fail_sv = sv,
		/* fix 8: a page marked ZERO that is there was filled since (and
		 * marked by its filler), or is about to be zapped by the REMOVE
		 * applied (rule 25): DIRTY would outlive the zap */
		.eexist_discards = st == PAGE_ZERO && (h->fixes & FIX_EEXIST_KEEPS_ZERO),
	};
	o->note(h->sys, SYS_NOTE_BEFORE_FAULT_PAGE, addr, 0);
	enum outcome out;
	int ferr = fault_page(h, &r, &out);
	if (early)
		o->buf_free(h->sys, early, h->cfg.page_size);
	if (ferr) {
		worker_rdunlock(h);
		return;
	}
	if (out == OUT_INSTALLED && keeps_zero(h, st, &r)) {
		e2b_stat(h, &h->st.installed);
	} else if (out == OUT_INSTALLED) {
		tracker_set(&h->tr, idx, PAGE_DIRTY);
		o->note(h->sys, SYS_NOTE_TRACKER, idx, PAGE_DIRTY);
		e2b_stat(h, &h->st.installed);
	} else if (out == OUT_DEFERRED) {
		defer(sv, &w->msg);
	}
	worker_rdunlock(h);
}

/* The done flag: the item's last access by its worker, a C atomic the
 * reclaiming serve thread reads; declared per item, so that two
 * workers' ends do not order each other (handler/sys.h shared). */
static uint64_t done_id(const struct work *w)
{
	return SYS_SHARED_OWN + 1 + w->seq;
}

void e2b_work_reclaim(struct e2b *h, int all)
{
	struct work **pp = &h->works;
	while (*pp) {
		struct work *w = *pp;
		if (!all)
			sys_shared(h->sys, done_id(w), 0);
		if (all || __atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
			*pp = w->next;
			free(w);
			h->nworks--;
		} else {
			pp = &w->next;
		}
	}
	assert(h->nworks >= 0 && (!all || (!h->works && !h->nworks)));
}

void e2b_worker_main(void *arg)
{
	struct work *w = arg;
	struct e2b *h = w->sv->h;
	worker(w);
	sys_shared(h->sys, done_id(w), 1);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE); /* w is serve's from here */
	h->o->sem_release(h->sys, h->wg);
}

int e2b_prefault(struct e2b *h, uint64_t page, const void *data)
{
	const struct sys_ops *o = h->o;
	if (page >= h->pages)
		return -EINVAL;
	int locked = !(h->cfg.variants & VARIANT_PREFAULT_UNLOCKED);
	o->note(h->sys, SYS_NOTE_BEFORE_PREFAULT_RLOCK, h->cfg.base + page * h->cfg.page_size, 0);
	if (locked) {
		o->rdlock(h->sys, h->settle);
		enum page_state st = tracker_get(&h->tr, page);
		if (st != PAGE_NOT_PRESENT) { /* never redo an install or refill a removed page */
			o->rdunlock(h->sys, h->settle);
			return 0;
		}
	}
	struct fault_req r = {
		.addr = h->cfg.base + page * h->cfg.page_size,
		.offset = page * h->cfg.page_size,
		.write = 0,
		.src = SRC_SNAPSHOT,
		.data = data,
		.fail_sv = NULL,
	};
	enum outcome out;
	int err = fault_page(h, &r, &out);
	if (!err && out == OUT_INSTALLED) {
		tracker_set(&h->tr, page, PAGE_DIRTY);
		o->note(h->sys, SYS_NOTE_TRACKER, page, PAGE_DIRTY);
		e2b_stat(h, &h->st.prefaulted);
	}
	/* DEFERRED is dropped: the demand path will serve the page (B20) */
	if (locked)
		o->rdunlock(h->sys, h->settle);
	return 0;
}
