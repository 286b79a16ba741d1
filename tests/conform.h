/* tests/conform.h — conformance probes: one probe program, two kernels.
 *
 * Contract: a probe (struct cprobe) is a function that drives a probe
 * environment (struct cenv) and appends what a program can observe —
 * return codes, output fields, uffd messages and their order, page
 * contents, whether a started operation is still blocked — to a log
 * (struct clog) as short text lines that name pages by index, never by
 * address, so that the same probe gives the same log on both backends:
 *  - conform_model.c: the simulated kernel (model/). The probe runs as a
 *    coroutine of the deterministic scheduler and every guest operation
 *    on a coroutine of its own, so an operation can block in the model
 *    exactly where the kernel would sleep;
 *  - conform_real.c: a real userfaultfd and registered memory (real/);
 *    the probe runs on the calling thread, every guest operation on a
 *    pthread of its own.
 * The probe reaches the uffd only through env->sys (handler/sys.h), the
 * interface handlers are written against.
 *
 * Rules for probe authors:
 *  - call open() first, once; the runner tears everything down after the
 *    probe returns (releasing the uffd wakes whatever still waits);
 *  - never assert: on the model the probe runs on a coroutine stack that
 *    cmocka's longjmp must not cross; report trouble as a log line that
 *    starts with "ERROR" (tests treat such a line as a failure);
 *  - call settle() after anything that may let a started operation make
 *    progress, before observing anything: after settle() every started
 *    operation has either finished or sleeps in a uffd wait (a fault, or
 *    an event waiting to be read), on both backends. Only a probe that
 *    studies a race (rule 25) acts without settling;
 *  - view() pages only after settle(): on real memory view() reads a
 *    present page, which must not be zapped under it.
 *
 * Content is compared as a class (struct cc): zeros, the snapshot of
 * page p (model: tag MK_SNAP(p); real: real/snapshot.h's pattern of page
 * p), the bytes of a guest write of value v (model: MK_WRITE(v); real:
 * every byte = v), or anything else.
 * Functions return 0 or -errno unless their comment says otherwise.
 */
#ifndef UFFDLAB_TESTS_CONFORM_H
#define UFFDLAB_TESTS_CONFORM_H

#include <stddef.h>
#include <stdint.h>

#include "handler/sys.h"

#define C_MAX_OPS 16       /* guest operations one probe may start */
#define CLOG_LINES 192
#define CLOG_LINE 112

/* --- the observation log --- */

struct clog {
	int n;
	int overflow;          /* lines dropped because the log was full */
	char line[CLOG_LINES][CLOG_LINE];
};

void clog_init(struct clog *l);
void clog_add(struct clog *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* 1 if some line starts with "ERROR" or lines were dropped. */
int clog_has_error(const struct clog *l);

/* --- content classes --- */

enum cc_kind { CC_NONE = 0, CC_ZERO, CC_SNAP, CC_WRITE, CC_OTHER };

struct cc {
	enum cc_kind kind;
	int arg;               /* CC_SNAP: page; CC_WRITE: value 1..255 */
};

static inline struct cc cc_zero(void) { return (struct cc){CC_ZERO, 0}; }
static inline struct cc cc_snap(int p) { return (struct cc){CC_SNAP, p}; }
static inline struct cc cc_write(int v) { return (struct cc){CC_WRITE, v}; }
/* "zero", "snap(3)", "write(0x41)", "other", "-" */
const char *cc_str(struct cc c, char *buf, size_t n);

/* --- the environment --- */

struct cmem {
	uint64_t page_size;    /* 4096 or 2 MiB (hugetlb) */
	int pages;
	uint64_t features;     /* UFFD_FEATURE_* asked in UFFDIO_API */
	int wp;                /* register MISSING|WP instead of MISSING */
	int proc;              /* rules 39, 44: the memory belongs to a
				* process of its own (real: a child of the
				* test process that created the uffd and
				* passed it over SCM_RIGHTS; model: mm 0),
				* so that it can fork and exit; only
				* COP_READ, COP_FORK, COP_EXIT and the
				* uffd ops then */
};

enum cop_kind {
	COP_READ = 1,          /* read page `page` (faults if missing), classify it */
	COP_WRITE,             /* fill page `page` with byte `value`, first word first */
	COP_KREAD,             /* a system call reads the page's first word (rule 12) */
	COP_MADVISE,           /* madvise(DONTNEED) of [base+off, base+off+len) */
	COP_MUNMAP,            /* munmap of [base+off, base+off+len) (page aligned) */
	COP_MREMAP,            /* mremap(MAYMOVE|FIXED) of len bytes from page
				* `page` to base+off (rule 38) */
	COP_COPY,              /* UFFDIO_COPY of len bytes from src to
				* base+off on a thread of its own (rule 16) */
	COP_FORK,              /* proc: the process forks; the child reads
				* page `page`, classifies it and exits; done
				* when both fork and the child's read have
				* returned (rule 39) */
	COP_EXIT,              /* proc: the process exits (rule 44; real: it
				* is killed, SIGKILL) */
};

struct cop {
	enum cop_kind kind;
	int page;
	int value;             /* COP_WRITE: 1..255 */
	uint64_t off, len;     /* COP_MADVISE, COP_MUNMAP: bytes from base */
	const void *src;       /* COP_COPY: a sys buffer of len bytes */
};

struct cres {
	int done;              /* 0: still blocked (after settle) */
	int rc;                /* when done: 0 or -errno; an access that raised
				* SIGBUS or SIGSEGV (or a system call's access
				* that failed) is -EFAULT */
	struct cc seen;        /* COP_READ/COP_KREAD, when done and rc == 0;
				* COP_KREAD judges by the first word only */
	uint32_t ptid;         /* the thread's id as PAGEFAULT's ptid shows it */
	int64_t field;         /* COP_COPY: the output field `copy` */
	int forked;            /* COP_FORK: fork has returned in the parent */
	uint64_t t_enter, t_leave; /* real: CLOCK_MONOTONIC ns around the
				* op's system call (rule 16's probe shows
				* that the race was run); model: 0 */
};

struct cview {
	int present;
	int wp;                /* uffd-wp bit (a marker when not present) */
	struct cc content;     /* CC_NONE when not present */
};

struct cenv;

struct cenv_ops {
	/* Create the uffd and the registered memory. 0, or -errno with the
	 * reason in env->why. */
	int (*open)(struct cenv *e, const struct cmem *m);
	/* Start op on a new thread; returns its handle (0, 1, ... in start
	 * order) or -errno. Does not wait for it to block: settle() does. */
	int (*start)(struct cenv *e, const struct cop *op);
	void (*result)(struct cenv *e, int h, struct cres *out);
	/* Let every started operation run until it ends or sleeps in a uffd
	 * wait. 0, or -ETIMEDOUT (real: one did neither within 3 s). */
	int (*settle)(struct cenv *e);
	int (*view)(struct cenv *e, int page, struct cview *out);
	/* Make a sys buffer of len bytes hold content c in every page. */
	int (*fill)(struct cenv *e, void *buf, uint64_t len, struct cc c);
	/* A COPY source the kernel cannot read (EFAULT). */
	const void *(*bad_src)(struct cenv *e);
	/* A COPY source of len bytes (whole pages) holding c in every page,
	 * whose next byte cannot be read: where a copy's readable source
	 * ends (rule 14). Lives until the runner's teardown; NULL on error. */
	const void *(*short_src)(struct cenv *e, uint64_t len, struct cc c);
	/* UFFDIO_UNREGISTER of pages [first, first+n), then, when mode != 0,
	 * UFFDIO_REGISTER of them with mode (UFFDIO_REGISTER_MODE_*). */
	int (*reg)(struct cenv *e, int first, int n, uint64_t mode);
	/* A non-fatal signal to operation h's thread (rules 10, 28). */
	int (*signal)(struct cenv *e, int h);
	/* Rule 43: what /proc shows. fdinfo's pending and total of the uffd;
	 * op h's thread as "<state> <wchan>" ("S handle_userfault", "D
	 * userfaultfd_event_wait_completion", or "other" when it sleeps in
	 * neither or has ended). */
	int (*fdinfo)(struct cenv *e, long *pending, long *total);
	void (*wstate)(struct cenv *e, int h, char *buf, size_t n);
	/* Close every reference to the uffd (rule 40); env->uffd is then -1
	 * and no uffd op may be used any more. */
	int (*release)(struct cenv *e);
	/* Wait until a message is queued on the uffd without reading it
	 * (rule 16's probe). 0, or -ETIMEDOUT (real: none within 3 s;
	 * model: every other operation ended or sleeps, and none is
	 * queued). */
	int (*await_msg)(struct cenv *e);
};

struct cenv {
	const struct cenv_ops *ops;
	const char *backend;   /* "model" or "real" */
	sys_t *sys;            /* the backend's sys.h, valid after open() */
	int uffd;
	uint64_t base, ps;     /* region start and page size */
	int pages;
	uint64_t features;
	char why[256];         /* open()'s reason on failure */
};

static inline uint64_t c_addr(const struct cenv *e, int page)
{
	return e->base + (uint64_t)page * e->ps;
}

/* --- probes and the runners --- */

typedef void (*cprobe_fn)(struct cenv *e, struct clog *log);

struct cprobe {
	const char *name;
	cprobe_fn fn;
	uint64_t page_size;    /* what the probe's open() asks for */
	const char *rules;     /* docs/KERNEL.md Model rules it observes */
};

/* The probe table (conform_probes.c), ended by a {NULL} entry. */
extern const struct cprobe conform_probes[];
const struct cprobe *conform_probe(const char *name); /* NULL if none */
/* Rule 25: one round of COPY racing madvise's steps after the REMOVE was
 * read. Its log ends with "outcome: EAGAIN", "outcome: copied-zapped" or
 * "outcome: copied-kept". */
extern const struct cprobe conform_probe_remove_race;
/* Rule 16: one round of a large COPY racing a madvise of its range. Its
 * log ends with "outcome: pending=<a>,<b> copy=<rc>,<pages> final=<c>":
 * pages present when the REMOVE was first seen queued and again after
 * the COPY returned (still queued), the COPY's result and pages copied,
 * pages present after the zap. */
extern const struct cprobe conform_probe_fill_remove;
#define C_FILL_REMOVE_PAGES 2048
#define C_OUTCOME_PREFIX "outcome: "

/* Both runners log every failure of the machinery (open() included) as
 * an "ERROR" line, and return 0, or -errno when the run itself could not
 * end cleanly. Whether this machine can run a real probe at all is the
 * caller's question beforehand (tests/realtest.h, rt_require).
 *
 * The simulated kernel, random strategy with this seed: a probe that
 * settles gives the same log for every seed. -EDEADLK when the scheduler
 * did not end with every coroutine done. */
int conform_model_run(const struct cprobe *p, uint64_t seed, struct clog *log);
/* The same on kernel profile kver (model/kernel.h enum mk_kver; 0: the
 * default), for probes whose outcome set differs between releases. */
int conform_model_run_kver(const struct cprobe *p, uint64_t seed, int kver,
			   struct clog *log);
/* The real kernel. -ETIMEDOUT when an operation's thread would not finish
 * even after the uffd was released: its memory is then leaked, never
 * unmapped under it. */
int conform_real_run(const struct cprobe *p, struct clog *log);

#endif
