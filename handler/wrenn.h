/* handler/wrenn.h — the `wrenn` handler: Wrenn's uffd server as in the seed
 * (wrenn-releases internal/uffd/server.go, c93ad5e2db; docs/HANDLER.md B35).
 *
 * Contract: a serve thread polls {uffd, exit pipe} and reads one message per
 * wake-up (EAGAIN: back to poll); PAGEFAULT starts one worker, bounded by a
 * semaphore of max_workers slots (4096: maxConcurrentFaults); REMOVE, UNMAP,
 * REMAP and FORK are skipped; any other event ends the loop with an error.
 * A worker reads the page from the source and COPYs it with mode 0; EEXIST
 * is success, any other error is logged (counted) and the fault dropped.
 * prefault() is one page of Prefetch(): COPY mode 0, errors counted; with
 * cfg.prefetch_all start() also runs Prefetch() itself, a thread walking
 * every page. The handshake gives Wrenn its own fd of the uffd (a dup: what
 * SCM_RIGHTS hands it); serve closes it whenever it returns (but for a
 * harness pause), and stop
 * = cancel prefetch, signal exit, wait for serve, then for the prefetcher.
 * There is no tracker: page_view and the export say HPAGE_UNKNOWN for every
 * page. pause/resume are the test harness's (Wrenn has neither): signal
 * exit, wait for the loop and its workers; a fresh loop on the same fd.
 * Everything through sys.h. */
#ifndef UFFDLAB_WRENN_H
#define UFFDLAB_WRENN_H

#include "handler.h"

/* One worker's fault, on h->live until it ends (reachable for discard). */
struct wrenn_work {
	struct wrenn_work *next, *prev;
	struct wrenn *h;
	uint64_t addr;   /* the fault address as read: Wrenn copies there */
	uint64_t offset; /* its snapshot offset (Mapping.GetOffset) */
};

struct wrenn {
	struct handler base; /* first: the interface's view */
	sys_t *sys;
	const struct sys_ops *o;
	struct handler_config cfg;
	uint64_t pages;
	int exit_fds[2];     /* the running loop's exit pipe, -1 when none */
	int uffd;            /* Wrenn's own fd of the uffd (s.uffdFd), -1 before */
	int uffd_open;       /* not yet closed: serve's and free's only */
	sys_thread_t *serve_thr;
	sys_thread_t *prefetch_thr;
	uint64_t pausing;        /* sys atomic: a harness pause: keep the fd */
	uint64_t prefetch_cancel; /* sys atomic: prefetchCancel() */
	/* the semaphore and the WaitGroup as one count under mu: a worker
	 * holds a slot from dispatch until it ends */
	sys_mutex_t *mu;
	sys_cond_t *cv;
	int inflight;
	struct wrenn_work *live;    /* under mu */
	struct wrenn_work *pending; /* allocated, not yet on live */
	int serve_err;       /* the loop's error (doneErr), first one kept */
	char errmsg[256];
	struct handler_stats st;
	uint64_t dropped;    /* faults logged and abandoned */
	uint64_t prefetch_errors;
};

extern const struct handler_ops wrenn_ops;

#endif
