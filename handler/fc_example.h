/* handler/fc_example.h — the `fc-example` handler: Firecracker's example
 * on-demand handler (src/firecracker/examples/uffd/on_demand_handler.rs and
 * uffd_utils.rs, since e313163; docs/HANDLER.md B36, §4.3).
 *
 * Contract: one serve thread polls {uffd, exit pipe}; on POLLIN it runs the
 * example's dispatch closure: take the deferred events, read every message
 * (one per read, until EAGAIN), handle them in read order — PAGEFAULT:
 * COPY one page from the snapshot with wake; EEXIST is fine; a result of 0
 * or -EAGAIN defers the event; REMOVE: UFFDIO_UNREGISTER of its range; any
 * other event, any other COPY or UNREGISTER error, a failed read: panic —
 * and go round again until nothing is deferred. A panic (the example's
 * panic hook kills Firecracker) ends the loop with the handler's error.
 * The exit pipe is the test harness's (the example runs until killed);
 * pause/resume/stop use it. No per-page record: page_view and the export
 * say HPAGE_UNKNOWN. prefault installs nothing (the example has no
 * prefetcher). Everything through sys.h. */
#ifndef UFFDLAB_FC_EXAMPLE_H
#define UFFDLAB_FC_EXAMPLE_H

#include "handler.h"

/* A growable list of messages (the example's Vec<Event>). */
struct fcx_list {
	struct uffd_msg *m;
	int n, cap;
};

struct fcx {
	struct handler base; /* first: the interface's view */
	sys_t *sys;
	const struct sys_ops *o;
	struct handler_config cfg;
	uint64_t pages;
	int exit_fds[2];     /* the running loop's exit pipe, -1 when none */
	sys_thread_t *serve_thr;
	struct fcx_list deferred, events; /* the closure's two vectors */
	int err;             /* the panic's errno */
	char errmsg[256];
	struct handler_stats st;
};

extern const struct handler_ops fc_example_ops;

#endif
