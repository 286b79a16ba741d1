/* tests/conform_real.c — the probe environment on the real kernel
 * (contract in tests/conform.h).
 *
 * The memory is a real/region.h region (snapshot pattern per page, a real
 * non-blocking uffd, MISSING or MISSING|WP registration), the sys_t is
 * real/sys_real.h's. Each guest operation runs on a pthread of its own,
 * which publishes its kernel thread id before it touches anything.
 * settle() polls /proc/self/task/TID/{stat,wchan} until every unfinished
 * operation sleeps (state S or D) in handle_userfault or
 * userfaultfd_event_wait_completion (docs/KERNEL.md rule 43): the wchan shows
 * only once the thread is off the CPU, after its message was queued, and
 * a wake makes the thread runnable inside the waker's system call, so a
 * thread is never taken for asleep when it is about to move. Every wait is
 * bounded; the process watchdog (tests/realtest.h) is the backstop.
 *
 * An access that raises SIGBUS (UFFD_FEATURE_SIGBUS) or SIGSEGV (an
 * unmapped page) ends the operation with -EFAULT, as the model reports
 * it: the operation thread arms a thread-local jump buffer and the
 * handler jumps back. A signal that hits an unarmed thread puts the
 * previous disposition back and returns, so the access faults again into
 * whatever handled it before (cmocka's, or the default). signal() sends
 * SIGUSR2, whose handler does nothing: it only ends a fault wait. The
 * dispositions are process-wide (a signal handler has no context
 * argument); conform_real_run installs them and restores the old ones.
 */
#include "tests/conform.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "real/region.h"
#include "real/snapshot.h"
#include "real/sys_real.h"
#include "real/uffd.h"
#include "real/procfs.h"

#define R_SETTLE_MS 3000
#define R_START_MS 1000
#define R_TEARDOWN_MS 3000
#define R_BAD_LEN (4ull << 20) /* two huge pages of unreadable source */
#define BYTES8(v) ((uint64_t)(v) * 0x0101010101010101ull)
#define R_NUDGE SIGUSR2
#define R_SHORTS 4

/* Process-wide because signal handlers have no context (see the top). */
static _Thread_local sigjmp_buf *tl_jmp;
static struct sigaction old_bus, old_segv, old_nudge;

struct rcenv;

struct rop {
	struct rcenv *r;
	struct cop op;
	pthread_t th;
	int joinable;
	int tid;                /* atomic: published by the thread */
	int done;               /* atomic: set when the op returned */
	int rc;
	struct cc seen;
};

struct rcenv {
	struct cenv e;          /* first: a struct cenv * is a struct rcenv * */
	struct real_region *rg;
	void *bad;              /* PROT_NONE: the unreadable COPY source */
	struct { void *p; size_t len; } shorts[R_SHORTS]; /* short_src's */
	struct rop ops[C_MAX_OPS];
	int nops;
};

static struct rcenv *R(struct cenv *e)
{
	return (struct rcenv *)e;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* What a page's first word says it is. */
static struct cc classify_word(const struct real_region *rg, uint64_t w0)
{
	if (w0 == 0)
		return cc_zero();
	if (w0 == BYTES8(w0 & 0xff))
		return cc_write((int)(w0 & 0xff));
	if ((w0 & 0xffffffff00000000ull) == REAL_SNAP_MAGIC &&
	    (w0 & 0xffffffffull) < rg->snap->pages &&
	    w0 == real_snapshot_word(rg->snap, w0 & 0xffffffffull, 0))
		return cc_snap((int)(w0 & 0xffffffffull));
	return (struct cc){CC_OTHER, 0};
}

/* Classify a page the way the model names contents. The first load is the
 * access that faults when the page is missing. */
static struct cc classify(const struct real_region *rg, int page)
{
	const uint64_t *w = (const uint64_t *)(uintptr_t)real_page_addr(rg, (uint64_t)page);
	uint64_t nw = rg->page_size / 8;
	uint64_t w0 = __atomic_load_n(w, __ATOMIC_RELAXED);
	struct cc c = classify_word(rg, w0);

	if (c.kind == CC_OTHER)
		return c;
	for (uint64_t i = 1; i < nw; i++) {
		uint64_t want = c.kind == CC_SNAP ?
			real_snapshot_word(rg->snap, (uint64_t)c.arg, i) : w0;

		if (__atomic_load_n(w + i, __ATOMIC_RELAXED) != want)
			return (struct cc){CC_OTHER, 0};
	}
	return c;
}

static int r_open(struct cenv *e, const struct cmem *mem)
{
	struct rcenv *r = R(e);

	if (r->rg) {
		snprintf(e->why, sizeof e->why, "open() called twice");
		return -EBUSY;
	}
	if (mem->pages < 1) {
		snprintf(e->why, sizeof e->why, "no pages");
		return -EINVAL;
	}
	struct real_region_opts o = {
		.page_size = mem->page_size,
		.pages = (uint64_t)mem->pages,
		.features = mem->features,
		.wp = mem->wp,
	};
	int rc = real_region_open(&o, &r->rg, e->why, sizeof e->why);

	if (rc)
		return rc;
	struct sys_real_opts so = {
		.source_fd = r->rg->snap->fd,
		.source_page = mem->page_size,
		.seed = 1,
	};
	rc = sys_real_new(&so, &e->sys);
	if (rc) {
		snprintf(e->why, sizeof e->why, "sys_real_new: %s", strerror(-rc));
		goto fail;
	}
	r->bad = mmap(NULL, R_BAD_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (r->bad == MAP_FAILED) {
		rc = -errno;
		r->bad = NULL;
		snprintf(e->why, sizeof e->why, "mmap PROT_NONE: %s", strerror(-rc));
		goto fail;
	}
	e->uffd = r->rg->uffd;
	e->base = r->rg->base;
	e->ps = mem->page_size;
	e->pages = mem->pages;
	e->features = mem->features;
	return 0;
fail:
	if (e->sys)
		sys_real_free(e->sys);
	e->sys = NULL;
	real_region_close(r->rg);
	r->rg = NULL;
	return rc;
}

static void on_fault_signal(int sig, siginfo_t *si, void *uc)
{
	(void)si;
	(void)uc;
	if (tl_jmp)
		siglongjmp(*tl_jmp, sig);
	/* not an operation's access: let the old disposition have it */
	sigaction(sig, sig == SIGBUS ? &old_bus : &old_segv, NULL);
}

static void on_nudge(int sig)
{
	(void)sig; /* its only job was to end a fault wait */
}

static int signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault_signal;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old_bus) || sigaction(SIGSEGV, &sa, &old_segv))
		return -errno;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_nudge;
	sigemptyset(&sa.sa_mask);
	if (sigaction(R_NUDGE, &sa, &old_nudge))
		return -errno;
	return 0;
}

static void signals_restore(void)
{
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(R_NUDGE, &old_nudge, NULL);
}

/* A system call reads the first word of the page (copy_from_user in
 * pipe_write): a kernel-mode access (rule 12). */
static int kernel_read(struct real_region *rg, int page, struct cc *seen)
{
	int fds[2];
	uint64_t w = 0;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	ssize_t n = write(fds[1], (const void *)(uintptr_t)real_page_addr(rg, (uint64_t)page), sizeof w);
	int rc = n < 0 ? -errno : n != (ssize_t)sizeof w ? -EIO : 0;

	if (!rc && read(fds[0], &w, sizeof w) != (ssize_t)sizeof w)
		rc = -EIO;
	close(fds[0]);
	close(fds[1]);
	if (!rc)
		*seen = classify_word(rg, w);
	return rc;
}

/* The guest accesses, with SIGBUS/SIGSEGV turned into -EFAULT. */
static int access_page(struct rop *o)
{
	struct real_region *rg = o->r->rg;
	sigjmp_buf jb;

	if (sigsetjmp(jb, 1)) {
		tl_jmp = NULL;
		return -EFAULT;
	}
	tl_jmp = &jb;
	if (o->op.kind == COP_READ)
		o->seen = classify(rg, o->op.page);
	else
		real_guest_write(rg, (uint64_t)o->op.page, (uint8_t)o->op.value);
	tl_jmp = NULL;
	return 0;
}

static void *op_main(void *arg)
{
	struct rop *o = arg;
	struct real_region *rg = o->r->rg;
	void *a = (void *)(uintptr_t)(rg->base + o->op.off);

	__atomic_store_n(&o->tid, (int)gettid(), __ATOMIC_SEQ_CST);
	switch (o->op.kind) {
	case COP_READ:
	case COP_WRITE:
		o->rc = access_page(o);
		break;
	case COP_KREAD:
		o->rc = kernel_read(rg, o->op.page, &o->seen);
		break;
	case COP_MADVISE:
		o->rc = madvise(a, (size_t)o->op.len, MADV_DONTNEED) ? -errno : 0;
		break;
	case COP_MUNMAP:
		o->rc = munmap(a, (size_t)o->op.len) ? -errno : 0;
		break;
	case COP_MREMAP: {
		void *from = (void *)(uintptr_t)(rg->base + (uint64_t)o->op.page * rg->page_size);
		o->rc = mremap(from, (size_t)o->op.len, (size_t)o->op.len,
			       MREMAP_MAYMOVE | MREMAP_FIXED, a) == MAP_FAILED ? -errno : 0;
		break;
	}
	default:
		o->rc = -EINVAL;
	}
	__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int r_start(struct cenv *e, const struct cop *op)
{
	struct rcenv *r = R(e);

	if (!r->rg)
		return -EBADF;
	if (r->nops == C_MAX_OPS)
		return -ENOSPC;
	if ((op->kind == COP_READ || op->kind == COP_WRITE ||
	     op->kind == COP_KREAD) && (op->page < 0 || op->page >= e->pages))
		return -EINVAL;
	if (op->kind == COP_WRITE && (op->value < 1 || op->value > 255))
		return -EINVAL;
	struct rop *o = &r->ops[r->nops];

	memset(o, 0, sizeof(*o));
	o->r = r;
	o->op = *op;
	int err = pthread_create(&o->th, NULL, op_main, o);

	if (err)
		return -err;
	o->joinable = 1;
	r->nops++;
	/* settle() needs the kernel tid; the thread publishes it first */
	uint64_t end = now_ms() + R_START_MS;

	while (!__atomic_load_n(&o->tid, __ATOMIC_SEQ_CST)) {
		if (now_ms() > end)
			return -ETIMEDOUT;
		usleep(50);
	}
	return r->nops - 1;
}

static void r_result(struct cenv *e, int h, struct cres *out)
{
	struct rcenv *r = R(e);

	memset(out, 0, sizeof(*out));
	if (h < 0 || h >= r->nops)
		return;
	const struct rop *o = &r->ops[h];

	out->done = __atomic_load_n(&o->done, __ATOMIC_ACQUIRE);
	out->ptid = (uint32_t)__atomic_load_n(&o->tid, __ATOMIC_SEQ_CST);
	if (out->done) {
		out->rc = o->rc;
		if ((o->op.kind == COP_READ || o->op.kind == COP_KREAD) &&
		    o->rc == 0)
			out->seen = o->seen;
	}
}

/* 1 if thread tid sleeps in a uffd wait (rule 43), 0 if not (yet). */
static int parked(int tid)
{
	char path[64], buf[512];

	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	if (real_read_small(path, buf, sizeof buf))
		return 0;
	const char *p = strrchr(buf, ')'); /* comm may hold anything */

	if (!p || (p[1] != ' ') || (p[2] != 'S' && p[2] != 'D'))
		return 0;
	snprintf(path, sizeof path, "/proc/self/task/%d/wchan", tid);
	if (real_read_small(path, buf, sizeof buf))
		return 0;
	return strcmp(buf, "handle_userfault") == 0 ||
	       strcmp(buf, "userfaultfd_event_wait_completion") == 0;
}

static int all_settled(struct rcenv *r)
{
	for (int h = 0; h < r->nops; h++) {
		struct rop *o = &r->ops[h];

		if (!__atomic_load_n(&o->done, __ATOMIC_ACQUIRE) &&
		    !parked(__atomic_load_n(&o->tid, __ATOMIC_SEQ_CST)))
			return 0;
	}
	return 1;
}

static int r_settle(struct cenv *e)
{
	struct rcenv *r = R(e);
	uint64_t end = now_ms() + R_SETTLE_MS;

	while (!all_settled(r)) {
		if (now_ms() > end)
			return -ETIMEDOUT;
		usleep(100);
	}
	return 0;
}

static int r_view(struct cenv *e, int page, struct cview *out)
{
	struct rcenv *r = R(e);
	int present = 0, wp = 0;

	memset(out, 0, sizeof(*out));
	if (!r->rg)
		return -EBADF;
	if (page < 0 || page >= e->pages)
		return -EINVAL;
	int err = real_page_flags(r->rg, (uint64_t)page, &present, &wp);

	if (err)
		return err;
	out->present = present;
	out->wp = wp;
	/* present: reading it cannot fault (nothing zaps it after settle) */
	if (present)
		out->content = classify(r->rg, page);
	return 0;
}

static int r_fill(struct cenv *e, void *buf, uint64_t len, struct cc c)
{
	struct rcenv *r = R(e);

	if (!r->rg)
		return -EBADF;
	if (c.kind == CC_SNAP && (c.arg < 0 || (uint64_t)c.arg >= r->rg->snap->pages))
		return -EINVAL;
	if (c.kind == CC_WRITE && (c.arg < 1 || c.arg > 255))
		return -EINVAL;
	for (uint64_t off = 0; off < len; off += e->ps) {
		unsigned char *d = (unsigned char *)buf + off;
		size_t n = (size_t)(len - off < e->ps ? len - off : e->ps);

		switch (c.kind) {
		case CC_ZERO:
			memset(d, 0, n);
			break;
		case CC_WRITE:
			memset(d, c.arg, n);
			break;
		case CC_SNAP:
			memcpy(d, r->rg->snap->words + (uint64_t)c.arg * (e->ps / 8), n);
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static const void *r_bad_src(struct cenv *e)
{
	return R(e)->bad;
}

static const void *r_short_src(struct cenv *e, uint64_t len, struct cc c)
{
	struct rcenv *r = R(e);
	int i = 0;

	while (i < R_SHORTS && r->shorts[i].p)
		i++;
	if (i == R_SHORTS || !len || len % e->ps)
		return NULL;
	/* the pages, then one page nothing can read */
	size_t n = (size_t)(len + e->ps);
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	r->shorts[i].p = p;
	r->shorts[i].len = n;
	if (r_fill(e, p, len, c) ||
	    mprotect((char *)p + len, (size_t)e->ps, PROT_NONE))
		return NULL;
	return p;
}

static int r_reg(struct cenv *e, int first, int n, uint64_t mode)
{
	struct rcenv *r = R(e);

	if (!r->rg || e->uffd < 0)
		return -EBADF;
	if (first < 0 || n < 1 || first + n > e->pages)
		return -EINVAL;
	uint64_t start = c_addr(e, first), len = (uint64_t)n * e->ps;
	int err = real_uffd_unregister(e->uffd, start, len);

	if (err || !mode)
		return err;
	uint64_t ioctls;
	char why[256];

	return real_uffd_register(e->uffd, start, len, mode, &ioctls, why,
				  sizeof why);
}

static int r_signal(struct cenv *e, int h)
{
	struct rcenv *r = R(e);

	if (h < 0 || h >= r->nops)
		return -EINVAL;
	/* tgkill is synchronous: a thread asleep in a fault is runnable
	 * again when this returns, so settle() cannot miss the retry */
	return -pthread_kill(r->ops[h].th, R_NUDGE);
}

static int r_release(struct cenv *e)
{
	struct rcenv *r = R(e);

	if (!r->rg || e->uffd < 0)
		return -EBADF;
	int fd = e->uffd;

	/* The region must not close this number again at teardown: by then
	 * it may name another file. */
	r->rg->uffd = -1;
	e->uffd = -1;
	return close(fd) ? -errno : 0;
}

static int r_fdinfo(struct cenv *e, long *pending, long *total)
{
	char path[64], buf[512];

	snprintf(path, sizeof path, "/proc/self/fdinfo/%d", e->uffd);
	int rc = real_read_small(path, buf, sizeof buf);

	if (rc)
		return rc;
	const char *p = strstr(buf, "pending:"), *t = strstr(buf, "total:");

	if (!p || !t || sscanf(p, "pending: %ld", pending) != 1 ||
	    sscanf(t, "total: %ld", total) != 1)
		return -EINVAL;
	return 0;
}

static void r_wstate(struct cenv *e, int h, char *out, size_t n)
{
	struct rcenv *r = R(e);
	char path[64], buf[512], wchan[128] = "";
	int tid = h >= 0 && h < r->nops &&
			  !__atomic_load_n(&r->ops[h].done, __ATOMIC_ACQUIRE) ?
		  __atomic_load_n(&r->ops[h].tid, __ATOMIC_ACQUIRE) : 0;
	const char *p = NULL;

	snprintf(out, n, "other");
	if (tid <= 0)
		return;
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	if (real_read_small(path, buf, sizeof buf) || !(p = strrchr(buf, ')')) ||
	    p[1] != ' ')
		return;
	snprintf(path, sizeof path, "/proc/self/task/%d/wchan", tid);
	if (real_read_small(path, wchan, sizeof wchan))
		return;
	if (strcmp(wchan, "handle_userfault") == 0 ||
	    strcmp(wchan, "userfaultfd_event_wait_completion") == 0)
		snprintf(out, n, "%c %s", p[2], wchan);
}

static const struct cenv_ops real_ops = {
	.open = r_open,
	.start = r_start,
	.result = r_result,
	.settle = r_settle,
	.view = r_view,
	.fill = r_fill,
	.bad_src = r_bad_src,
	.short_src = r_short_src,
	.fdinfo = r_fdinfo,
	.wstate = r_wstate,
	.reg = r_reg,
	.signal = r_signal,
	.release = r_release,
};

static int all_done(struct rcenv *r)
{
	for (int h = 0; h < r->nops; h++)
		if (!__atomic_load_n(&r->ops[h].done, __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

/* Wait, bounded, until every op has returned; meanwhile read the uffd, as
 * reading completes any event a madvise or munmap still waits on. */
static int wait_all_done(struct rcenv *r, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	struct uffd_msg m[8];

	while (!all_done(r)) {
		if (now_ms() > end)
			return -ETIMEDOUT;
		/* what it reads does not matter, only that it was read */
		if (r->e.uffd >= 0)
			(void)r->e.sys->ops->uffd_read(r->e.sys, r->e.uffd, m, 8);
		usleep(200);
	}
	return 0;
}

/* Wake everything still waiting, join, free. A thread that cannot be
 * made to finish keeps the memory alive: it is leaked, never unmapped
 * under a thread that may still touch it. */
static int teardown(struct rcenv *r, struct clog *log)
{
	struct cenv *e = &r->e;

	if (r->rg && e->uffd >= 0) {
		/* Gently first: UNREGISTER wakes MISSING waiters and drops WP;
		 * WAKE covers waiters of a WP-only registration; reading
		 * completes events. The region may have holes (munmap), which
		 * makes UNREGISTER's result uninteresting here. */
		real_uffd_unregister(e->uffd, r->rg->base, r->rg->size);
		e->sys->ops->uffd_wake(e->sys, e->uffd, r->rg->base, r->rg->size);
	}
	if (wait_all_done(r, R_TEARDOWN_MS) && r->rg && e->uffd >= 0) {
		/* then by release, which wakes every waiter (rule 40) */
		r_release(e);
		wait_all_done(r, R_TEARDOWN_MS);
	}
	if (!all_done(r)) {
		for (int h = 0; h < r->nops; h++)
			if (!__atomic_load_n(&r->ops[h].done, __ATOMIC_ACQUIRE))
				clog_add(log, "ERROR teardown: h%d (tid %d) does not finish; region leaked",
					 h, r->ops[h].tid);
		return -ETIMEDOUT;
	}
	for (int h = 0; h < r->nops; h++)
		if (r->ops[h].joinable)
			pthread_join(r->ops[h].th, NULL);
	if (e->sys)
		sys_real_free(e->sys);
	if (r->bad)
		munmap(r->bad, R_BAD_LEN);
	for (int i = 0; i < R_SHORTS; i++)
		if (r->shorts[i].p)
			munmap(r->shorts[i].p, r->shorts[i].len);
	real_region_close(r->rg);
	free(r);
	return 0;
}

int conform_real_run(const struct cprobe *p, struct clog *log)
{
	struct rcenv *r = calloc(1, sizeof(*r));

	if (!r) {
		clog_add(log, "ERROR real: out of memory");
		return -ENOMEM;
	}
	r->e.ops = &real_ops;
	r->e.backend = "real";
	r->e.uffd = -1;
	int rc = signals_install();

	if (rc) {
		clog_add(log, "ERROR real: sigaction: %s", strerror(-rc));
		signals_restore();
		free(r);
		return rc;
	}
	p->fn(&r->e, log);
	rc = teardown(r, log);
	/* a leaked thread (teardown failed) may still take a signal: keep
	 * the handlers then */
	if (!rc)
		signals_restore();
	return rc;
}
