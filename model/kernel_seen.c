/* model/kernel_seen.c — what a step wrote in the kernel, found at its end.
 *
 * The reducing dfs orders two steps when one writes what the other
 * touches. Sites declare a uffd and (in memories of at most
 * MK_SEEN_PAGES pages) its pages as read; whether the step wrote one is
 * decided here, by comparing each with what the previous step's end left.
 * So a site cannot forget a write, and a step that left a page or a uffd
 * as it found it (a COPY refused with EEXIST or EAGAIN, a zap of a page
 * not there, a fill that woke nobody) only read it, and commutes with
 * other readers. That is sound because the comparison is of everything a
 * step of the model can see of the object: a step that changed nothing in
 * it behaves, and leaves its readers behaving, the same in either order
 * (docs/DESIGN.md "Footprints found at the step's end").
 */
#include "model/kernel_impl.h"

#include <assert.h>
#include <string.h>

/* Everything of a uffd another step can see: its counters and the
 * threads on its three queues, in order. */
static void ctx_snap(const struct mk_mm *mm, struct mk_ctx_seen *o)
{
	const struct mk_ctx *c = &mm->ctx;

	memset(o, 0, sizeof *o);
	o->used = mm->used;
	o->live = c->live;
	o->released = c->released;
	o->refs = c->refs;
	o->proc_ref = c->proc_ref;
	o->features = c->features;
	o->user_mode_only = c->user_mode_only;
	o->mmap_changing = c->mmap_changing;
	o->mm_exited = c->mm_exited;
	o->nfpend = c->nfpend;
	o->nevents = c->nevents;
	const struct mk_thr *l[3] = {c->fpend.head, c->fread.head, c->events.head};
	for (int q = 0; q < 3; q++)
		for (const struct mk_thr *t = l[q]; t; t = q == 2 ? t->enext : t->fnext) {
			if (o->n[q] == MK_SEEN_LIST) {
				o->over[q] = 1; /* too long to keep: always "written" */
				break;
			}
			o->tid[q][o->n[q]++] = t->tid;
		}
}

/* Whether queue q of the uffd still holds the threads o saw. */
static int queue_same(const struct mk_ctx *c, const struct mk_ctx_seen *o, int q)
{
	const struct mk_thr *h[3] = {c->fpend.head, c->fread.head, c->events.head};
	int i = 0;

	if (o->over[q])
		return 0;
	for (const struct mk_thr *t = h[q]; t; t = q == 2 ? t->enext : t->fnext, i++)
		if (i == o->n[q] || o->tid[q][i] != t->tid)
			return 0;
	return i == o->n[q];
}

/* The parts (1 << MK_UFFD_*) of the uffd that differ from what o saw;
 * the common case of a step that left it alone costs a few compares. */
static unsigned ctx_changed(const struct mk_mm *mm, const struct mk_ctx_seen *o)
{
	const struct mk_ctx *c = &mm->ctx;
	unsigned parts = 0;

	if (o->used != mm->used || o->live != c->live || o->released != c->released ||
	    o->refs != c->refs || o->proc_ref != c->proc_ref ||
	    o->features != c->features || o->user_mode_only != c->user_mode_only ||
	    o->mm_exited != c->mm_exited)
		parts |= 1u << MK_UFFD_CTL;
	if (o->mmap_changing != c->mmap_changing)
		parts |= 1u << MK_UFFD_CHG;
	if (o->nfpend != c->nfpend || !queue_same(c, o, 0) || !queue_same(c, o, 1))
		parts |= 1u << MK_UFFD_FQ;
	if (o->nevents != c->nevents || !queue_same(c, o, 2))
		parts |= 1u << MK_UFFD_EVQ;
	return parts;
}

static int page_same(const struct mk_page *a, const struct mk_page *b)
{
	return a->content == b->content && a->present == b->present &&
	       a->wp == b->wp && a->poison == b->poison;
}

void mk_seen_reset(struct mkern *k)
{
	k->pages_seen = k->npages <= MK_SEEN_PAGES;
	for (int m = 0; m < MK_MAX_MM; m++) {
		ctx_snap(&k->mm[m], &k->ctx_seen[m]);
		if (k->pages_seen)
			memcpy(k->page_seen[m], k->mm[m].pages,
			       (size_t)k->npages * sizeof(struct mk_page));
	}
}

int mk_page_write(const struct mkern *k, int write)
{
	return write && !k->pages_seen;
}

/* A reducing run, as each step ends: what the step changed it wrote. */
void mk_touch_changes(struct mkern *k)
{
	if (!k->touching)
		return;
	mk_touch_readiness(k);
	for (int m = 0; m < MK_MAX_MM; m++) {
		if (!k->mm[m].used && !k->ctx_seen[m].used) {
			/* a uffd is reached only through a thread or an fd of its
			 * mm, and an mm once used stays so until mk_reset: the
			 * uffd of an mm not there is as it was reset */
			assert(!k->mm[m].ctx.live && !k->mm[m].ctx.released);
			continue;
		}
		unsigned parts = ctx_changed(&k->mm[m], &k->ctx_seen[m]);

		for (int p = 0; p < MK_UFFD_PARTS; p++)
			if (parts >> p & 1)
				sched_touch(k->s, SCHED_OBJ(MK_OC_UFFD, MK_UFFD_ID(m, p)),
					    SCHED_WRITE);
		if (parts)
			ctx_snap(&k->mm[m], &k->ctx_seen[m]);
		if (!k->pages_seen)
			continue;
		for (int p = 0; p < k->npages; p++) {
			struct mk_page *was = &k->page_seen[m][p];
			const struct mk_page *pg = &k->mm[m].pages[p];

			if (page_same(was, pg))
				continue;
			sched_touch(k->s, SCHED_OBJ(MK_OC_PAGE, MK_PAGE_ID(m, p)),
				    SCHED_WRITE);
			*was = *pg;
		}
	}
}
