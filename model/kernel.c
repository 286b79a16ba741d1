/* model/kernel.c — the simulated kernel's object: creation, reset for the
 * next schedule, per-thread state, the fd table, VMA bookkeeping, object
 * pools, trace formatting and the observation functions of model/kernel.h.
 * Nothing here is a scheduling point.
 */
#include "model/kernel_impl.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MK_POOL_CHUNK 64
#define MK_MAX_PAGES (1 << 22)
#define MK_GIB (UINT64_C(1) << 30)

/* ------------------------------------------------------------------ */
/* pools                                                               */

struct mk_pool_obj {
	union {
		struct {
			struct mk_pool_obj *next;
			uint32_t magic;
			uint32_t live;
		} h;
		max_align_t align; /* the payload after it is max-aligned */
	} u;
};

struct mk_pool_chunk {
	union {
		struct {
			struct mk_pool_chunk *next;
			size_t stride;
			int n;
		} h;
		max_align_t align;
	} u;
};

static size_t pool_stride(const struct mk_pool *p)
{
	size_t a = alignof(max_align_t);
	size_t sz = sizeof(struct mk_pool_obj) + p->objsz;

	return (sz + a - 1) / a * a;
}

static struct mk_pool_obj *chunk_obj(struct mk_pool_chunk *c, int i)
{
	return (struct mk_pool_obj *)((char *)(c + 1) + (size_t)i * c->u.h.stride);
}

int mk_pool_init(struct mk_pool *p, size_t objsz, uint32_t magic)
{
	memset(p, 0, sizeof(*p));
	p->objsz = objsz;
	p->magic = magic;
	return 0;
}

/* Chunks are appended, and reclaim() threads objects in chunk order, so
 * the n-th allocation of a run always returns the same object. */
static int pool_grow(struct mk_pool *p)
{
	size_t stride = pool_stride(p);
	struct mk_pool_chunk *c =
		malloc(sizeof(*c) + (size_t)MK_POOL_CHUNK * stride);

	if (!c)
		return -ENOMEM;
	c->u.h.next = NULL;
	c->u.h.stride = stride;
	c->u.h.n = MK_POOL_CHUNK;
	struct mk_pool_chunk **tail = &p->chunks;

	while (*tail)
		tail = &(*tail)->u.h.next;
	*tail = c;
	for (int i = MK_POOL_CHUNK - 1; i >= 0; i--) {
		struct mk_pool_obj *o = chunk_obj(c, i);

		o->u.h.magic = p->magic;
		o->u.h.live = 0;
		o->u.h.next = p->free;
		p->free = o;
	}
	assert(p->free == chunk_obj(c, 0) && p->chunks);
	return 0;
}

void *mk_pool_get(struct mk_pool *p)
{
	if (!p->free && pool_grow(p) != 0)
		return NULL;
	struct mk_pool_obj *o = p->free;

	/* a free object of this pool: never handed out twice */
	assert(o->u.h.magic == p->magic && !o->u.h.live);
	p->free = o->u.h.next;
	o->u.h.next = NULL;
	o->u.h.live = 1;
	memset(o + 1, 0, p->objsz);
	return o + 1;
}

int mk_pool_owns(const struct mk_pool *p, const void *obj)
{
	uintptr_t a = (uintptr_t)obj;

	for (const struct mk_pool_chunk *c = p->chunks; c; c = c->u.h.next) {
		uintptr_t lo = (uintptr_t)(c + 1) + sizeof(struct mk_pool_obj);
		uintptr_t hi = lo + (uintptr_t)c->u.h.n * c->u.h.stride;

		if (a >= lo && a < hi) {
			if ((a - lo) % c->u.h.stride)
				return 0;
			const struct mk_pool_obj *o =
				(const struct mk_pool_obj *)obj - 1;
			return o->u.h.magic == p->magic && o->u.h.live;
		}
	}
	return 0;
}

int mk_pool_put(struct mk_pool *p, void *obj)
{
	if (!mk_pool_owns(p, obj))
		return -EINVAL;
	struct mk_pool_obj *o = (struct mk_pool_obj *)obj - 1;

	assert(o->u.h.live && o->u.h.magic == p->magic);
	o->u.h.live = 0;
	o->u.h.next = p->free;
	p->free = o;
	assert(p->free == o && !o->u.h.live);
	return 0;
}

void mk_pool_reclaim(struct mk_pool *p)
{
	struct mk_pool_obj **tail = &p->free;

	for (struct mk_pool_chunk *c = p->chunks; c; c = c->u.h.next)
		for (int i = 0; i < c->u.h.n; i++) {
			struct mk_pool_obj *o = chunk_obj(c, i);

			o->u.h.live = 0;
			*tail = o;
			tail = &o->u.h.next;
		}
	*tail = NULL;
	assert(!p->chunks == !p->free);
}

void mk_pool_destroy(struct mk_pool *p)
{
	struct mk_pool_chunk *c = p->chunks;

	while (c) {
		struct mk_pool_chunk *n = c->u.h.next;

		free(c);
		c = n;
	}
	p->chunks = NULL;
	p->free = NULL;
}

/* ------------------------------------------------------------------ */
/* configuration                                                       */

static int check_config(const struct mk_config *cfg)
{
	if (!cfg || cfg->pages < 1 || cfg->pages > MK_MAX_PAGES)
		return -EINVAL;
	if (cfg->page_size != MK_SMALL_PAGE && cfg->page_size != MK_HUGE_PAGE)
		return -EINVAL;
	if (!mk_profile(cfg->kver))
		return -EINVAL;
	uint64_t base = cfg->base ? cfg->base : MK_BASE_DEFAULT;

	if (base & (cfg->page_size - 1))
		return -EINVAL;
	if (base + (uint64_t)cfg->pages * cfg->page_size < base)
		return -EINVAL;
	return 0;
}

static int ensure_pages(struct mkern *k, int pages)
{
	if (pages <= k->pages_cap)
		return 0;
	mk_content *snap = realloc(k->snap, (size_t)pages * sizeof(*snap));

	if (!snap)
		return -ENOMEM;
	k->snap = snap;
	int *sf = realloc(k->src_fail, (size_t)pages * sizeof(*sf));

	if (!sf)
		return -ENOMEM;
	k->src_fail = sf;
	for (int i = 0; i < MK_MAX_MM; i++) {
		struct mk_page *pg = realloc(k->mm[i].pages,
					     (size_t)pages * sizeof(*pg));
		if (!pg)
			return -ENOMEM;
		k->mm[i].pages = pg;
	}
	k->pages_cap = pages;
	return 0;
}

static void reset_ctx(struct mk_ctx *c)
{
	memset(c, 0, sizeof(*c));
}

/* Every mm empty but mm 0: one VMA over the region, registered to its
 * uffd, whose context is returned. */
static struct mk_ctx *configure_mms(struct mkern *k,
				    const struct mk_config *cfg)
{
	for (int i = 0; i < MK_MAX_MM; i++) {
		struct mk_mm *mm = &k->mm[i];

		mm->used = 0;
		mm->nvmas = 0;
		reset_ctx(&mm->ctx);
		memset(mm->pages, 0, (size_t)k->npages * sizeof(*mm->pages));
	}
	struct mk_mm *m0 = &k->mm[0];

	m0->used = 1;
	m0->nvmas = 1;
	m0->vmas[0].start = k->cfg.base;
	m0->vmas[0].first = 0;
	m0->vmas[0].npages = k->npages;
	m0->vmas[0].flags = MK_VM_MISSING | (cfg->register_wp ? MK_VM_WP : 0);
	struct mk_ctx *c = &m0->ctx;

	c->live = 1;
	c->refs = 1;
	c->proc_ref = 1;
	/* the VMM asks for what the kernel offers of what it wants (it
	 * probes UFFDIO_API first, as QEMU does): a feature this release
	 * lacks is missing on the uffd, for the handler to notice */
	c->features = cfg->features & k->prof->features;
	/* uapi: "UFFD_FEATURE_WP_ASYNC ... implies UFFD_FEATURE_WP_UNPOPULATED" */
	if (c->features & UFFD_FEATURE_WP_ASYNC)
		c->features |= UFFD_FEATURE_WP_UNPOPULATED;
	c->user_mode_only = cfg->user_mode_only;
	assert(k->npages == cfg->pages && k->npages <= k->pages_cap);
	assert(!c->events.head && !c->fpend.head && !c->fread.head);
	return c;
}

/* Everything a schedule starts from. keep_snap: a reset with the same
 * config keeps the snapshot tags copied at creation. */
static int configure(struct mkern *k, const struct mk_config *cfg,
		     int keep_snap)
{
	int err = ensure_pages(k, cfg->pages);

	if (err)
		return err;
	k->cfg = *cfg;
	k->prof = mk_profile(cfg->kver);
	assert(k->prof); /* check_config */
	k->touching = sched_touching(k->s); /* the scheduler was reset first */
	memset(k->ready_seen, 0, sizeof k->ready_seen); /* no uffd yet */
	k->cfg.snapshot = NULL; /* copied below; the caller's may go away */
	if (!k->cfg.base)
		k->cfg.base = MK_BASE_DEFAULT;
	k->ps = cfg->page_size;
	k->huge = cfg->page_size == MK_HUGE_PAGE;
	k->npages = cfg->pages;
	if (!keep_snap)
		for (int p = 0; p < k->npages; p++)
			k->snap[p] = cfg->snapshot ? cfg->snapshot[p] :
						     MK_SNAP((uint64_t)p);
	memset(k->src_fail, 0, (size_t)k->npages * sizeof(*k->src_fail));

	struct mk_ctx *c = configure_mms(k, cfg);

	for (int fd = 0; fd < k->nfds; fd++)
		k->fds[fd].kind = MK_FD_FREE;
	for (int i = 0; i < k->npipes; i++)
		k->pipes[i].used = 0;
	for (int t = 0; t < k->nthr; t++)
		if (k->thr[t]) {
			memset(k->thr[t], 0, sizeof(*k->thr[t]));
			k->thr[t]->tid = t;
		}
	memset(&k->pollq, 0, sizeof(k->pollq));
	k->msg_seq = 0;
	k->obj_seq = 0;
	k->bad_uffd_calls = 0;
	k->bad_uffd_tid = k->bad_uffd_fd = -1;
	k->bad_uffd_err = 0;
	uint64_t end = k->cfg.base + (uint64_t)k->npages * k->ps;

	k->next_map = (end + MK_GIB - 1) / MK_GIB * MK_GIB + MK_GIB;
	mk_bufs_reset(k);
	mk_pool_reclaim(&k->mutexes);
	mk_pool_reclaim(&k->rwlocks);
	mk_pool_reclaim(&k->conds);
	mk_pool_reclaim(&k->sems);

	int fd = mk_fd_alloc(k, MK_FD_UFFD, 0);

	if (fd < 0)
		return fd;
	c->refs++;
	k->uffd_fd = fd;
	/* the guest process and the handler's fd hold the one uffd */
	assert(fd == MK_FD_FIRST && c->refs == 2 && c->live);
	assert(!c->nfpend && !c->nevents && !c->mmap_changing);
	mk_seen_reset(k);
	return 0;
}

struct mkern *mk_new(sched_t *s, const struct mk_config *cfg)
{
	int err = s ? check_config(cfg) : -EINVAL;

	if (err) {
		errno = -err;
		return NULL;
	}
	struct mkern *k = calloc(1, sizeof(*k));

	if (!k) {
		errno = ENOMEM;
		return NULL;
	}
	k->sys.ops = &mk_sys_ops;
	k->s = s;
	k->bs.snapmap = -1;
	mk_pool_init(&k->mutexes, mk_sync_mutex_size(), 0x6d757478u);
	mk_pool_init(&k->rwlocks, mk_sync_rwlock_size(), 0x72776c6bu);
	mk_pool_init(&k->conds, mk_sync_cond_size(), 0x636f6e64u);
	mk_pool_init(&k->sems, mk_sync_sem_size(), 0x73656d61u);
	err = configure(k, cfg, 0);
	if (err) {
		mk_free(k);
		errno = -err;
		return NULL;
	}
	return k;
}

int mk_reset(struct mkern *k, const struct mk_config *cfg)
{
	struct mk_config same = k->cfg;
	int err = check_config(cfg ? cfg : &same);

	if (err)
		return err;
	return configure(k, cfg ? cfg : &same, cfg == NULL);
}

void mk_free(struct mkern *k)
{
	if (!k)
		return;
	for (int i = 0; i < MK_MAX_MM; i++)
		free(k->mm[i].pages);
	for (int t = 0; t < k->nthr; t++)
		free(k->thr[t]);
	free(k->thr);
	free(k->snap);
	free(k->src_fail);
	free(k->fds);
	free(k->pipes);
	mk_bufs_destroy(k);
	mk_pool_destroy(&k->mutexes);
	mk_pool_destroy(&k->rwlocks);
	mk_pool_destroy(&k->conds);
	mk_pool_destroy(&k->sems);
	free(k);
}

sys_t *mk_sys(struct mkern *k)
{
	return &k->sys;
}

struct mkern *mk_of_sys(sys_t *sys)
{
	return (struct mkern *)sys;
}

int mk_uffd(const struct mkern *k)
{
	return k->uffd_fd;
}

void mk_set_observer(struct mkern *k, const struct mk_observer *o)
{
	if (o)
		k->obs = *o;
	else
		memset(&k->obs, 0, sizeof(k->obs));
}

void mk_set_retry_cut(struct mkern *k, int on)
{
	k->retry_cut = !!on;
}

void mk_source_fail(struct mkern *k, int page, int n)
{
	MK_TOUCH(k, MK_OC_SRC, 0, 1);
	if (page < 0 || page >= k->npages)
		return;
	k->src_fail[page] = n > 0 ? n : n == 0 ? -1 : 0;
	assert(k->src_fail[page] >= -1);
}

/* ------------------------------------------------------------------ */
/* threads, fds, readiness                                             */

struct mk_thr *mk_thr_get(struct mkern *k, int tid)
{
	if (tid < 0)
		return NULL;
	if (tid >= k->nthr) {
		int n = k->nthr ? k->nthr : 8;

		while (n <= tid)
			n *= 2;
		struct mk_thr **a = realloc(k->thr, (size_t)n * sizeof(*a));

		if (!a)
			return NULL;
		memset(a + k->nthr, 0, (size_t)(n - k->nthr) * sizeof(*a));
		k->thr = a;
		k->nthr = n;
	}
	if (!k->thr[tid]) {
		k->thr[tid] = calloc(1, sizeof(struct mk_thr));
		if (!k->thr[tid])
			return NULL;
		k->thr[tid]->tid = tid;
	}
	return k->thr[tid];
}

struct mk_thr *mk_thr_self(struct mkern *k)
{
	return mk_thr_get(k, sched_self(k->s));
}

int mk_fd_alloc(struct mkern *k, int kind, int idx)
{
	int fd = MK_FD_FIRST;

	assert(kind == MK_FD_UFFD || kind == MK_FD_PIPE_R || kind == MK_FD_PIPE_W);
	assert(idx >= 0 && (kind != MK_FD_UFFD || idx < MK_MAX_MM));

	while (fd < k->nfds && k->fds[fd].kind != MK_FD_FREE)
		fd++;
	if (fd >= k->nfds) {
		int n = k->nfds ? k->nfds * 2 : 16;

		if (n > 1 << 16)
			return -EMFILE;
		struct mk_fd *a = realloc(k->fds, (size_t)n * sizeof(*a));

		if (!a)
			return -ENOMEM;
		for (int i = k->nfds; i < n; i++)
			a[i].kind = MK_FD_FREE;
		k->fds = a;
		k->nfds = n;
	}
	k->fds[fd].kind = kind;
	k->fds[fd].idx = idx;
	assert(fd >= MK_FD_FIRST && fd < k->nfds);
	return fd;
}

struct mk_fd *mk_fd_get(struct mkern *k, int fd)
{
	if (fd < 0 || fd >= k->nfds || k->fds[fd].kind == MK_FD_FREE)
		return NULL;
	/* an open fd is of a known kind and names a slot (ranges: fd_ctx,
	 * fd_pipe, mk_fd_alloc) */
	assert(k->fds[fd].kind <= MK_FD_PIPE_W);
	return &k->fds[fd];
}

void mk_ready(struct mkern *k)
{
	sched_wake_all(k->s, &k->pollq);
}

/* ------------------------------------------------------------------ */
/* VMAs                                                                */

uint64_t mk_vma_end(const struct mk_vma *v, uint64_t ps)
{
	return v->start + (uint64_t)v->npages * ps;
}

int mk_vma_at(const struct mk_mm *mm, uint64_t ps, uint64_t addr)
{
	for (int i = 0; i < mm->nvmas; i++)
		if (addr >= mm->vmas[i].start &&
		    addr < mk_vma_end(&mm->vmas[i], ps))
			return i;
	return -1;
}

int mk_vma_of_page(const struct mk_mm *mm, int page)
{
	for (int i = 0; i < mm->nvmas; i++)
		if (page >= mm->vmas[i].first &&
		    page < mm->vmas[i].first + mm->vmas[i].npages)
			return i;
	return -1;
}

/* Make addr a VMA boundary (if it falls inside one). */
int mk_vma_split(struct mk_mm *mm, uint64_t ps, uint64_t addr)
{
	int i = mk_vma_at(mm, ps, addr);

	if (i < 0 || mm->vmas[i].start == addr)
		return 0;
	if (mm->nvmas == MK_MAX_VMAS)
		return -ENOMEM;
	struct mk_vma *v = &mm->vmas[i];
	int left = (int)((addr - v->start) / ps);

	assert(!((addr - v->start) % ps) && left > 0 && left < v->npages);

	memmove(&mm->vmas[i + 2], &mm->vmas[i + 1],
		(size_t)(mm->nvmas - i - 1) * sizeof(*v));
	mm->vmas[i + 1] = *v;
	mm->vmas[i + 1].start = addr;
	mm->vmas[i + 1].first = v->first + left;
	mm->vmas[i + 1].npages = v->npages - left;
	v->npages = left;
	mm->nvmas++;
	/* two adjacent pieces, addr the boundary */
	assert(mk_vma_end(v, ps) == addr && mm->vmas[i + 1].npages > 0);
	assert(mm->nvmas <= MK_MAX_VMAS);
	return 0;
}

void mk_vma_remove(struct mk_mm *mm, int i)
{
	assert(i >= 0 && i < mm->nvmas);
	memmove(&mm->vmas[i], &mm->vmas[i + 1],
		(size_t)(mm->nvmas - i - 1) * sizeof(mm->vmas[0]));
	mm->nvmas--;
	assert(mm->nvmas >= 0);
}

void mk_vma_sort(struct mk_mm *mm)
{
	for (int i = 1; i < mm->nvmas; i++) {
		struct mk_vma v = mm->vmas[i];
		int j = i;

		while (j > 0 && mm->vmas[j - 1].start > v.start) {
			mm->vmas[j] = mm->vmas[j - 1];
			j--;
		}
		mm->vmas[j] = v;
	}
	for (int i = 1; i < mm->nvmas; i++)
		assert(mm->vmas[i - 1].start < mm->vmas[i].start);
}

int mk_page_addr(const struct mkern *k, int mm, int page, uint64_t *addr)
{
	if (mm < 0 || mm >= MK_MAX_MM || !k->mm[mm].used || page < 0 ||
	    page >= k->npages)
		return -EINVAL;
	int i = mk_vma_of_page(&k->mm[mm], page);

	if (i < 0)
		return -EFAULT;
	const struct mk_vma *v = &k->mm[mm].vmas[i];

	assert(page >= v->first && page - v->first < v->npages);
	*addr = v->start + (uint64_t)(page - v->first) * k->ps;
	return 0;
}

void mk_touch_uffd_range(struct mkern *k, int fd, uint64_t start, uint64_t len)
{
	if (!k->touching)
		return;
	const struct mk_fd *f = mk_fd_get(k, fd);

	if (!f || f->kind != MK_FD_UFFD) {
		MK_TOUCH(k, MK_OC_FDS, 0, 0); /* EBADF / EINVAL: the table only */
		return;
	}
	int mmi = f->idx;
	const struct mk_mm *mm = &k->mm[mmi];

	assert(mmi >= 0 && mmi < MK_MAX_MM);
	MK_TOUCH(k, MK_OC_FDS, 0, 0);
	/* a fill reads the settings, mmap_changing and the waiters it may
	 * wake; (0, 0) is read(), which also takes events; a write is found
	 * at the step's end (kernel_seen.c) */
	MK_UFFD_READ(k, mmi, start == 0 && len == 0 ? MK_UFFD_ALL
			     : 1u << MK_UFFD_CTL | 1u << MK_UFFD_CHG | 1u << MK_UFFD_FQ);
	MK_TOUCH(k, MK_OC_MM, mmi, 0);
	uint64_t end = start + len < start ? UINT64_MAX : start + len;
	for (int i = 0; i < mm->nvmas && len; i++) {
		const struct mk_vma *v = &mm->vmas[i];
		uint64_t vs = v->start > start ? v->start : start;
		uint64_t ve = mk_vma_end(v, k->ps) < end ? mk_vma_end(v, k->ps) : end;

		/* too many pages make the footprint "everything" (sched) */
		for (uint64_t a = vs - (vs - v->start) % k->ps; a < ve; a += k->ps)
			MK_TOUCH(k, MK_OC_PAGE,
				 MK_PAGE_ID(mmi, v->first + (int)((a - v->start) / k->ps)),
				 mk_page_write(k, 1));
	}
}

/* ------------------------------------------------------------------ */
/* formatting (trace labels)                                           */

void mk_fmt_content(char *buf, size_t n, mk_content c)
{
	if (c == 0)
		snprintf(buf, n, "0");
	else if (MK_IS_SNAP(c))
		snprintf(buf, n, "S%" PRIu64, MK_SNAP_PAGE(c));
	else if (MK_IS_WRITE(c))
		snprintf(buf, n, "W%" PRIu64, MK_WRITE_ID(c));
	else
		snprintf(buf, n, "0x%" PRIx64, c);
}

void mk_fmt_msg(char *buf, size_t n, const struct uffd_msg *m)
{
	switch (m->event) {
	case UFFD_EVENT_PAGEFAULT:
		snprintf(buf, n, "PF 0x%llx%s%s",
			 (unsigned long long)m->arg.pagefault.address,
			 m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE ?
				 " w" : "",
			 m->arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP ?
				 " wp" : "");
		break;
	case UFFD_EVENT_REMOVE:
	case UFFD_EVENT_UNMAP:
		snprintf(buf, n, "%s 0x%llx-0x%llx",
			 m->event == UFFD_EVENT_REMOVE ? "REMOVE" : "UNMAP",
			 (unsigned long long)m->arg.remove.start,
			 (unsigned long long)m->arg.remove.end);
		break;
	case UFFD_EVENT_REMAP:
		snprintf(buf, n, "REMAP 0x%llx->0x%llx len=0x%llx",
			 (unsigned long long)m->arg.remap.from,
			 (unsigned long long)m->arg.remap.to,
			 (unsigned long long)m->arg.remap.len);
		break;
	case UFFD_EVENT_FORK:
		snprintf(buf, n, "FORK ufd=%u", m->arg.fork.ufd);
		break;
	default:
		snprintf(buf, n, "event %u", m->event);
	}
}

/* ------------------------------------------------------------------ */
/* observation                                                         */

void mk_mm_page_view(const struct mkern *k, int mm, int page,
		     struct mk_page_view *out)
{
	memset(out, 0, sizeof(*out));
	if (mm < 0 || mm >= MK_MAX_MM || !k->mm[mm].used || page < 0 ||
	    page >= k->npages)
		return;
	const struct mk_page *pg = &k->mm[mm].pages[page];

	out->present = pg->present;
	out->content = pg->present ? pg->content : 0;
	out->wp = pg->wp;
	out->mapped = mk_page_addr(k, mm, page, &out->addr) == 0;
}

void mk_page_view(const struct mkern *k, int page, struct mk_page_view *out)
{
	mk_mm_page_view(k, 0, page, out);
}

int mk_mmap_changing(const struct mkern *k)
{
	return k->mm[0].ctx.mmap_changing;
}

int mk_pending_faults(const struct mkern *k)
{
	return k->mm[0].ctx.nfpend;
}

int mk_pending_events(const struct mkern *k)
{
	return k->mm[0].ctx.nevents;
}

int mk_waiting_page(const struct mkern *k, int tid, int *msg_read)
{
	const struct mk_thr *t =
		tid >= 0 && tid < k->nthr ? k->thr[tid] : NULL;

	if (msg_read)
		*msg_read = 0;
	if (!t || t->flist == MK_FL_NONE)
		return -1;
	if (msg_read)
		*msg_read = t->flist == MK_FL_READ;
	return t->fpage;
}

int mk_waiting_event(const struct mkern *k, int tid)
{
	const struct mk_thr *t =
		tid >= 0 && tid < k->nthr ? k->thr[tid] : NULL;

	return t && t->est == MK_EV_QUEUED;
}

int mk_released(const struct mkern *k)
{
	return k->mm[0].ctx.released;
}

int mk_reads_uffd(const struct mkern *k, int tid)
{
	const struct mk_thr *t = tid >= 0 && tid < k->nthr ? k->thr[tid] : NULL;
	return t ? t->reads_uffd : 0;
}

int mk_read_locks_held(const struct mkern *k, int tid)
{
	const struct mk_thr *t = tid >= 0 && tid < k->nthr ? k->thr[tid] : NULL;
	return t ? t->rd_held : 0;
}
