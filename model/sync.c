/* model/sync.c — the sys layer's mutex, rwlock and condition variable on
 * sched wait queues.
 *
 * Contract: every operation starts with a scheduling point (the handler
 * may be preempted right before it takes or drops a lock); the state change
 * itself is atomic. Objects come from the kernel's pools (no malloc after
 * warm-up) and die with the schedule (mk_reset). Misuse that the real
 * backend would turn into undefined behaviour (unlocking a lock one does
 * not hold) is recorded in the step label and otherwise ignored, so that a
 * buggy handler variant ends in a verdict rather than a crash.
 *
 * The rwlock is writer-preferring with Go's sync.RWMutex semantics (the
 * handler under test is a Go program): once a writer has announced itself,
 * new readers block; readers that blocked behind a writer all enter when
 * that writer unlocks, before the next writer may enter.
 */
#include "model/kernel_impl.h"

#include <assert.h>
#include <errno.h>

struct sys_mutex {
	int owner;            /* tid + 1; 0 = free */
	int64_t id;           /* trace events' lock id */
	sched_waitq_t q;
};

struct sys_rwlock {
	int64_t id;           /* trace events' lock id */
	int readers;          /* readers inside (incl. admitted waiters) */
	int writer;           /* tid + 1 of the writer inside or draining */
	int announced;        /* a writer waits for readers: new ones block */
	int blocked_readers;  /* readers that queued behind the writer */
	sched_waitq_t rq;     /* readers behind a writer */
	sched_waitq_t wq;     /* the announced writer, waiting for readers */
	sched_waitq_t wmq;    /* writers waiting for the writer slot */
};

struct sys_cond {
	int64_t id;           /* trace events' lock id */
	sched_waitq_t q;
};

size_t mk_sync_mutex_size(void)
{
	return sizeof(struct sys_mutex);
}

size_t mk_sync_rwlock_size(void)
{
	return sizeof(struct sys_rwlock);
}

size_t mk_sync_cond_size(void)
{
	return sizeof(struct sys_cond);
}

/* ------------------------------------------------------------------ */
/* mutex                                                               */

int mk_sys_mutex_new(sys_t *sys, sys_mutex_t **out)
{
	struct mkern *k = mk_of_sys(sys);
	struct sys_mutex *m = mk_pool_get(&k->mutexes);

	if (!m)
		return -ENOMEM;
	assert(!m->owner && sched_waitq_empty(&m->q)); /* pools hand out zeroes */
	m->id = ++k->obj_seq;
	*out = m;
	assert(m->id > 0 && m->id == k->obj_seq);
	return 0;
}

void mk_sys_mutex_free(sys_t *sys, sys_mutex_t *m)
{
	struct mkern *k = mk_of_sys(sys);

	if (m && mk_pool_put(&k->mutexes, m) != 0) {
		MK_LABEL(k, "mutex_free: not a live mutex");
		MEV(k->s, MEV_BAD_FREE, MEV_OBJ_MUTEX);
	}
}

static void mutex_acquire(struct mkern *k, struct sys_mutex *m)
{
	int me = sched_self(k->s) + 1;

	assert(me >= 1 && m->owner >= 0); /* from a coroutine */
	while (m->owner) {
		sched_block(k->s, &m->q);
		MK_TOUCH(k, MK_OC_LOCK, (uint64_t)m->id, 1);
	}
	m->owner = me;
}

static void mutex_release(struct mkern *k, struct sys_mutex *m)
{
	/* Not asserted: that the caller owns m. Unlocking another thread's
	 * mutex is a handler bug the model records and lets happen (see the
	 * contract above), so that the run ends in a verdict. */
	assert(m->owner >= 0);
	m->owner = 0;
	/* a woken waiter re-checks: a thread that runs first may barge in,
	 * as with a futex-based mutex */
	sched_wake_one(k->s, &m->q);
}

void mk_sys_mutex_lock(sys_t *sys, sys_mutex_t *m)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	/* an attempt that waits only looks at the mutex (its wait queue is
	 * sched's object); the acquisition after the wake writes it */
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)m->id, m->owner == 0);
	MK_LABEL(k, "mutex_lock%s", m->owner ? " (waits)" : "");
	MEV(k->s, MEV_MUTEX_LOCK, m->id, m->owner != 0);
	mutex_acquire(k, m);
}

void mk_sys_mutex_unlock(sys_t *sys, sys_mutex_t *m)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)m->id, 1);
	if (m->owner != sched_self(k->s) + 1)
		MK_LABEL(k, "mutex_unlock: not the owner (t%d holds it)",
			 m->owner - 1);
	else
		MK_LABEL(k, "mutex_unlock");
	MEV(k->s, MEV_MUTEX_UNLOCK, m->id, m->owner - 1);
	mutex_release(k, m);
}

/* ------------------------------------------------------------------ */
/* rwlock                                                              */

int mk_sys_rwlock_new(sys_t *sys, sys_rwlock_t **out)
{
	struct mkern *k = mk_of_sys(sys);
	struct sys_rwlock *l = mk_pool_get(&k->rwlocks);

	if (!l)
		return -ENOMEM;
	assert(!l->readers && !l->writer && !l->announced && !l->blocked_readers);
	l->id = ++k->obj_seq;
	*out = l;
	assert(l->id > 0 && l->id == k->obj_seq);
	return 0;
}

void mk_sys_rwlock_free(sys_t *sys, sys_rwlock_t *l)
{
	struct mkern *k = mk_of_sys(sys);

	if (l && mk_pool_put(&k->rwlocks, l) != 0) {
		MK_LABEL(k, "rwlock_free: not a live rwlock");
		MEV(k->s, MEV_BAD_FREE, MEV_OBJ_RWLOCK);
	}
}

/* An rwlock is two objects to the reduction: its writer side (writer,
 * announced, blocked readers: the lock's id) and its readers count.
 * Readers that find no writer only add to the count, so two readers'
 * lock and unlock commute; a writer reads and writes both. */
#define RW_READERS(l) ((uint64_t)(l)->id | (UINT64_C(1) << 48))

static void rw_touch_writer(struct mkern *k, const struct sys_rwlock *l)
{
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)l->id, SCHED_WRITE);
	MK_TOUCH(k, MK_OC_LOCK, RW_READERS(l), SCHED_WRITE);
}

void mk_sys_rdlock(sys_t *sys, sys_rwlock_t *l)
{
	struct mkern *k = mk_of_sys(sys);

	struct mk_thr *me = mk_thr_self(k);

	sched_point(k->s);
	assert(!l->announced || l->writer); /* only a writer announces */
	if (me)
		me->rd_held++;
	if (!l->writer) {
		/* looks at the writer side, adds to the readers */
		MK_TOUCH(k, MK_OC_LOCK, (uint64_t)l->id, SCHED_READ);
		MK_TOUCH(k, MK_OC_LOCK, RW_READERS(l), SCHED_ADD);
		l->readers++;
		assert(l->readers > 0 && !l->announced);
		MK_LABEL(k, "rdlock (readers=%d)", l->readers);
		MEV(k->s, MEV_RDLOCK, l->id, l->readers);
		return;
	}
	/* Go: RLock blocks while a writer is pending or inside; the writer's
	 * Unlock admits it (already counted in readers) */
	MK_LABEL(k, "rdlock waits (writer t%d%s)", l->writer - 1,
		 l->announced ? " waiting for readers" : " inside");
	MEV(k->s, MEV_RDLOCK_WAIT, l->id, l->writer - 1, l->announced != 0);
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)l->id, SCHED_WRITE);
	l->blocked_readers++;
	sched_block(k->s, &l->rq);
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)l->id, SCHED_WRITE);
	MK_TOUCH(k, MK_OC_LOCK, RW_READERS(l), SCHED_READ);
	/* admitted by the writer's unlock, which counted it in readers */
	assert(l->readers >= 0 && l->blocked_readers >= 0);
	MK_LABEL(k, "rdlock acquired (readers=%d)", l->readers);
	MEV(k->s, MEV_RDLOCK_ACQ, l->id, l->readers);
}

void mk_sys_rdunlock(sys_t *sys, sys_rwlock_t *l)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	/* it looks at the writer side (is one announced?); it sees the
	 * count only when it must wake that writer */
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)l->id, SCHED_READ);
	MK_TOUCH(k, MK_OC_LOCK, RW_READERS(l),
		 l->announced || l->readers <= 0 ? SCHED_WRITE : SCHED_ADD);
	if (l->readers <= 0) {
		MK_LABEL(k, "rdunlock: no reader inside");
		MEV(k->s, MEV_RDUNLOCK, l->id, l->readers, 1);
		return;
	}
	l->readers--;
	assert(l->readers >= 0);
	struct mk_thr *me = mk_thr_self(k);
	if (me && me->rd_held > 0)
		me->rd_held--;
	assert(!me || me->rd_held >= 0);
	MK_LABEL(k, "rdunlock (readers=%d)", l->readers);
	MEV(k->s, MEV_RDUNLOCK, l->id, l->readers, 0);
	if (l->readers == 0 && l->announced)
		sched_wake_one(k->s, &l->wq);
}

void mk_sys_wrlock(sys_t *sys, sys_rwlock_t *l)
{
	struct mkern *k = mk_of_sys(sys);
	int me = sched_self(k->s) + 1;

	sched_point(k->s);
	rw_touch_writer(k, l);
	MK_LABEL(k, "wrlock%s", l->writer ? " waits for the writer" :
			       l->readers ? " waits for readers" : "");
	MEV(k->s, MEV_WRLOCK, l->id, l->writer ? MEV_WAIT_WRITER :
				     l->readers ? MEV_WAIT_READERS :
						  MEV_WAIT_NONE);
	/* not asserted: l->writer != me (a recursive Lock deadlocks, a
	 * handler bug that ends in a verdict) */
	assert(me >= 1 && l->readers >= 0);
	/* Go: w.Lock() serialises writers ... */
	while (l->writer) {
		sched_block(k->s, &l->wmq);
		rw_touch_writer(k, l);
	}
	assert(!l->announced);
	l->writer = me;
	/* ... then the writer announces itself and waits for the readers
	 * inside to leave */
	l->announced = 1;
	while (l->readers > 0) {
		sched_block(k->s, &l->wq);
		rw_touch_writer(k, l);
	}
	l->announced = 0;
	/* the writer excludes every reader */
	assert(l->writer == me && l->readers == 0);
	if (sched_labels_on(k->s))
		sched_label(k->s, "wrlock acquired");
	MEV(k->s, MEV_WRLOCK_ACQ, l->id);
}

void mk_sys_wrunlock(sys_t *sys, sys_rwlock_t *l)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	rw_touch_writer(k, l);
	if (l->writer != sched_self(k->s) + 1) {
		MK_LABEL(k, "wrunlock: not the writer");
		MEV(k->s, MEV_WRUNLOCK, l->id, 0, 1);
		return;
	}
	MK_LABEL(k, "wrunlock (admits %d readers)", l->blocked_readers);
	MEV(k->s, MEV_WRUNLOCK, l->id, l->blocked_readers, 0);
	/* inside, the writer has stopped announcing: no reader is in */
	assert(!l->announced && l->blocked_readers >= 0);
	/* readers that queued behind this writer enter first */
	int admitted = l->blocked_readers;

	l->readers += l->blocked_readers;
	l->blocked_readers = 0;
	int woke = sched_wake_all(k->s, &l->rq);

	/* every reader counted as blocked sleeps on rq, and only there */
	assert(woke == admitted && l->readers >= admitted);
	(void)woke;
	(void)admitted;
	l->writer = 0;
	sched_wake_one(k->s, &l->wmq);
}

/* ------------------------------------------------------------------ */
/* condition variable                                                  */

int mk_sys_cond_new(sys_t *sys, sys_cond_t **out)
{
	struct mkern *k = mk_of_sys(sys);
	struct sys_cond *c = mk_pool_get(&k->conds);

	if (!c)
		return -ENOMEM;
	assert(sched_waitq_empty(&c->q));
	c->id = ++k->obj_seq;
	*out = c;
	assert(c->id > 0 && c->id == k->obj_seq);
	return 0;
}

void mk_sys_cond_free(sys_t *sys, sys_cond_t *c)
{
	struct mkern *k = mk_of_sys(sys);

	if (c && mk_pool_put(&k->conds, c) != 0) {
		MK_LABEL(k, "cond_free: not a live cond");
		MEV(k->s, MEV_BAD_FREE, MEV_OBJ_COND);
	}
}

void mk_sys_cond_wait(sys_t *sys, sys_cond_t *c, sys_mutex_t *m)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)c->id, 1);
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)m->id, 1);
	MK_LABEL(k, "cond_wait");
	MEV(k->s, MEV_COND_WAIT, c->id, m->id);
	/* unlock and sleep in one step: no wake-up can fall in between */
	mutex_release(k, m);
	sched_block(k->s, &c->q);
	/* the waker took it off c's queue: c is only looked at now. The step
	 * re-takes m (or waits for it: then it only looked, a pure block)
	 * and runs the caller's critical section up to its next sys call: it
	 * must say so, as mutex_lock does, or a third thread's critical
	 * section between the waker's unlock and this one would seem to
	 * commute with it */
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)c->id, 0);
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)m->id, m->owner == 0);
	mutex_acquire(k, m);
	assert(m->owner >= 1); /* re-acquired after the wait */
}

void mk_sys_cond_signal(sys_t *sys, sys_cond_t *c)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)c->id, 1);
	int n = sched_wake_one(k->s, &c->q);

	assert(n == 0 || n == 1);
	MK_LABEL(k, "cond_signal (%d woken)", n);
	MEV(k->s, MEV_COND_SIGNAL, c->id, n);
}

void mk_sys_cond_broadcast(sys_t *sys, sys_cond_t *c)
{
	struct mkern *k = mk_of_sys(sys);

	sched_point(k->s);
	MK_TOUCH(k, MK_OC_LOCK, (uint64_t)c->id, 1);
	int n = sched_wake_all(k->s, &c->q);

	assert(n >= 0 && sched_waitq_empty(&c->q));
	MK_LABEL(k, "cond_broadcast (%d woken)", n);
	MEV(k->s, MEV_COND_BROADCAST, c->id, n);
}
