/* tests/conform_probes_hugetlb.c — conformance probes of 2 MiB hugetlb: no
 * ZEROPAGE, 2 MiB fill units, madvise rounding, the WP marker DONTNEED
 * leaves.
 * Each probe settles after every action (tests/conform.h) and logs only
 * what a program can observe; the comment above each probe names the
 * docs/KERNEL.md Model rules it shows and the real-kernel probe (p01-p12) it
 * re-creates. The table of all probes is in tests/conform_probes.c.
 */
#include "tests/conform_probes.h"

#include "tests/conform_probe_util.h"

/* Rules 30, 31 (p07 2, 4, 5): hugetlb: no ZEROPAGE, COPY only in 2 MiB
 * units; madvise with an unaligned start -> EINVAL, the end rounded down
 * (nothing left: 0, no event), otherwise REMOVE of the rounded range with
 * the usual EAGAIN and zap; partial progress in 2 MiB steps. */
void cprobe_hugetlb(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);
	struct cc z = cc_zero();

	if (p_open(c, MB2, 4, UFFD_FEATURE_EVENT_REMOVE, 0))
		return;
	int r = p_read(c, 0);
	p_settle(c);
	p_uread(c, "fault", 8);
	p_zero(c, "no zeropage", 0, 1, 0);
	p_copy_raw(c, "len 4KiB", c_addr(e, 0), KB4, &z, 0, 1);
	p_copy_raw(c, "dst +4KiB", c_addr(e, 0) + KB4, MB2, &z, 0, 1);
	p_copy(c, "zero copy", 0, 1, z, 0);
	p_settle(c);
	p_state(c, "zero copy", r);
	p_copy(c, "setup", 1, 1, cc_snap(1), 0);
	p_copy(c, "setup", 2, 1, cc_snap(2), 0);
	int m0 = p_madvise(c, MB2, KB4);
	p_settle(c);
	p_state(c, "4KiB madvise", m0);
	p_uread(c, "4KiB madvise", 8);
	p_view(c, "4KiB madvise", 1);
	int m1 = p_madvise(c, MB2 + KB4, MB2);
	p_settle(c);
	p_state(c, "unaligned madvise", m1);
	p_uread(c, "unaligned madvise", 8);
	int m2 = p_madvise(c, MB2, 3 * MB2 / 2);
	p_settle(c);
	p_state(c, "3MiB madvise", m2);
	p_copy(c, "3MiB madvise", 3, 1, cc_snap(3), 0);
	p_view(c, "3MiB madvise", 1);
	p_uread(c, "3MiB madvise", 8);
	p_settle(c);
	p_state(c, "3MiB madvise", m2);
	p_view(c, "3MiB madvise", 1);
	p_view(c, "3MiB madvise", 2);
	p_copy(c, "partial", 1, 2, cc_snap(1), 0);
	p_view(c, "partial", 1);
}

/* Rule 32 (p07 6): hugetlb MISSING|WP: MADV_DONTNEED leaves a WP marker;
 * the next write is a MISSING fault; a plain COPY over the marker installs
 * an unprotected page. */
void cprobe_hugetlb_wp(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, MB2, 2, 0, 1))
		return;
	p_copy(c, "copy wp", 0, 1, cc_snap(0), COPY_WP);
	p_view(c, "copy wp", 0);
	int mv = p_dontneed(c, 0, 1);
	p_settle(c);
	p_state(c, "dontneed", mv);
	p_view(c, "dontneed", 0);
	int w = p_write(c, 0, 0x91);
	p_settle(c);
	p_uread(c, "write", 8);
	p_copy(c, "serve", 0, 1, cc_snap(0), 0);
	p_settle(c);
	p_state(c, "served", w);
	p_view(c, "served", 0);
	p_uread(c, "served", 8);
}
