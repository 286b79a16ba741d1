/* tests/conform_probes_fill.c — conformance probes of COPY and ZEROPAGE:
 * partial progress and its wake, argument validation, the output field,
 * the zero page, EAGAIN while mmap_changing is raised.
 * Each probe settles after every action (tests/conform.h) and logs only
 * what a program can observe; the comment above each probe names the
 * docs/KERNEL.md Model rules it shows and the real-kernel probe (p01-p12) it
 * re-creates. The table of all probes is in tests/conform_probes.c.
 */
#include "tests/conform_probes.h"

#include "tests/conform_probe_util.h"

/* Rules 14, 15 (p03 3, p04 11): fills stop at the first present page;
 * some done -> EAGAIN with the bytes done, none -> the error in both; a
 * partial fill wakes only the filled prefix. */
void cprobe_partial(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 16, 0, 0))
		return;
	p_copy(c, "setup", 14, 1, cc_snap(14), 0);
	p_copy(c, "partial", 12, 4, cc_snap(1), 0);
	for (int p = 12; p < 16; p++)
		p_view(c, "partial", p);
	p_copy(c, "first present", 14, 2, cc_snap(1), 0);
	p_view(c, "first present", 15);
	p_zero(c, "setup", 4, 1, 0);
	p_zero(c, "zero partial", 3, 2, 0);
	p_view(c, "zero partial", 3);
	p_copy_raw(c, "bad source", c_addr(e, 6), e->ps, NULL, 0, 1);
	p_view(c, "bad source", 6);
	/* only the prefix is woken */
	p_zero(c, "setup", 10, 1, 0);
	int h0 = p_read(c, 8);
	p_settle(c);
	int h1 = p_read(c, 11);
	p_settle(c);
	p_uread(c, "waiters", 8);
	p_copy(c, "prefix", 8, 4, cc_snap(8), 0);
	p_settle(c);
	p_state(c, "prefix", h0);
	p_state(c, "prefix", h1);
	p_copy(c, "rest", 11, 1, cc_snap(11), 0);
	p_settle(c);
	p_state(c, "rest", h1);
}

/* Rules 17, 19 (p03 4, p06 5): alignment -> EINVAL, no registered VMA or
 * crossing its end -> ENOENT, COPY_MODE_WP without WP registration ->
 * EINVAL, WAKE checks alignment only, WRITEPROTECT needs WP registration.
 * Only results: what the output field holds when the kernel refused the
 * call before looking at it is cprobe_field_untouched's question. */
void cprobe_validation(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);
	struct cc s0 = cc_snap(0);

	if (p_open(c, KB4, 8, 0, 0))
		return;
	p_copy_raw(c, "dst unaligned", c_addr(e, 0) + 8, e->ps, &s0, 0, 0);
	p_copy_raw(c, "len 100", c_addr(e, 0), 100, &s0, 0, 0);
	p_copy_raw(c, "len 0", c_addr(e, 0), 0, &s0, 0, 0);
	p_copy_raw(c, "unknown mode", c_addr(e, 0), e->ps, &s0, 0x10, 0);
	p_zero_raw(c, "dst unaligned", c_addr(e, 0) + 8, e->ps, 0, 0);
	p_copy_raw(c, "outside", c_addr(e, 8), e->ps, &s0, 0, 1);
	p_copy_raw(c, "crosses end", c_addr(e, 7), 2 * e->ps, &s0, 0, 1);
	p_copy_raw(c, "WP mode, no WP", c_addr(e, 0), e->ps, &s0, COPY_WP, 1);
	p_wake_raw(c, "unaligned", c_addr(e, 0) + 8, e->ps);
	p_wake_raw(c, "len 0", c_addr(e, 0), 0);
	p_wake(c, "unregistered", 8, 1);
	p_wp(c, "no WP registration", 0, 1, WP_ON);
	p_zero_raw(c, "zeropage mode WP", c_addr(e, 0), e->ps, COPY_WP, 0);
	p_wp_raw(c, "unknown mode", c_addr(e, 0), e->ps, 0x4);
	p_wp_raw(c, "unaligned", c_addr(e, 0) + 8, e->ps, WP_ON);
	p_view(c, "untouched", 0);
	p_view(c, "untouched", 7);
}

/* The output field after a call the kernel refused before filling
 * anything (validation, unknown mode): the kernel leaves the field as
 * the caller set it; sys.h says what a handler sees then. */
void cprobe_field_untouched(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);
	struct cc s0 = cc_snap(0);

	if (p_open(c, KB4, 4, 0, 0))
		return;
	p_copy_raw(c, "dst unaligned", c_addr(e, 0) + 8, e->ps, &s0, 0, 1);
	p_copy_raw(c, "unknown mode", c_addr(e, 0), e->ps, &s0, 0x10, 1);
	p_zero_raw(c, "len 0", c_addr(e, 0), 0, 0, 1);
}

/* Rule 18 (p10): ZEROPAGE maps the zero page; COPY and ZEROPAGE over it
 * -> EEXIST; a guest write to it completes without a message; ZEROPAGE
 * wakes a waiter. */
void cprobe_zeropage(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, 0, 0))
		return;
	p_zero(c, "zeropage", 3, 1, 0);
	p_view(c, "zeropage", 3);
	p_copy(c, "over zero page", 3, 1, cc_snap(3), 0);
	p_zero(c, "over zero page", 3, 1, 0);
	int w = p_write(c, 3, 0x42);
	p_settle(c);
	p_state(c, "write", w);
	p_uread(c, "write", 8);
	p_view(c, "write", 3);
	int r = p_read(c, 5);
	p_settle(c);
	p_zero(c, "serve", 5, 1, 0);
	p_settle(c);
	p_state(c, "served", r);
	int r2 = p_read(c, 6);
	p_settle(c);
	p_zero(c, "dontwake", 6, 1, UFFDIO_ZEROPAGE_MODE_DONTWAKE);
	p_settle(c);
	p_state(c, "dontwake", r2);
	p_wake(c, "dontwake", 6, 1);
	p_settle(c);
	p_state(c, "dontwake", r2);
}

/* Rules 13, 29 (p03 1): while a REMOVE is unread every COPY, ZEROPAGE and
 * WRITEPROTECT of this uffd fails with EAGAIN (field -EAGAIN) for any
 * address; WAKE does not; mmap_changing is a counter, one per event. */
void cprobe_mmap_changing(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_EVENT_REMOVE, 1))
		return;
	p_copy(c, "setup", 0, 1, cc_snap(0), 0);
	int m0 = p_dontneed(c, 2, 1);
	p_settle(c);
	p_state(c, "unread", m0);
	p_copy(c, "unread", 6, 1, cc_snap(6), 0);
	p_zero(c, "unread", 6, 1, 0);
	p_wp(c, "unread", 0, 1, WP_ON);
	p_wake(c, "unread", 6, 1);
	p_uread(c, "read", 8);
	p_settle(c);
	p_state(c, "read", m0);
	p_copy(c, "after", 6, 1, cc_snap(6), 0);
	p_wp(c, "after", 0, 1, WP_ON);
	p_view(c, "after", 0);
	/* two REMOVEs: reading one leaves the other's count */
	int m1 = p_dontneed(c, 3, 1);
	p_settle(c);
	int m2 = p_dontneed(c, 4, 1);
	p_settle(c);
	p_uread(c, "first", 1);
	p_settle(c);
	p_state(c, "first", m1);
	p_state(c, "first", m2);
	p_copy(c, "one unread", 7, 1, cc_snap(7), 0);
	p_uread(c, "second", 1);
	p_settle(c);
	p_state(c, "second", m2);
	p_copy(c, "none unread", 7, 1, cc_snap(7), 0);
}
