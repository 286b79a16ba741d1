/* tests/conform_probes_remove.c — conformance probes of madvise(DONTNEED)
 * and REMOVE, VMA by VMA, without EVENT_REMOVE; munmap and UNMAP; the race
 * of a COPY with madvise's last two steps.
 * Each probe settles after every action (tests/conform.h) and logs only
 * what a program can observe; the comment above each probe names the
 * docs/KERNEL.md Model rules it shows and the real-kernel probe (p01-p12) it
 * re-creates. The table of all probes is in tests/conform_probes.c.
 */
#include "tests/conform_probes.h"

#include <errno.h>

#include "tests/conform_probe_util.h"

/* Rules 21-24, 26 (p02 1, 2, 7; p04 8): madvise blocks until its REMOVE
 * is read; until then present pages stay readable and writable and
 * missing ones fault normally; the REMOVE covers the range whatever is
 * present; the zap comes after the read; a thread blocked on a page of
 * the range stays blocked; the next access is a MISSING fault. */
void cprobe_remove(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	p_copy(c, "setup", 0, 1, cc_snap(0), 0);
	p_copy(c, "setup", 2, 1, cc_snap(2), 0);
	int mv = p_dontneed(c, 0, 4);
	p_settle(c);
	p_state(c, "unread", mv);
	p_view(c, "unread", 0);
	p_view(c, "unread", 1);
	p_view(c, "unread", 2);
	int r0 = p_read(c, 0);
	p_settle(c);
	p_state(c, "unread", r0);
	int w2 = p_write(c, 2, 0x51);
	p_settle(c);
	p_state(c, "unread", w2);
	p_view(c, "unread", 2);
	int r1 = p_read(c, 1);
	p_settle(c);
	p_state(c, "unread", r1);
	p_uread(c, "read", 8);
	p_settle(c);
	p_state(c, "zapped", mv);
	p_view(c, "zapped", 0);
	p_view(c, "zapped", 2);
	p_state(c, "zapped", r1);
	p_zero(c, "serve", 1, 1, 0);
	p_settle(c);
	p_state(c, "served", r1);
	int r3 = p_read(c, 0);
	p_settle(c);
	p_uread(c, "refault", 8);
	p_zero(c, "serve", 0, 1, 0);
	p_settle(c);
	p_state(c, "served", r3);
	int m2 = p_dontneed(c, 6, 2);
	p_settle(c);
	p_uread(c, "all missing", 8);
	p_settle(c);
	p_state(c, "all missing", m2);
	/* madvise's own arguments: length rounded up, empty, misaligned */
	int m3 = p_madvise(c, 5 * e->ps, 100);
	p_settle(c);
	p_uread(c, "len 100", 8);
	p_settle(c);
	p_state(c, "len 100", m3);
	int m4 = p_madvise(c, 5 * e->ps, 0);
	p_settle(c);
	p_state(c, "len 0", m4);
	int m5 = p_madvise(c, 5 * e->ps + 8, e->ps);
	p_settle(c);
	p_state(c, "unaligned", m5);
	p_uread(c, "no events", 8);
}

/* Rule 27 (p02 6): without EVENT_REMOVE madvise zaps at once, never
 * blocks, sends nothing; the next access is a MISSING fault. */
void cprobe_no_event_remove(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 4, 0, 0))
		return;
	p_copy(c, "setup", 0, 1, cc_snap(0), 0);
	int mv = p_dontneed(c, 0, 2);
	p_settle(c);
	p_state(c, "madvise", mv);
	p_uread(c, "madvise", 8);
	p_view(c, "madvise", 0);
	int r = p_read(c, 0);
	p_settle(c);
	p_uread(c, "refault", 8);
	p_copy(c, "serve", 0, 1, cc_snap(0), 0);
	p_settle(c);
	p_state(c, "served", r);
}

/* Rule 21 (p02 3, 4): madvise walks the range VMA by VMA: a VMA not
 * registered is zapped at once without an event, a registered one gets
 * its own REMOVE (clipped to it) and is zapped only after that was read,
 * and the next VMA waits for that. */
void cprobe_remove_vmas(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	/* VMAs: [p0,p2) plain, [p2,p4) registered, [p4,p6) plain, [p6,p8) registered */
	p_reg(c, "split", 0, 2, 0);
	p_reg(c, "split", 4, 2, 0);
	int w0 = p_write(c, 0, 0xa1);
	p_settle(c);
	int w4 = p_write(c, 4, 0xa4);
	p_settle(c);
	p_state(c, "plain pages", w0);
	p_state(c, "plain pages", w4);
	p_uread(c, "plain pages", 8);
	p_copy(c, "setup", 2, 1, cc_snap(2), 0);
	p_copy(c, "setup", 6, 1, cc_snap(6), 0);
	int mv = p_dontneed(c, 0, 8);
	p_settle(c);
	p_state(c, "first REMOVE", mv);
	for (int p = 0; p < 8; p += 2)
		p_view(c, "first REMOVE", p);
	p_uread(c, "first REMOVE", 8);
	p_settle(c);
	p_state(c, "second REMOVE", mv);
	for (int p = 0; p < 8; p += 2)
		p_view(c, "second REMOVE", p);
	p_uread(c, "second REMOVE", 8);
	p_settle(c);
	p_state(c, "done", mv);
	p_view(c, "done", 6);
}

/* Rule 37 (p08 1): munmap unmaps, then queues UNMAP and blocks until it
 * is read; meanwhile fills get EAGAIN; afterwards the range is gone
 * (ENOENT). */
void cprobe_unmap(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_EVENT_UNMAP, 0))
		return;
	p_copy(c, "setup", 1, 1, cc_snap(1), 0);
	int mu = p_munmap(c, 1, 2);
	p_settle(c);
	p_state(c, "unread", mu);
	p_view(c, "unread", 1);
	p_copy(c, "unread", 5, 1, cc_snap(5), 0);
	p_uread(c, "read", 8);
	p_settle(c);
	p_state(c, "read", mu);
	p_copy(c, "unmapped", 1, 1, cc_snap(1), 0);
	p_copy(c, "elsewhere", 5, 1, cc_snap(5), 0);
	int r = p_read(c, 2);
	p_settle(c);
	p_state(c, "read unmapped", r);
	/* madvise over a hole: the mapped parts are zapped, ENOMEM */
	p_copy(c, "hole", 0, 1, cc_snap(0), 0);
	p_copy(c, "hole", 3, 1, cc_snap(3), 0);
	int mv = p_dontneed(c, 0, 4);
	p_settle(c);
	p_state(c, "hole", mv);
	p_uread(c, "hole", 8);
	p_view(c, "hole", 0);
	p_view(c, "hole", 3);
}

/* Rule 25 (p03 2, p05): after the REMOVE is read, a COPY into the removed
 * page races madvise's resume and zap: EAGAIN (before the resume),
 * success then zapped (between resume and zap), or success kept (after
 * the zap). Deliberately no settle between the read and the COPY. */
void cprobe_remove_race(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);
	struct cview v;

	if (p_open(c, KB4, 4, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	int mv = p_dontneed(c, 1, 1);
	p_settle(c);
	p_uread(c, "read", 1);
	int rc = p_copy(c, "race", 1, 1, cc_snap(1), 0);
	p_settle(c);
	p_state(c, "after", mv);
	if (e->ops->view(e, 1, &v)) {
		clog_add(L, "ERROR view p1");
		return;
	}
	if (rc == -EAGAIN && !v.present)
		clog_add(L, C_OUTCOME_PREFIX "EAGAIN");
	else if (rc == 0 && !v.present)
		clog_add(L, C_OUTCOME_PREFIX "copied-zapped");
	else if (rc == 0 && v.present && v.content.kind == CC_SNAP &&
		 v.content.arg == 1)
		clog_add(L, C_OUTCOME_PREFIX "copied-kept");
	else
		clog_add(L, C_OUTCOME_PREFIX "unexpected rc=%d present=%d", rc,
			 v.present);
}
