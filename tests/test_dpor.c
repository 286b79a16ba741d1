/* Soundness of the reduced dfs (sched/dpor.c): on small programs, the
 * reduced search and the plain exhaustive one (same engine, no
 * reduction) find the same set of violations and reach the same set of
 * final states, and the reduced search runs no equivalence class twice
 * (classes are told apart by their canonical linearisation, computed here
 * from the footprints the program declares). Seven synthetic programs on
 * the real scheduler (shared words, a lost update, a lock, a lost wake-up,
 * a spawn, independent threads, a lock whose waiting attempt only looks)
 * and four simulated scenarios (a fault served by `reference` and by
 * `e2b-ref`, compared by world_digest(); two faults, and a prefetch racing
 * a REMOVE on e2b-ref with bug B3 put back, where the plain search within
 * a delay bound must find no violation and reach no final state the
 * reduced unbounded one does not, and the same violations). Every reducing
 * world run also checks that the handler declared every change of its
 * page view (world_undeclared). Under ASan the one-fault cases' plain
 * side is delay-bounded (FAULT_PLAIN_BOUND). Last, the footprints behind
 * the rule that a poll reads only a uffd's readiness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler/variants.h"
#include "model/kernel.h"
#include "model/world.h"
#include "scenarios/scenario.h"
#include "sched/dpor.h"
#include "sched/sched.h"
#include "sched/strategy.h"
#include "tests/world_seen.h"

/* --- a tiny language of shared-memory threads ------------------------ */

enum op { RD, WR, INC_RD, INC_WR, LOCK, UNLOCK, WAIT_FLAG, SET_FLAG, SPAWN, CHECK, PLOCK, QUIET };

struct ins {
	enum op op;
	int var;    /* the word it touches; SPAWN: the program to spawn */
	int val;    /* WR: the value; CHECK: stop when var == val */
};

#define NV 4
#define MAXI 6
struct prog {
	int nthreads;
	int len[4];
	struct ins code[6][MAXI];   /* programs 0..nthreads-1, spawnable beyond */
};

struct machine {
	const struct prog *p;
	sched_t *s;
	int x[NV];
	int reg[8];         /* INC_RD's register per thread */
	int seen[8][MAXI];  /* what each read got */
	int locked;
	sched_waitq_t lq, fq;
	int flag;
	int violated;
	int prog_of[8];
	int quiet_saw[8];   /* QUIET: word 0 when it woke, + 1 */
	/* this run's steps, for the class check */
	uint32_t tid[256];
	uint64_t touch[256];  /* bit v: word v; bit 8: the lock; bit 9: flag */
	size_t n;
};

static struct machine M;

static void touch(int bitno)
{
	sched_touch(M.s, SCHED_OBJ(SCHED_OC_USER, bitno), 1);
	int t = sched_self(M.s);
	(void)t;
	M.touch[M.n] |= UINT64_C(1) << bitno;
}

static void thread_fn(void *arg);

static void exec(int t, const struct ins *in, int i)
{
	switch (in->op) {
	case RD: touch(in->var); M.seen[t][i] = M.x[in->var]; break;
	case WR: touch(in->var); M.x[in->var] = in->val; break;
	case INC_RD: touch(in->var); M.reg[t] = M.x[in->var]; break;
	case INC_WR: touch(in->var); M.x[in->var] = M.reg[t] + 1; break;
	case LOCK:
		touch(8);
		while (M.locked) {
			sched_block(M.s, &M.lq);
			touch(8);
		}
		M.locked = 1;
		break;
	case PLOCK: /* as the model's mutex: an attempt that waits only reads */
		sched_touch(M.s, SCHED_OBJ(SCHED_OC_USER, 8), !M.locked);
		M.touch[M.n] |= UINT64_C(1) << 8;
		while (M.locked) {
			sched_block(M.s, &M.lq);
			touch(8);
		}
		M.locked = 1;
		break;
	case UNLOCK: touch(8); M.locked = 0; sched_wake_one(M.s, &M.lq); break;
	case WAIT_FLAG: /* check, then sleep in a later step: the lost wake */
		touch(9);
		if (!M.flag) {
			sched_point(M.s);
			touch(9);
			sched_block(M.s, &M.fq);
			touch(9);
		}
		break;
	case SET_FLAG: touch(9); M.flag = 1; sched_wake_all(M.s, &M.fq); break;
	case SPAWN: {
		int c = sched_spawn(M.s, "child", 0, thread_fn, (void *)(intptr_t)in->var);
		M.prog_of[c] = in->var;
		touch(10);
		touch(11 + c); /* the child's first step comes after */
		break;
	}
	case QUIET: /* the harness's wait: until no other thread can run */
		sched_wait_quiet(M.s);
		M.quiet_saw[t] = M.x[0] + 1; /* at quiescence: the word is final */
		touch(in->var);
		break;
	case CHECK:
		touch(in->var);
		if (M.x[in->var] == in->val) {
			M.violated = 1 + t * MAXI + i;
			sched_stop(M.s);
		}
		break;
	}
}

static void thread_fn(void *arg)
{
	int prog = (int)(intptr_t)arg, t = sched_self(M.s);
	M.prog_of[t] = prog;
	touch(11 + t); /* its own start: nothing shared */
	for (int i = 0; i < M.p->len[prog]; i++) {
		sched_point(M.s);
		exec(t, &M.p->code[prog][i], i);
	}
}

static void hook(void *ctx, sched_t *s, int tid)
{
	(void)ctx;
	(void)s;
	if (M.n < 256) {
		M.tid[M.n++] = (uint32_t)tid;
		M.touch[M.n < 256 ? M.n : 255] = 0;
	}
}

/* The final state: words, reads, whether it ended stuck or stopped. */
static uint64_t digest(enum sched_result r)
{
	uint64_t h = 1469598103934665603u;
	for (int v = 0; v < NV; v++)
		h = (h ^ (uint64_t)M.x[v]) * 1099511628211u;
	for (int t = 0; t < 8; t++)
		for (int i = 0; i < MAXI; i++)
			h = (h ^ (uint64_t)(M.seen[t][i] + 7)) * 1099511628211u;
	return (h ^ (uint64_t)r) * 1099511628211u;
}

/* The class of this run: its least linearisation in which a step moves
 * before an earlier one only past steps it commutes with. */
static void canonical(uint32_t *out)
{
	int used[256] = {0};
	for (size_t k = 0; k < M.n; k++) {
		size_t best = M.n;
		for (size_t j = 0; j < M.n; j++) {
			if (used[j])
				continue;
			int free_ = 1;
			for (size_t i = 0; i < j && free_; i++)
				if (!used[i] && (M.tid[i] == M.tid[j] || (M.touch[i] & M.touch[j]) ||
						 !M.touch[i] || !M.touch[j]))
					free_ = 0;
			if (free_ && (best == M.n || M.tid[j] < M.tid[best]))
				best = j;
		}
		used[best] = 1;
		out[k] = M.tid[best];
	}
}

/* What one search saw. */
#define MAXSET 4096
struct seen {
	uint64_t finals[MAXSET];
	size_t nfinals;
	uint64_t viol;          /* bit: which CHECK fired (thread*MAXI+i) */
	uint32_t classes[MAXSET][64];
	size_t nclasses, dup;   /* classes run twice (complete runs only) */
	int reduce;
};

static void add_final(struct seen *w, uint64_t d)
{
	for (size_t i = 0; i < w->nfinals; i++)
		if (w->finals[i] == d)
			return;
	assert_true(w->nfinals < MAXSET);
	w->finals[w->nfinals++] = d;
}

static void add_class(struct seen *w)
{
	uint32_t c[64] = {0};
	assert_true(M.n < 64);
	canonical(c);
	for (size_t i = 0; i < w->nclasses; i++)
		if (!memcmp(w->classes[i], c, sizeof c)) {
			w->dup++;
			return;
		}
	assert_true(w->nclasses < MAXSET);
	memcpy(w->classes[w->nclasses++], c, sizeof c);
}

static int prog_run(void *ctx, const struct sched_explorer *ex)
{
	struct seen *w = ctx;
	const struct prog *p = M.p;
	sched_t *s = M.s;
	memset(&M, 0, sizeof M);
	M.p = p;
	M.s = s;
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < MAXI; j++)
			M.seen[i][j] = -1;
	struct sched_opts o = {.strategy = SCHED_DFS, .explorer = ex};
	assert_int_equal(sched_reset(s, &o), 0);
	sched_set_step_hook(s, hook, NULL);
	for (int t = 0; t < p->nthreads; t++)
		assert_true(sched_spawn(s, "t", 0, thread_fn, (void *)(intptr_t)t) >= 0);
	enum sched_result r = sched_run(s);
	if (dpor_run_cut(ex))
		return 0;
	/* a stopped run is a prefix: classes are those of complete runs */
	if (M.violated) {
		w->viol |= UINT64_C(1) << (M.violated - 1);
		return 0;
	}
	add_final(w, digest(r));
	add_class(w);
	return 0;
}

static void search(const struct prog *p, int reduce, struct seen *w, struct dpor_stats *st)
{
	memset(w, 0, sizeof *w);
	M.p = p;
	M.s = sched_new(NULL);
	assert_non_null(M.s);
	struct dpor_opts o = {.reduce = reduce, .keep_going = 1};
	uint32_t *fail;
	size_t nfail;
	assert_true(dpor_run(&o, prog_run, w, st, &fail, &nfail) >= 0);
	free(fail);
	sched_free(M.s);
	assert_true(st->exhausted);
}

/* Plain and reduced agree; the reduced search repeats no class. With
 * classes 0, only the final states and violations are compared: a step
 * that only looked and slept is no race with its waker (sched/dpor.c), so
 * the reduced search runs fewer schedules than there are classes. */
static void compare_how(const struct prog *p, uint64_t want_viol, size_t *plain_runs,
			size_t *reduced_runs, int classes)
{
	static struct seen a, b;
	struct dpor_stats sa, sb;
	search(p, 0, &a, &sa);
	search(p, 1, &b, &sb);
	qsort(a.finals, a.nfinals, sizeof a.finals[0], wseen_cmp_u64);
	qsort(b.finals, b.nfinals, sizeof b.finals[0], wseen_cmp_u64);
	assert_int_equal(a.nfinals, b.nfinals);
	assert_memory_equal(a.finals, b.finals, a.nfinals * sizeof a.finals[0]);
	assert_int_equal(a.viol, b.viol);
	assert_int_equal(a.viol, want_viol);
	assert_int_equal(b.dup, 0);
	/* every class the plain search saw, the reduced one ran */
	if (classes)
		assert_int_equal(a.nclasses, b.nclasses);
	else
		assert_true(b.nclasses <= a.nclasses);
	*plain_runs = sa.runs;
	*reduced_runs = sb.runs;
	print_message("    plain %llu runs, reduced %llu runs (%llu pruned), %zu classes, %zu finals\n",
		      (unsigned long long)sa.runs, (unsigned long long)sb.runs,
		      (unsigned long long)sb.pruned, b.nclasses, b.nfinals);
}

static void compare(const struct prog *p, uint64_t want_viol, size_t *plain_runs,
		    size_t *reduced_runs)
{
	compare_how(p, want_viol, plain_runs, reduced_runs, 1);
}

#define T(...) {__VA_ARGS__}

static void test_store_buffer(void **state)
{
	(void)state;
	/* three threads: write own word, read the next one's */
	static const struct prog p = {3, {2, 2, 2},
		{T({WR, 0, 1}, {RD, 1, 0}), T({WR, 1, 1}, {RD, 2, 0}), T({WR, 2, 1}, {RD, 0, 0})}};
	size_t a, b;
	compare(&p, 0, &a, &b);
	assert_true(b < a);
}

static void test_lost_update(void **state)
{
	(void)state;
	/* two racy increments, then a check that one was lost */
	static const struct prog p = {3, {2, 2, 1},
		{T({INC_RD, 0, 0}, {INC_WR, 0, 0}), T({INC_RD, 0, 0}, {INC_WR, 0, 0}),
		 T({CHECK, 0, 1})}};
	size_t a, b;
	compare(&p, UINT64_C(1) << (2 * MAXI), &a, &b);
}

static void test_lock(void **state)
{
	(void)state;
	/* locked increments and a thread on an unrelated word */
	static const struct prog p = {3, {4, 4, 3},
		{T({LOCK, 0, 0}, {INC_RD, 0, 0}, {INC_WR, 0, 0}, {UNLOCK, 0, 0}),
		 T({LOCK, 0, 0}, {INC_RD, 0, 0}, {INC_WR, 0, 0}, {UNLOCK, 0, 0}),
		 T({WR, 1, 5}, {RD, 2, 0}, {WR, 2, 1})}};
	size_t a, b;
	compare(&p, 0, &a, &b);
	assert_true(b < a);
}

static void test_lost_wake(void **state)
{
	(void)state;
	/* checks the flag, sleeps a step later: stuck when the set falls between */
	static const struct prog p = {3, {2, 1, 2},
		{T({WAIT_FLAG, 0, 0}, {WR, 0, 1}), T({SET_FLAG, 0, 0}), T({WR, 1, 1}, {RD, 0, 0})}};
	size_t a, b;
	compare(&p, 0, &a, &b);
	assert_true(b < a);
}

static void test_spawn(void **state)
{
	(void)state;
	/* a spawned child writes what a third thread reads */
	static const struct prog p = {2, {2, 2, 0, 1},
		{T({SPAWN, 3, 0}, {RD, 0, 0}), T({RD, 0, 0}, {WR, 1, 2}), {{RD, 0, 0}}, T({WR, 0, 9})}};
	size_t a, b;
	compare(&p, 0, &a, &b);
}

static void test_pure_block(void **state)
{
	(void)state;
	/* three threads fight for a lock whose waiting attempt only looks;
	 * the holder's word decides who saw what, a check catches an order */
	static const struct prog p = {3, {4, 4, 4},
		{T({PLOCK, 0, 0}, {INC_RD, 0, 0}, {INC_WR, 0, 0}, {UNLOCK, 0, 0}),
		 T({PLOCK, 0, 0}, {WR, 0, 7}, {RD, 0, 0}, {UNLOCK, 0, 0}),
		 T({PLOCK, 0, 0}, {RD, 0, 0}, {UNLOCK, 0, 0}, {CHECK, 0, 8})}};
	size_t a, b;
	compare_how(&p, UINT64_C(1) << (2 * MAXI + 3), &a, &b, 0);
	assert_true(b < a);
}

/* A thread waiting for quiescence wakes only when no other can run:
 * racy increments end at 1 or 2 and it reads exactly that, so each final
 * state has one value of its read; a thread it would wake (the flag) is
 * asleep then, not lost. Plain and reduced agree although the reduced
 * search orders the woken step after every earlier one. */
static void test_quiet(void **state)
{
	(void)state;
	static const struct prog p = {3, {3, 2, 4},
		{T({QUIET, 0, 0}, {RD, 0, 0}, {SET_FLAG, 0, 0}),
		 T({INC_RD, 0, 0}, {INC_WR, 0, 0}),
		 T({INC_RD, 0, 0}, {INC_WR, 0, 0}, {WAIT_FLAG, 0, 0}, {WR, 1, 1})}};
	size_t a, b;
	compare_how(&p, 0, &a, &b, 0);
	assert_true(b < a);
	static struct seen w;
	struct dpor_stats st;
	search(&p, 1, &w, &st);
	assert_int_equal(w.nfinals, 2); /* x = 1 read as 1, x = 2 read as 2 */
	assert_int_equal(M.x[1], 1);    /* the last run: the waiter was woken */
	assert_int_equal(M.quiet_saw[0], M.x[0] + 1);
}

static void test_independent(void **state)
{
	(void)state;
	/* four threads on four words: one class */
	static const struct prog p = {4, {2, 2, 2, 2},
		{T({WR, 0, 1}, {RD, 0, 0}), T({WR, 1, 1}, {RD, 1, 0}), T({WR, 2, 1}, {RD, 2, 0}),
		 T({WR, 3, 1}, {RD, 3, 0})}};
	size_t a, b;
	compare(&p, 0, &a, &b);
	assert_int_equal(b, 1);
	assert_true(a >= 2520); /* 8! / 2^4 orders */
}

/* --- the simulated kernel and a real handler ------------------------- */

#define PREFAULT_PLAIN_BOUND 3

/* Under ASan the plain unbounded search of one fault (8.4 M runs) would
 * take about four minutes per handler against run_tests.sh's limit: the
 * plain side is then delay-bounded (145 k runs), and every final state
 * and violation it finds must still be among the reduced search's. */
#if defined(__SANITIZE_ADDRESS__)
#define FAULT_PLAIN_BOUND 7
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FAULT_PLAIN_BOUND 7
#endif
#endif
#ifndef FAULT_PLAIN_BOUND
#define FAULT_PLAIN_BOUND 0 /* unbounded: the two sets must be equal */
#endif

static int world_cb(void *ctx, const struct sched_explorer *ex)
{
	return wseen_run(ctx, ex);
}

static void world_search_v(const char *text, const char *handler, uint64_t variants,
			   int reduce, unsigned bound, struct wseen *ws, struct dpor_stats *st)
{
	static struct scenario scn;
	char err[256];
	memset(ws, 0, sizeof *ws);
	assert_int_equal(scn_parse_bytes("test.scn", text, strlen(text), &scn, err, sizeof err), 0);
	ws->w = world_new(&scn, handler, variants);
	assert_non_null(ws->w);
	world_set_retry_cut(ws->w, reduce); /* part of the reduction, as explore's */
	struct dpor_opts o = {.reduce = reduce, .keep_going = 1,
			      .delay_bounded = bound > 0, .delay_bound = bound};
	uint32_t *fail;
	size_t nfail;
	assert_true(dpor_run(&o, world_cb, ws, st, &fail, &nfail) >= 0);
	free(fail);
	world_free(ws->w);
	assert_true(st->exhausted);
	assert_int_equal(ws->undeclared, 0); /* the drf rows keep their promise */
	wseen_sort(ws);
}

static void world_search_b(const char *text, const char *handler, int reduce,
			   unsigned bound, struct wseen *ws, struct dpor_stats *st)
{
	world_search_v(text, handler, 0, reduce, bound, ws, st);
}

static void world_search(const char *text, const char *handler, int reduce,
			 struct wseen *ws, struct dpor_stats *st)
{
	world_search_b(text, handler, reduce, 0, ws, st);
}


/* One fault on handler h: the plain search (unbounded, or within
 * FAULT_PLAIN_BOUND under ASan) and the reduced unbounded one reach the
 * same final states and violations (the plain ones within the reduced
 * ones when bounded). */
static void fault_case(const char *h, struct dpor_stats *sa, struct dpor_stats *sb)
{
	static const char text[] = "memory 4k 1\nhandler workers 1\nthread g guest\n  read 0\n";
	static struct wseen a, b;
	world_search_b(text, h, 0, FAULT_PLAIN_BOUND, &a, sa);
	world_search(text, h, 1, &b, sb);
	assert_true(a.nfinals >= 1 && finals_within(&a, &b) && viol_within(&a, &b));
	if (FAULT_PLAIN_BOUND == 0) {
		assert_int_equal(a.nfinals, b.nfinals);
		assert_memory_equal(a.finals, b.finals, a.nfinals * sizeof a.finals[0]);
		assert_int_equal(a.nviol, b.nviol);
	}
	print_message("    plain b%d %llu runs, reduced %llu runs (%llu pruned), %zu / %zu finals\n",
		      FAULT_PLAIN_BOUND, (unsigned long long)sa->runs,
		      (unsigned long long)sb->runs, (unsigned long long)sb->pruned, a.nfinals,
		      b.nfinals);
	assert_true(sb->runs * 4 < sa->runs);
}

static void test_world_fault(void **state)
{
	(void)state;
	struct dpor_stats sa, sb;
	fault_case("reference", &sa, &sb);
	/* the serve loop's polls read only the uffd's readiness, which the
	 * worker's COPY does not change: 6 classes, not the 24 of a poll
	 * that read the whole uffd (mk_touch_readiness) */
	assert_true(sb.runs <= 6);
}

static void test_world_fault_e2b_ref(void **state)
{
	(void)state;
	/* the same fault on the warts-included handler: its own serve loop */
	struct dpor_stats sa, sb;
	fault_case("e2b-ref", &sa, &sb);
}

static void test_world_prefault_bug(void **state)
{
	(void)state;
	/* B3 put back (variant prefault-unlocked): a prefetch racing a REMOVE
	 * installs into the removed page; both searches must see it */
	static const char text[] = "memory 4k 1\nfeatures remove\ncontract keeps\n"
				   "thread c0 control\n  prefetch 0\nthread b0 balloon\n  remove 0\n";
	static struct wseen a, b;
	struct dpor_stats sa, sb;
	uint64_t v = variant_parse("prefault-unlocked");
	assert_true(v != 0);
	world_search_v(text, "e2b-ref", v, 0, PREFAULT_PLAIN_BOUND, &a, &sa);
	world_search_v(text, "e2b-ref", v, 1, 0, &b, &sb);
	assert_true(a.nviol >= 1);
	assert_true(viol_within(&a, &b) && viol_within(&b, &a));
	assert_true(finals_within(&a, &b));
	print_message("    plain b%d %llu runs, reduced %llu runs (%llu pruned), %d violations, "
		      "%zu / %zu finals\n", PREFAULT_PLAIN_BOUND, (unsigned long long)sa.runs,
		      (unsigned long long)sb.runs, (unsigned long long)sb.pruned, b.nviol,
		      a.nfinals, b.nfinals);
}

static void test_world_two_pages(void **state)
{
	(void)state;
	/* two faults on two pages through one worker: too many schedules for
	 * the plain search unbounded, so every final state the plain search
	 * reaches within delay bound 1 must be among the reduced search's */
	static const char text[] = "memory 4k 2\nhandler workers 1\nthread g guest\n  read 0\n"
				   "thread h guest\n  read 1\n";
	static struct wseen a, b;
	struct dpor_stats sa, sb;
	world_search_b(text, "reference", 0, 1, &a, &sa);
	world_search(text, "reference", 1, &b, &sb);
	assert_true(a.nfinals >= 1);
	assert_true(finals_within(&a, &b));
	assert_int_equal(a.nviol, 0);
	assert_int_equal(b.nviol, 0);
	print_message("    plain b1 %llu runs, reduced %llu runs (%llu pruned), %zu / %zu finals\n",
		      (unsigned long long)sa.runs, (unsigned long long)sb.runs,
		      (unsigned long long)sb.pruned, a.nfinals, b.nfinals);
}

/* Two faults on one page through two workers: the second COPY is refused
 * (EEXIST) or finds the page there, which now only reads the page and
 * the uffd (model/kernel_seen.c); then a REMOVE of it on e2b-ref, whose
 * copy after the zap is a violation. Every final state and violation
 * of the plain search within delay bound 2 is the reduced search's. */
static void test_world_same_page(void **state)
{
	(void)state;
	static const char two[] = "memory 4k 1\nhandler workers 2\nthread g guest\n  read 0\n"
				  "thread h guest\n  read 0\n";
	static const char rm[] = "memory 4k 2\nfeatures remove\nhandler workers 2\n"
				 "contract breaks\nthread g guest\n  read 0\n"
				 "thread b balloon\n  remove 0\n";
	const struct { const char *text, *h; } c[] = {
		{two, "reference"}, {two, "e2b-ref"}, {rm, "e2b-ref"}};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
		static struct wseen a, b;
		struct dpor_stats sa, sb;
		world_search_b(c[i].text, c[i].h, 0, 2, &a, &sa);
		world_search(c[i].text, c[i].h, 1, &b, &sb);
		assert_true(a.nfinals >= 1);
		assert_true(finals_within(&a, &b) && viol_within(&a, &b));
		print_message("    %s case %zu: plain b2 %llu runs, %zu finals, %d violations; "
			      "reduced %llu runs, %zu finals, %d violations\n",
			      c[i].h, i, (unsigned long long)sa.runs, a.nfinals, a.nviol,
			      (unsigned long long)sb.runs, b.nfinals, b.nviol);
		if (i == 2)
			assert_true(a.nviol >= 1); /* the search can fail */
	}
}

/* --- the footprints the model declares -------------------------------- */

struct fprec {
	uint64_t nstep, ready_w, ready_r, ready_w_unchanged_uffd, uffd_w_only;
	uint64_t uffd_r_only, page_w, page_r_only; /* page 0 of mm 0 */
	uint64_t tpage_w[64], tpage_r[64], tuffd_w[64]; /* per thread */
};

static int has(const struct sched_fp *f, uint64_t obj, int write)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->obj[i] == obj && (!write || (f->wmask >> i & 1)))
			return 1;
	return 0;
}

/* Any part of mm 0's uffd (MK_UFFD_ID). */
static int has_uffd(const struct sched_fp *f, int write)
{
	for (int p = 0; p < MK_UFFD_PARTS; p++)
		if (has(f, SCHED_OBJ(MK_OC_UFFD, MK_UFFD_ID(0, p)), write))
			return 1;
	return 0;
}

static void rec_step(void *ctx, uint64_t step, int tid, const struct sched_fp *fp,
		     uint64_t woke, int wide)
{
	struct fprec *r = ctx;
	(void)step, (void)woke, (void)wide;
	uint64_t rdy = SCHED_OBJ(MK_OC_UREADY, 0);
	uint64_t page = SCHED_OBJ(MK_OC_PAGE, MK_PAGE_ID(0, 0));
	r->nstep++;
	r->uffd_r_only += has_uffd(fp, 0) && !has_uffd(fp, 1);
	r->page_w += has(fp, page, 1);
	r->page_r_only += has(fp, page, 0) && !has(fp, page, 1);
	if (tid >= 0 && tid < 64) {
		r->tpage_w[tid] += has(fp, page, 1);
		r->tpage_r[tid] += has(fp, page, 0) && !has(fp, page, 1);
		r->tuffd_w[tid] += has_uffd(fp, 1);
	}
	if (has(fp, rdy, 1)) {
		r->ready_w++;
		/* readiness is the uffd's state: only a step that wrote it moves it */
		if (!has_uffd(fp, 1))
			r->ready_w_unchanged_uffd++;
	} else if (has(fp, rdy, 0)) {
		r->ready_r++;
	} else if (has_uffd(fp, 1)) {
		r->uffd_w_only++;
	}
}

static int rec_choose(void *ctx, const struct sched_view *v)
{
	(void)ctx;
	return v->runnable[v->nrunnable - 1]; /* the newest thread first */
}

/* One run of text on reference, newest thread first, its footprints
 * recorded into *r; the run must pass. */
static void record_run(const char *text, struct fprec *r)
{
	static struct scenario scn;
	char err[256];
	assert_int_equal(scn_parse_bytes("test.scn", text, strlen(text), &scn, err, sizeof err), 0);
	struct world *w = world_new(&scn, "reference", 0);
	assert_non_null(w);
	memset(r, 0, sizeof *r);
	struct sched_explorer ex = {.ctx = r, .step = rec_step, .choose = rec_choose};
	struct sched_opts o = {.strategy = SCHED_DFS, .explorer = &ex};
	struct verdict v;
	assert_int_equal(world_run(w, &o, NULL, NULL, &v), 0);
	assert_false(v.violated);
	world_free(w);
}

static void test_uffd_readiness(void **state)
{
	(void)state;
	/* one fault served by reference: the fault's queueing and the read
	 * that empties the queue write the readiness, the serve loop's polls
	 * read it, and the worker's COPY writes the uffd but not it (the
	 * rule that lets a sleeping poll commute with the COPY) */
	static const char text[] = "memory 4k 1\nhandler workers 1\nthread g guest\n  read 0\n";
	struct fprec r;
	record_run(text, &r);
	print_message("    %llu steps: readiness written %llu, read %llu; uffd alone %llu\n",
		      (unsigned long long)r.nstep, (unsigned long long)r.ready_w,
		      (unsigned long long)r.ready_r, (unsigned long long)r.uffd_w_only);
	assert_true(r.ready_w >= 2);  /* the fault queued, then read off */
	assert_true(r.ready_r >= 2);  /* the polls */
	assert_true(r.uffd_w_only >= 1); /* the COPY */
	assert_int_equal(r.ready_w_unchanged_uffd, 0);
	/* the serve loop's second read finds the queue empty: it left the
	 * uffd as it was, so it only read it (model/kernel_seen.c) */
	assert_true(r.uffd_r_only >= 1);
	assert_true(r.page_w >= 1); /* the fault, the COPY */
}

/* Writes are what a step changed, found at its end: a REMOVE of a page
 * that was never there zaps nothing, so the balloon (the thread that
 * queued the event: wrote the uffd) only read the page. The run's final
 * read of the page faults it in, and those steps write it. */
static void test_found_writes(void **state)
{
	(void)state;
	static const char text[] =
		"memory 4k 2\nfeatures remove\nhandler workers 1\nthread b balloon\n  remove 0\n";
	struct fprec r;
	record_run(text, &r);
	print_message("    %llu steps: page 0 written %llu, only read %llu; uffd only read %llu\n",
		      (unsigned long long)r.nstep, (unsigned long long)r.page_w,
		      (unsigned long long)r.page_r_only, (unsigned long long)r.uffd_r_only);
	int balloon = -1;
	for (int t = 0; t < 64; t++)
		if (r.tuffd_w[t] && r.tpage_r[t] && !r.tpage_w[t])
			balloon = t;
	assert_true(balloon >= 0); /* queued the REMOVE, zapped nothing */
	assert_true(r.page_w >= 1); /* the final read's fault and fill */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_store_buffer),
		cmocka_unit_test(test_lost_update),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_lost_wake),
		cmocka_unit_test(test_spawn),
		cmocka_unit_test(test_independent),
		cmocka_unit_test(test_pure_block),
		cmocka_unit_test(test_quiet),
		cmocka_unit_test(test_world_fault),
		cmocka_unit_test(test_world_fault_e2b_ref),
		cmocka_unit_test(test_world_two_pages),
		cmocka_unit_test(test_world_prefault_bug),
		cmocka_unit_test(test_world_same_page),
		cmocka_unit_test(test_uffd_readiness),
		cmocka_unit_test(test_found_writes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
