/* viz/viz_impl.h — internals of viz/, shared by the .c files of viz/ only.
 *
 * Contract: a picture is made in three passes over a read trace:
 *  - threads.c: the lane table (tid -> name, kind) from the "thread"
 *    header lines, and the steps each thread ran;
 *  - window.c: which steps are shown: a list of items (a step, the elided
 *    middle of a long trace, or the repeats of a folded pattern) and a
 *    per-step "shown" bitmap;
 *  - hb.c: happens-before edges and kernel-queue states derived from the
 *    typed step events the simulated kernel emits (model/event.h; the
 *    labels are shown, never parsed), kept only between shown steps;
 * then dot.c writes DOT. label.c holds the number parsing of header lines
 * and the DOT escaping every pass shares. Everything is deterministic: no pointer or hash order
 * reaches the output. Functions return 0 or -errno (-ENOMEM).
 */
#ifndef UFFDLAB_VIZ_IMPL_H
#define UFFDLAB_VIZ_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/event.h"
#include "sched/trace.h"
#include "viz/viz.h"

/* ---- label.c ---- */

/* Parse an unsigned number (decimal or 0x-hex) at *p; advances *p.
 * 0, or -EINVAL when no digit is there. */
int viz_num(const char **p, uint64_t *out);
/* The same for an optionally negative decimal. */
int viz_snum(const char **p, int64_t *out);
/* Write n bytes of s for a DOT quoted string: quotes and backslashes
 * escaped, bytes that are not UTF-8 as '?'. */
void viz_esc(FILE *f, const char *s, size_t n);
/* As viz_esc, as left-justified lines ("\l") of at most width bytes,
 * broken at newlines, after "; " and at spaces where it can. */
void viz_esc_wrapped(FILE *f, const char *s, size_t n, unsigned width);
/* Two labels equal but for thread numbers ("t12" vs "t13"), which differ
 * between otherwise identical loop iterations. */
int viz_label_same(const char *a, const char *b);
/* Hash consistent with viz_label_same. */
uint64_t viz_label_hash(const char *s);

/* ---- threads.c ---- */

enum { VIZ_KIND_GUEST = 1, VIZ_KIND_BALLOON, VIZ_KIND_CONTROL,
       VIZ_KIND_HANDLER };

struct viz_thread {
	char *name;      /* from the header; "t<tid>" when it has none */
	int kind;        /* 0 when unknown */
	uint64_t nsteps; /* steps it ran */
	int reads_uffd;  /* it read the uffd: the handler's serve loop, known
			  * by what it does, not by its name */
};

struct viz_threads {
	uint32_t n;              /* max tid + 1 over header and steps */
	struct viz_thread *t;    /* n of them */
};

/* -EINVAL with err "name:line: message" on a bad "thread" line. */
int viz_threads_build(const struct trace *tr, const char *name_for_err,
		      struct viz_threads *th, char *err, size_t errlen);
void viz_threads_free(struct viz_threads *th);
/* "guest vCPU", "serve loop", ... for a lane title. */
const char *viz_kind_role(const struct viz_thread *t);

/* ---- window.c ---- */

enum viz_item_kind { VIZ_IT_STEP, VIZ_IT_ELIDED, VIZ_IT_FOLD };

struct viz_item {
	enum viz_item_kind kind;
	size_t first, last;   /* steps, inclusive; first == last for a step */
	size_t period;        /* VIZ_IT_FOLD: length of the pattern */
};

struct viz_window {
	struct viz_item *it;
	size_t n, cap;
	unsigned char *shown; /* per step: 1 when it has a node */
};

int viz_window_build(const struct trace *tr, const struct viz_threads *th,
		     const struct viz_opts *o, struct viz_window *w);
void viz_window_free(struct viz_window *w);

/* ---- hb.c ---- */

enum viz_hb_kind {
	VIZ_HB_FAULT_READ,    /* fault queued -> the uffd_read returning it */
	VIZ_HB_READ_SPAWN,    /* that read -> spawn of the installing thread */
	VIZ_HB_SPAWN_INSTALL, /* that spawn -> the install at the address */
	VIZ_HB_READ_INSTALL,  /* read -> install, no spawn in between */
	VIZ_HB_WAKE_WOKEN,    /* the install/wake that woke it -> "woken" */
	VIZ_HB_EVENT_READ,    /* REMOVE (any event) queued -> its uffd_read */
	VIZ_HB_READ_RESUMED,  /* that read -> "REMOVE read: resumed" */
	VIZ_HB_RESUMED_ZAP,   /* resumed -> "madvise zaps" */
	VIZ_HB_SPAWN_START,   /* spawn -> the new thread's first step */
	VIZ_HB_NKINDS
};

struct viz_edge {
	size_t from, to;
	enum viz_hb_kind kind;
	char what[48];        /* the message or thread it is about */
};

struct viz_qstate {
	size_t step;          /* the kernel queue as this step left it */
	char *text;           /* one message per line, "" when empty */
};

struct viz_hb {
	struct viz_edge *e;
	size_t ne, ecap;
	struct viz_qstate *q;
	size_t nq, qcap;
	size_t *unanswered;   /* shown reads of a fault no fill answered while
			       * its thread slept on to the end, by step */
	size_t nun, uncap;
};

/* shown: per step, from viz_window (NULL: every step). */
int viz_hb_derive(const struct trace *tr, const struct viz_threads *th,
		  const unsigned char *shown, struct viz_hb *h);
void viz_hb_free(struct viz_hb *h);
/* "fault->read", ... as written in edge tooltips. */
const char *viz_hb_name(enum viz_hb_kind k);

/* ---- pages.c ---- */

#define VIZ_PAGES_MAX 16 /* pages with a lane: the first ones of the range */

struct viz_page_node {
	uint64_t page;
	size_t step;          /* the shown step it is drawn beside */
	char kernel[64];      /* "kernel: absent", "kernel: present: zeros", ... */
	char tracker[40];     /* "tracker: dirty (installed)", ... */
	char over[24];        /* the tracker state the kernel's change in this
				 step did not match, when the step changed it,
				 or "" */
	int parted;           /* the tracker does not describe the kernel's page */
	int absent;
};

struct viz_pages {
	struct viz_page_node *node; /* by step, then page */
	size_t n, cap;
};

/* Page lanes from the typed events; nodes only at shown steps (shown
 * NULL: every step). */
int viz_pages_derive(const struct trace *tr, const unsigned char *shown,
		     struct viz_pages *pg);
void viz_pages_free(struct viz_pages *pg);

/* ---- dot.c ---- */

/* viz_dot(), errors naming the trace name_for_err. */
int viz_dot_named(const struct trace *tr, const char *name_for_err,
		  FILE *out, const struct viz_opts *o, char *err, size_t errlen);
int viz_dot_emit(const struct trace *tr, const struct viz_threads *th,
		 const struct viz_window *w, const struct viz_hb *h,
		 const struct viz_pages *pg, const struct viz_opts *o, FILE *out);

#endif
