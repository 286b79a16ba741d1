/* model/sem.c — the sys layer's counting semaphore (Go's errgroup with
 * SetLimit: a token channel and a WaitGroup) on sched wait queues.
 *
 * Contract: as model/sync.c — every operation starts with a scheduling
 * point, the state change is atomic, objects come from the kernel's pool
 * and die with the schedule, misuse (a release with no slot taken) is
 * labelled and ignored. To the reduction a successful acquire and a
 * release are adds to the count, which commute with each other (in
 * either order both succeed and leave the same count); an acquire that
 * finds every slot taken and a wait for zero read it, and a release that
 * wakes a waiter writes it (the waiter's order against the other releases
 * is then fixed), so every order that changes who waits is explored.
 */
#include "model/kernel_impl.h"

#include <assert.h>
#include <errno.h>

struct sys_sem {
	int64_t id;           /* trace events' lock id (shared with locks) */
	int count, limit;     /* 0 <= count <= limit */
	sched_waitq_t acq;    /* acquirers waiting for a slot */
	sched_waitq_t zero;   /* waiters for count == 0 */
};

size_t mk_sync_sem_size(void)
{
	return sizeof(struct sys_sem);
}

static void touch(struct mkern *k, const struct sys_sem *m, int kind)
{
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)m->id, kind);
}

int mk_sys_sem_new(sys_t *sys, sys_sem_t **out, int limit)
{
	struct mkern *k = mk_of_sys(sys);

	if (limit < 1)
		return -EINVAL;
	struct sys_sem *m = mk_pool_get(&k->sems);

	if (!m)
		return -ENOMEM;
	assert(!m->count && sched_waitq_empty(&m->acq) && sched_waitq_empty(&m->zero));
	m->id = ++k->obj_seq;
	m->limit = limit;
	*out = m;
	return 0;
}

void mk_sys_sem_free(sys_t *sys, sys_sem_t *m)
{
	struct mkern *k = mk_of_sys(sys);

	if (m && mk_pool_put(&k->sems, m) != 0) {
		MK_LABEL(k, "sem_free: not a live semaphore");
		MEV(k->s, MEV_BAD_FREE, MEV_OBJ_SEM);
	}
}

void mk_sys_sem_acquire(sys_t *sys, sys_sem_t *m)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	assert(m->count >= 0 && m->count <= m->limit);
	MK_LABEL(k, "sem_acquire (%d of %d taken%s)", m->count, m->limit,
		 m->count < m->limit ? "" : ", waits");
	MEV(k->s, MEV_SEM_ACQUIRE, m->id, m->count, m->count >= m->limit);
	int waited = 0;

	while (m->count >= m->limit) {
		touch(k, m, SCHED_READ);
		sched_block(k->s, &m->acq);
		waited = 1;
	}
	/* woken, this step looked at the count before it took a slot */
	touch(k, m, waited ? SCHED_WRITE : SCHED_ADD);
	m->count++;
	assert(m->count <= m->limit);
}

void mk_sys_sem_release(sys_t *sys, sys_sem_t *m)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	if (m->count <= 0) {
		touch(k, m, SCHED_WRITE);
		MK_LABEL(k, "sem_release: no slot taken");
		MEV(k->s, MEV_SEM_RELEASE, m->id, m->count, 1);
		return;
	}
	m->count--;
	int woken = sched_wake_one(k->s, &m->acq);

	if (m->count == 0)
		woken += sched_wake_all(k->s, &m->zero);
	touch(k, m, woken ? SCHED_WRITE : SCHED_ADD);
	MK_LABEL(k, "sem_release (%d taken, %d woken)", m->count, woken);
	MEV(k->s, MEV_SEM_RELEASE, m->id, m->count, 0);
	assert(m->count >= 0);
}

void mk_sys_sem_wait_zero(sys_t *sys, sys_sem_t *m)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_LABEL(k, "sem_wait_zero (%d taken%s)", m->count, m->count ? ", waits" : "");
	MEV(k->s, MEV_SEM_WAIT, m->id, m->count, m->count != 0);
	touch(k, m, SCHED_READ);
	while (m->count > 0) {
		sched_block(k->s, &m->zero);
		touch(k, m, SCHED_READ);
	}
}
