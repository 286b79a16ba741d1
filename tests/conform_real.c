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
 *
 * Memory of a process of its own (struct cmem.proc, rules 39 and 44) lives
 * in a helper: a fork of the test process made by open() while no
 * operation thread runs, which creates the region and the uffd, passes the
 * uffd back over SCM_RIGHTS and then forks or reads on command, and is
 * killed for COP_EXIT (one message per command on a SOCK_SEQPACKET socket). Its ops'
 * "thread" for settle() is the remote thread they wait on, seen through
 * /proc/TID/task/TID. Teardown kills what is left of it by pid: the helper
 * reaps none of its children and only the teardown reaps the helper, so
 * no pid can have been reused.
 */
#include "tests/conform.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
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
	int tid;                /* atomic: published by the thread; for a
				 * proc op the thread it waits on (the
				 * helper's, then the forked child's) */
	int done;               /* atomic: set when the op returned */
	int forked;             /* atomic: COP_FORK's fork returned */
	int rc;
	int64_t field;
	struct cc seen;
	uint64_t t_enter, t_leave;
};

struct rcenv {
	struct cenv e;          /* first: a struct cenv * is a struct rcenv * */
	struct real_region *rg;
	void *bad;              /* PROT_NONE: the unreadable COPY source */
	struct { void *p; size_t len; } shorts[R_SHORTS]; /* short_src's */
	struct rop ops[C_MAX_OPS];
	int nops;
	struct real_snapshot *snap; /* rg's, or proc's own */
	/* proc memory (struct cmem.proc): the helper process that owns it */
	int proc;
	int sock;               /* to the helper: commands and replies */
	pid_t helper;
	pid_t kids[C_MAX_OPS];  /* forked children whose read is not back */
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

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

static int proc_open(struct rcenv *r, const struct cmem *mem);

static int r_open(struct cenv *e, const struct cmem *mem)
{
	struct rcenv *r = R(e);

	if (mem->proc)
		return r->proc || r->rg ? -EBUSY : proc_open(r, mem);
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
	r->snap = r->rg->snap;
	struct sys_real_opts so = {
		.source_fd = r->snap->fd,
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

/* ------------------------------------------------------------------ */
/* proc memory (rules 39, 44): a helper process owns it                 */

/* One message on the helper's socket (SOCK_SEQPACKET: one send, one
 * message). 'O' open result (+ the uffd), 'F' fork page a, 'f' forked
 * (a = the child's pid or -errno), 'R' a read's result (a, b = cc), 'T'
 * read page a, 't' the reading thread's tid. */
struct pmsg {
	int kind;
	int rc;
	int a, b;
	uint64_t base;
	char why[200];
};

static int psend(int sock, const struct pmsg *m, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {(void *)(uintptr_t)m, sizeof *m};
	struct msghdr h = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		memset(cbuf, 0, sizeof cbuf);
		h.msg_control = cbuf;
		h.msg_controllen = sizeof cbuf;
		struct cmsghdr *c = CMSG_FIRSTHDR(&h);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof fd);
	}
	return sendmsg(sock, &h, MSG_NOSIGNAL) == (ssize_t)sizeof *m ? 0 : -EPIPE;
}

/* 0, or -EPIPE when the peer is gone; *fd (may be NULL) gets a passed fd
 * or -1. */
static int precv(int sock, struct pmsg *m, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {m, sizeof *m};
	struct msghdr h = {.msg_iov = &iov, .msg_iovlen = 1,
			   .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	ssize_t n;

	if (fd)
		*fd = -1;
	do
		n = recvmsg(sock, &h, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof *m)
		return -EPIPE;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		int got;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		memcpy(&got, CMSG_DATA(c), sizeof got);
		if (fd && *fd < 0)
			*fd = got;
		else
			close(got);
	}
	return 0;
}

/* The helper's forked child: one read of its copy of the memory (through
 * the FORK's uffd when the parent had EVENT_FORK), reported, then exit. */
static void __attribute__((noreturn)) kid_main(int sock, struct real_region *rg, int page)
{
	struct cc c = classify(rg, page);
	struct pmsg m = {.kind = 'R', .a = (int)c.kind, .b = c.arg};

	psend(sock, &m, -1);
	_exit(0);
}

/* 'T': the helper's only thread reads a page (rule 44: it may still
 * wait in the fault when the process dies); no thread is created, as
 * TSan forbids one in the child of a fork of a multi-threaded process. */
static void helper_read(int sock, struct real_region *rg, int page)
{
	struct pmsg m = {.kind = 't', .a = (int)getpid()};

	if (psend(sock, &m, -1))
		_exit(0);
	struct cc c = classify(rg, page);

	m = (struct pmsg){.kind = 'R', .a = (int)c.kind, .b = c.arg};
	if (psend(sock, &m, -1))
		_exit(0);
}

/* The helper: a single-threaded process (a fork of the test process
 * made by open(), before any operation thread) that makes the region, passes its uffd, then forks or
 * exits on command. It keeps its own reference to the uffd, as a VMM
 * does; _exit, never exit: no atexit handler of the test process runs. */
static void __attribute__((noreturn)) helper_main(int sock, const struct cmem *mem,
						  struct real_snapshot *snap)
{
	struct real_region_opts o = {
		.page_size = mem->page_size, .pages = (uint64_t)mem->pages,
		.features = mem->features, .wp = mem->wp, .snap = snap,
	};
	struct real_region *rg = NULL;
	struct pmsg m = {.kind = 'O'};

	m.rc = real_region_open(&o, &rg, m.why, sizeof m.why);
	if (!m.rc)
		m.base = rg->base;
	if (psend(sock, &m, m.rc ? -1 : rg->uffd) || m.rc)
		_exit(0);
	for (;;) {
		if (precv(sock, &m, NULL))
			_exit(0); /* the test process is gone */
		if (m.kind == 'T') {
			helper_read(sock, rg, m.a);
			continue;
		}
		if (m.kind != 'F')
			_exit(0);
		pid_t pid = fork();

		if (pid == 0)
			kid_main(sock, rg, m.a);
		m = (struct pmsg){.kind = 'f', .a = pid < 0 ? -errno : (int)pid};
		if (psend(sock, &m, -1))
			_exit(0);
	}
}

static int proc_open(struct rcenv *r, const struct cmem *mem)
{
	struct cenv *e = &r->e;
	int sv[2], fd = -1, rc;
	struct pmsg m;

	if (mem->page_size != 4096 || mem->pages < 1 || mem->wp < 0) {
		snprintf(e->why, sizeof e->why, "proc memory: 4 KiB pages only");
		return -EINVAL;
	}
	r->proc = 1;
	r->sock = -1;
	rc = real_snapshot_new(mem->page_size, (uint64_t)mem->pages, NULL, &r->snap);
	if (rc) {
		snprintf(e->why, sizeof e->why, "snapshot: %s", strerror(-rc));
		return rc;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		rc = -errno;
		snprintf(e->why, sizeof e->why, "socketpair: %s", strerror(-rc));
		return rc;
	}
	/* no operation thread is running yet; the only other thread, the
	 * watchdog's timer (real/watchdog.h), holds nothing the helper uses,
	 * and glibc's fork leaves malloc usable in the child: the helper may
	 * allocate and fork in turn (but not start threads: TSan forbids it
	 * after a fork of a multi-threaded process) */
	r->helper = fork();
	if (r->helper == 0) {
		close(sv[0]);
		helper_main(sv[1], mem, r->snap);
	}
	close(sv[1]);
	r->sock = sv[0];
	if (r->helper < 0) {
		rc = -errno;
		snprintf(e->why, sizeof e->why, "fork: %s", strerror(-rc));
		return rc;
	}
	if (precv(r->sock, &m, &fd) || m.kind != 'O') {
		snprintf(e->why, sizeof e->why, "helper process: no answer");
		return -EPIPE;
	}
	if (m.rc || fd < 0) {
		snprintf(e->why, sizeof e->why, "helper: %.200s", m.why);
		return m.rc ? m.rc : -EPIPE;
	}
	e->uffd = fd;
	e->base = m.base;
	e->ps = mem->page_size;
	e->pages = mem->pages;
	e->features = mem->features;
	struct sys_real_opts so = {.source_fd = r->snap->fd,
				   .source_page = mem->page_size, .seed = 1};

	rc = sys_real_new(&so, &e->sys);
	if (rc)
		snprintf(e->why, sizeof e->why, "sys_real_new: %s", strerror(-rc));
	return rc;
}

/* COP_FORK: the op waits on the helper while it forks, then on the child
 * while it reads. One at a time (r_start). */
static int proc_fork(struct rop *o)
{
	struct rcenv *r = o->r;
	struct pmsg m = {.kind = 'F', .a = o->op.page};

	int got_f = 0, got_r = 0;

	if (psend(r->sock, &m, -1))
		return -EPIPE;
	/* the helper's 'f' and its child's 'R' may come in either order */
	while (!got_f || !got_r) {
		if (precv(r->sock, &m, NULL))
			return -EPIPE;
		if (m.kind == 'f' && !got_f) {
			if (m.a < 0)
				return m.a;
			got_f = 1;
			__atomic_store_n(&r->kids[o - r->ops], (pid_t)m.a, __ATOMIC_SEQ_CST);
			__atomic_store_n(&o->tid, m.a, __ATOMIC_SEQ_CST);
			__atomic_store_n(&o->forked, 1, __ATOMIC_SEQ_CST);
		} else if (m.kind == 'R' && !got_r) {
			got_r = 1;
			o->seen = (struct cc){(enum cc_kind)m.a, m.b};
		} else {
			return -EPROTO;
		}
	}
	/* the child exited: it is a zombie of the helper, which never reaps */
	__atomic_store_n(&r->kids[o - r->ops], 0, __ATOMIC_SEQ_CST);
	return 0;
}

/* COP_READ on proc memory: the helper reads. If it dies before the
 * access returned, the access is reported as the model reports one a
 * fatal signal ended (-EINTR). */
static int proc_read(struct rop *o)
{
	struct rcenv *r = o->r;
	struct pmsg m = {.kind = 'T', .a = o->op.page};

	if (psend(r->sock, &m, -1) || precv(r->sock, &m, NULL) || m.kind != 't')
		return -EPIPE;
	if (m.a <= 0)
		return m.a ? m.a : -EPROTO;
	__atomic_store_n(&o->tid, m.a, __ATOMIC_SEQ_CST);
	if (precv(r->sock, &m, NULL))
		return -EINTR;
	if (m.kind != 'R')
		return -EPROTO;
	o->seen = (struct cc){(enum cc_kind)m.a, m.b};
	return 0;
}

/* COP_EXIT: the helper process dies of SIGKILL, which works while its
 * thread waits in a fault, and takes the path an exit_group takes
 * (do_exit, exit_mm: rule 44). Waited for without reaping it, so that its
 * pid stays its own until the teardown. */
static int proc_exit(struct rop *o)
{
	struct rcenv *r = o->r;
	siginfo_t si;

	if (kill(r->helper, SIGKILL))
		return -errno;
	memset(&si, 0, sizeof si);
	while (waitid(P_PID, (id_t)r->helper, &si, WEXITED | WNOWAIT))
		if (errno != EINTR)
			return -errno;
	return si.si_code == CLD_KILLED && si.si_status == SIGKILL ? 0 : -ECHILD;
}

/* Teardown's first step: the children still reading, then the helper
 * (their pids are still theirs: the helper reaps nobody, and nobody but
 * this reaps the helper), so that every op's socket wait ends. */
static void proc_kill(struct rcenv *r)
{
	for (int h = 0; h < C_MAX_OPS; h++) {
		pid_t k = __atomic_load_n(&r->kids[h], __ATOMIC_SEQ_CST);

		if (k > 0)
			kill(k, SIGKILL);
	}
	if (r->helper > 0) {
		kill(r->helper, SIGKILL);
		while (waitpid(r->helper, NULL, 0) < 0 && errno == EINTR)
			;
		r->helper = 0;
	}
}

static void *op_main(void *arg)
{
	struct rop *o = arg;
	struct cenv *e = &o->r->e;

	if (o->r->proc) {
		/* r_start published the helper's tid, which is what a fork or
		 * read waits on; an exit waits here, in waitid */
		if (o->op.kind == COP_EXIT)
			__atomic_store_n(&o->tid, (int)gettid(), __ATOMIC_SEQ_CST);
		o->rc = o->op.kind == COP_FORK ? proc_fork(o) :
			o->op.kind == COP_READ ? proc_read(o) :
			o->op.kind == COP_EXIT ? proc_exit(o) : -EOPNOTSUPP;
		__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	struct real_region *rg = o->r->rg;
	void *a = (void *)(uintptr_t)(rg->base + o->op.off);

	__atomic_store_n(&o->tid, (int)gettid(), __ATOMIC_SEQ_CST);
	o->t_enter = now_ns();
	switch (o->op.kind) {
	case COP_COPY:
		o->rc = e->sys->ops->uffd_copy(e->sys, e->uffd, rg->base + o->op.off,
					       o->op.src, o->op.len, 0, &o->field);
		break;
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
	o->t_leave = now_ns();
	__atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int r_start(struct cenv *e, const struct cop *op)
{
	struct rcenv *r = R(e);

	if (!r->rg && !(r->proc && e->uffd >= 0))
		return -EBADF;
	if (r->nops == C_MAX_OPS)
		return -ENOSPC;
	if ((op->kind == COP_READ || op->kind == COP_WRITE ||
	     op->kind == COP_KREAD || op->kind == COP_FORK) &&
	    (op->page < 0 || op->page >= e->pages))
		return -EINVAL;
	int proc_op = op->kind == COP_FORK || op->kind == COP_EXIT ||
		      (r->proc && op->kind == COP_READ);

	if (proc_op != r->proc)
		return -EOPNOTSUPP;
	/* one op at a time waits for the helper's replies on its socket
	 * (COP_EXIT waits for the process instead) */
	for (int h = 0; proc_op && op->kind != COP_EXIT && h < r->nops; h++)
		if (!__atomic_load_n(&r->ops[h].done, __ATOMIC_ACQUIRE) &&
		    r->ops[h].op.kind != COP_EXIT)
			return -EBUSY;
	if (op->kind == COP_WRITE && (op->value < 1 || op->value > 255))
		return -EINVAL;
	struct rop *o = &r->ops[r->nops];

	memset(o, 0, sizeof(*o));
	o->r = r;
	o->op = *op;
	if (proc_op && op->kind != COP_EXIT)
		o->tid = (int)r->helper; /* single-threaded: its tid is its pid */
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
	out->forked = __atomic_load_n(&o->forked, __ATOMIC_SEQ_CST);
	if (out->done) {
		out->rc = o->rc;
		out->field = o->field;
		out->t_enter = o->t_enter;
		out->t_leave = o->t_leave;
		if ((o->op.kind == COP_READ || o->op.kind == COP_KREAD ||
		     o->op.kind == COP_FORK) && o->rc == 0)
			out->seen = o->seen;
	}
}

/* 1 if thread tid sleeps in a uffd wait (rule 43), 0 if not (yet). */
static int parked(int tid)
{
	char path[64], buf[512];

	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", tid, tid);
	if (real_read_small(path, buf, sizeof buf))
		return 0;
	const char *p = strrchr(buf, ')'); /* comm may hold anything */

	if (!p || (p[1] != ' ') || (p[2] != 'S' && p[2] != 'D'))
		return 0;
	snprintf(path, sizeof path, "/proc/%d/task/%d/wchan", tid, tid);
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

	if (!r->snap)
		return -EBADF;
	if (c.kind == CC_SNAP && (c.arg < 0 || (uint64_t)c.arg >= r->snap->pages))
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
			memcpy(d, r->snap->words + (uint64_t)c.arg * (e->ps / 8), n);
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
	if (r->proc)
		return -EOPNOTSUPP; /* its op thread is not the process's */
	/* tgkill is synchronous: a thread asleep in a fault is runnable
	 * again when this returns, so settle() cannot miss the retry */
	return -pthread_kill(r->ops[h].th, R_NUDGE);
}

static int r_release(struct cenv *e)
{
	struct rcenv *r = R(e);

	if ((!r->rg && !r->proc) || e->uffd < 0)
		return -EBADF;
	int fd = e->uffd;

	/* The region must not close this number again at teardown: by then
	 * it may name another file. */
	if (r->rg)
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
	snprintf(path, sizeof path, "/proc/%d/task/%d/stat", tid, tid);
	if (real_read_small(path, buf, sizeof buf) || !(p = strrchr(buf, ')')) ||
	    p[1] != ' ')
		return;
	snprintf(path, sizeof path, "/proc/%d/task/%d/wchan", tid, tid);
	if (real_read_small(path, wchan, sizeof wchan))
		return;
	if (strcmp(wchan, "handle_userfault") == 0 ||
	    strcmp(wchan, "userfaultfd_event_wait_completion") == 0)
		snprintf(out, n, "%c %s", p[2], wchan);
}

static int r_await_msg(struct cenv *e)
{
	struct pollfd p = {.fd = e->uffd, .events = POLLIN};
	int n;

	if (e->uffd < 0)
		return -EBADF;
	do
		n = poll(&p, 1, R_SETTLE_MS);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n == 0 ? -ETIMEDOUT : 0;
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
	.await_msg = r_await_msg,
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

	if (r->proc)
		proc_kill(r);
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
	if (r->rg)
		real_region_close(r->rg);
	if (r->proc) {
		if (e->uffd >= 0)
			close(e->uffd);
		if (r->sock >= 0)
			close(r->sock);
		if (r->snap)
			real_snapshot_free(r->snap);
	}
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
