/* handler/e2b.h — internals of the e2b-ref handler (docs/HANDLER.md 1, REF b01a6a1).
 *
 * Contract: shared by e2b_ref.c (lifecycle, pause/resume), e2b_serve.c (the
 * serve loop) and e2b_fault.c (worker, fault_page, prefault). Everything
 * goes through sys.h. A `struct serve` lives for one Serve call: its exit
 * pipe and its deferred queue die with it (REF: deferred is a local of
 * Serve, so a pause abandons deferred faults — a wart kept on purpose). */
#ifndef UFFDLAB_E2B_H
#define UFFDLAB_E2B_H

#include "handler.h"
#include "tracker.h"
#include "variants.h"

enum source_kind { SRC_NONE = 0, SRC_SNAPSHOT = 1 };

/* The `reference` handler is e2b-ref plus these fixes, each one backed by a
 * scenario and seed in handler/README.md. */
enum fix {
	/* read the uffd and apply REMOVEs under the settle write lock; workers
	 * read the source before taking the read lock, which then covers only
	 * state check + install + tracker update */
	FIX_READ_GATE = 1u << 0,
	/* on every return of Serve, UFFDIO_WAKE each still-deferred fault */
	FIX_WAKE_DEFERRED = 1u << 1,
	/* a batch of deferred faults only (no new message): yield first */
	FIX_YIELD_ON_RETRY = 1u << 2,
	/* no short-circuit for DIRTY: install zeros, EEXIST wakes */
	FIX_NO_SHORT_CIRCUIT = 1u << 3,
	/* ask the uffd for WP_ASYNC before serving WP-registered memory, and
	 * refuse to start without it (handler/README.md) */
	FIX_ASK_FEATURES = 1u << 4,
	/* a 4 KiB read zero-fill under WP is one COPY of zeros with
	 * MODE_WP (HEAD), not ZEROPAGE(DONTWAKE) + WRITEPROTECT + WAKE:
	 * no window where the page is present and writable (B10), no
	 * EEXIST retry that skips the arming (B9), no WP marker left on a
	 * page zapped between the two (found by swarm) */
	FIX_ZERO_COPY_WP = 1u << 5,
	/* under WP_ASYNC the export's dirty set is the pagemap's (present
	 * and not WP: #2541), a read zero-fill keeps the page ZERO and a
	 * dirty page wins over an empty one (3ae7f06, B24) */
	FIX_PAGEMAP_EXPORT = 1u << 6,
	/* under WP (WP_ASYNC) a write fault's fill is write-protected too:
	 * the write resolves the bit itself. A write fault's message may be
	 * served after its write landed and the page was removed (another
	 * fault's fill woke it): a writable fill then reads dirty with no
	 * write, and every diff ships it (found by swarm, seed 62) */
	FIX_ARM_WRITE_FILL = 1u << 7,
	/* EEXIST on a page the tracker marks ZERO leaves it ZERO: a stale
	 * fault message served between a REMOVE's apply and its zap would
	 * mark DIRTY a page the zap then takes (found by hand, the swarm's
	 * stale-message race without WP: zoo/fix8-eexist-marks-dirty.scn) */
	FIX_EEXIST_KEEPS_ZERO = 1u << 8,
};
#define FIX_ALL (FIX_READ_GATE | FIX_WAKE_DEFERRED | FIX_YIELD_ON_RETRY | FIX_NO_SHORT_CIRCUIT | \
		 FIX_ASK_FEATURES | FIX_ZERO_COPY_WP | FIX_PAGEMAP_EXPORT | FIX_ARM_WRITE_FILL | \
		 FIX_EEXIST_KEEPS_ZERO)
enum outcome { OUT_INSTALLED = 0, OUT_DEFERRED = 1, OUT_DISCARDED = 2 };

/* One drain of the uffd: the faults and REMOVEs it read. */
struct batch {
	struct uffd_msg *faults;
	int nfaults, capfaults;
	struct uffd_msg *removes;
	int nremoves, capremoves;
};

/* All memory of a serve hangs off it, so that handler_discard() can free a
 * run the simulator abandoned mid-flight. */
struct serve {
	struct e2b *h;
	struct batch b;
	struct uffd_msg *merge;  /* deferred ++ fresh faults */
	int capmerge;
	int exit_fds[2];
	uint64_t exit_once;      /* SignalExit writes the pipe once */
	sys_mutex_t *dmu;        /* guards the deferred queue */
	struct uffd_msg *deferred;
	int ndeferred, capdeferred;
	int err;                 /* Serve's own error (not workers') */
};

struct e2b {
	struct handler base;     /* first: the interface's view */
	sys_t *sys;
	const struct sys_ops *o;
	struct handler_config cfg;
	uint64_t fixes;          /* enum fix: 0 for e2b-ref */
	uint64_t pages;
	struct tracker tr;
	sys_rwlock_t *settle;
	sys_mutex_t *read_serial;
	/* the errgroup: a bounded set of detached workers (wg: its slots,
	 * the token channel and WaitGroup), first error kept under wg_mu */
	sys_sem_t *wg;
	sys_mutex_t *wg_mu;
	int wg_err;
	char errmsg[256];
	int wake_fds[2];
	/* the running Serve, if any */
	struct serve *serve;
	sys_thread_t *serve_thr;
	struct serve *starting;  /* a Serve being set up, not yet h->serve */
	int last_serve_err;
	void *zero_buf;          /* one page of zeros for hugetlb zero-fill */
	/* every work item dispatched and not yet reclaimed: the serve
	 * thread's alone (a worker only marks its own done), so that a run
	 * the simulator abandons frees them all (e2b_work_reclaim) */
	struct work *works;
	int nworks;
	uint64_t work_seq;
	struct handler_stats st; /* updated with sys atomics where racy */
	/* B18/B19 variants: the handler's own copy of the uffd (what
	 * SCM_RIGHTS hands uffd.go), closed when Serve ends for good */
	int own_uffd;            /* -1: none */
	int own_closed;          /* the teardown closed it */
};

/* The registry's rows (handler/registry.c). */
extern const struct handler_ops e2b_ref_ops, e2b_reference_ops;

void e2b_serve_release(struct serve *sv); /* frees memory only */
/* Free the work items whose worker marked them done (all: every one,
 * when no worker can run any more). Serve thread or teardown only. */
void e2b_work_reclaim(struct e2b *h, int all);
void e2b_serve_main(void *arg);
/* B18/B19 variants: uffd.go's teardown after Serve ended with an error:
 * close the handler's copy of the uffd (idempotent). */
void e2b_teardown(struct e2b *h);
void e2b_worker_main(void *arg);
int e2b_prefault(struct e2b *h, uint64_t page, const void *data);
/* reference under WP_ASYNC: the export's dirty set is the pagemap's, and
 * a read zero-fill keeps the page ZERO (FIX_PAGEMAP_EXPORT). */
int e2b_pagemap_export(const struct e2b *h);
/* SignalExit of serve sv (idempotent). */
void e2b_signal_exit(struct serve *sv);
/* Record the errgroup's first error with a reason. */
void e2b_fail(struct e2b *h, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void e2b_stat(struct e2b *h, uint64_t *counter);

/* A worker's argument: the fault and, for the stale-source variant, the
 * state the serve loop saw. */
struct work {
	struct work *next;       /* on handler.works */
	uint64_t seq;            /* names its done flag to the simulator */
	int done;                /* the worker will not touch it again */
	struct serve *sv;
	struct uffd_msg msg;     /* a copy, never a pointer into the read buffer (B11) */
	uint64_t offset;
	int pre_state; /* -1: read it under the lock (REF) */
	int retry;     /* a deferred fault dispatched again (sys_retrying) */
};

#endif
