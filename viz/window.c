/* viz/window.c — which steps of a trace get a node.
 *
 * A trace of a busy loop runs to the step bound (100,000 steps); a picture
 * of all of it is unreadable and takes minutes to lay out. So a long trace
 * shows its head and its tail, the middle as one node, and inside both a
 * run of a repeating pattern (same thread names, same labels but for
 * thread numbers) shows its first instance and one node for the repeats.
 * The last step, the one the violation is checked after, is always shown.
 */
#include "viz/viz_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FOLD_PERIOD_MAX 64 /* longest pattern looked for */

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
		     uint64_t fold_min)
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
				err = push(w, VIZ_IT_STEP, i + j, i + j, 0);
			if (!err)
				err = push(w, VIZ_IT_FOLD, i + best_p,
					   i + best_r * best_p - 1, best_p);
			i += best_r * best_p;
		} else {
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

	if (o->head == VIZ_ALL || o->head >= n || tail >= n - o->head) {
		err = add_range(w, tr, th, 0, n - 1, o->fold_min);
	} else {
		size_t head = (size_t)o->head, tstart = n - (size_t)tail;

		err = add_range(w, tr, th, 0, head, o->fold_min);
		if (!err)
			err = push(w, VIZ_IT_ELIDED, head, tstart - 1, 0);
		if (!err)
			err = add_range(w, tr, th, tstart, n - 1, o->fold_min);
	}
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
