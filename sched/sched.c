/* sched/sched.c — the deterministic coroutine scheduler of sched/sched.h.
 *
 * Shape of a run: sched_run() picks the first thread and switches to it from
 * the OS thread's own context (s->main). From then on the scheduler runs on
 * the stack of whichever coroutine ends a step: at sched_point(),
 * sched_block() or thread exit it records the step, calls the sink and the
 * hook, asks the strategy for the next thread and switches straight to it
 * (or simply returns when the strategy picks the same thread). Only when the
 * run is over does a coroutine switch back to s->main.
 *
 * Threads still alive when the run ends (stuck, step bound, stopped,
 * diverged) are abandoned: they are never resumed, nothing on their stacks
 * is unwound, and their stacks go back to the pool at sched_reset() or
 * sched_free(). Code under test must not rely on cleanup running then.
 * Wait queues used by a run belong to that run: zero them again before the
 * next one (a stale queue is detected and treated as empty, never walked).
 *
 * The step sink is called after every step, labels on or off; with labels
 * off every step reads "yield" and carries no events. The hook and the sink survive sched_reset().
 * Functions meant for inside a coroutine are no-ops outside one. When a
 * step ends, the run's end is decided in this order: sched_stop(), then no
 * runnable thread (DONE or STUCK), then the step bound, then the strategy
 * (replay may report DIVERGED).
 */
#include "sched/sched.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/coro.h"
#include "sched/rng.h"
#include "sched/strategy.h"

#define LABEL_MAX 512                 /* bytes per step label, NUL included */
#define LABEL_TRUNC "..."
#define CHOICES_RESERVE ((uint64_t)1 << 16)
#define PCT_DEPTH_DEFAULT 3
#define PCT_STEPS_DEFAULT 1000
#define MAX_STEPS_DEFAULT 100000

struct sched_wnode {
	struct sched_wnode *next;
	sched_waitq_t *q;     /* the queue this node is on, NULL if none */
	uint64_t gen;         /* run that enqueued it (stale-queue check) */
	struct thread *t;
};

struct thread {
	struct coro ctx;
	struct coro_stack *stack; /* NULL once the thread ended and left it */
	sched_t *s;
	void (*fn)(void *);
	void *arg;
	char *name;
	size_t name_cap;
	int tid;
	int kind;
	enum sched_tstate state;
	int started;              /* its coroutine has run */
	/* starvation, for the step bound's verdict: the step from which it
	 * has been runnable without running, and its longest such wait */
	uint64_t ready_at, wait_max, wait_end;
	struct sched_wnode wnode;
	sched_waitq_t joiners;
};

struct sched {
	struct sched_opts opts;   /* normalised: no zero "defaults" left */
	struct coro main;         /* the OS thread's context during a run */
	struct coro_pool pool;
	/* Thread structs are kept across resets (their coroutine contexts
	 * must not move), so threads[nthreads..nalloc) are spare. */
	struct thread **threads;
	int nthreads, nalloc, threads_cap;
	struct thread *cur;       /* running coroutine, NULL outside one */
	struct thread *zombie;    /* ended thread whose stack awaits the pool */
	/* The runnable ids, ascending: the strategies choose among them in
	 * O(runnable), not O(every thread ever spawned) (issue 7). */
	int *runnable;
	int nrunnable, runnable_cap;
	int nalive;
	uint64_t steps;
	uint32_t *choices;
	uint64_t choices_cap;
	uint64_t *masks;          /* runnable set per step (record_runnable) */
	uint64_t masks_cap;
	int masks_wide;
	uint64_t gen;
	struct rng strat_rng;     /* the strategy's decisions */
	struct rng user_rng;      /* sched_random(): survives replay */
	const struct sched_strategy_ops *strat;
	void *strat_state;        /* strat's: strat_states[strat->id] */
	/* Every strategy's state, created when first used and kept until
	 * sched_free(): explorers alternate strategies (pct runs, guided
	 * shrinking) and must not allocate per run. */
	void *strat_states[SCHED_STRATEGY_COUNT];
	enum sched_result result;
	int running, ran, stop, cut;
	int reaping;              /* resumed only to exit (CORO_REAP_ABANDONED) */
	sched_step_hook hook;
	void *hook_ctx;
	sched_step_sink sink;
	void *sink_ctx;
	size_t label_len;
	int label_full;
	char label[LABEL_MAX];
	size_t nev, ev_lost;      /* the current step's events */
	struct sched_event ev[SCHED_STEP_EVENTS];
	/* footprints (opts.explorer): the current step's, what it woke */
	int fp_on;
	int fp_need;              /* nothing declared yet this step */
	struct sched_fp fp;
	uint64_t fp_woke;
	int fp_woke_wide;
	uint64_t heap_kinds;
	sched_waitq_t quiet;      /* sched_wait_quiet()'s waiters */
	sched_fp_hook fp_hook;
	void *fp_hook_ctx;
};

/* ------------------------------------------------------------------ */
/* options, memory                                                     */

static int normalise(const struct sched_opts *in, struct sched_opts *out)
{
	static const struct sched_opts zero;

	*out = in ? *in : zero;
	if (!sched_strategy_of(out->strategy))
		return -EINVAL;
	if (out->pct_depth == 0)
		out->pct_depth = PCT_DEPTH_DEFAULT;
	if (out->pct_depth < 1 || out->pct_depth > SCHED_PCT_DEPTH_MAX)
		return -EINVAL;
	if (out->pct_steps == 0)
		out->pct_steps = PCT_STEPS_DEFAULT;
	if (out->max_steps == 0)
		out->max_steps = MAX_STEPS_DEFAULT;
	if (!out->replay && out->replay_len > 0)
		return -EINVAL;
	out->stack_size = coro_stack_round(out->stack_size);
	out->labels = out->labels != 0;
	return 0;
}

static int choices_reserve(sched_t *s, uint64_t want)
{
	if (want <= s->choices_cap)
		return 0;
	if (want > SIZE_MAX / sizeof(uint32_t))
		return -ENOMEM;
	uint32_t *c = realloc(s->choices, want * sizeof(uint32_t));

	if (!c)
		return -ENOMEM;
	s->choices = c;
	s->choices_cap = want;
	assert(s->choices_cap >= want && s->choices);
	return 0;
}

/* The record is the run: without it the run cannot be replayed or
 * reported, and sched_run() has no error channel, so running out of memory
 * here ends the process loudly rather than returning a silently wrong
 * result. */
static void choices_grow(sched_t *s)
{
	uint64_t want = s->choices_cap ? s->choices_cap * 2 : 1024;

	assert(s->steps >= s->choices_cap);
	if (choices_reserve(s, want) != 0) {
		fprintf(stderr,
			"uffdlab sched: out of memory recording step %llu\n",
			(unsigned long long)s->steps);
		abort();
	}
}

/* The runnable set of step s->steps, for a DFS over alternatives. */
static void record_mask(sched_t *s)
{
	if (s->steps >= s->masks_cap) {
		uint64_t want = s->masks_cap ? s->masks_cap * 2 : 1024;
		uint64_t *m = realloc(s->masks, want * sizeof *m);

		if (!m) {
			fprintf(stderr, "uffdlab sched: out of memory recording step %llu\n",
				(unsigned long long)s->steps);
			abort();
		}
		s->masks = m;
		s->masks_cap = want;
	}
	assert(s->steps < s->masks_cap && s->nrunnable > 0);
	uint64_t mask = 0;

	for (int k = 0; k < s->nrunnable; k++) {
		int i = s->runnable[k];

		if (i < 64)
			mask |= UINT64_C(1) << i;
		else
			s->masks_wide = 1;
	}
	s->masks[s->steps] = mask;
}

static void release_zombie(sched_t *s)
{
	struct thread *z = s->zombie;

	if (z) {
		coro_pool_put(&s->pool, z->stack);
		z->stack = NULL;
		s->zombie = NULL;
	}
}

static int set_name(struct thread *t, const char *name)
{
	size_t len = strlen(name ? name : "");

	if (len + 1 > t->name_cap) {
		char *n = realloc(t->name, len + 1);

		if (!n)
			return -ENOMEM;
		t->name = n;
		t->name_cap = len + 1;
	}
	memcpy(t->name, name ? name : "", len + 1);
	assert(t->name_cap > len && t->name[len] == '\0');
	return 0;
}

/* ------------------------------------------------------------------ */
/* the runnable set                                                    */

/* Where tid is, or would go, in the ascending runnable ids. */
static int runnable_pos(const sched_t *s, int tid)
{
	int lo = 0, hi = s->nrunnable;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (s->runnable[mid] < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The set has room for every thread (sched_spawn grows it first), so
 * waking a thread never allocates. */
static void runnable_add(sched_t *s, struct thread *t)
{
	int i = runnable_pos(s, t->tid);

	assert(s->nrunnable < s->runnable_cap);
	assert(i == s->nrunnable || s->runnable[i] != t->tid);
	memmove(s->runnable + i + 1, s->runnable + i,
		(size_t)(s->nrunnable - i) * sizeof *s->runnable);
	s->runnable[i] = t->tid;
	s->nrunnable++;
	t->state = SCHED_T_RUNNABLE;
	t->ready_at = s->steps + (s->cur != NULL); /* woken in a step: from the next */
	if (s->fp_on && s->cur) { /* an enabling: t's next step comes after */
		if (t->tid < 64)
			s->fp_woke |= UINT64_C(1) << t->tid;
		else
			s->fp_woke_wide = 1;
	}
	/* kept in ascending order: the neighbours bracket the new id */
	assert((i == 0 || s->runnable[i - 1] < t->tid) &&
	       (i + 1 == s->nrunnable || s->runnable[i + 1] > t->tid));
}

static void runnable_del(sched_t *s, struct thread *t, enum sched_tstate st)
{
	int i = runnable_pos(s, t->tid);

	assert(t->state == SCHED_T_RUNNABLE && st != SCHED_T_RUNNABLE);
	assert(i < s->nrunnable && s->runnable[i] == t->tid);
	memmove(s->runnable + i, s->runnable + i + 1,
		(size_t)(s->nrunnable - i - 1) * sizeof *s->runnable);
	s->nrunnable--;
	t->state = st;
	assert(s->nrunnable < s->nalive); /* t is alive and out of the set */
}

static struct sched_view view_of(sched_t *s)
{
	struct sched_view v = {
		.opts = &s->opts,
		.rng = &s->strat_rng,
		.runnable = s->runnable,
		.nrunnable = s->nrunnable,
		.nthreads = s->nthreads,
		.steps = s->steps,
		.choices = s->choices,
	};
	return v;
}

/* ------------------------------------------------------------------ */
/* footprints                                                          */

int sched_fp_conflict(const struct sched_fp *a, const struct sched_fp *b)
{
	if (a->all || b->all)
		return 1;
	if (!(a->sig & b->sig))
		return 0;
	for (unsigned i = 0; i < a->n; i++)
		for (unsigned j = 0; j < b->n; j++)
			if (a->obj[i] == b->obj[j] &&
			    ((a->wmask >> i & 1) || (b->wmask >> j & 1) ||
			     (a->amask >> i & 1) != (b->amask >> j & 1)))
				return 1; /* a write, or an add and a read */
	return 0;
}

/* An access joins the step's earlier one to the same object: an add
 * and a read of it together are a write (the step saw the value). */
static void fp_add(sched_t *s, uint64_t obj, int kind)
{
	struct sched_fp *f = &s->fp;
	uint16_t add = kind == SCHED_ADD, w = kind == SCHED_WRITE;

	assert(kind == SCHED_READ || kind == SCHED_WRITE || kind == SCHED_ADD);
	for (unsigned i = 0; i < f->n; i++) {
		if (f->obj[i] != obj)
			continue;
		uint16_t was_add = f->amask >> i & 1, was_w = f->wmask >> i & 1;
		if (w || was_w || add != was_add) {
			f->wmask |= (uint16_t)(1u << i);
			f->amask &= (uint16_t)~(1u << i);
		}
		return;
	}
	if (f->n == SCHED_FP_MAX) {
		f->all = 1; /* cannot say what it touches: dependent with all */
		return;
	}
	f->obj[f->n] = obj;
	f->sig |= UINT64_C(1) << ((obj * UINT64_C(0x9e3779b97f4a7c15)) >> 58);
	f->wmask |= (uint16_t)(w << f->n);
	f->amask |= (uint16_t)(add << f->n);
	f->n++;
	assert(f->n <= SCHED_FP_MAX && !(f->wmask & f->amask));
}

void sched_touch(sched_t *s, uint64_t obj, int write)
{
	if (!s->fp_on || !s->cur)
		return;
	s->fp_need = 0;
	if (obj >> 56 != SCHED_OC_NONE)
		fp_add(s, obj, write);
}

int sched_touching(const sched_t *s)
{
	return s->fp_on;
}

void sched_touch_all(sched_t *s)
{
	if (s->fp_on && s->cur) {
		s->fp_need = 0;
		s->fp.all = 1;
	}
}

void sched_set_fp_hook(sched_t *s, sched_fp_hook hook, void *ctx)
{
	s->fp_hook = hook;
	s->fp_hook_ctx = ctx;
}

int sched_fp_has(const sched_t *s, uint64_t obj, int write)
{
	const struct sched_fp *f = &s->fp;

	if (f->all)
		return 1;
	for (unsigned i = 0; i < f->n; i++)
		if (f->obj[i] == obj)
			return !write || ((f->wmask | f->amask) >> i & 1);
	return 0;
}

void sched_heap_kinds(sched_t *s, uint64_t kinds)
{
	s->heap_kinds = kinds;
}

static uint64_t waitq_obj(const sched_waitq_t *q)
{
	return SCHED_OBJ(SCHED_OC_WAITQ, (uintptr_t)q);
}

/* The footprint of cur's step is complete: hand it to the explorer and
 * start the next one empty. */
static void fp_end(sched_t *s, struct thread *cur, uint64_t step)
{
	if (s->fp_hook)
		s->fp_hook(s->fp_hook_ctx, s, cur->tid);
	if (cur->kind >= 0 && cur->kind < 64 && (s->heap_kinds >> cur->kind & 1))
		fp_add(s, SCHED_OBJ(SCHED_OC_HEAP, 0), 1);
	if (s->fp_need)
		s->fp.all = 1; /* nothing declared: sound by default */
	s->fp.blocked = cur->state == SCHED_T_BLOCKED;
	s->opts.explorer->step(s->opts.explorer->ctx, step, cur->tid, &s->fp, s->fp_woke,
			       s->fp_woke_wide);
	memset(&s->fp, 0, sizeof s->fp);
	s->fp_woke = 0;
	s->fp_woke_wide = 0;
	s->fp_need = 1;
}

/* ------------------------------------------------------------------ */
/* the step loop                                                       */

/* The strategy's pick for step s->steps, or NULL with s->result set when
 * the run is over. */
static struct thread *choose(sched_t *s)
{
	if (s->stop) {
		s->result = s->cut ? SCHED_CUT : SCHED_STOPPED;
		return NULL;
	}
	if (s->nrunnable == 0) {
		s->result = s->nalive ? SCHED_STUCK : SCHED_DONE;
		return NULL;
	}
	if (s->steps >= s->opts.max_steps) {
		s->result = SCHED_STEP_BOUND;
		return NULL;
	}
	if (s->opts.record_runnable)
		record_mask(s);

	struct sched_view v = view_of(s);
	int tid = s->strat->choose(s->strat_state, &v);

	if (tid < 0) {
		s->result = SCHED_DIVERGED;
		return NULL;
	}
	assert(tid < s->nthreads);
	assert(s->threads[tid]->state == SCHED_T_RUNNABLE);
	return s->threads[tid];
}

static void waitq_check(const sched_t *s, sched_waitq_t *q,
			const struct sched_wnode *n);

/* Nothing is runnable: the first quiescence waiter wakes, woken by the
 * step that just ended. Not a footprint access: the wait is
 * unconditional and its end is decided by every thread at once, which
 * the barrier flag of the woken step stands for. */
static void quiet_wake(sched_t *s)
{
	waitq_check(s, &s->quiet, s->quiet.head);
	struct sched_wnode *n = s->quiet.head;
	if (!n || s->nrunnable)
		return;
	s->quiet.head = n->next;
	if (!s->quiet.head)
		s->quiet.tail = NULL;
	n->next = NULL;
	n->q = NULL;
	assert(n->t->state == SCHED_T_BLOCKED);
	runnable_add(s, n->t);
}

/* cur's step has ended: record it, report it, pick the next thread. */
static struct thread *end_step(sched_t *s, struct thread *cur)
{
	uint64_t step = s->steps;

	quiet_wake(s);

	if (step >= s->choices_cap)
		choices_grow(s);
	s->choices[step] = (uint32_t)cur->tid;
	s->steps = step + 1;
	if (step >= cur->ready_at && step - cur->ready_at > cur->wait_max) {
		cur->wait_max = step - cur->ready_at;
		cur->wait_end = step;
	}
	cur->ready_at = step + 1; /* if it still can run, it waits from here */
	if (s->fp_on)
		fp_end(s, cur, step);
	if (s->strat->step_end) {
		struct sched_view v = view_of(s);

		s->strat->step_end(s->strat_state, &v, cur->tid);
	}
	if (s->sink) {
		struct sched_step_info si = {
			.step = step, .tid = cur->tid,
			.label = s->label_len ? s->label : "yield",
			.ev = s->ev, .nev = s->nev, .ev_lost = s->ev_lost,
		};

		s->sink(s->sink_ctx, &si);
	}
	s->label_len = 0;
	s->label_full = 0;
	s->label[0] = '\0';
	s->nev = 0;
	s->ev_lost = 0;
	if (s->hook)
		s->hook(s->hook_ctx, s, cur->tid);
	return choose(s);
}

static void switch_to(sched_t *s, struct thread *cur, struct thread *next)
{
	s->cur = next;
	coro_switch(&cur->ctx, next ? &next->ctx : &s->main);
	if (CORO_REAP_ABANDONED && s->reaping)
		coro_exit_to(&cur->ctx, &s->main);
	/* Resumed: whoever chose us already set s->cur. */
	release_zombie(s);
}

static void reschedule(sched_t *s, struct thread *cur)
{
	struct thread *next = end_step(s, cur);

	if (next != cur)
		switch_to(s, cur, next);
}

static void thread_main(void *arg)
{
	struct thread *t = arg;
	sched_t *s = t->s;

	coro_begin(&t->ctx);
	assert(!t->started && t->stack);
	t->started = 1;
	if (CORO_REAP_ABANDONED && s->reaping)
		coro_exit_to(&t->ctx, &s->main);
	release_zombie(s);
	/* a thread's first step is its own code up to its first point:
	 * nothing of sched/'s; what it touches, it declares */
	sched_touch(s, SCHED_OBJ(SCHED_OC_NONE, 0), 0);
	t->fn(t->arg);

	assert(s->cur == t && t->state == SCHED_T_RUNNABLE);
	runnable_del(s, t, SCHED_T_DONE);
	s->nalive--;
	/* the last zombie went back to the pool when t was resumed */
	assert(s->nalive >= s->nrunnable && s->zombie == NULL);
	sched_touch(s, SCHED_OBJ(SCHED_OC_LIFE, t->tid), 1); /* join reads it */
	sched_wake_all(s, &t->joiners);
	struct thread *next = end_step(s, t);

	s->zombie = t;
	s->cur = next;
	coro_exit_to(&t->ctx, next ? &next->ctx : &s->main);
}

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */

sched_t *sched_new(const struct sched_opts *opts)
{
	sched_t *s = calloc(1, sizeof(*s));

	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	coro_pool_init(&s->pool, opts ? opts->stack_size : 0);
	int err = sched_reset(s, opts);

	if (err) {
		sched_free(s);
		errno = -err;
		return NULL;
	}
	return s;
}

static void drop_threads(sched_t *s)
{
	release_zombie(s);
	for (int i = 0; i < s->nthreads; i++) {
		struct thread *t = s->threads[i];

		if (CORO_REAP_ABANDONED && t->stack && t->started &&
		    t->state != SCHED_T_DONE) {
			/* It lands in switch_to() and leaves at once: no code
			 * under test runs, ASan frees its fake stack. */
			s->reaping = 1;
			coro_switch(&s->main, &t->ctx);
			s->reaping = 0;
		}
		coro_pool_put(&s->pool, t->stack);
		t->stack = NULL;
	}
	s->nthreads = 0;
	assert(s->zombie == NULL && !s->reaping);
}

void sched_free(sched_t *s)
{
	if (!s)
		return;
	drop_threads(s);
	coro_pool_drain(&s->pool);
	for (int i = 0; i < s->nalloc; i++) {
		free(s->threads[i]->name);
		free(s->threads[i]);
	}
	free(s->threads);
	free(s->choices);
	free(s->masks);
	free(s->runnable);
	for (int i = 0; i < SCHED_STRATEGY_COUNT; i++) {
		const struct sched_strategy_ops *o = sched_strategy_of((enum sched_strategy)i);

		if (o && o->destroy && s->strat_states[i])
			o->destroy(s->strat_states[i]);
	}
	free(s);
}

/* Make ops the strategy, creating its state the first time. */
static int strategy_switch(sched_t *s, const struct sched_strategy_ops *ops)
{
	assert(ops && ops->choose);
	assert((int)ops->id >= 0 && ops->id < SCHED_STRATEGY_COUNT);
	void **st = &s->strat_states[ops->id];

	if (ops->create && !*st) {
		int err = ops->create(st);

		if (err)
			return err;
	}
	s->strat = ops;
	s->strat_state = *st;
	assert(!ops->create || s->strat_state);
	return 0;
}

int sched_reset(sched_t *s, const struct sched_opts *opts)
{
	struct sched_opts o;
	int err;

	if (s->running)
		return -EBUSY;
	err = normalise(opts, &o);
	if (err)
		return err;
	err = choices_reserve(s, o.max_steps < CHOICES_RESERVE ?
				      o.max_steps : CHOICES_RESERVE);
	if (err)
		return err;
	err = strategy_switch(s, sched_strategy_of(o.strategy));
	if (err)
		return err;

	drop_threads(s);
	coro_pool_resize(&s->pool, o.stack_size);
	s->opts = o;
	s->cur = NULL;
	s->nrunnable = 0;
	s->nalive = 0;
	s->steps = 0;
	s->masks_wide = 0;
	s->gen++;
	s->result = SCHED_DONE;
	s->ran = 0;
	s->stop = 0;
	s->cut = 0;
	s->label_len = 0;
	s->label_full = 0;
	s->label[0] = '\0';
	s->nev = 0;
	s->ev_lost = 0;
	s->fp_on = o.explorer != NULL;
	memset(&s->fp, 0, sizeof s->fp);
	s->fp_woke = 0;
	s->fp_woke_wide = 0;
	s->fp_need = 1;
	memset(&s->quiet, 0, sizeof s->quiet);
	memset(&s->main, 0, sizeof(s->main));

	/* One splitmix sequence feeds both streams: the strategy's first,
	 * the code-under-test's next, so they never overlap and a replay
	 * (which draws nothing for the strategy) still gives the same
	 * sched_random() values. */
	uint64_t x = o.seed;

	rng_seed_from(&s->strat_rng, &x);
	rng_seed_from(&s->user_rng, &x);
	if (s->strat->reset) {
		struct sched_view v = view_of(s);

		s->strat->reset(s->strat_state, &v);
	}
	assert(s->nthreads == 0 && s->nrunnable == 0 && s->nalive == 0);
	assert(s->choices_cap >= (o.max_steps < CHOICES_RESERVE ?
				  o.max_steps : CHOICES_RESERVE));
	return 0;
}

/* Room for one more thread: a struct in threads[nthreads] and a slot in
 * the runnable set (waking never allocates). 0 or -errno. */
static int spawn_reserve(sched_t *s)
{
	if (s->nthreads == s->nalloc) {
		if (s->nalloc == s->threads_cap) {
			int cap = s->threads_cap ? s->threads_cap * 2 : 8;
			struct thread **a;

			if (s->threads_cap > INT_MAX / 2)
				cap = INT_MAX;
			a = realloc(s->threads, (size_t)cap * sizeof(*a));
			if (!a)
				return -ENOMEM;
			s->threads = a;
			s->threads_cap = cap;
		}
		struct thread *t = calloc(1, sizeof(*t));

		if (!t)
			return -ENOMEM;
		s->threads[s->nalloc++] = t;
	}
	if (s->nthreads == s->runnable_cap) {
		int cap = s->runnable_cap ? s->runnable_cap * 2 : 8;
		int *r = realloc(s->runnable, (size_t)cap * sizeof(*r));

		if (!r)
			return -ENOMEM;
		s->runnable = r;
		s->runnable_cap = cap;
	}
	assert(s->nthreads < s->nalloc && s->nthreads < s->runnable_cap);
	return 0;
}

int sched_spawn(sched_t *s, const char *name, int kind, void (*fn)(void *),
		void *arg)
{
	int err;

	if (!fn)
		return -EINVAL;
	if (s->ran && !s->running)
		return -EBUSY; /* the run is over: it would never be scheduled */
	if (s->nthreads == INT_MAX)
		return -EAGAIN;
	err = spawn_reserve(s);
	if (err)
		return err;
	struct thread *t = s->threads[s->nthreads];

	err = set_name(t, name);
	if (err)
		return err;
	struct coro_stack *st;

	err = coro_pool_get(&s->pool, &st);
	if (err)
		return err;

	t->stack = st;
	t->s = s;
	t->fn = fn;
	t->arg = arg;
	t->tid = s->nthreads;
	t->kind = kind;
	t->started = 0;
	memset(&t->wnode, 0, sizeof(t->wnode));
	t->wnode.t = t;
	memset(&t->joiners, 0, sizeof(t->joiners));
	if (s->strat->spawn) {
		struct sched_view v = view_of(s);

		err = s->strat->spawn(s->strat_state, &v, t->tid);
		if (err) {
			coro_pool_put(&s->pool, st);
			t->stack = NULL;
			return err;
		}
	}
	coro_make(&t->ctx, st, thread_main, t);
	/* tids are handed out in spawn order: two spawns never commute */
	sched_touch(s, SCHED_OBJ(SCHED_OC_THREADS, 0), 1);
	s->nthreads++;
	t->state = SCHED_T_BLOCKED; /* not yet in the set */
	t->wait_max = t->wait_end = 0;
	runnable_add(s, t);
	s->nalive++;
	assert(s->nthreads <= s->runnable_cap);
	return t->tid;
}

enum sched_result sched_run(sched_t *s)
{
	if (s->running || s->ran)
		return s->result;
	s->ran = 1;
	s->running = 1;
	struct thread *next = choose(s);

	if (next) {
		s->cur = next;
		coro_switch(&s->main, &next->ctx);
		release_zombie(s);
	}
	assert(s->zombie == NULL);
	assert(s->result != SCHED_DONE || (s->nalive == 0 && s->nrunnable == 0));
	s->cur = NULL;
	s->running = 0;
	return s->result;
}

/* ------------------------------------------------------------------ */
/* inside a coroutine                                                  */

int sched_self(const sched_t *s)
{
	return s->cur ? s->cur->tid : -1;
}

void sched_point(sched_t *s)
{
	if (s->cur)
		reschedule(s, s->cur);
}

void sched_yield(sched_t *s)
{
	struct thread *cur = s->cur;

	if (!cur)
		return;
	if (s->strat->yield) {
		struct sched_view v = view_of(s);

		s->strat->yield(s->strat_state, &v, cur->tid);
	}
	reschedule(s, cur);
}

/* A queue whose end node was not put there during this run is left over
 * from an earlier run: forget its contents. */
static void waitq_check(const sched_t *s, sched_waitq_t *q,
			const struct sched_wnode *n)
{
	if (n && (n->gen != s->gen || n->q != q))
		q->head = q->tail = NULL;
}

void sched_block(sched_t *s, sched_waitq_t *q)
{
	struct thread *cur = s->cur;

	if (!cur)
		return;
	sched_touch(s, waitq_obj(q), 1);
	waitq_check(s, q, q->tail);
	struct sched_wnode *n = &cur->wnode;

	/* a running thread is on no queue: it was spawned or woken */
	assert(n->q == NULL);
	n->next = NULL;
	n->q = q;
	n->gen = s->gen;
	if (q->tail)
		q->tail->next = n;
	else
		q->head = n;
	q->tail = n;
	runnable_del(s, cur, SCHED_T_BLOCKED);
	reschedule(s, cur);
}

int sched_wake_one(sched_t *s, sched_waitq_t *q)
{
	waitq_check(s, q, q->head);
	struct sched_wnode *n = q->head;

	/* even when empty: a wake before the block is the lost-wake order.
	 * An empty queue is only read (two such wakes commute; a block
	 * writes it, so it stays ordered with each) */
	sched_touch(s, waitq_obj(q), n != NULL);
	if (!n)
		return 0;
	q->head = n->next;
	if (!q->head)
		q->tail = NULL;
	n->next = NULL;
	n->q = NULL;
	assert(n->t->state == SCHED_T_BLOCKED);
	runnable_add(s, n->t);
	return 1;
}

int sched_wake_all(sched_t *s, sched_waitq_t *q)
{
	int n = 0;

	while (sched_wake_one(s, q))
		n++;
	return n;
}

int sched_waitq_empty(const sched_waitq_t *q)
{
	return q->head == NULL;
}

void sched_join(sched_t *s, int tid)
{
	if (!s->cur || tid < 0 || tid >= s->nthreads)
		return;
	struct thread *t = s->threads[tid];

	sched_touch(s, SCHED_OBJ(SCHED_OC_LIFE, tid), 0);
	while (t->state != SCHED_T_DONE) {
		sched_block(s, &t->joiners);
		sched_touch(s, SCHED_OBJ(SCHED_OC_LIFE, tid), 0);
	}
}

void sched_wait_quiet(sched_t *s)
{
	if (!s->cur)
		return;
	sched_block(s, &s->quiet);
	/* resumed: this is the first step after quiescence */
	if (s->fp_on)
		s->fp.barrier = 1;
}

int sched_waiting_quiet(const sched_t *s, int tid)
{
	const struct sched_wnode *n = s->quiet.head;
	if (n && (n->gen != s->gen || n->q != &s->quiet))
		return 0; /* left over from an earlier run */
	for (; n; n = n->next)
		if (n->t->tid == tid)
			return 1;
	return 0;
}

void sched_stop(sched_t *s)
{
	s->stop = 1;
}

void sched_cut(sched_t *s)
{
	s->stop = 1;
	s->cut = 1;
}

/* ------------------------------------------------------------------ */
/* labels, hooks                                                       */

int sched_labels_on(const sched_t *s)
{
	return s->opts.labels;
}

static void label_truncate(sched_t *s)
{
	s->label_len = LABEL_MAX - 1;
	memcpy(s->label + LABEL_MAX - sizeof(LABEL_TRUNC), LABEL_TRUNC,
	       sizeof(LABEL_TRUNC));
	s->label_full = 1;
}

void sched_label(sched_t *s, const char *fmt, ...)
{
	if (!s->opts.labels || s->label_full)
		return;
	size_t len = s->label_len;

	if (len) {
		if (len + 2 >= LABEL_MAX - 1) {
			label_truncate(s);
			return;
		}
		memcpy(s->label + len, "; ", 3);
		len += 2;
	}
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(s->label + len, LABEL_MAX - len, fmt, ap);

	va_end(ap);
	if (n < 0) {
		/* An encoding error: say so rather than drop the text. */
		snprintf(s->label + len, LABEL_MAX - len, "?");
		n = 1;
	}
	if ((size_t)n >= LABEL_MAX - len)
		label_truncate(s);
	else
		s->label_len = len + (size_t)n;
}

void sched_event(sched_t *s, unsigned kind, unsigned nf, const int64_t *f)
{
	if (!s->opts.labels)
		return;
	if (s->nev == SCHED_STEP_EVENTS || nf > SCHED_EV_FIELDS ||
	    kind > UINT16_MAX) {
		s->ev_lost++; /* the writer refuses the step: never half a trace */
		return;
	}
	struct sched_event *e = &s->ev[s->nev++];

	e->kind = (uint16_t)kind;
	e->nf = (uint16_t)nf;
	for (unsigned i = 0; i < nf; i++)
		e->f[i] = f[i];
	assert(s->nev <= SCHED_STEP_EVENTS);
}

void sched_set_step_hook(sched_t *s, sched_step_hook hook, void *ctx)
{
	s->hook = hook;
	s->hook_ctx = ctx;
}

void sched_set_step_sink(sched_t *s, sched_step_sink sink, void *ctx)
{
	s->sink = sink;
	s->sink_ctx = ctx;
}

/* ------------------------------------------------------------------ */
/* queries                                                             */

uint64_t sched_steps(const sched_t *s)
{
	return s->steps;
}

int sched_nthreads(const sched_t *s)
{
	return s->nthreads;
}

static const struct thread *thread_at(const sched_t *s, int tid)
{
	return tid >= 0 && tid < s->nthreads ? s->threads[tid] : NULL;
}

enum sched_tstate sched_thread_state(const sched_t *s, int tid)
{
	const struct thread *t = thread_at(s, tid);

	/* A thread that does not exist will never run. */
	return t ? t->state : SCHED_T_DONE;
}

uint64_t sched_longest_wait(const sched_t *s, int tid, uint64_t *end)
{
	const struct thread *t = thread_at(s, tid);
	*end = 0;
	if (!t)
		return 0;
	uint64_t w = t->wait_max;
	*end = t->wait_end;
	if (t->state == SCHED_T_RUNNABLE && s->steps - t->ready_at >= w) {
		w = s->steps - t->ready_at; /* still waiting: up to now */
		*end = s->steps;
	}
	return w;
}

const char *sched_thread_name(const sched_t *s, int tid)
{
	const struct thread *t = thread_at(s, tid);

	return t ? t->name : NULL;
}

int sched_thread_kind(const sched_t *s, int tid)
{
	const struct thread *t = thread_at(s, tid);

	return t ? t->kind : -EINVAL;
}

const uint32_t *sched_choices(const sched_t *s, size_t *n)
{
	if (n)
		*n = (size_t)s->steps;
	return s->choices;
}

const uint64_t *sched_runnable_masks(const sched_t *s, size_t *n, int *wide)
{
	*n = s->opts.record_runnable ? (size_t)s->steps : 0;
	if (wide)
		*wide = s->masks_wide;
	return s->masks;
}

uint64_t sched_random(sched_t *s)
{
	sched_touch(s, SCHED_OBJ(SCHED_OC_RNG, 0), 1);
	return rng_next(&s->user_rng);
}

uint64_t sched_pct_k(const sched_t *s)
{
	return s->steps;
}
