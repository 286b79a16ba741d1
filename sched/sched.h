/* sched/sched.h — a deterministic scheduler of coroutine threads.
 *
 * Contract: every simulated thread is a coroutine with its own stack, run on
 * the OS thread that called sched_run(); a switch is a few register moves, no
 * system call. Control changes hands only inside sched_point(), sched_block()
 * and at thread exit. At each scheduling point the strategy picks the next
 * thread among the runnable ones; the sequence of picked thread ids (the
 * choices) fully determines the run, and the same options give the same
 * choices, byte for byte. Thread ids are small integers in creation order.
 * Nothing here knows about uffd: the caller labels each step with text and
 * may attach typed events (sched/event.h) whose meaning it defines.
 */
#ifndef UFFDLAB_SCHED_H
#define UFFDLAB_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "sched/event.h"

/* Each is implemented behind struct sched_strategy_ops (sched/strategy.h). */
enum sched_strategy {
	SCHED_RANDOM = 0, /* uniform choice among runnable threads */
	SCHED_PCT = 1,    /* Burckhardt et al. 2010: priorities + d-1 change points */
	SCHED_REPLAY = 2, /* follow opts.replay exactly */
	/* follow opts.replay where it names a runnable thread; elsewhere, and
	 * past its end, keep running the thread of the previous step, else
	 * the lowest-id runnable one (no preemption): the shrinker's replay */
	SCHED_GUIDED = 3,
	/* one run of the dfs search (sched/dfs.c): guided by its prefix */
	SCHED_DFS = 4,
};

struct sched_opts {
	enum sched_strategy strategy;
	uint64_t seed;
	int pct_depth;           /* d >= 1 (default 3) */
	uint64_t pct_steps;      /* k: expected run length; 0 = 1000 */
	uint64_t max_steps;      /* step bound (livelock); 0 = 100000 */
	size_t stack_size;       /* per coroutine; 0 = 64 KiB */
	const uint32_t *replay;  /* REPLAY, GUIDED: thread id of every step */
	size_t replay_len;
	int labels;              /* keep step labels and events (tracing);
				    off = fast: both are no-ops */
	int record_runnable;     /* keep the runnable set of every step (DFS) */
	/* DFS with reduction (sched/dpor.h): every step's footprint goes to
	 * explorer->step and explorer->choose picks every thread; NULL = off,
	 * and sched_touch() is then a flag test */
	const struct sched_explorer *explorer;
};

/* --- footprints (partial-order reduction) ---------------------------
 * A step is what one thread does between two scheduling points. Its
 * footprint is the set of shared objects it touched, each read or written;
 * two steps commute when no object is written by one and touched by the
 * other. An object is a 64-bit id, its class in the top byte. Ids are only
 * ever compared for equality, so an id built from an address (a wait
 * queue) cannot make a schedule depend on where memory happens to be. */
#define SCHED_OBJ(cls, id) (((uint64_t)(cls) << 56) | ((uint64_t)(id) & ((UINT64_C(1) << 56) - 1)))
enum sched_obj_class {
	SCHED_OC_NONE = 0,     /* the step declares that it touches nothing */
	SCHED_OC_WAITQ = 1,    /* a sched wait queue (by address) */
	SCHED_OC_THREADS = 2,  /* the thread table: spawn order gives tids */
	SCHED_OC_LIFE = 3,     /* thread tid's lifecycle (ended or not) */
	SCHED_OC_RNG = 4,      /* sched_random()'s stream */
	SCHED_OC_HEAP = 5,     /* memory of the kinds in sched_heap_kinds() */
	SCHED_OC_USER = 16,    /* classes >= 16 belong to the caller */
};
#define SCHED_FP_MAX 14 /* accesses kept per step; more = touches all */

struct sched_fp {
	uint8_t n;             /* accesses in obj[0..n) */
	uint8_t all;           /* dependent with every step */
	uint8_t blocked;       /* the step ended with its thread blocked */
	/* the step began at quiescence (sched_wait_quiet): no other thread
	 * could run before it, so it happens after every earlier step */
	uint8_t barrier;
	uint16_t wmask;        /* bit i: obj[i] is written */
	uint16_t amask;        /* bit i: obj[i] only added to (SCHED_ADD) */
	/* bit h(o) & 63 for every o in obj: two footprints with no bit in
	 * common share no object, the common case the race scan rejects */
	uint64_t sig;
	uint64_t obj[SCHED_FP_MAX];
};

struct sched_view;
/* What a reducing explorer is told, and asks. step(): step `step` of tid
 * ended with footprint fp, having made the threads of `woke` runnable
 * (bit t = thread t; wide when a woken id was >= 64). choose(): the thread of
 * step v->steps, or -1 to end the run here (SCHED_DIVERGED). */
struct sched_explorer {
	void *ctx;
	void (*step)(void *ctx, uint64_t step, int tid, const struct sched_fp *fp,
		     uint64_t woke, int wide);
	int (*choose)(void *ctx, const struct sched_view *v);
};

/* Two footprints conflict: one writes what the other touches, or one of
 * them touches everything. */
int sched_fp_conflict(const struct sched_fp *a, const struct sched_fp *b);

enum sched_result {
	SCHED_DONE = 0,       /* every thread ended */
	SCHED_STUCK = 1,      /* threads remain, none runnable (deadlock/lost wake) */
	SCHED_STEP_BOUND = 2, /* max_steps reached */
	SCHED_STOPPED = 3,    /* sched_stop() was called (e.g. the oracle) */
	SCHED_DIVERGED = 4,   /* replay asked for a thread that is not runnable */
	SCHED_CUT = 5,        /* sched_cut(): a stutter the search covers elsewhere */
};

enum sched_tstate {
	SCHED_T_RUNNABLE = 0,
	SCHED_T_BLOCKED = 1,
	SCHED_T_DONE = 2,
};

typedef struct sched sched_t;

/* A wait queue: threads blocked on it, FIFO. Zero-initialise before use. */
typedef struct sched_waitq {
	struct sched_wnode *head, *tail;
} sched_waitq_t;

sched_t *sched_new(const struct sched_opts *opts);
void sched_free(sched_t *s);
/* Forget every thread and start over with new options, keeping allocated
 * stacks and memory (the explorer runs thousands of schedules). 0 or -errno. */
int sched_reset(sched_t *s, const struct sched_opts *opts);

/* Create a thread that will run fn(arg). Callable before sched_run() or from
 * inside a coroutine. kind is a caller-defined tag (guest, worker, ...).
 * Returns its id (>= 0) or -errno. */
int sched_spawn(sched_t *s, const char *name, int kind, void (*fn)(void *),
		void *arg);

/* Run until a sched_result applies. Call once. */
enum sched_result sched_run(sched_t *s);

/* Inside a coroutine: */
int sched_self(const sched_t *s);
/* A scheduling point: the strategy may switch to another runnable thread. */
void sched_point(sched_t *s);
/* A spin hint: like sched_point, but under PCT the caller's priority drops
 * below every other thread's, so that a busy loop cannot starve the thread
 * it waits for (a fair scheduler's guarantee). */
void sched_yield(sched_t *s)
	/* Linked under another name: a global `sched_yield` symbol would take
	 * the place of POSIX sched_yield(void) for the whole process (libc,
	 * ASan/LSan, jemalloc and real/ spin with it) and crash them. */
	__asm__("uffdlab_sched_yield");
/* Block the calling thread on q until woken; returns after it is woken and
 * scheduled again. */
void sched_block(sched_t *s, sched_waitq_t *q);
/* Make the first / every thread of q runnable. Return how many woke. */
int sched_wake_one(sched_t *s, sched_waitq_t *q);
int sched_wake_all(sched_t *s, sched_waitq_t *q);
int sched_waitq_empty(const sched_waitq_t *q);
/* Block until thread tid has ended. */
void sched_join(sched_t *s, int tid);
/* Block until no other thread is runnable (quiescence): when a step ends
 * with nothing runnable, the first such waiter wakes instead of the run
 * being STUCK. Its next step can only ever run at quiescence, so it is a
 * barrier for the reduction (sched_fp.barrier). A thread that spins keeps
 * the waiter asleep until the step bound. */
void sched_wait_quiet(sched_t *s);
/* Whether tid waits in sched_wait_quiet() (a fair OS would run it). */
int sched_waiting_quiet(const sched_t *s, int tid);
/* End the run after the current step (result SCHED_STOPPED). */
void sched_stop(sched_t *s);
/* End the run after the current step as one the search need not finish
 * (result SCHED_CUT): the caller knows that every way on from here is a
 * stutter of a run that does not pass this point (a retry that fails as
 * the attempt before it did; docs/DESIGN.md, "the retry cut"). Its steps
 * were still reported to the explorer, so their races are analysed. */
void sched_cut(sched_t *s);

/* Label of the current step (printf-style); appended with "; " if called
 * more than once in one step. Steps without a label read "yield". A no-op
 * unless opts.labels: callers may test sched_labels_on() to skip work. */
int sched_labels_on(const sched_t *s);
void sched_label(sched_t *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* sched_touch's third argument: a read, a write, or an add: a
 * commutative update (a counter's += whose result the step does not
 * look at). Two adds commute; an add and a read or write do not. */
enum { SCHED_READ = 0, SCHED_WRITE = 1, SCHED_ADD = 2 };
/* The current step touches obj (write: 1, read: 0, SCHED_ADD). A flag test unless
 * opts.explorer. A step that declares nothing (no call between its
 * scheduling point and the next one, apart from those sched/ makes itself)
 * touches everything: forgetting a declaration costs reduction, never
 * soundness. SCHED_OBJ(SCHED_OC_NONE, 0) declares "nothing more". */
void sched_touch(sched_t *s, uint64_t obj, int write);
/* 1 if this run records footprints (a reducing explorer is attached): the
 * model tests it once per run rather than computing footprints for nothing. */
int sched_touching(const sched_t *s);
/* The current step may touch anything: dependent with every step. */
void sched_touch_all(sched_t *s);
/* Threads of these kinds (bit k = kind k) run code whose shared memory
 * sched/ cannot see between two points: every step of theirs also writes
 * SCHED_OC_HEAP, so their steps never commute with each other. Kept across
 * sched_reset(). */
void sched_heap_kinds(sched_t *s, uint64_t kinds);

/* With a reducing explorer attached: called as each step ends, before its
 * footprint goes to the explorer, so that the caller may still add to it
 * (sched_touch) what it can see the step changed. */
typedef void (*sched_fp_hook)(void *ctx, sched_t *s, int tid);
void sched_set_fp_hook(sched_t *s, sched_fp_hook hook, void *ctx);
/* Whether the current step's footprint already has obj (written, if
 * write): for such a hook to tell a declared access from a missed one. */
int sched_fp_has(const sched_t *s, uint64_t obj, int write);

/* Called after every step with the id of the thread that ran it; the hook
 * may call sched_stop(). */
typedef void (*sched_step_hook)(void *ctx, sched_t *s, int tid);
void sched_set_step_hook(sched_t *s, sched_step_hook hook, void *ctx);
/* Append a typed event to the current step: kind and nf fields, copied
 * (nf <= SCHED_EV_FIELDS, else the event is counted lost). A no-op unless
 * opts.labels; callers test sched_labels_on() first so that building the
 * fields costs nothing while exploring. Events past SCHED_STEP_EVENTS in
 * one step are counted, not kept: the sink sees ev_lost > 0. */
void sched_event(sched_t *s, unsigned kind, unsigned nf, const int64_t *f);

/* What the sink is told about a step that ended. */
struct sched_step_info {
	uint64_t step;
	int tid;
	const char *label;             /* "yield" when the step had none */
	const struct sched_event *ev;  /* nev events, in emission order */
	size_t nev;
	size_t ev_lost;                /* events that did not fit */
};

/* Called after every step (trace writer); valid only during the call. */
typedef void (*sched_step_sink)(void *ctx, const struct sched_step_info *st);
void sched_set_step_sink(sched_t *s, sched_step_sink sink, void *ctx);

/* Queries (valid during and after the run). */
uint64_t sched_steps(const sched_t *s);
int sched_nthreads(const sched_t *s);
enum sched_tstate sched_thread_state(const sched_t *s, int tid);
const char *sched_thread_name(const sched_t *s, int tid);
/* The most steps in a row that other threads took while tid was runnable
 * (the wait in progress included), and in *end the step that ended that
 * wait (sched_steps() if it still goes on). */
uint64_t sched_longest_wait(const sched_t *s, int tid, uint64_t *end);
int sched_thread_kind(const sched_t *s, int tid);
/* The choices made so far: the thread id of each step. */
const uint32_t *sched_choices(const sched_t *s, size_t *n);
/* With opts.record_runnable: for every step, the set of threads that were
 * runnable when it was chosen (bit t = thread t; threads >= 64 are not
 * represented: *wide is set if any existed). */
const uint64_t *sched_runnable_masks(const sched_t *s, size_t *n, int *wide);
/* Deterministic random numbers from the run's seed, for the code under test
 * (independent of the strategy's own stream). */
uint64_t sched_random(sched_t *s);
/* PCT: the k actually observed (steps of this run), to report and reuse. */
uint64_t sched_pct_k(const sched_t *s);

#endif
