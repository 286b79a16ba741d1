/* model/sys_model.c — the sys_ops table of the simulated backend: threads,
 * time, randomness, atomics, the uffd syscalls, page buffers, the snapshot
 * source and notes. Locks live in model/sync.c, fds and poll in
 * model/pipe.c. Contract in model/sys_model.h.
 */
#include "model/kernel_impl.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

/* An output field the kernel did not write: reported as the call's
 * -errno, as real/sys_real.c does, so both backends agree. */
#define MK_FIELD_UNSET INT64_MIN

/* ------------------------------------------------------------------ */
/* threads, time, randomness                                           */

static int s_spawn(sys_t *sys, sys_thread_t **out, const char *name,
		   void (*fn)(void *), void *arg)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	sched_touch(k->s, SCHED_OBJ(SCHED_OC_NONE, 0), 0); /* sched: the table */
	/* ids are handed out in creation order: get the handle first so
	 * that a failure leaves no thread behind */
	struct mk_thr *t = NULL;

	if (out) {
		t = mk_thr_get(k, sched_nthreads(k->s));
		if (!t)
			return -ENOMEM;
	}
	int tid = sched_spawn(k->s, name, MK_HANDLER, fn, arg);

	MK_LABEL(k, "spawn %s -> t%d", name ? name : "", tid);
	MEV(k->s, MEV_SPAWN, tid);
	if (tid < 0)
		return tid;
	if (out) {
		/* the handle was reserved under the id the thread got */
		assert(t->tid == tid && tid == sched_nthreads(k->s) - 1);
		t->handle.tid = tid;
		t->handle.joinable = 1;
		*out = &t->handle;
	}
	return 0;
}

static int s_join(sys_t *sys, sys_thread_t *th)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	sched_touch(k->s, SCHED_OBJ(SCHED_OC_NONE, 0), 0); /* sched_join: LIFE */
	if (!th || !th->joinable) {
		MK_LABEL(k, "join -> EINVAL");
		MEV(k->s, MEV_JOIN, -1, -EINVAL);
		return -EINVAL;
	}
	assert(th->tid >= 0 && th->tid < sched_nthreads(k->s));
	MK_LABEL(k, "join t%d", th->tid);
	MEV(k->s, MEV_JOIN, th->tid, 0);
	th->joinable = 0;
	sched_join(k->s, th->tid);
	assert(sched_thread_state(k->s, th->tid) == SCHED_T_DONE);
	return 0;
}

static void s_yield(sys_t *sys)
{
	sched_t *s = mk_of_sys(sys)->s;

	sched_yield(s);
	sched_touch(s, SCHED_OBJ(SCHED_OC_NONE, 0), 0); /* gives way, touches nothing */
}

static void s_sleep_ns(sys_t *sys, uint64_t ns)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	sched_touch_all(k->s); /* the backoff check reads every thread */
	MK_LABEL(k, "sleep %" PRIu64 "ns", ns);
	MEV(k->s, MEV_SLEEP, (int64_t)ns);
	if (k->obs.sleep)
		k->obs.sleep(k->obs.ctx, sched_self(k->s), ns);
}

static uint64_t s_random(sys_t *sys)
{
	return sched_random(mk_of_sys(sys)->s);
}

/* ------------------------------------------------------------------ */
/* atomics: the scheduling point is the only thing that makes them       */
/* interesting; the operation itself is a plain access                   */

static uint64_t s_atomic_load(sys_t *sys, uint64_t *p)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_ATOMIC, (uintptr_t)p, 0);
	MK_LABEL(k, "atomic_load -> %" PRIu64, *p);
	MEV(k->s, MEV_ATOMIC_LOAD, (int64_t)*p);
	return *p;
}

static void s_atomic_store(sys_t *sys, uint64_t *p, uint64_t v)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_ATOMIC, (uintptr_t)p, 1);
	*p = v;
	MK_LABEL(k, "atomic_store %" PRIu64, v);
	MEV(k->s, MEV_ATOMIC_STORE, (int64_t)v);
}

static uint64_t s_atomic_add(sys_t *sys, uint64_t *p, uint64_t v)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_ATOMIC, (uintptr_t)p, 1);
	*p += v;
	MK_LABEL(k, "atomic_add %" PRIu64 " -> %" PRIu64, v, *p);
	MEV(k->s, MEV_ATOMIC_ADD, (int64_t)v, (int64_t)*p);
	return *p;
}

static int s_atomic_cas(sys_t *sys, uint64_t *p, uint64_t expected,
			uint64_t desired)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_ATOMIC, (uintptr_t)p, 1);
	int ok = *p == expected;

	if (ok)
		*p = desired;
	MK_LABEL(k, "atomic_cas %" PRIu64 "->%" PRIu64 " -> %d", expected,
		 desired, ok);
	MEV(k->s, MEV_ATOMIC_CAS, (int64_t)expected, (int64_t)desired, ok);
	return ok;
}

/* ------------------------------------------------------------------ */
/* uffd                                                                */

/* One message a read returned; past SCHED_STEP_EVENTS events the step
 * counts them lost, and its trace refuses to be written. */
static void read_event(struct mkern *k, const struct uffd_msg *m, int64_t id)
{
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		MEV(k->s, MEV_READ_PF, id, (int64_t)m->arg.pagefault.address,
		    (int64_t)m->arg.pagefault.flags);
		break;
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		MEV(k->s, m->event == UFFD_EVENT_REMOVE ? MEV_READ_REMOVE :
							  MEV_READ_UNMAP,
		    id, (int64_t)m->arg.remove.start,
		    (int64_t)m->arg.remove.end);
		break;
	case UFFD_EVENT_REMAP:
		MEV(k->s, MEV_READ_REMAP, id, (int64_t)m->arg.remap.from,
		    (int64_t)m->arg.remap.to, (int64_t)m->arg.remap.len);
		break;
	default:
		MEV(k->s, MEV_READ_FORK, id, (int64_t)m->arg.fork.ufd);
	}
}

static int s_uffd_read(sys_t *sys, int uffd, struct uffd_msg *msgs, int max)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	mk_touch_uffd_range(k, uffd, 0, 0);
	int64_t ids[SCHED_STEP_EVENTS];
	int r = mk_uffd_read(k, uffd, msgs, max,
			     sched_labels_on(k->s) ? ids : NULL,
			     SCHED_STEP_EVENTS);

	assert(r < 0 || (r >= 1 && r <= max)); /* never 0: -EAGAIN instead */
	for (int i = 0; i < r; i++) {
		if (msgs[i].event == UFFD_EVENT_FORK) /* rule 4: a new fd */
			MK_TOUCH(k, MK_OC_FDS, 0, 1);
		if (msgs[i].event == UFFD_EVENT_PAGEFAULT && k->obs.fault_read)
			k->obs.fault_read(k->obs.ctx, msgs[i].arg.pagefault.address);
	}

	if (sched_labels_on(k->s)) {
		char buf[400];
		size_t o = (size_t)snprintf(buf, sizeof(buf),
					    "uffd_read %d max=%d -> %d", uffd,
					    max, r);

		for (int i = 0; i < r && o < sizeof(buf); i++) {
			char ms[80];

			mk_fmt_msg(ms, sizeof(ms), &msgs[i]);
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
					      i ? "; " : ": ", ms);
		}
		sched_label(k->s, "%s", buf);
		MEV(k->s, MEV_UFFD_READ, uffd, max, r);
		for (int i = 0; i < r; i++)
			read_event(k, &msgs[i], i < SCHED_STEP_EVENTS ? ids[i] : -1);
	}
	return r;
}

/* fname: the output field's name as the handler sees it */
static void label_fill(struct mkern *k, const char *op, const char *fname,
		       uint64_t dst, uint64_t len, uint64_t mode,
		       const char *src, int r, int64_t field)
{
	if (!sched_labels_on(k->s))
		return;
	sched_label(k->s, "%s 0x%" PRIx64 " %" PRIu64 " mode=%" PRIu64 "%s%s -> %d %s=%" PRId64,
		    op, dst, len, mode, src[0] ? " " : "", src, r, fname,
		    field);
}

/* Rule 16 before 6.9: no map_changing_lock, so a fill that passed the
 * mmap_changing check may fill in a later step, after a REMOVE was
 * queued, read and its range zapped. The check is one step, the fill
 * the next; 0 with *checked = 1, or the check's refusal. From 6.9 (and
 * on every profile that has it) the whole fill is one step. */
static int pre69_check(struct mkern *k, int uffd, uint64_t dst, uint64_t len,
		       int64_t *field, int *checked)
{
	if (k->prof->fill_vs_remove_atomic)
		return 0;
	int r = mk_fill_precheck(k, uffd, field);

	if (r)
		return r;
	MK_LABEL(k, "fill checked (pre-6.9: the fill is a later step)");
	sched_point(k->s);
	mk_touch_uffd_range(k, uffd, dst, len);
	*checked = 1;
	return 0;
}

/* The retry cut: a retrying thread's fill refused again because the uffd
 * is changing goes back, by the handler's promise (sys.h retrying), to
 * where the attempt before it went. The run in which the event's thread
 * lowered mmap_changing before this step covers it: this step reads the
 * uffd and that one writes it, so the reduction runs that order too. */
static void retry_cut(struct mkern *k, int uffd, int r, int64_t field)
{
	if (!k->retry_cut || r != -EAGAIN || field > 0)
		return;
	struct mk_thr *t = mk_thr_self(k);

	if (!t || !t->retrying || !mk_uffd_changing(k, uffd))
		return;
	MK_LABEL(k, "retry cut: refused again while the uffd changes (covered by the run where the event resumed first)");
	sched_cut(k->s);
}

static void s_retrying(sys_t *sys)
{
	struct mk_thr *t = mk_thr_self(mk_of_sys(sys));

	if (t)
		t->retrying = 1;
}

static int s_uffd_copy(sys_t *sys, int uffd, uint64_t dst, const void *src,
		       uint64_t len, uint64_t mode, int64_t *copied)
{
	struct mkern *k = mk_of_sys(sys);
	int64_t field = MK_FIELD_UNSET;
	char cs[32] = "?";
	mk_content src_tag = 0; /* the event's src: its first page, 0 when unreadable */
	uint64_t sa = (uint64_t)(uintptr_t)src;

	sched_point(k->s);
	mk_touch_uffd_range(k, uffd, dst, len);
	/* the kernel's copy_from_user() reads page by page: an unreadable
	 * page stops the copy there (rule 14) */
	int checked = 0;
	int r = pre69_check(k, uffd, dst, len, &field, &checked);

	if (!r)
		r = mk_uffd_copy(k, uffd, dst, sa, len, mode, &field, &src_tag,
				 checked);

	if (sched_labels_on(k->s) && !mk_src_tag(k, sa, k->ps, &src_tag))
		mk_fmt_content(cs, sizeof(cs), src_tag);
	if (field == MK_FIELD_UNSET)
		field = r;
	/* a full copy reports len; otherwise the bytes done or -errno */
	assert(r != 0 || (uint64_t)field == len);
	assert(r == 0 || field < 0 || (uint64_t)field < len);
	if (copied)
		*copied = field;
	label_fill(k, "uffd_copy", "copied", dst, len, mode, cs, r, field);
	retry_cut(k, uffd, r, field);
	MEV(k->s, MEV_UFFD_COPY, (int64_t)dst, (int64_t)len, (int64_t)mode,
	    (int64_t)src_tag, r, field);
	return r;
}

static int s_uffd_zeropage(sys_t *sys, int uffd, uint64_t dst, uint64_t len,
			   uint64_t mode, int64_t *zeroed)
{
	struct mkern *k = mk_of_sys(sys);
	int64_t field = MK_FIELD_UNSET;

	sched_point(k->s);
	mk_touch_uffd_range(k, uffd, dst, len);
	int checked = 0;
	int r = pre69_check(k, uffd, dst, len, &field, &checked);

	if (!r)
		r = mk_uffd_zeropage(k, uffd, dst, len, mode, &field, checked);

	if (field == MK_FIELD_UNSET)
		field = r;
	assert(r != 0 || (uint64_t)field == len);
	assert(r == 0 || field < 0 || (uint64_t)field < len);
	if (zeroed)
		*zeroed = field;
	label_fill(k, "uffd_zeropage", "zeroed", dst, len, mode, "", r, field);
	retry_cut(k, uffd, r, field);
	MEV(k->s, MEV_UFFD_ZEROPAGE, (int64_t)dst, (int64_t)len,
	    (int64_t)mode, r, field);
	return r;
}

static int s_uffd_wake(sys_t *sys, int uffd, uint64_t start, uint64_t len)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	mk_touch_uffd_range(k, uffd, start, len);
	int r = mk_uffd_wake(k, uffd, start, len);

	MK_LABEL(k, "uffd_wake 0x%" PRIx64 " %" PRIu64 " -> %d", start, len, r);
	MEV(k->s, MEV_UFFD_WAKE, (int64_t)start, (int64_t)len, r);
	return r;
}

static int s_uffd_writeprotect(sys_t *sys, int uffd, uint64_t start,
			       uint64_t len, uint64_t mode)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	mk_touch_uffd_range(k, uffd, start, len);
	int r = mk_uffd_writeprotect(k, uffd, start, len, mode);

	MK_LABEL(k, "uffd_writeprotect 0x%" PRIx64 " %" PRIu64 " mode=%" PRIu64 " -> %d",
		 start, len, mode, r);
	MEV(k->s, MEV_UFFD_WP, (int64_t)start, (int64_t)len, (int64_t)mode, r);
	retry_cut(k, uffd, r, 0);
	return r;
}

static int s_uffd_unregister(sys_t *sys, int uffd, uint64_t start,
			     uint64_t len)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	sched_touch_all(k->s); /* VMAs, queues, pages: rare, not refined */
	int r = mk_uffd_unregister(k, uffd, start, len);

	MK_LABEL(k, "uffd_unregister 0x%" PRIx64 " %" PRIu64 " -> %d", start,
		 len, r);
	MEV(k->s, MEV_UNREGISTER, (int64_t)start, (int64_t)(start + len));
	return r;
}

static int s_uffd_api(sys_t *sys, int uffd, uint64_t want,
		      uint64_t *features, uint64_t *ioctls)
{
	uint64_t f = 0, io = 0;
	int r = mk_uffd_api(mk_of_sys(sys), uffd, want, &f, &io);

	if (features)
		*features = f;
	if (ioctls)
		*ioctls = io;
	return r;
}

static int s_uffd_move(sys_t *sys, int uffd, uint64_t dst, uint64_t src,
		       uint64_t len, uint64_t mode, int64_t *moved)
{
	struct mkern *k = mk_of_sys(sys);
	int64_t field = MK_FIELD_UNSET;

	sched_point(k->s);
	mk_touch_uffd_range(k, uffd, dst, len);
	mk_touch_uffd_range(k, uffd, src, len);
	int r = mk_uffd_move(k, uffd, dst, src, len, mode, &field);

	if (field == MK_FIELD_UNSET)
		field = r;
	if (moved)
		*moved = field;
	MK_LABEL(k, "uffd_move 0x%" PRIx64 " <- 0x%" PRIx64 " %" PRIu64 " mode=%" PRIu64 " -> %d moved=%" PRId64,
		 dst, src, len, mode, r, field);
	return r;
}

static int s_uffd_poison(sys_t *sys, int uffd, uint64_t dst, uint64_t len,
			 uint64_t mode, int64_t *updated)
{
	struct mkern *k = mk_of_sys(sys);
	int64_t field = MK_FIELD_UNSET;

	sched_point(k->s);
	mk_touch_uffd_range(k, uffd, dst, len);
	int r = mk_uffd_poison(k, uffd, dst, len, mode, &field);

	if (field == MK_FIELD_UNSET)
		field = r;
	if (updated)
		*updated = field;
	label_fill(k, "uffd_poison", "updated", dst, len, mode, "", r, field);
	return r;
}

/* ------------------------------------------------------------------ */
/* page buffers and the snapshot source                                */

static void *s_buf_alloc(sys_t *sys, uint64_t len)
{
	return mk_buf_new(mk_of_sys(sys), len);
}

static void s_buf_free(sys_t *sys, void *buf, uint64_t len)
{
	struct mkern *k = mk_of_sys(sys);

	(void)len;
	if (buf && mk_buf_put(k, buf) != 0) {
		MK_LABEL(k, "buf_free: not a live buffer");
		MEV(k->s, MEV_BAD_FREE, MEV_OBJ_BUF);
	}
}

static void s_buf_zero(sys_t *sys, void *buf, uint64_t len)
{
	/* memset of a range that is not a buffer's would crash the handler
	 * on the real backend; here it changes nothing */
	(void)mk_buf_write(mk_of_sys(sys), (uint64_t)(uintptr_t)buf, len, NULL,
			   NULL);
}

struct snap_src {
	const struct mkern *k;
	uint64_t offset;
};

static int snap_src(void *ctx, uint64_t off, uint64_t n, mk_content *out)
{
	const struct snap_src *s = ctx;

	return mk_snap_tag(s->k, s->offset + off, n, out);
}

/* The failure injection counts reads by the page of their first byte,
 * as real/sys_real.c does. */
static int source_fail_take(struct mkern *k, int64_t page)
{
	int *f = &k->src_fail[page];

	assert(page >= 0 && page < k->npages && *f >= -1);
	if (*f < 0)
		return -EIO;
	if (*f > 0) {
		(*f)--;
		return -EIO;
	}
	return 0;
}

static int s_source_read(sys_t *sys, uint64_t offset, void *buf,
			 uint64_t len)
{
	struct mkern *k = mk_of_sys(sys);
	uint64_t ba = (uint64_t)(uintptr_t)buf;
	int64_t page = -1;
	mk_content t = 0;
	struct snap_src ss = {k, offset};

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_SRC, 0, 1); /* mk_source_fail's counts */
	/* pread(): the file first (a short read is a storage error, -EIO),
	 * then the buffer (-EFAULT) */
	int r = mk_snap_tag(k, offset, len ? len : 1, &t);

	if (!r) {
		page = (int64_t)((offset - k->cfg.src_offset) / k->ps);
		r = source_fail_take(k, page);
		if (r && k->obs.source_fail)
			k->obs.source_fail(k->obs.ctx, sched_self(k->s), (int)page,
					   k->src_fail[page] < 0);
	}
	if (!r)
		r = mk_buf_write(k, ba, len, snap_src, &ss);
	if (r == -EFAULT)
		page = -1;
	if (sched_labels_on(k->s)) {
		char cs[32] = "";

		if (r == 0 && !mk_src_tag(k, ba, len < k->ps ? len : k->ps, &t))
			mk_fmt_content(cs, sizeof(cs), t);
		sched_label(k->s, "source_read p%" PRId64 " -> %d %s", page, r, cs);
		MEV(k->s, MEV_SOURCE_READ, page, r, r ? 0 : (int64_t)t);
	}
	return r;
}

mk_content mk_buf_tag(const struct mkern *k, const void *buf)
{
	mk_content t = 0;
	uint64_t a = (uint64_t)(uintptr_t)buf, left = mk_buf_left(k, a);

	/* the page at buf, or what is left of the buffer after buf */
	if (!left || mk_src_tag(k, a, left < k->ps ? left : k->ps, &t))
		return 0;
	return t;
}

static int const_src(void *ctx, uint64_t off, uint64_t n, mk_content *out)
{
	(void)off;
	(void)n;
	*out = *(const mk_content *)ctx;
	return 0;
}

int mk_buf_fill(struct mkern *k, void *buf, uint64_t len, mk_content tag)
{
	int err = mk_buf_write(k, (uint64_t)(uintptr_t)buf, len, const_src, &tag);

	return err == -EFAULT ? -EINVAL : err;
}

int mk_buf_set(struct mkern *k, void *buf, mk_content tag)
{
	/* every page from buf to the buffer's end */
	uint64_t n = mk_buf_left(k, (uint64_t)(uintptr_t)buf);
	int err = n ? mk_buf_fill(k, buf, n, tag) : -EINVAL;

	assert(err || mk_buf_tag(k, buf) == tag);
	return err;
}

static const void *s_source_map(sys_t *sys, uint64_t *len)
{
	struct mkern *k = mk_of_sys(sys);
	const char *p = mk_buf_snapmap(k);

	if (len)
		*len = p ? k->cfg.src_offset + (uint64_t)k->npages * k->ps : 0;
	/* the mapping starts at the snapshot's offset src_offset: the
	 * bytes before it are no part of the model's snapshot */
	return p ? p - k->cfg.src_offset : NULL;
}

/* ------------------------------------------------------------------ */
/* notes                                                               */

static const char *note_name(enum sys_note n)
{
	switch (n) {
	case SYS_NOTE_BEFORE_RLOCK: return "before_rlock";
	case SYS_NOTE_BEFORE_FAULT_PAGE: return "before_fault_page";
	case SYS_NOTE_BEFORE_PREFAULT_RLOCK: return "before_prefault_rlock";
	case SYS_NOTE_TRACKER: return "tracker";
	case SYS_NOTE_DEFER: return "defer";
	case SYS_NOTE_ERROR: return "error";
	}
	return "note";
}

static void s_note(sys_t *sys, enum sys_note what, uint64_t a, uint64_t b)
{
	struct mkern *k = mk_of_sys(sys);

	MK_LABEL(k, "note %s 0x%" PRIx64 " %" PRId64, note_name(what), a,
		 (int64_t)b);
	/* sys_note values are MEV_NOTE_* ones; anything else reads "none" */
	MEV(k->s, MEV_NOTE, what >= SYS_NOTE_BEFORE_RLOCK &&
			    what <= SYS_NOTE_ERROR ? (int64_t)what : 0,
	    (int64_t)a, (int64_t)b);
}

/* pagemap of mm 0: present and uffd-wp bits of the page at addr. */
static int s_pagemap(sys_t *sys, uint64_t addr, uint64_t *entry)
{
	struct mkern *k = mk_of_sys(sys);
	*entry = 0;
	for (int p = 0; p < k->npages; p++) {
		struct mk_page_view pv;
		mk_page_view(k, p, &pv);
		if (!pv.mapped || addr < pv.addr || addr - pv.addr >= k->ps)
			continue;
		MK_TOUCH(k, MK_OC_PAGE, MK_PAGE_ID(0, p), 0); /* the reducing dfs orders it */
		*entry = (uint64_t)!!pv.present << PM_PRESENT_BIT |
			 (uint64_t)!!pv.wp << PM_UFFD_WP_BIT;
		return 0;
	}
	return 0; /* unmapped: no entry, as pagemap reads zeros */
}

/* Memory the handler shares outside sys locks: ordered like any object
 * (handler/sys.h). */
static void s_shared(sys_t *sys, uint64_t id, int write)
{
	struct mkern *k = mk_of_sys(sys);

	MK_TOUCH(k, MK_OC_HSHARED, id, write ? SCHED_WRITE : SCHED_READ);
}

const struct sys_ops mk_sys_ops = {
	.spawn = s_spawn,
	.join = s_join,
	.yield = s_yield,
	.sleep_ns = s_sleep_ns,
	.random = s_random,
	.mutex_new = mk_sys_mutex_new,
	.mutex_free = mk_sys_mutex_free,
	.mutex_lock = mk_sys_mutex_lock,
	.mutex_unlock = mk_sys_mutex_unlock,
	.rwlock_new = mk_sys_rwlock_new,
	.rwlock_free = mk_sys_rwlock_free,
	.rdlock = mk_sys_rdlock,
	.rdunlock = mk_sys_rdunlock,
	.wrlock = mk_sys_wrlock,
	.wrunlock = mk_sys_wrunlock,
	.sem_new = mk_sys_sem_new,
	.sem_free = mk_sys_sem_free,
	.sem_acquire = mk_sys_sem_acquire,
	.sem_release = mk_sys_sem_release,
	.sem_wait_zero = mk_sys_sem_wait_zero,
	.cond_new = mk_sys_cond_new,
	.cond_free = mk_sys_cond_free,
	.cond_wait = mk_sys_cond_wait,
	.cond_signal = mk_sys_cond_signal,
	.cond_broadcast = mk_sys_cond_broadcast,
	.atomic_load = s_atomic_load,
	.atomic_store = s_atomic_store,
	.atomic_add = s_atomic_add,
	.atomic_cas = s_atomic_cas,
	.pipe = mk_sys_pipe,
	.write = mk_sys_write,
	.read = mk_sys_read,
	.close = mk_sys_close,
	.poll = mk_sys_poll,
	.uffd_read = s_uffd_read,
	.uffd_copy = s_uffd_copy,
	.uffd_zeropage = s_uffd_zeropage,
	.uffd_wake = s_uffd_wake,
	.uffd_writeprotect = s_uffd_writeprotect,
	.uffd_unregister = s_uffd_unregister,
	.dup = mk_sys_dup,
	.buf_alloc = s_buf_alloc,
	.buf_free = s_buf_free,
	.buf_zero = s_buf_zero,
	.source_read = s_source_read,
	.retrying = s_retrying,
	.note = s_note,
	.shared = s_shared,
	.source_map = s_source_map,
	.uffd_api = s_uffd_api,
	.uffd_move = s_uffd_move,
	.uffd_poison = s_uffd_poison,
	.pagemap = s_pagemap,
};
