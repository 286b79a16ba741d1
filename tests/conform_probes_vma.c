/* tests/conform_probes_vma.c — conformance probes of the smaller
 * divergences an independent check found: a WP fault under the SIGBUS
 * feature, and VMAs merging again after unregister + re-register
 * (docs/KERNEL.md rules 21, 41). Logged as the other probes are; the
 * table is in tests/conform_probes.c.
 */
#include "tests/conform_probes.h"

#include <stdio.h>

#include "tests/conform_probe_util.h"

/* Rule 41: with UFFD_FEATURE_SIGBUS a write to a write-protected page
 * raises SIGBUS (EFAULT here) and queues nothing: handle_userfault looks
 * at the feature before the fault's reason. */
void cprobe_sigbus_wp(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 4, UFFD_FEATURE_SIGBUS, 1))
		return;
	p_copy(c, "setup", 0, 1, cc_snap(0), COPY_WP);
	int h0 = p_write(c, 0, 0x31);
	p_settle(c);
	p_state(c, "write wp page", h0);
	p_uread(c, "nothing queued", 8);
	p_view(c, "unchanged", 0);
	int h1 = p_read(c, 0);
	p_settle(c);
	p_state(c, "read wp page", h1);
}

/* Rule 21 with VMA merging: alternate pages unregistered (20 splits, 40
 * VMAs), then all registered again with the same mode: one VMA, so one
 * REMOVE for the whole range. */
void cprobe_vma_merge(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);
	int fails = 0;

	if (p_open(c, KB4, 40, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	for (int p = 1; p < 40; p += 2)
		fails += e->ops->reg(e, p, 1, 0) != 0;
	clog_add(L, "split: %d of 20 unregisters failed", fails);
	p_reg(c, "merge", 0, 40, UFFDIO_REGISTER_MODE_MISSING);
	int h0 = p_dontneed(c, 0, 40);
	p_settle(c);
	p_uread(c, "one REMOVE", 8);
	p_settle(c);
	p_state(c, "one REMOVE", h0);
	p_reg(c, "same mode", 4, 2, UFFDIO_REGISTER_MODE_MISSING);
	int h1 = p_dontneed(c, 0, 40);
	p_settle(c);
	p_uread(c, "still one", 8);
	p_settle(c);
	p_state(c, "still one", h1);
}

/* Rules 37, 38: mremap(MREMAP_FIXED) onto a mapped, registered range
 * unmaps it first: early UNMAP of the target, then REMAP, then UNMAP of
 * the old range, the caller blocked until each is read; a target that
 * overlaps the old range is EINVAL. */
void cprobe_remap(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_UNMAP, 0))
		return;
	p_copy(c, "setup", 0, 1, cc_snap(0), 0);
	int h0 = p_mremap(c, 0, 2, 4);
	p_settle(c);
	p_state(c, "target unmap", h0);
	p_uread(c, "target unmap", 8);
	p_settle(c);
	p_state(c, "remap", h0);
	/* one message: reading REMAP wakes the mremap, which on another CPU
	 * can queue the old range's UNMAP before this read's loop looks for
	 * a second message (seen once in a make test on 2 cores) */
	p_uread(c, "remap", 1);
	p_settle(c);
	p_state(c, "old unmap", h0);
	p_uread(c, "old unmap", 8);
	p_settle(c);
	p_state(c, "done", h0);
	int h1 = p_mremap(c, 6, 2, 7);
	p_settle(c);
	p_state(c, "overlap", h1);
	p_uread(c, "overlap", 8);
}

static void proc_line(struct pc *c, const char *tag, int h)
{
	long pending = -1, total = -1;
	char st[96];

	if (c->e->ops->fdinfo(c->e, &pending, &total))
		clog_add(c->L, "ERROR %s: fdinfo", tag);
	c->e->ops->wstate(c->e, h, st, sizeof st);
	clog_add(c->L, "%s: pending=%ld total=%ld h%d %s", tag, pending, total, h, st);
}

/* Rule 43: fdinfo's pending counts unread faults, total also the read
 * ones still waiting; a fault sleeps in S handle_userfault, an event in
 * D userfaultfd_event_wait_completion. */
void cprobe_proc(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	int h0 = p_read(c, 0);
	p_settle(c);
	proc_line(c, "unread fault", h0);
	p_uread(c, "read", 8);
	proc_line(c, "read fault", h0);
	int h1 = p_dontneed(c, 4, 1);
	p_settle(c);
	proc_line(c, "event", h1);
	p_uread(c, "event read", 8);
	p_settle(c);
	p_copy(c, "served", 0, 1, cc_snap(0), 0);
	p_settle(c);
	proc_line(c, "served", h0);
}
