/* tests/conform_probes_queue.c — conformance probes of the uffd message
 * queue and its wake-ups: read order and batches, poll, one message per
 * faulting thread, what wakes a waiter, signals, kernel-mode accesses,
 * SIGBUS, UNREGISTER and release.
 * Each probe settles after every action (tests/conform.h) and logs only
 * what a program can observe; the comment above each probe names the
 * docs/KERNEL.md Model rules it shows and the real-kernel probe (p01-p12) it
 * re-creates. The table of all probes is in tests/conform_probes.c.
 */
#include "tests/conform_probes.h"

#include "tests/conform_probe_util.h"

/* Rules 1-4 (p01 A-D): faults before events whatever the queueing order,
 * FIFO within each queue, batches, EAGAIN/EINVAL, reading a fault does
 * not wake, reading an event completes it at once. */
void cprobe_read_order(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 16, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	/* A: PF queued first, then REMOVE; one read takes both */
	int a_rd = p_read(c, 0);
	p_settle(c);
	int a_mv = p_dontneed(c, 2, 2);
	p_settle(c);
	p_state(c, "A queued", a_mv);
	p_uread(c, "A", 8);
	p_settle(c);
	p_state(c, "A after read", a_mv);
	p_state(c, "A after read", a_rd);
	/* B: REMOVE queued first, PF later: the PF is read first */
	int b_mv = p_dontneed(c, 4, 2);
	p_settle(c);
	int b_rd = p_read(c, 5);
	p_settle(c);
	p_uread(c, "B1", 1);
	p_settle(c);
	p_state(c, "B1", b_mv);
	p_uread(c, "B2", 1);
	p_settle(c);
	p_state(c, "B2", b_mv);
	/* C: FIFO within each queue */
	int c8 = p_read(c, 8);
	p_settle(c);
	int c9 = p_read(c, 9);
	p_settle(c);
	int c10 = p_read(c, 10);
	p_settle(c);
	int m12 = p_dontneed(c, 12, 1);
	p_settle(c);
	int m13 = p_dontneed(c, 13, 1);
	p_settle(c);
	p_uread(c, "C1", 2);
	p_uread(c, "C2", 8);
	p_settle(c);
	p_state(c, "C", m12);
	p_state(c, "C", m13);
	/* D: empty, and a buffer smaller than one message */
	p_uread(c, "D empty", 8);
	p_uread(c, "D small", 0);
	/* serve every reader: each sees what was copied for it */
	p_copy(c, "serve", 0, 1, cc_snap(0), 0);
	p_copy(c, "serve", 5, 1, cc_snap(5), 0);
	p_copy(c, "serve", 8, 3, cc_snap(8), 0);
	p_settle(c);
	p_state(c, "served", a_rd);
	p_state(c, "served", b_rd);
	p_state(c, "served", c8);
	p_state(c, "served", c9);
	p_state(c, "served", c10);
}

/* Rule 5 (p01 E): POLLIN iff an unread fault or a queued event exists;
 * a read-but-waiting fault does not count. */
void cprobe_poll(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	p_poll(c, "empty");
	int rd = p_read(c, 0);
	p_settle(c);
	p_poll(c, "fault queued");
	p_uread(c, "read", 8);
	p_poll(c, "fault read, waiting");
	int mv = p_dontneed(c, 2, 1);
	p_settle(c);
	p_poll(c, "REMOVE queued");
	p_uread(c, "read", 8);
	p_settle(c);
	p_poll(c, "all read");
	p_state(c, "madvise", mv);
	p_copy(c, "serve", 0, 1, cc_snap(0), 0);
	p_settle(c);
	p_state(c, "served", rd);
}

/* Rules 6, 7 (p04 7, p01): one message per faulting thread, flags WRITE
 * for a write, ptid with THREAD_ID; one COPY wakes both waiters. */
void cprobe_fault_threads(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_THREAD_ID, 0))
		return;
	int r0 = p_read(c, 3);
	p_settle(c);
	int r1 = p_read(c, 3);
	p_settle(c);
	p_uread(c, "two readers", 8);
	p_copy(c, "serve", 3, 1, cc_snap(3), 0);
	p_settle(c);
	p_state(c, "served", r0);
	p_state(c, "served", r1);
	int w = p_write(c, 4, 0x41);
	p_settle(c);
	p_uread(c, "writer", 8);
	p_copy(c, "serve", 4, 1, cc_snap(4), 0);
	p_settle(c);
	p_state(c, "served", w);
	p_view(c, "after write", 4);
}

/* Rules 8, 9, 11, 15, 19 (p04 1-6): DONTWAKE installs without waking,
 * EEXIST does not wake, WAKE does; WAKE with no waiter or outside any
 * range is 0; a woken thread retries and faults again (a new message)
 * while its page is missing; the unread message of a woken thread
 * disappears; a message can name a page that is present by now. */
void cprobe_wake(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 16, 0, 0))
		return;
	int h0 = p_read(c, 2);
	p_settle(c);
	p_uread(c, "fault", 1);
	p_copy(c, "dontwake", 2, 1, cc_snap(2), COPY_DW);
	p_settle(c);
	p_state(c, "dontwake", h0);
	p_view(c, "dontwake", 2);
	p_copy(c, "eexist", 2, 1, cc_snap(7), 0);
	p_settle(c);
	p_state(c, "eexist", h0);
	p_view(c, "eexist", 2);
	p_wake(c, "wake", 2, 1);
	p_settle(c);
	p_state(c, "wake", h0);
	p_wake(c, "no waiter", 5, 1);
	p_wake(c, "unregistered", 16, 1);
	/* WAKE without a fill: the thread retries and faults again */
	int h1 = p_read(c, 6);
	p_settle(c);
	p_uread(c, "retry 1", 1);
	p_wake(c, "retry", 6, 1);
	p_settle(c);
	p_state(c, "retry", h1);
	p_uread(c, "retry 2", 8);
	p_copy(c, "retry", 6, 1, cc_snap(6), 0);
	p_settle(c);
	p_state(c, "retry", h1);
	/* a COPY wakes a waiter whose message was never read: it is gone */
	int h2 = p_read(c, 7);
	p_settle(c);
	p_copy(c, "unread", 7, 1, cc_snap(7), 0);
	p_settle(c);
	p_state(c, "unread", h2);
	p_uread(c, "unread", 8);
	/* rule 11: a message read after its page became present (here by
	 * a DONTWAKE fill): the handler's COPY gets EEXIST and wakes nobody;
	 * its WAKE does */
	int h3 = p_read(c, 9);
	p_settle(c);
	p_copy(c, "stale", 9, 1, cc_snap(9), COPY_DW);
	p_uread(c, "stale", 8);
	p_copy(c, "stale", 9, 1, cc_snap(9), 0);
	p_settle(c);
	p_state(c, "stale", h3);
	p_wake(c, "stale", 9, 1);
	p_settle(c);
	p_state(c, "stale", h3);
}

/* Rules 10, 28 (p11, p12): a signal ends a fault wait: the thread runs its
 * handler and retries, queueing a new message (an unread one is dropped,
 * so one message is left; a read one stays read, so a duplicate appears).
 * A caller waiting for its event sleeps killably: a non-fatal signal does
 * not end that wait. */
void cprobe_signals(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	int r = p_read(c, 0);
	p_settle(c);
	p_signal(c, "unread", r);
	p_settle(c);
	p_state(c, "unread", r);
	p_uread(c, "unread", 8);
	p_signal(c, "read", r);
	p_settle(c);
	p_state(c, "read", r);
	p_uread(c, "read", 8);
	int mv = p_dontneed(c, 4, 1);
	p_settle(c);
	p_signal(c, "event wait", mv);
	p_settle(c);
	p_state(c, "event wait", mv);
	p_uread(c, "event wait", 8);
	p_settle(c);
	p_state(c, "event wait", mv);
	p_copy(c, "serve", 0, 1, cc_snap(0), 0);
	p_settle(c);
	p_state(c, "served", r);
}

/* Rule 12 (p10): a system call touching a missing page faults and blocks
 * inside the call, with a message like a user access's. */
void cprobe_kernel_access(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 4, 0, 0))
		return;
	int k = p_kread(c, 1);
	p_settle(c);
	p_state(c, "missing", k);
	p_uread(c, "missing", 8);
	p_copy(c, "serve", 1, 1, cc_snap(1), 0);
	p_settle(c);
	p_state(c, "served", k);
	int k2 = p_kread(c, 1);
	p_settle(c);
	p_state(c, "present", k2);
}

/* Rule 41 (p09 4): UFFD_FEATURE_SIGBUS: a MISSING fault raises SIGBUS in
 * the faulting thread (a system call's access fails with EFAULT) and
 * queues nothing; COPY and events work as usual. */
void cprobe_sigbus(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 4, UFFD_FEATURE_SIGBUS | UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	int r = p_read(c, 0);
	p_settle(c);
	p_state(c, "read", r);
	int w = p_write(c, 1, 0xb1);
	p_settle(c);
	p_state(c, "write", w);
	int k = p_kread(c, 2);
	p_settle(c);
	p_state(c, "kernel read", k);
	p_uread(c, "nothing queued", 8);
	p_copy(c, "copy", 0, 1, cc_snap(0), 0);
	int r2 = p_read(c, 0);
	p_settle(c);
	p_state(c, "copy", r2);
	int mv = p_dontneed(c, 0, 1);
	p_settle(c);
	p_state(c, "remove", mv);
	p_uread(c, "remove", 8);
	p_settle(c);
	p_state(c, "remove", mv);
}

/* Rule 40 (p09 1, 2): closing the last reference releases the uffd: every
 * fault waiter (read or unread) retries against plain memory and every
 * event waiter returns. */
void cprobe_release(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	int r0 = p_read(c, 0);
	p_settle(c);
	int r1 = p_read(c, 1);
	p_settle(c);
	p_uread(c, "one read", 1);
	int mv = p_dontneed(c, 4, 1);
	p_settle(c);
	p_state(c, "before", mv);
	p_rc(c, "release", e->ops->release(e));
	p_settle(c);
	p_state(c, "released", r0);
	p_state(c, "released", r1);
	p_state(c, "released", mv);
	p_view(c, "released", 0);
}

/* Rule 20 (p04 10): UNREGISTER wakes the MISSING waiters of the range
 * (read or unread); they then see plain anonymous memory, and a COPY there
 * is ENOENT whether the page is absent or present (rule 17: the VMA check
 * comes before the PTE), which fc-example's deferred retry meets. */
void cprobe_unregister(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 4, 0, 0))
		return;
	int r0 = p_read(c, 0);
	p_settle(c);
	p_uread(c, "read", 8);
	int r1 = p_read(c, 1);
	p_settle(c);
	p_reg(c, "unregister", 0, e->pages, 0);
	p_settle(c);
	p_state(c, "unregistered", r0);
	p_state(c, "unregistered", r1);
	p_copy(c, "unregistered", 2, 1, cc_snap(2), 0);
	p_copy(c, "unregistered", 0, 1, cc_snap(0), 0);
}
