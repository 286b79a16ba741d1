/* viz/window.c — which steps of a trace get a node.
 *
 * A trace of a busy loop runs to the step bound (100,000 steps); a picture
 * of all of it is unreadable and takes minutes to lay out. So a long trace
 * shows its head and its tail, the middle as one node, and inside both a
 * run of a repeating pattern (same thread names, same labels but for
 * thread numbers) shows its first instance and one node for the repeats.
 * The last step, the one the violation is checked after, is always shown.
 * Scheduler noise (a lock taken and given back with nobody else touching
 * it in between) gets no node unless opts.all: it says nothing about
 * the race, and the lane's dashed line says steps were skipped.
 */
#include "viz/viz_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FOLD_PERIOD_MAX 64 /* longest pattern looked for */
#define NOISE_SCAN 4096    /* steps looked ahead for a lock's release */

/* A step that only takes a lock at once (nobody waited) / only releases
 * one admitting nobody: its lock id, else -1. */
static int64_t takes(const struct trace_step *s)
{
	if (s->nev != 1 && !(s->nev == 2 && s->ev[1].kind == MEV_WRLOCK_ACQ))
		return -1;
	const struct sched_event *e = &s->ev[0];
	if ((e->kind == MEV_MUTEX_LOCK && e->f[1] == 0) || e->kind == MEV_RDLOCK ||
	    (e->kind == MEV_WRLOCK && e->f[1] == MEV_WAIT_NONE))
		return e->f[0];
	return -1;
}

static int64_t releases(const struct trace_step *s)
{
	if (s->nev != 1)
		return -1;
	const struct sched_event *e = &s->ev[0];
	if (e->kind == MEV_MUTEX_UNLOCK || e->kind == MEV_RDUNLOCK ||
	    (e->kind == MEV_WRUNLOCK && e->f[1] == 0))
		return e->f[0];
	return -1;
}

/* Whether any event of step s names lock id l (every lock event's first
 * field is its lock id). */
static int names_lock(const struct trace_step *s, int64_t l)
{
	for (size_t k = 0; k < s->nev; k++)
		if ((s->ev[k].kind >= MEV_MUTEX_LOCK && s->ev[k].kind <= MEV_WRUNLOCK &&
		     s->ev[k].f[0] == l) ||
		    (s->ev[k].kind == MEV_COND_WAIT && s->ev[k].f[1] == l))
			return 1;
	return 0;
}

/* Scheduler noise: a lock taken at once and released by the same thread
 * before any other thread's step named the lock. */
static void mark_noise(const struct trace *tr, unsigned char *noise)
{
	for (size_t i = 0; i < tr->nsteps; i++) {
		const struct trace_step *s = &tr->steps[i];
		int64_t l = takes(s);
		for (size_t j = i + 1; l >= 0 && j < tr->nsteps && j < i + NOISE_SCAN; j++) {
			const struct trace_step *t = &tr->steps[j];
			if (!names_lock(t, l))
				continue;
			if (t->tid == s->tid && releases(t) == l)
				noise[i] = noise[j] = 1;
			break;
		}
	}
}

static int push(struct viz_window *w, enum viz_item_kind kind, size_t first,
		size_t last, size_t period)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct viz_item *it = realloc(w->it, cap * sizeof(*it));

		if (!it)
			return -ENOMEM;
		w->it = it;
		w->cap = cap;
	}
	w->it[w->n++] = (struct viz_item){kind, first, last, period};
	if (kind == VIZ_IT_STEP)
		w->shown[first] = 1;
	return 0;
}

struct keys {
	const struct trace *tr;
	const struct viz_threads *th;
	uint64_t *h; /* per step of the range, from its start */
	size_t lo;
};

static int step_same(const struct keys *k, size_t a, size_t b)
{
	const struct trace_step *sa = &k->tr->steps[a], *sb = &k->tr->steps[b];

	return k->h[a - k->lo] == k->h[b - k->lo] &&
	       !strcmp(k->th->t[sa->tid].name, k->th->t[sb->tid].name) &&
	       viz_label_same(sa->label, sb->label);
}

/* How many times the p steps at i repeat back to back within [i, hi). */
static size_t repeats(const struct keys *k, size_t i, size_t p, size_t hi)
{
	size_t r = 1;

	while (i + (r + 1) * p <= hi) {
		for (size_t j = 0; j < p; j++)
			if (!step_same(k, i + j, i + r * p + j))
				return r;
		r++;
	}
	return r;
}

/* Items for steps [lo, hi), folding repeats that hide >= fold_min steps. */
static int add_range(struct viz_window *w, const struct trace *tr,
		     const struct viz_threads *th, size_t lo, size_t hi,
		     uint64_t fold_min, const unsigned char *noise)
{
	struct keys k = {tr, th, NULL, lo};
	int err = 0;

	if (fold_min && hi - lo >= 3) {
		k.h = malloc((hi - lo) * sizeof(*k.h));
		if (!k.h)
			return -ENOMEM;
		for (size_t i = lo; i < hi; i++) {
			const struct trace_step *s = &tr->steps[i];

			k.h[i - lo] = viz_label_hash(s->label) ^
				      viz_label_hash(th->t[s->tid].name) * 31;
		}
	}
	for (size_t i = lo; i < hi && !err;) {
		size_t best_p = 0, best_r = 0;

		for (size_t p = 1; k.h && p <= FOLD_PERIOD_MAX && i + 3 * p <= hi;
		     p++) {
			size_t r = repeats(&k, i, p, hi);

			/* strictly more hidden: the shortest pattern wins ties */
			if (r >= 3 && (r - 1) * p > (best_r ? (best_r - 1) * best_p : 0)) {
				best_p = p;
				best_r = r;
			}
		}
		if (best_p && (best_r - 1) * best_p >= fold_min) {
			for (size_t j = 0; j < best_p && !err; j++)
				if (!noise[i + j])
					err = push(w, VIZ_IT_STEP, i + j, i + j, 0);
			if (!err)
				err = push(w, VIZ_IT_FOLD, i + best_p,
					   i + best_r * best_p - 1, best_p);
			i += best_r * best_p;
		} else {
			if (!noise[i])
				err = push(w, VIZ_IT_STEP, i, i, 0);
			i++;
		}
	}
	free(k.h);
	return err;
}

int viz_window_build(const struct trace *tr, const struct viz_threads *th,
		     const struct viz_opts *o, struct viz_window *w)
{
	size_t n = tr->nsteps;
	int err;

	memset(w, 0, sizeof(*w));
	w->shown = calloc(n ? n : 1, 1);
	if (!w->shown)
		return -ENOMEM;
	if (!n)
		return 0;
	uint64_t tail = o->tail ? o->tail : 1;
	unsigned char *noise = calloc(n, 1);

	if (!noise) {
		viz_window_free(w);
		return -ENOMEM;
	}
	if (!o->all)
		mark_noise(tr, noise);
	if (o->head == VIZ_ALL || o->head >= n || tail >= n - o->head) {
		err = add_range(w, tr, th, 0, n - 1, o->fold_min, noise);
	} else {
		size_t head = (size_t)o->head, tstart = n - (size_t)tail;

		err = add_range(w, tr, th, 0, head, o->fold_min, noise);
		if (!err)
			err = push(w, VIZ_IT_ELIDED, head, tstart - 1, 0);
		if (!err)
			err = add_range(w, tr, th, tstart, n - 1, o->fold_min, noise);
	}
	free(noise);
	if (!err)
		err = push(w, VIZ_IT_STEP, n - 1, n - 1, 0);
	if (err)
		viz_window_free(w);
	return err;
}

void viz_window_free(struct viz_window *w)
{
	free(w->it);
	free(w->shown);
	memset(w, 0, sizeof(*w));
}
