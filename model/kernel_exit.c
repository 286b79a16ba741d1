/* model/kernel_exit.c — the guest process exits (docs/KERNEL.md rule 44).
 * do_exit() kills the other threads (zap_other_threads) and the last one's
 * exit_mm() drops mm_users to zero; the uffd context keeps only mm_count
 * (mmgrab), so every ioctl that needs the mm fails mmget_not_zero() with
 * ESRCH. The model does both in one step: the window in which the threads
 * are dead but the mm still has users only lets a fill land in a dying
 * mm, which nothing can observe. */
#include <assert.h>

#include "model/kernel_impl.h"

/* End t's fault or event wait as a fatal signal would (rules 10, 28). */
static void kill_wait(struct mkern *k, struct mk_thr *t)
{
	if (t->flist != MK_FL_NONE) {
		mk_fault_unlink(t);
		t->fkilled = 1;
		int woke = sched_wake_one(k->s, &t->q);
		assert(woke == 1 && t->flist == MK_FL_NONE);
		(void)woke;
	} else if (t->est == MK_EV_QUEUED) {
		mk_event_unlink(t);
		t->est = MK_EV_WITHDRAWN;
		int woke = sched_wake_one(k->s, &t->q);
		assert(woke == 1);
		(void)woke;
	}
}

int mk_exit(struct mkern *k)
{
	sched_point(k->s);
	sched_touch_all(k->s);
	struct mk_ctx *c = &k->mm[0].ctx;
	int self = sched_self(k->s);
	MK_LABEL(k, "the guest process exits: its threads die, fills get ESRCH");
	c->mm_exited = 1;
	for (int tid = 0; tid < k->nthr; tid++) {
		int kind = sched_thread_kind(k->s, tid);
		struct mk_thr *t = k->thr[tid];
		if (tid == self || !t || (kind != MK_GUEST && kind != MK_BALLOON))
			continue;
		if (t->flist != MK_FL_NONE || t->est == MK_EV_QUEUED)
			MEV(k->s, MEV_SIGNAL, tid, 1);
		kill_wait(k, t);
	}
	mk_ready(k);
	assert(c->mm_exited);
	return 0;
}
