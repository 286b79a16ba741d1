/* tests/conform_probes_wp.c — conformance probes of write-protect:
 * COPY_MODE_WP, WRITEPROTECT, WP faults, markers (WP_UNPOPULATED),
 * WP_ASYNC, and ZEROPAGE over a marker.
 * Each probe settles after every action (tests/conform.h) and logs only
 * what a program can observe; the comment above each probe names the
 * docs/KERNEL.md Model rules it shows and the real-kernel probe (p01-p12) it
 * re-creates. The table of all probes is in tests/conform_probes.c.
 */
#include "tests/conform_probes.h"

#include "tests/conform_probe_util.h"

/* Rules 9, 24, 33, 34, 35 (p06 1-5, 9): COPY_MODE_WP installs present+WP;
 * reads pass, writes fault WP|WRITE; COPY over it -> EEXIST; WP|DONTWAKE
 * -> EINVAL; un-protect with DONTWAKE does not wake, mode 0 does (every
 * waiter of the range, a MISSING one too); a WAKE while still protected
 * makes the write fault again; a write to a missing page faults WRITE
 * and, answered with COPY_MODE_WP, faults again WP|WRITE; without
 * WP_UNPOPULATED nothing marks a missing page; on anon DONTNEED takes the
 * protection with the page. */
/* Pages 0 and 1: a COPY_MODE_WP page read and written, DONTWAKE
 * un-protect and WAKE; WRITEPROTECT of a present page, mode 0 wakes. */
static void wp_present_pages(struct pc *c)
{
	p_copy(c, "copy wp", 0, 1, cc_snap(0), COPY_WP);
	p_view(c, "copy wp", 0);
	int r = p_read(c, 0);
	p_settle(c);
	p_state(c, "read wp page", r);
	int w0 = p_write(c, 0, 0x61);
	p_settle(c);
	p_state(c, "write wp page", w0);
	p_uread(c, "write wp page", 8);
	p_copy(c, "over wp page", 0, 1, cc_snap(0), 0);
	p_wp(c, "wp|dontwake", 0, 1, WP_ON | WP_DW);
	p_wp(c, "unprotect dontwake", 0, 1, WP_DW);
	p_view(c, "unprotect dontwake", 0);
	p_settle(c);
	p_state(c, "unprotect dontwake", w0);
	p_wake(c, "wake", 0, 1);
	p_settle(c);
	p_state(c, "wake", w0);
	p_view(c, "wake", 0);
	/* WRITEPROTECT a present page; un-protect (mode 0) wakes */
	p_copy(c, "setup", 1, 1, cc_snap(1), 0);
	p_wp(c, "protect", 1, 1, WP_ON);
	p_view(c, "protect", 1);
	int w1 = p_write(c, 1, 0x62);
	p_settle(c);
	p_uread(c, "protect", 8);
	p_wp(c, "unprotect", 1, 1, 0);
	p_settle(c);
	p_state(c, "unprotect", w1);
	p_view(c, "unprotect", 1);
}

/* Pages 2 to 7: rules 34, 35 (no WP_UNPOPULATED), 9, 33 and 24. */
static void wp_missing_pages(struct pc *c)
{
	/* rule 34 */
	int w2 = p_write(c, 2, 0x63);
	p_settle(c);
	p_uread(c, "write missing", 8);
	p_copy(c, "write missing", 2, 1, cc_snap(2), COPY_WP);
	p_settle(c);
	p_state(c, "write missing", w2);
	p_uread(c, "write missing", 8);
	p_wp(c, "write missing", 2, 1, 0);
	p_settle(c);
	p_state(c, "write missing", w2);
	p_view(c, "write missing", 2);
	/* rule 35 without WP_UNPOPULATED */
	p_wp(c, "unpopulated", 4, 1, WP_ON);
	p_view(c, "unpopulated", 4);
	/* rule 9: WAKE while still protected: the retried write faults again */
	p_copy(c, "setup", 5, 1, cc_snap(5), COPY_WP);
	int w5 = p_write(c, 5, 0x65);
	p_settle(c);
	p_uread(c, "wake protected", 8);
	p_wake(c, "wake protected", 5, 1);
	p_settle(c);
	p_state(c, "wake protected", w5);
	p_uread(c, "wake protected", 8);
	p_wp(c, "wake protected", 5, 1, 0);
	p_settle(c);
	p_state(c, "wake protected", w5);
	/* rule 33: un-protect wakes every waiter of the range, a MISSING one
	 * too, which then faults again */
	int r6 = p_read(c, 6);
	p_settle(c);
	p_uread(c, "unprotect missing", 8);
	p_wp(c, "unprotect missing", 6, 1, 0);
	p_settle(c);
	p_state(c, "unprotect missing", r6);
	p_uread(c, "unprotect missing", 8);
	p_copy(c, "unprotect missing", 6, 1, cc_snap(6), 0);
	p_settle(c);
	p_state(c, "unprotect missing", r6);
	/* rule 24: on anon the zap takes the protection with the page */
	p_copy(c, "setup", 7, 1, cc_snap(7), COPY_WP);
	int mv = p_dontneed(c, 7, 1);
	p_settle(c);
	p_state(c, "dontneed wp page", mv);
	p_view(c, "dontneed wp page", 7);
	int w7 = p_write(c, 7, 0x67);
	p_settle(c);
	p_uread(c, "dontneed wp page", 8);
	p_copy(c, "dontneed wp page", 7, 1, cc_snap(7), 0);
	p_settle(c);
	p_state(c, "dontneed wp page", w7);
}

void cprobe_wp(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, 0, 1))
		return;
	wp_present_pages(c);
	wp_missing_pages(c);
}

/* Rules 24, 35 (p06 6): with WP_UNPOPULATED, WRITEPROTECT marks missing
 * pages (bit 57, not present). In a MISSING|WP range the next write is
 * still a MISSING fault; in a WP-only range it is a WP fault, and a read
 * maps the zero page keeping the protection. COPY over a marker installs
 * an unprotected page, un-protecting removes a marker, and on anon a zap
 * removes it too. */
void cprobe_wp_unpopulated(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_WP_UNPOPULATED, 1))
		return;
	p_wp(c, "marker", 0, 1, WP_ON);
	p_view(c, "marker", 0);
	int w0 = p_write(c, 0, 0x71);
	p_settle(c);
	p_uread(c, "missing|wp", 8);
	p_copy(c, "missing|wp", 0, 1, cc_snap(0), 0);
	p_settle(c);
	p_state(c, "missing|wp", w0);
	p_view(c, "missing|wp", 0);
	p_reg(c, "wp only", 0, e->pages, UFFDIO_REGISTER_MODE_WP);
	p_wp(c, "wp only", 1, 2, WP_ON);
	p_view(c, "wp only", 1);
	int w1 = p_write(c, 1, 0x72);
	p_settle(c);
	p_uread(c, "wp only", 8);
	p_wp(c, "wp only", 1, 1, 0);
	p_settle(c);
	p_state(c, "wp only", w1);
	p_view(c, "wp only", 1);
	int r2 = p_read(c, 2);
	p_settle(c);
	p_state(c, "wp only read", r2);
	p_view(c, "wp only read", 2);
	/* COPY over a marker installs (mfill_atomic_install_pte() accepts
	 * pte_none_mostly(); ZEROPAGE is cprobe_zeropage_marker's) */
	p_wp(c, "copy marker", 4, 1, WP_ON);
	p_view(c, "copy marker", 4);
	p_copy(c, "copy marker", 4, 1, cc_snap(4), 0);
	p_view(c, "copy marker", 4);
	/* un-protecting a marker removes it */
	p_wp(c, "unmark", 5, 1, WP_ON);
	p_view(c, "unmark", 5);
	p_wp(c, "unmark", 5, 1, 0);
	p_view(c, "unmark", 5);
	/* rule 24 on anon: a zap takes a marker with it too */
	p_wp(c, "zap marker", 6, 1, WP_ON);
	int mv = p_dontneed(c, 6, 1);
	p_settle(c);
	p_state(c, "zap marker", mv);
	p_view(c, "zap marker", 6);
}

/* Rule 36 (p06 7, 8): WP_ASYNC: a write to a protected page sends no
 * message, clears the WP bit and goes through; protecting a missing page
 * leaves a marker (WP_ASYNC implies WP_UNPOPULATED). */
void cprobe_wp_async(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_WP_ASYNC, 1))
		return;
	p_copy(c, "setup", 0, 1, cc_snap(0), COPY_WP);
	p_copy(c, "setup", 1, 1, cc_snap(1), COPY_WP);
	int w = p_write(c, 1, 0x81);
	p_settle(c);
	p_state(c, "async write", w);
	p_uread(c, "async write", 8);
	p_view(c, "async write", 0);
	p_view(c, "async write", 1);
	p_wp(c, "reprotect", 1, 1, WP_ON);
	p_view(c, "reprotect", 1);
	p_wp(c, "unpopulated", 2, 1, WP_ON);
	p_view(c, "unpopulated", 2);
	int w2 = p_write(c, 2, 0x82);
	p_settle(c);
	p_state(c, "write marker", w2);
	p_uread(c, "write marker", 8);
	p_copy(c, "write marker", 2, 1, cc_snap(2), 0);
	p_settle(c);
	p_state(c, "write marker", w2);
	p_view(c, "write marker", 2);
}

/* ZEROPAGE over a uffd-wp marker (anon MISSING|WP with WP_UNPOPULATED,
 * or WP_ASYNC which implies it): unlike COPY, whose
 * mfill_atomic_install_pte() accepts pte_none_mostly(), 6.18's
 * mfill_atomic_pte_zeropage() demands pte_none() and so fails with EEXIST
 * on a marker, leaving it in place and waking nobody. A reader blocked on
 * the marker page (a MISSING fault) then needs a COPY; a WAKE only makes
 * it fault again. */
static void zeropage_marker(struct cenv *e, struct clog *L, uint64_t features)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 4, features, 1))
		return;
	p_wp(c, "marker", 0, 1, WP_ON);
	p_view(c, "marker", 0);
	int r = p_read(c, 0);
	p_settle(c);
	p_uread(c, "fault", 8);
	p_zero(c, "zeropage", 0, 1, 0);
	p_settle(c);
	p_state(c, "zeropage", r);
	p_view(c, "zeropage", 0);
	p_wake(c, "wake", 0, 1);
	p_settle(c);
	p_state(c, "wake", r);
	p_uread(c, "wake", 8);
	p_copy(c, "copy zeros", 0, 1, cc_zero(), 0);
	p_settle(c);
	p_state(c, "copy zeros", r);
	p_view(c, "copy zeros", 0);
}

void cprobe_zeropage_marker(struct cenv *e, struct clog *L)
{
	zeropage_marker(e, L, UFFD_FEATURE_WP_UNPOPULATED);
}

void cprobe_zeropage_marker_async(struct cenv *e, struct clog *L)
{
	zeropage_marker(e, L, UFFD_FEATURE_WP_ASYNC);
}
