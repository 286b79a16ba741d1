/* A trace as the replay turnstile follows it: contract in real/rts_plan.h. */
#include "real/rts_plan.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/event.h"
#include "sched/trace.h"

_Static_assert((int)RK_ACCESS == (int)MEV_ACCESS && (int)RK_FAULT == (int)MEV_FAULT &&
		       (int)RK_CHECKED_READ == (int)MEV_CHECKED_READ && (int)RK_POLL == (int)MEV_POLL &&
		       (int)RK_ATOMIC_CAS == (int)MEV_ATOMIC_CAS && (int)RK_UFFD_READ == (int)MEV_UFFD_READ &&
		       (int)RK_READ_PF == (int)MEV_READ_PF && (int)RK_READ_REMOVE == (int)MEV_READ_REMOVE &&
		       (int)RK_READ_UNMAP == (int)MEV_READ_UNMAP &&
		       (int)RK_UFFD_COPY == (int)MEV_UFFD_COPY && (int)RK_UFFD_ZEROPAGE == (int)MEV_UFFD_ZEROPAGE &&
		       (int)RK_SOURCE_READ == (int)MEV_SOURCE_READ &&
		       (int)RK_MADVISE == (int)MEV_MADVISE && (int)RK_EV_RESUMED == (int)MEV_EV_RESUMED &&
		       (int)RK_WOKEN == (int)MEV_WOKEN,
	       "real/rts_plan.h enum rts_kind follows model/event.h");

const struct sched_event *rts_ev(const struct rts_pstep *s, int k)
{
	for (size_t i = s->nev; i-- > 0;)
		if (s->ev[i].kind == k)
			return &s->ev[i];
	return NULL;
}

/* The next step of tid after s, or n. */
static size_t next_of(const struct rts_plan *p, int tid, size_t s)
{
	for (size_t i = s + 1; i < p->n; i++)
		if (p->s[i].tid == tid)
			return i;
	return p->n;
}

/* The first step of tid after s holding kind k (k < 0: its next), or n. */
static size_t resume_of(const struct rts_plan *p, int tid, size_t s, int k)
{
	for (size_t i = next_of(p, tid, s); i < p->n; i = next_of(p, tid, i))
		if (k < 0 || rts_ev(&p->s[i], k))
			return i;
	return p->n;
}

/* Does step s sleep in the simulator, in what, and where does its thread
 * resume? A fault retried in the same step (woken, then done) does not
 * sleep at that step's end; madvise resumes where it returns. */
static enum rts_block blocks(const struct rts_plan *p, size_t s, size_t *resume)
{
	const struct rts_pstep *st = &p->s[s];
	const struct sched_event *e;
	int tid = st->tid;
	if (st->nev && st->ev[st->nev - 1].kind == MEV_FAULT) {
		*resume = resume_of(p, tid, s, MEV_WOKEN);
		return RTS_B_FAULT;
	}
	if (rts_ev(st, MEV_REMOVE_QUEUED)) {
		*resume = resume_of(p, tid, s, MEV_MADVISE_RET);
		return RTS_B_EVENT;
	}
	if (rts_ev(st, MEV_UNMAP_QUEUED)) { /* munmap returns once it is read */
		*resume = resume_of(p, tid, s, MEV_EV_RESUMED);
		return RTS_B_EVENT;
	}
	int k = -2;
	if (((e = rts_ev(st, MEV_MUTEX_LOCK)) && e->f[1]) || rts_ev(st, MEV_COND_WAIT) ||
	    ((e = rts_ev(st, MEV_SEM_ACQUIRE)) && e->f[2]) ||
	    ((e = rts_ev(st, MEV_SEM_WAIT)) && e->f[2]))
		k = -1;
	else if (rts_ev(st, MEV_RDLOCK_WAIT))
		k = MEV_RDLOCK_ACQ;
	else if ((e = rts_ev(st, MEV_WRLOCK)) && e->f[1] != MEV_WAIT_NONE &&
		 !rts_ev(st, MEV_WRLOCK_ACQ))
		k = MEV_WRLOCK_ACQ;
	else if (rts_ev(st, MEV_POLL_SLEEP))
		k = MEV_POLL;
	else if ((e = rts_ev(st, MEV_JOIN)) && e->f[0] >= 0 && e->f[0] < RTS_MAX_THREADS &&
		 next_of(p, (int)e->f[0], s) < p->n)
		k = -1; /* the target still has steps: join sleeps */
	if (k == -2)
		return RTS_B_NONE;
	*resume = resume_of(p, tid, s, k);
	return RTS_B_SLEEP;
}

/* The first event kind a call of op makes, and another it may make
 * instead (-2 none); -1: any (a bare scheduling point). */
static const int first_kind[SYS_REAL_NOPS][2] = {
	[SYS_REAL_OP_SPAWN] = {MEV_SPAWN, -2},
	[SYS_REAL_OP_JOIN] = {MEV_JOIN, -2},
	[SYS_REAL_OP_YIELD] = {-1, -1},
	[SYS_REAL_OP_SLEEP] = {MEV_SLEEP, -2},
	[SYS_REAL_OP_MUTEX_LOCK] = {MEV_MUTEX_LOCK, -2},
	[SYS_REAL_OP_MUTEX_UNLOCK] = {MEV_MUTEX_UNLOCK, -2},
	[SYS_REAL_OP_RDLOCK] = {MEV_RDLOCK, MEV_RDLOCK_WAIT},
	[SYS_REAL_OP_RDUNLOCK] = {MEV_RDUNLOCK, -2},
	[SYS_REAL_OP_WRLOCK] = {MEV_WRLOCK, -2},
	[SYS_REAL_OP_WRUNLOCK] = {MEV_WRUNLOCK, -2},
	[SYS_REAL_OP_COND_WAIT] = {MEV_COND_WAIT, -2},
	[SYS_REAL_OP_COND_SIGNAL] = {MEV_COND_SIGNAL, -2},
	[SYS_REAL_OP_COND_BROADCAST] = {MEV_COND_BROADCAST, -2},
	[SYS_REAL_OP_ATOMIC_LOAD] = {MEV_ATOMIC_LOAD, -2},
	[SYS_REAL_OP_ATOMIC_STORE] = {MEV_ATOMIC_STORE, -2},
	[SYS_REAL_OP_ATOMIC_ADD] = {MEV_ATOMIC_ADD, -2},
	[SYS_REAL_OP_ATOMIC_CAS] = {MEV_ATOMIC_CAS, -2},
	[SYS_REAL_OP_PIPE] = {MEV_PIPE, -2},
	[SYS_REAL_OP_WRITE] = {MEV_PIPE_WRITE, -2},
	[SYS_REAL_OP_READ] = {MEV_PIPE_READ, -2},
	[SYS_REAL_OP_CLOSE] = {MEV_CLOSE, -2},
	[SYS_REAL_OP_POLL] = {MEV_POLL, MEV_POLL_SLEEP},
	[SYS_REAL_OP_UFFD_READ] = {MEV_UFFD_READ, -2},
	[SYS_REAL_OP_UFFD_COPY] = {MEV_UFFD_COPY, -2},
	[SYS_REAL_OP_UFFD_ZEROPAGE] = {MEV_UFFD_ZEROPAGE, -2},
	[SYS_REAL_OP_UFFD_WAKE] = {MEV_UFFD_WAKE, -2},
	[SYS_REAL_OP_UFFD_WP] = {MEV_UFFD_WP, -2},
	[SYS_REAL_OP_SOURCE_READ] = {MEV_SOURCE_READ, -2},
	[SYS_REAL_OP_UFFD_UNREGISTER] = {MEV_UNREGISTER, -2},
	[SYS_REAL_OP_DUP] = {-1, -1}, /* a label only in the simulator */
	[SYS_REAL_OP_SEM_ACQUIRE] = {MEV_SEM_ACQUIRE, -2},
	[SYS_REAL_OP_SEM_RELEASE] = {MEV_SEM_RELEASE, -2},
	[SYS_REAL_OP_SEM_WAIT] = {MEV_SEM_WAIT, -2},
	[SYS_REAL_OP_ACCESS] = {MEV_ACCESS, MEV_FAULT},
	[SYS_REAL_OP_MADVISE] = {MEV_MADVISE, -2},
	[SYS_REAL_OP_BLOCK] = {-1, -1},
	[SYS_REAL_OP_EXIT] = {-1, -1}, /* a label, and a signal per sleeper */
	[SYS_REAL_OP_MUNMAP] = {MEV_MUNMAP, -2},
};

int rts_plan_op_matches(const struct rts_pstep *s, enum sys_real_op op)
{
	assert(op > 0 && op < SYS_REAL_NOPS);
	int k1 = first_kind[op][0], k2 = first_kind[op][1];
	if (k1 == -1)
		return 1;
	return s->nev && (s->ev[0].kind == k1 || s->ev[0].kind == k2);
}

const char *rts_op_name(enum sys_real_op op)
{
	static const char *const names[SYS_REAL_NOPS] = {
		"?", "spawn", "join", "yield", "sleep", "mutex_lock", "mutex_unlock",
		"rdlock", "rdunlock", "wrlock", "wrunlock", "cond_wait", "cond_signal",
		"cond_broadcast", "atomic_load", "atomic_store", "atomic_add",
		"atomic_cas", "pipe", "pipe_write", "pipe_read", "close", "poll",
		"uffd_read", "uffd_copy", "uffd_zeropage", "uffd_wake", "uffd_wp",
		"source_read", "uffd_unregister", "dup", "sem_acquire", "sem_release",
		"sem_wait_zero", "a guest access", "madvise",
		"a wait", "the guest's exit", "munmap"};
	return op > 0 && op < SYS_REAL_NOPS ? names[op] : "?";
}

int rts_plan_tid(const struct rts_plan *p, const char *name)
{
	for (int t = 0; t < p->nthreads; t++)
		if (p->kinds[t] && strcmp(p->names[t], name) == 0)
			return t;
	return -1;
}

/* The header's "thread <tid> <name> <kind>" table. 0 or -1. */
static int threads(const struct trace *t, struct rts_plan *p, char *err, size_t n)
{
	size_t pos = 0;
	const char *v;
	while ((v = trace_get_next(t, "thread", &pos))) {
		int tid, kind;
		char name[32];
		if (sscanf(v, "%d %31s %d", &tid, name, &kind) != 3 || tid < 0 ||
		    tid >= RTS_MAX_THREADS || kind < 1) {
			snprintf(err, n, "thread line '%s': this replay takes tids below %d", v,
				 RTS_MAX_THREADS);
			return -1;
		}
		snprintf(p->names[tid], sizeof p->names[tid], "%s", name);
		p->kinds[tid] = kind;
		if (tid + 1 > p->nthreads)
			p->nthreads = tid + 1;
	}
	return 0;
}

int rts_plan_build(const void *trace, struct rts_plan *p, char *err, size_t n)
{
	const struct trace *t = trace;
	memset(p, 0, sizeof *p);
	if (threads(t, p, err, n))
		return -1;
	p->n = t->nsteps;
	p->s = calloc(p->n ? p->n : 1, sizeof *p->s);
	if (!p->s) {
		snprintf(err, n, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < p->n; i++) {
		struct rts_pstep *s = &p->s[i];
		s->tid = (int)t->steps[i].tid;
		s->ev = t->steps[i].ev;
		s->nev = t->steps[i].nev;
		if (s->tid >= RTS_MAX_THREADS || !p->kinds[s->tid]) {
			snprintf(err, n, "step %zu: thread %d is not in the thread table", i, s->tid);
			rts_plan_free(p);
			return -1;
		}
		s->what = s->nev ? mev_schema.kinds[s->ev[0].kind].name : "a bare point";
		s->ev_resumed = rts_ev(s, MEV_EV_RESUMED) != NULL;
		s->zap = rts_ev(s, MEV_ZAP) != NULL;
		const struct sched_event *sp = rts_ev(s, MEV_SPAWN);
		s->spawn_child = sp && sp->f[0] >= 0 && sp->f[0] < RTS_MAX_THREADS ? (int)sp->f[0] : -1;
	}
	for (size_t i = 0; i < p->n; i++)
		p->s[i].block = blocks(p, i, &p->s[i].resume);
	return 0;
}

void rts_plan_free(struct rts_plan *p)
{
	free(p->s);
	p->s = NULL;
	p->n = 0;
}
