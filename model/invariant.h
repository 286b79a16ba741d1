/* model/invariant.h — the one registry of what the oracle checks.
 *
 * Contract: every invariant is one row of inv_table: a stable name, a
 * one-line meaning, the layers at which it is checked and one check
 * function over the facts of a layer. A backend (the simulator in
 * model/world.c, the real kernel in real/stress.c) gathers the facts of a
 * layer — a guest read, an install, a backoff, the export after the handler
 * stopped, a run where nothing can move, the step bound — and calls
 * inv_check(), which runs that layer's invariants in table order and
 * reports the first one violated. Facts are backend-neutral: page contents
 * are model content tags (model/kernel.h: 0, MK_SNAP, MK_WRITE, or
 * INV_FOREIGN for bytes no operation wrote) and the handler's view comes
 * from the handler interface. Run outcomes that are not invariants (setup,
 * replay-diverged, harness) are listed apart, in inv_outcomes. Adding an
 * invariant: one function and one row in model/invariant.c, docs/ORACLE.md.
 */
#ifndef UFFDLAB_INVARIANT_H
#define UFFDLAB_INVARIANT_H

#include <stddef.h>
#include <stdint.h>

#include "handler/handler.h"
#include "model/oracle.h"

/* Content tag of bytes that no operation of the scenario wrote. */
#define INV_FOREIGN (UINT64_C(0x46) << 56)
/* inv_blocked.fault_page of a thread blocked in a fault on a page the
 * backend cannot name (hardware: the thread stopped making progress). */
#define INV_PAGE_UNKNOWN (-2)

enum inv_layer {
	INV_AT_READ = 0,  /* a guest read returned */
	INV_AT_INSTALL,   /* a page was installed (COPY/ZEROPAGE) */
	INV_AT_BACKOFF,   /* a handler thread sleeps in a backoff */
	INV_AT_EXPORT,    /* the handler's export of one page vs memory */
	INV_AT_STUCK,     /* threads wait and none can make progress */
	INV_AT_STOP,      /* the handler was stopped */
	INV_AT_BOUND,     /* the step bound was hit */
	INV_AT_DIRTY,     /* a page's WP/dirty state: after an install, at an export, at the end */
	INV_NLAYERS
};

struct inv_read {
	const char *who;
	int page;
	uint64_t got;             /* content tag */
	uint64_t start, end;      /* the read's interval, in oracle time */
	const struct oracle *orc;
	int contract_breaks;      /* the guest breaks free-page reporting */
	const char *where;        /* "" or e.g. " on hardware" */
};

struct inv_install {
	const char *who;
	int page;
	uint64_t content;
	enum hpage view;          /* the handler's view when it landed */
	/* fills of the page so far, this one included, and the requests
	 * that may ask for one (fault messages the handler read, prefetches
	 * of it); 0 fills: not counted (a backend without the counts) */
	uint32_t fills, asked;
};

struct inv_backoff {
	const char *sleeper;
	int read_locks;           /* read sides the sleeper holds */
	const char *madvise_waiting; /* a balloon waiting on its REMOVE, or NULL */
	int reader_blocked;       /* the uffd's reader (the serve loop) is blocked */
};

struct inv_export {
	int page;
	enum hpage view;
	int present;
	uint64_t content;
	const char *where;
	/* The export oracle (the simulator; a backend without the spec
	 * leaves orc NULL): what a restore from the snapshot plus this
	 * export gives the page, judged as a read over [start, end]. */
	const struct oracle *orc;
	uint64_t restored;        /* content tag */
	uint64_t start, end;      /* the export's interval, in oracle time */
	int contract_breaks;      /* relaxed, as stale-data */
	int mid_run;              /* removes may be in flight: tracker-disagrees waits */
	const char *when;         /* "the export by c0", "the end", ... */
	enum hpage tracker;       /* the handler's lock-free view (page_view) */
	/* the page's last fill landed while a remove of it was in flight
	 * (between its REMOVE's read and its zap, rule 25) */
	int fill_raced_remove;
};

struct inv_dirty {
	int page;
	int wp_async;             /* 1: the pagemap bit is the dirty state; 0: sync WP */
	int present, wp;          /* the kernel's PTE */
	enum hpage view;          /* the handler's view (sync WP: known dirty?) */
	int written;              /* a guest write landed since the page's last install */
	int writing;              /* a guest write of the page is in flight */
	int settled;              /* no handler thread mid-install (export, end) */
	const char *when;
};

struct inv_blocked {
	const char *name;
	int fault_page;           /* -1: not in a fault; INV_PAGE_UNKNOWN */
	int fault_read;           /* its fault message was read */
	int page_present;
	int have_view;            /* a handler exists to ask */
	enum hpage view;          /* the handler's view of fault_page */
	int event_wait;           /* in madvise/munmap, waiting for its event */
};

struct inv_stuck {
	int n;
	const struct inv_blocked *t;
	const char *handler_error; /* NULL: none */
	const char *where;
};

struct inv_stop {
	int err;                  /* handler_stop()'s result */
	const char *handler_error;
	/* uffd calls the handler made on a number that was no open uffd
	 * (closed, or reused by another file); the first one's thread, fd
	 * (-1: not known) and errno. The simulator and replay --real count
	 * them; the hardware stress runner leaves 0. */
	int bad_uffd_calls;
	const char *bad_uffd_who;
	int bad_uffd_fd, bad_uffd_err;
};

struct inv_bound {
	const uint32_t *choices;  /* thread of every step */
	size_t n;
	int nthreads;
	void *ctx;
	const char *(*name)(void *ctx, int tid);
	int (*runnable)(void *ctx, int tid);
	/* the longest run of steps others took while tid could run, and
	 * the step that ended it (sched_longest_wait) */
	uint64_t (*waited)(void *ctx, int tid, uint64_t *end);
};

struct inv_facts {
	enum inv_layer layer;
	union {
		struct inv_read read;
		struct inv_install install;
		struct inv_backoff backoff;
		struct inv_export exp;
		struct inv_stuck stuck;
		struct inv_stop stop;
		struct inv_bound bound;
		struct inv_dirty dirty;
	} u;
};

struct inv_report {
	const char *name;         /* the invariant's (or outcome's) name */
	char text[512];
};

struct invariant {
	const char *name;
	const char *meaning;      /* one line */
	unsigned layers;          /* bit (1u << enum inv_layer) per layer */
	/* 1 with r->text filled if violated, else 0 */
	int (*check)(const struct inv_facts *f, struct inv_report *r);
};

struct inv_outcome {
	const char *name;
	const char *meaning;
};

extern const struct invariant inv_table[];   /* NULL-name terminated */
extern const struct inv_outcome inv_outcomes[]; /* NULL-name terminated */

/* A run outcome that is not an invariant (name: one of inv_outcomes) as a
 * report, its text formatted; returns r. */
const struct inv_report *inv_outcome(struct inv_report *r, const char *name,
				     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Run the invariants of f->layer in table order: 1 and r filled on the
 * first violation, else 0. */
int inv_check(const struct inv_facts *f, struct inv_report *r);
const struct invariant *inv_find(const char *name);
/* The name of an invariant or an outcome, or NULL if it is neither. */
const char *inv_known(const char *name);
const char *inv_layer_name(enum inv_layer l);
/* "zeros", "snapshot(3)", "write#7", "foreign bytes" */
void inv_fmt_content(char *buf, size_t n, uint64_t c);

#endif
