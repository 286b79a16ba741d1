/* tests/conform_probes_api.c — conformance probes of the API handshake
 * (sys.h uffd_api), UFFDIO_POISON and UFFDIO_MOVE (docs/KERNEL.md rule
 * 42, addendum A5). Logged as the other probes are; the table is in
 * tests/conform_probes.c.
 */
#include "tests/conform_probes.h"

#include <inttypes.h>
#include <stdio.h>

#include "tests/conform_probe_util.h"

static const char *field(int64_t f, char *buf, int n)
{
	char eb[24];

	if (f < 0)
		snprintf(buf, (size_t)n, "-%s", p_err((int)f, eb, sizeof eb));
	else
		snprintf(buf, (size_t)n, "%" PRId64, f);
	return buf;
}

/* "<tag>: API want=0x0 -> 0 features=0x8 ioctls=0x..." */
static void api(struct pc *c, const char *tag, uint64_t want)
{
	sys_t *s = c->e->sys;
	uint64_t f = 1, io = 1;
	char eb[24];
	int rc = s->ops->uffd_api(s, c->e->uffd, want, &f, &io);

	clog_add(c->L, "%s: API want=0x%" PRIx64 " -> %s features=0x%" PRIx64 " ioctls=0x%" PRIx64,
		 tag, want, p_err(rc, eb, sizeof eb), f, io);
}

/* "<tag>: POISON p3 len=4096 mode=0x0 -> 0 updated=4096" */
static int poison(struct pc *c, const char *tag, int page, int n, uint64_t mode)
{
	sys_t *s = c->e->sys;
	int64_t f = 0;
	char eb[24], fb[24];
	int rc = s->ops->uffd_poison(s, c->e->uffd, c_addr(c->e, page),
				     (uint64_t)n * c->e->ps, mode, &f);

	clog_add(c->L, "%s: POISON p%d len=%" PRIu64 " mode=0x%" PRIx64 " -> %s updated=%s",
		 tag, page, (uint64_t)n * c->e->ps, mode, p_err(rc, eb, sizeof eb),
		 field(f, fb, sizeof fb));
	return rc;
}

/* "<tag>: MOVE p4 <- p0 len=4096 mode=0x0 -> 0 moved=4096" */
static int move(struct pc *c, const char *tag, int dst, int src, int n,
		uint64_t mode)
{
	sys_t *s = c->e->sys;
	int64_t f = 0;
	char eb[24], fb[24];
	int rc = s->ops->uffd_move(s, c->e->uffd, c_addr(c->e, dst),
				   c_addr(c->e, src), (uint64_t)n * c->e->ps,
				   mode, &f);

	clog_add(c->L, "%s: MOVE p%d <- p%d len=%" PRIu64 " mode=0x%" PRIx64 " -> %s moved=%s",
		 tag, dst, src, (uint64_t)n * c->e->ps, mode,
		 p_err(rc, eb, sizeof eb), field(f, fb, sizeof fb));
	return rc;
}

/* A5: the features this uffd has, the kernel's ioctl mask, EINVAL for a
 * bit the kernel does not offer (userfaultfd_api); MOVE without the
 * feature. */
void cprobe_api(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_THREAD_ID, 0))
		return;
	api(c, "nothing wanted", 0);
	api(c, "what it has", UFFD_FEATURE_EVENT_REMOVE);
	api(c, "known, not given", UFFD_FEATURE_WP_ASYNC);
	api(c, "unknown bit", UINT64_C(1) << 30);
	p_copy(c, "setup", 0, 1, cc_snap(0), 0);
	move(c, "no MOVE feature", 1, 0, 1, 0);
	p_view(c, "no MOVE feature", 0);
	p_view(c, "no MOVE feature", 1);
}

/* Rule 42: POISON marks missing pages; an access raises SIGBUS (EFAULT
 * here); a waiter is woken into the SIGBUS; present pages: EEXIST;
 * COPY/ZEROPAGE over a marker; DONTNEED clears it. */
void cprobe_poison(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 8, UFFD_FEATURE_POISON, 0))
		return;
	poison(c, "poison", 0, 2, 0);
	int h0 = p_read(c, 0);
	p_settle(c);
	p_state(c, "read poisoned", h0);
	p_view(c, "poisoned", 1);
	p_copy(c, "copy over marker", 1, 1, cc_snap(1), 0);
	poison(c, "again", 2, 1, 0);
	p_zero(c, "zeropage over marker", 2, 1, 0);
	p_copy(c, "setup", 3, 1, cc_snap(3), 0);
	poison(c, "present", 3, 1, 0);
	int h1 = p_read(c, 4);
	p_settle(c);
	p_uread(c, "waiter", 8);
	poison(c, "waiter", 4, 1, 0);
	p_settle(c);
	p_state(c, "waiter", h1);
	poison(c, "setup", 5, 1, 0);
	int h2 = p_dontneed(c, 5, 1);
	p_settle(c);
	p_state(c, "dontneed", h2);
	int h3 = p_read(c, 5);
	p_settle(c);
	p_uread(c, "after dontneed", 8);
	p_copy(c, "served", 5, 1, cc_snap(5), 0);
	p_settle(c);
	p_state(c, "served", h3);
}

/* Rule 42: MOVE takes present source pages to missing destination pages
 * (the source becomes missing), wakes the destination's waiters; a
 * present destination is EEXIST, a missing source ENOENT unless
 * ALLOW_SRC_HOLES. */
void cprobe_move(struct cenv *e, struct clog *L)
{
	PROBE_BEGIN(e, L);

	if (p_open(c, KB4, 16, UFFD_FEATURE_MOVE, 0))
		return;
	p_copy(c, "setup", 0, 2, cc_snap(0), 0);
	move(c, "move", 4, 0, 1, 0);
	p_view(c, "move", 0);
	p_view(c, "move", 4);
	move(c, "onto present", 4, 1, 1, 0);
	move(c, "missing source", 6, 0, 1, 0);
	move(c, "holes allowed", 6, 0, 1, UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES);
	p_view(c, "holes allowed", 6);
	int h0 = p_read(c, 8);
	p_settle(c);
	p_uread(c, "waiter", 8);
	move(c, "waiter", 8, 1, 1, 0);
	p_settle(c);
	p_state(c, "waiter", h0);
	p_view(c, "waiter", 1);
}
