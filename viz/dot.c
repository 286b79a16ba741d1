/* viz/dot.c — the DOT text of a trace picture.
 *
 * Layout: rankdir TB with newrank, so that rank=same may align nodes of
 * different clusters. Every shown item (step, elided middle, folded
 * repeats) is chained to the next by an invisible edge: one item per rank,
 * time running down. Each thread is a cluster (its lane); its consecutive
 * shown steps are joined by heavy light-grey edges that keep the lane
 * straight. Happens-before edges have weight 0 so that they never pull a
 * lane sideways. Lanes are declared guests, balloon, kernel queue, serve,
 * workers, control — the order a fault travels in, left to right.
 */
#include "viz/viz_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define WRAP 44          /* bytes per label line */
#define QWRAP 64         /* per queue line: one message and its sender */
#define TRACKER_MAX 8    /* tracker notes listed per step */
#define ELIDED_NAMES 4   /* thread names listed in the elided node */

#define C_VIOLATION "#cc0000"
#define C_PROGRAM "#c4c4c4"

struct emit {
	FILE *f;
	const struct trace *tr;
	const struct viz_threads *th;
	const struct viz_window *w;
	const struct viz_hb *h;
	const struct viz_pages *pg;
	const struct viz_opts *o;
};

static int lane_rank(const struct viz_thread *t)
{
	switch (t->kind) {
	case VIZ_KIND_GUEST: return 0;
	case VIZ_KIND_BALLOON: return 1;
	/* 2: the kernel queue */
	case VIZ_KIND_HANDLER: return t->reads_uffd ? 3 : 4;
	case VIZ_KIND_CONTROL: return 5;
	}
	return 6;
}

static const char *lane_fill(int kind)
{
	switch (kind) {
	case VIZ_KIND_GUEST: return "#eef4fc";
	case VIZ_KIND_BALLOON: return "#fdf3e7";
	case VIZ_KIND_HANDLER: return "#eef7ee";
	case VIZ_KIND_CONTROL: return "#f3f3f3";
	}
	return "#f8f8f8";
}

/* ---- one step's node ---- */

struct tracker_note {
	uint64_t page;
	int64_t state;
};

/* The handler's tracker transitions of a step (MEV_NOTE what=tracker:
 * a = page, b = handler/handler.h enum page_state), drawn as page states. */
static size_t trackers(const struct trace_step *s, struct tracker_note *tn)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nev && n < TRACKER_MAX; i++)
		if (s->ev[i].kind == MEV_NOTE &&
		    s->ev[i].f[0] == MEV_NOTE_TRACKER)
			tn[n++] = (struct tracker_note){(uint64_t)s->ev[i].f[1],
							s->ev[i].f[2]};
	return n;
}

static const char *state_name(int64_t s)
{
	return s == 0 ? "not-present" : s == 1 ? "dirty" : s == 2 ? "zero" : "?";
}

static const char *state_color(int64_t s)
{
	return s == 1 ? "#b8860b" : s == 2 ? "#2a6fb0" : "#777777";
}

/* The fill of a step's node, by the first event that asks for one in this
 * order: an install (green, yellow when it failed), a fault or wake-up
 * (blue), an event or madvise (orange), a read that returned messages
 * (lilac), a spawn (pale green). */
static const char *step_fill(const struct trace_step *s)
{
	static const char *const fill[] = {"#ffffff", "#e2f2e2", "#e4dbf6",
					   "#fde0c2", "#d4e3fa", "#fff0b3",
					   "#d5f0d5"};
	int best = 0;

	for (size_t i = 0; i < s->nev; i++) {
		const struct sched_event *e = &s->ev[i];
		int c = 0;

		switch (e->kind) {
		case MEV_UFFD_COPY:
		case MEV_UFFD_ZEROPAGE:
			c = e->f[e->kind == MEV_UFFD_COPY ? 4 : 3] ? 5 : 6;
			break;
		case MEV_FAULT: case MEV_WOKEN:
			c = 4;
			break;
		case MEV_REMOVE_QUEUED: case MEV_UNMAP_QUEUED:
		case MEV_REMAP_QUEUED: case MEV_FORK_QUEUED:
		case MEV_EV_RESUMED: case MEV_EV_WITHDRAWN:
		case MEV_MADVISE: case MEV_ZAP: case MEV_MADVISE_RET:
			c = 3;
			break;
		case MEV_UFFD_READ:
			c = e->f[2] >= 0 ? 2 : 0;
			break;
		case MEV_SPAWN:
			c = 1;
			break;
		}
		/* an install decides alone; else the highest rank */
		if (c >= 5 && best < 5)
			best = c;
		else if (c > best && best < 5)
			best = c;
	}
	return fill[best];
}

/* Steps that only move locks or yield: greyed, so that the eye finds the
 * uffd traffic. Decided by the step's first event. */
static int quiet(const struct trace_step *s)
{
	if (!s->nev)
		return 1;
	/* a fault put aside for later is the handler's decision, not noise */
	for (size_t i = 0; i < s->nev; i++)
		if (s->ev[i].kind == MEV_NOTE && s->ev[i].f[0] == MEV_NOTE_DEFER)
			return 0;
	/* a lock that makes a thread wait is where threads meet */
	const struct sched_event *e0 = &s->ev[0];
	if ((e0->kind == MEV_WRLOCK && e0->f[1] != MEV_WAIT_NONE) || e0->kind == MEV_RDLOCK_WAIT ||
	    (e0->kind == MEV_MUTEX_LOCK && e0->f[1]))
		return 0;
	switch (s->ev[0].kind) {
	case MEV_MUTEX_LOCK: case MEV_MUTEX_UNLOCK:
	case MEV_COND_WAIT: case MEV_COND_SIGNAL: case MEV_COND_BROADCAST:
	case MEV_RDLOCK: case MEV_RDLOCK_WAIT: case MEV_RDLOCK_ACQ:
	case MEV_RDUNLOCK: case MEV_WRLOCK: case MEV_WRLOCK_ACQ:
	case MEV_WRUNLOCK: case MEV_ATOMIC_LOAD: case MEV_ATOMIC_STORE:
	case MEV_ATOMIC_ADD: case MEV_ATOMIC_CAS: case MEV_SLEEP:
		return 1;
	}
	return 0;
}

/* The errno a uffd call of step s failed with, or 0: the picture names it
 * (a reader does not know that -9 is EBADF). */
static int uffd_errno(const struct trace_step *s)
{
	for (size_t i = 0; i < s->nev; i++) {
		const struct sched_event *ev = &s->ev[i];
		int k = ev->kind == MEV_UFFD_COPY ? 4 : ev->kind == MEV_UFFD_ZEROPAGE ? 3 :
			ev->kind == MEV_UFFD_WP ? 3 : ev->kind == MEV_UFFD_WAKE ? 2 :
			ev->kind == MEV_UFFD_READ ? 2 : -1;
		if (ev->kind == MEV_UFFD_READ && ev->nf > 2 && ev->f[2] == -EAGAIN)
			continue; /* an empty queue, not mmap_changing */
		if (k >= 0 && k < ev->nf && ev->f[k] < 0 && ev->f[k] > -4096)
			return (int)-ev->f[k];
	}
	return 0;
}

static const char *errno_text(int err)
{
	switch (err) {
	case EAGAIN: return "EAGAIN (a REMOVE is pending: mmap_changing)";
	case EEXIST: return "EEXIST (the page is already there)";
	case ESRCH: return "ESRCH (the guest process is gone)";
	case EBADF: return "EBADF (no open fd by that number)";
	case ENOTTY: return "ENOTTY (that number is no uffd now)";
	case ENOENT: return "ENOENT (the range is not registered)";
	}
	return NULL;
}

/* fd-after-close: the first uffd call on a closed or reused number is
 * where the violation happened, not the harness's last step. */
static size_t violation_step(const struct trace *tr)
{
	size_t last = tr->nsteps - 1;
	if (!tr->violation || strncmp(tr->violation, "fd-after-close", 14))
		return last;
	for (size_t i = 0; i < tr->nsteps; i++) {
		int err = uffd_errno(&tr->steps[i]);
		if (err == EBADF || err == ENOTTY)
			return i;
	}
	return last;
}

/* Is step i a read whose fault message nobody answered (viz_hb)? */
static int unanswered(const struct viz_hb *h, size_t i)
{
	size_t lo = 0, hi = h->nun;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->unanswered[mid] == i)
			return 1;
		if (h->unanswered[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

static void step_node(const struct emit *e, size_t i)
{
	const struct trace_step *s = &e->tr->steps[i];
	char text[TRACE_LINE_MAX + 64];
	struct tracker_note tn[TRACKER_MAX];
	size_t ntn = trackers(s, tn);
	size_t len = (size_t)snprintf(text, sizeof(text), "%s", s->label);
	size_t vs = e->tr->violation ? violation_step(e->tr) : 0;
	if (e->tr->violation && !e->w->shown[vs])
		vs = e->tr->nsteps - 1;
	int viol = e->tr->violation && i == vs;
	const char *why = errno_text(uffd_errno(s));
	FILE *f = e->f;

	if (len > e->o->label_max) {
		len = e->o->label_max;
		while (len && ((unsigned char)text[len] & 0xc0) == 0x80)
			len--; /* not inside a UTF-8 sequence */
		memcpy(text + len, "...", 4);
		len += 3;
	}
	fprintf(f, "    s%zu [label=\"%" PRIu64 ": ", i, s->step);
	viz_esc_wrapped(f, text, len, WRAP);
	for (size_t k = 0; k < ntn; k++)
		fprintf(f, "tracker p%" PRIu64 " := %s\\l", tn[k].page,
			state_name(tn[k].state));
	if (why)
		fprintf(f, "= %s\\l", why);
	int lost = unanswered(e->h, i);
	if (lost)
		fputs("no fill ever answered this fault message:\\lits vCPU sleeps on\\l", f);
	fputc('"', f);
	if (lost && !viol)
		fprintf(f, ", color=\"" C_VIOLATION "\", style=\"rounded,filled,dashed\", "
			   "penwidth=2");
	if (viol)
		fprintf(f, ", fillcolor=\"#ffd0d0\", color=\"" C_VIOLATION
			   "\", fontcolor=\"" C_VIOLATION "\", penwidth=2.5");
	else if (ntn)
		fprintf(f, ", fillcolor=\"%s\", color=\"%s\", penwidth=2",
			step_fill(s), state_color(tn[ntn - 1].state));
	else if (quiet(s))
		fprintf(f, ", fontcolor=\"#808080\", color=\"#c8c8c8\"");
	else if (strcmp(step_fill(s), "#ffffff"))
		fprintf(f, ", fillcolor=\"%s\"", step_fill(s));
	fprintf(f, ", tooltip=\"");
	viz_esc(f, s->label, strlen(s->label));
	fprintf(f, "\"];\n");
}

/* ---- page lanes ---- */

/* One lane per page: a node where its kernel state or the handler's
 * tracker view changed, the two side by side; red where they part. */
static void emit_page_lanes(const struct emit *e)
{
	const struct viz_pages *pg = e->pg;
	for (uint64_t p = 0; p < VIZ_PAGES_MAX; p++) {
		int open = 0;
		for (size_t k = 0; k < pg->n; k++) {
			const struct viz_page_node *d = &pg->node[k];
			if (d->page != p)
				continue;
			if (!open)
				fprintf(e->f, "  subgraph cluster_page%" PRIu64 " {\n"
					      "    graph [label=\"page %" PRIu64 "\\nin the kernel | in the handler's tracker\", "
					      "style=\"filled,rounded\", fillcolor=\"#f4f4ec\", "
					      "color=\"#b8b89a\"];\n", p, p);
			open = 1;
			char part[64] = "";
			if (d->over[0])
				snprintf(part, sizeof part, "\\nTHEY PART: it was %s", d->over);
			else if (d->parted)
				snprintf(part, sizeof part, "\\nTHEY PART");
			fprintf(e->f, "    pg%" PRIu64 "_%zu [shape=record, label=\"{%s|%s%s}\", "
				      "style=\"filled\", fillcolor=\"%s\", color=\"%s\"%s, "
				      "tooltip=\"page %" PRIu64 " after step %" PRIu64 ": %s, %s%s\"];\n",
				p, d->step, d->kernel, d->tracker, part,
				d->parted ? "#ffd0d0" : d->absent ? "#ffffff" : "#e2f2e2",
				d->parted ? "#b22222" : "#9a9a7a", d->parted ? ", penwidth=2" : "",
				p, e->tr->steps[d->step].step, d->kernel, d->tracker,
				d->parted ? ": they part" : "");
		}
		if (open)
			fputs("  }\n", e->f);
	}
}

/* The page nodes on their steps' rows, each lane chained (see the
 * queue lane's note on graphviz 2.43). */
static void emit_page_ranks(const struct emit *e)
{
	const struct viz_pages *pg = e->pg;
	for (size_t k = 0; k < pg->n; k++) {
		const struct viz_page_node *d = &pg->node[k];
		fprintf(e->f, "  { rank=same; s%zu; pg%" PRIu64 "_%zu; }\n", d->step, d->page, d->step);
		for (size_t j = k; j-- > 0;)
			if (pg->node[j].page == d->page) {
				fprintf(e->f, "  pg%" PRIu64 "_%zu -> pg%" PRIu64 "_%zu [weight=20, "
					      "arrowhead=none, color=\"#b8b89a\"];\n",
					d->page, pg->node[j].step, d->page, d->step);
				break;
			}
	}
}

/* ---- lanes ---- */

struct lane_step {
	int rank;
	uint32_t tid;
	size_t step;
};

static int cmp_lane_step(const void *a, const void *b)
{
	const struct lane_step *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank - y->rank;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->step < y->step ? -1 : x->step > y->step;
}

/* The derived lane of unread uffd messages, one node per change. */
static void emit_queue_lane(const struct emit *e)
{
	fprintf(e->f, "  subgraph cluster_queue {\n"
		      "    graph [label=\"kernel queue\\nunread uffd messages\", "
		      "style=\"filled,rounded\", fillcolor=\"#f5effb\", "
		      "color=\"#c9b5e3\"];\n");
	for (size_t k = 0; k < e->h->nq; k++) {
		const struct viz_qstate *q = &e->h->q[k];

		fprintf(e->f, "    q%zu [label=\"", q->step);
		if (q->text[0])
			viz_esc_wrapped(e->f, q->text, strlen(q->text), QWRAP);
		else
			fputs("(empty)", e->f);
		fprintf(e->f, "\", shape=box, style=\"filled\", "
			      "fillcolor=\"#ffffff\", color=\"#b9a3d9\", "
			      "fontcolor=\"#5b3d8a\"];\n");
	}
	fprintf(e->f, "  }\n");
}

static int emit_lanes(const struct emit *e)
{
	size_t n = 0;
	struct lane_step *ls = malloc((e->w->n ? e->w->n : 1) * sizeof(*ls));

	if (!ls)
		return -ENOMEM;
	for (size_t i = 0; i < e->w->n; i++) {
		const struct viz_item *it = &e->w->it[i];

		if (it->kind != VIZ_IT_STEP)
			continue;
		uint32_t tid = e->tr->steps[it->first].tid;

		ls[n++] = (struct lane_step){lane_rank(&e->th->t[tid]), tid,
					     it->first};
	}
	qsort(ls, n, sizeof(*ls), cmp_lane_step);
	int queue_done = !e->o->queue_lane || !e->h->nq;
	int pages_done = !e->pg->n;

	for (size_t i = 0; i <= n; i++) {
		if (!queue_done && (i == n || ls[i].rank > 2)) {
			emit_queue_lane(e);
			queue_done = 1;
		}
		if (!pages_done && (i == n || ls[i].rank > 2)) {
			emit_page_lanes(e);
			pages_done = 1;
		}
		if (i == n)
			break;
		if (i == 0 || ls[i].tid != ls[i - 1].tid) {
			const struct viz_thread *t = &e->th->t[ls[i].tid];
			char tname[16];

			snprintf(tname, sizeof(tname), "t%u", ls[i].tid);
			fprintf(e->f, "  subgraph cluster_t%u {\n    graph [label=\"%s",
				ls[i].tid, tname);
			/* a thread the header does not name is called tN already */
			if (strcmp(t->name, tname)) {
				fputc(' ', e->f);
				viz_esc(e->f, t->name, strlen(t->name));
			}
			fprintf(e->f, "\\n%s\", style=\"filled,rounded\", "
				      "fillcolor=\"%s\", color=\"#c0c0c0\"];\n",
				viz_kind_role(t), lane_fill(t->kind));
		}
		step_node(e, ls[i].step);
		if (i + 1 == n || ls[i + 1].tid != ls[i].tid)
			fprintf(e->f, "  }\n");
	}
	free(ls);
	return 0;
}

/* ---- elided and folded items ---- */

struct name_count {
	const char *name;
	uint64_t steps, threads;
};

static int cmp_by_name(const void *a, const void *b)
{
	const struct name_count *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int cmp_by_steps(const void *a, const void *b)
{
	const struct name_count *x = a, *y = b;

	if (x->steps != y->steps)
		return x->steps > y->steps ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* "who ran the hidden steps": step and thread counts per thread name. */
static int elided_node(const struct emit *e, const struct viz_item *it)
{
	uint32_t nt = e->th->n;
	uint64_t *cnt = calloc(nt, sizeof(*cnt));
	struct name_count *nc = malloc(nt * sizeof(*nc));
	size_t nn = 0, k = 0;

	if (!cnt || !nc) {
		free(cnt);
		free(nc);
		return -ENOMEM;
	}
	for (size_t i = it->first; i <= it->last; i++)
		cnt[e->tr->steps[i].tid]++;
	for (uint32_t t = 0; t < nt; t++)
		if (cnt[t])
			nc[nn++] = (struct name_count){e->th->t[t].name, cnt[t], 1};
	if (nn)
		qsort(nc, nn, sizeof(*nc), cmp_by_name);
	for (size_t i = 0; i < nn; i++) {
		if (k && !strcmp(nc[k - 1].name, nc[i].name)) {
			nc[k - 1].steps += nc[i].steps;
			nc[k - 1].threads++;
		} else {
			nc[k++] = nc[i];
		}
	}
	if (k)
		qsort(nc, k, sizeof(*nc), cmp_by_steps);
	fprintf(e->f, "  e%zu [label=\"... steps %zu-%zu not shown (%zu steps) ...\\n",
		it->first, it->first, it->last, it->last - it->first + 1);
	for (size_t i = 0; i < k && i < ELIDED_NAMES; i++) {
		viz_esc(e->f, nc[i].name, strlen(nc[i].name));
		fprintf(e->f, ": %" PRIu64 " steps", nc[i].steps);
		if (nc[i].threads > 1)
			fprintf(e->f, " in %" PRIu64 " threads", nc[i].threads);
		fputs("\\n", e->f);
	}
	if (k > ELIDED_NAMES)
		fprintf(e->f, "and %zu more thread names\\n", k - ELIDED_NAMES);
	fprintf(e->f, "\", shape=box, style=\"dashed,rounded\", color=\"#888888\", "
		      "fontcolor=\"#555555\", fontsize=11];\n");
	free(cnt);
	free(nc);
	return 0;
}

static void fold_node(const struct emit *e, const struct viz_item *it)
{
	size_t steps = it->last - it->first + 1;

	fprintf(e->f, "  f%zu [label=\"steps %zu-%zu: the %zu step%s above repeat%s "
		      "%zu more time%s\", shape=box, style=\"dashed,rounded\", "
		      "color=\"#888888\", fontcolor=\"#555555\"];\n",
		it->first, it->first, it->last, it->period,
		it->period > 1 ? "s" : "", it->period > 1 ? "" : "s",
		steps / it->period, steps / it->period > 1 ? "s" : "");
}

static void item_name(const struct viz_item *it, char *buf, size_t n)
{
	snprintf(buf, n, "%c%zu",
		 it->kind == VIZ_IT_STEP ? 's' : it->kind == VIZ_IT_FOLD ? 'f' : 'e',
		 it->first);
}

/* ---- edges ---- */

static void hb_style(enum viz_hb_kind k, const char **color, const char **style)
{
	*style = "solid";
	switch (k) {
	case VIZ_HB_FAULT_READ: *color = "#1f5fbf"; break;
	case VIZ_HB_READ_SPAWN:
	case VIZ_HB_SPAWN_INSTALL:
	case VIZ_HB_READ_INSTALL: *color = "#2e8b3e"; break;
	case VIZ_HB_WAKE_WOKEN: *color = "#7b3fb5"; break;
	case VIZ_HB_EVENT_READ:
	case VIZ_HB_READ_RESUMED:
	case VIZ_HB_RESUMED_ZAP: *color = "#d2691e"; break;
	default: *color = "#9a9a9a"; *style = "dashed"; break;
	}
}

static int emit_program_order(const struct emit *e)
{
	uint32_t nt = e->th->n;
	int64_t *last_shown = malloc(nt * sizeof(*last_shown));
	int64_t *last_any = malloc(nt * sizeof(*last_any));

	if (!last_shown || !last_any) {
		free(last_shown);
		free(last_any);
		return -ENOMEM;
	}
	for (uint32_t t = 0; t < nt; t++)
		last_shown[t] = last_any[t] = -1;
	fputs("  // program order: a thread's shown steps, dashed across hidden ones\n",
	      e->f);
	for (size_t i = 0; i < e->tr->nsteps; i++) {
		uint32_t t = e->tr->steps[i].tid;

		if (e->w->shown[i]) {
			if (last_shown[t] >= 0)
				fprintf(e->f, "  s%" PRId64 " -> s%zu [weight=20, "
					      "arrowhead=none, color=\"" C_PROGRAM "\"%s];\n",
					last_shown[t], i,
					last_any[t] != last_shown[t] ? ", style=dashed" : "");
			last_shown[t] = (int64_t)i;
		}
		last_any[t] = (int64_t)i;
	}
	free(last_shown);
	free(last_any);
	return 0;
}

static void emit_hb(const struct emit *e)
{
	fputs("  // happens-before, derived from the labels\n", e->f);
	for (size_t i = 0; i < e->h->ne; i++) {
		const struct viz_edge *d = &e->h->e[i];
		const char *color, *style;

		hb_style(d->kind, &color, &style);
		fprintf(e->f, "  s%zu -> s%zu [color=\"%s\", style=%s, penwidth=1.6, "
			      "weight=0, tooltip=\"%s ",
			d->from, d->to, color, style, viz_hb_name(d->kind));
		viz_esc(e->f, d->what, strlen(d->what));
		fputs("\"];\n", e->f);
	}
}

static void emit_title(const struct emit *e)
{
	static const char *const keys[] = {"scenario", "handler", "variant",
					   "strategy", "seed"};
	FILE *f = e->f;
	size_t shown = 0;

	for (size_t i = 0; i < e->w->n; i++)
		shown += e->w->it[i].kind == VIZ_IT_STEP;
	fputs("  graph [label=\"uffdlab trace:", f);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = trace_get(e->tr, keys[i]);

		if (!v)
			continue;
		fprintf(f, "   %s ", keys[i]);
		viz_esc(f, v, strlen(v));
	}
	fprintf(f, "\\l%zu steps, %zu shown", e->tr->nsteps, shown);
	if (e->tr->violation) {
		const char *v = e->tr->violation, *c = strchr(v, ':');

		fputs("   VIOLATION ", f);
		viz_esc(f, v, c ? (size_t)(c - v) : strlen(v));
	}
	fprintf(f, "\\ledges: blue fault->read   green read->spawn->install   "
	      "purple install/wake->woken   orange event->read->resumed->zap   "
	      "grey dashed spawn->start   grey lines: one thread's steps\\l"
	      "page lanes: a page's state in the kernel above the handler's tracker view, red where they part%s\\l\"];\n",
	      e->o->all ? "" : "   lock/unlock pairs nobody else touched not shown (--all shows them)");
}

int viz_dot_emit(const struct trace *tr, const struct viz_threads *th,
		 const struct viz_window *w, const struct viz_hb *h,
		 const struct viz_pages *pg, const struct viz_opts *o, FILE *out)
{
	struct emit e = {out, tr, th, w, h, pg, o};
	char a[32], b[32];
	int err;

	fputs("digraph uffdlab {\n"
	      "  graph [newrank=true, rankdir=TB, nodesep=0.25, ranksep=0.12, "
	      "fontname=\"Helvetica,Arial,sans-serif\", fontsize=13, labelloc=t, "
	      "labeljust=l];\n"
	      "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", "
	      "color=\"#8a8a8a\", fontname=\"Helvetica,Arial,sans-serif\", "
	      "fontsize=10, margin=\"0.08,0.03\", height=0.25];\n"
	      "  edge [arrowsize=0.6];\n", out);
	emit_title(&e);
	err = emit_lanes(&e);
	for (size_t i = 0; !err && i < w->n; i++) {
		if (w->it[i].kind == VIZ_IT_ELIDED)
			err = elided_node(&e, &w->it[i]);
		else if (w->it[i].kind == VIZ_IT_FOLD)
			fold_node(&e, &w->it[i]);
	}
	if (err)
		return err;
	fputs("  // time: one shown item per rank, in step order\n", out);
	for (size_t i = 1; i < w->n; i++) {
		item_name(&w->it[i - 1], a, sizeof(a));
		item_name(&w->it[i], b, sizeof(b));
		fprintf(out, "  %s -> %s [style=invis, weight=0];\n", a, b);
	}
	if (o->queue_lane) {
		/* the lane's own edges matter beyond looks: with newrank, a
		 * cluster of unconnected nodes rank=same'd into other
		 * clusters makes graphviz 2.43's agclose() fail */
		for (size_t i = 0; i < h->nq; i++) {
			fprintf(out, "  { rank=same; s%zu; q%zu; }\n", h->q[i].step,
				h->q[i].step);
			if (i)
				fprintf(out, "  q%zu -> q%zu [weight=20, arrowhead=none, "
					     "color=\"#c9b5e3\"];\n",
					h->q[i - 1].step, h->q[i].step);
		}
	}
	emit_page_ranks(&e);
	err = emit_program_order(&e);
	if (err)
		return err;
	emit_hb(&e);
	if (tr->violation && tr->nsteps) {
		size_t last = violation_step(tr);
		if (!w->shown[last])
			last = tr->nsteps - 1;

		fputs("  violation [shape=note, style=filled, fillcolor=\"#ffe8e8\", "
		      "color=\"" C_VIOLATION "\", fontcolor=\"" C_VIOLATION "\", "
		      "fontsize=11, label=\"VIOLATION ", out);
		viz_esc_wrapped(out, tr->violation, strlen(tr->violation), 56);
		fprintf(out, "\"];\n  { rank=same; s%zu; violation; }\n"
			     "  s%zu -> violation [color=\"" C_VIOLATION "\", "
			     "penwidth=2, weight=0];\n", last, last);
	}
	fputs("}\n", out);
	return 0;
}
