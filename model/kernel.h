/* model/kernel.h — the simulated userfaultfd kernel (6.18 semantics).
 *
 * Contract: one `struct mkern` models one guest process (Firecracker) whose
 * memory region is registered to one uffd, plus the fds (the uffd, pipes) of
 * the handler process, and implements handler/sys.h on top of sched/. It
 * obeys the numbered Model rules of docs/KERNEL.md 1-42 and 44 (43, fdinfo
 * and /proc, is for real/; the model's state says the same), in the kernel
 * profile mk_config.kver selects (6.1, 6.12, 6.18: model/profile.c),
 * rule numbers in the comments of
 * model/kernel_*.c. Everything is driven by coroutines of the
 * kernel's scheduler: every sys op and every guest-side operation below
 * starts with a scheduling point and blocks (sched_block) exactly where the
 * kernel would sleep; between two scheduling points an operation is atomic.
 * Guest-side functions must be called from a coroutine (they may block);
 * observation functions have no scheduling point and may be called anywhere.
 *
 * Page contents are 64-bit tags, never bytes: 0 = zeros, MK_SNAP(p) = the
 * snapshot of page p, MK_WRITE(id) = the data of guest write `id`. A page is
 * named by its index in the region; it keeps its index when mremap moves it.
 *
 * No allocation happens after the first schedule that reached a given size
 * (threads, fds, buffers, locks are pooled and kept across mk_reset), no
 * output unless sched_labels_on(), and nothing observable depends on pointer
 * values. Errors are negative errno values.
 */
#ifndef UFFDLAB_MODEL_KERNEL_H
#define UFFDLAB_MODEL_KERNEL_H

#include <stdint.h>

#include "handler/sys.h"
#include "sched/sched.h"

#include "model/content.h"

/* What mk_guest_read() returns instead of data when the access did not
 * complete: the page is not mapped (SIGSEGV), or a fatal signal ended the
 * fault (mk_signal). Use mk_access() to get the errno instead. */
#define MK_SEGV ((mk_content)(UINT64_C(0x45) << MK_TAG_SHIFT | 0x5345475600))
#define MK_KILLED ((mk_content)(UINT64_C(0x45) << MK_TAG_SHIFT | 0x4b494c4c00))

#define MK_BASE_DEFAULT UINT64_C(0x7f0000000000)
#define MK_HUGE_PAGE (UINT64_C(2) << 20)

enum mk_kind { MK_GUEST = 1, MK_BALLOON, MK_CONTROL, MK_HANDLER };

/* Footprint classes (sched_touch, sched/sched.h) of the model's objects:
 * what each step of a guest, balloon, sys op or scenario operation reads
 * or writes, so that the reducing dfs knows which steps commute. */
enum mk_obj_class {
	/* page p of mm m: MK_PAGE_ID(m, p); in memories of at most 64 pages
	 * the sites declare reads and the step's end finds the writes */
	MK_OC_PAGE = SCHED_OC_USER,
	/* mm m's uffd: its queues, mmap_changing, waiters; read at the sites,
	 * written where the step's end finds it changed (kernel_seen.c) */
	MK_OC_UFFD,
	MK_OC_MM,          /* mm m's VMA table */
	MK_OC_SRC,         /* the snapshot source's failure count of page p */
	MK_OC_FDS,         /* the handler's fd table and pipes */
	MK_OC_LOCK,        /* a mutex, rwlock or cond, by its id */
	MK_OC_ATOMIC,      /* a sys atomic word, by address (equality only) */
	MK_OC_ORACLE,      /* world.c: the oracle's log of page p */
	MK_OC_PROGRESS,    /* world.c: the scenario threads' done counts */
	MK_OC_HSHARED,     /* the handler's declared shared memory (sys_shared) */
	/* mm m's uffd readiness (what poll sees): written by every step that
	 * changed it, as mk_touch_readiness() finds at the step's end */
	MK_OC_UREADY,
};
#define MK_PAGE_ID(mm, p) (((uint64_t)(mm) << 32) | (uint32_t)(p))
/* A uffd is four objects (MK_OC_UFFD, MK_UFFD_ID(mm, part)), so that a
 * fault's queueing and an event's do not order each other: its settings
 * and lifetime, mmap_changing, the fault queues (unread and read), the
 * event queue. A site declares the parts it reads (MK_UFFD_READ, a mask
 * of 1 << part); the step's end finds the parts it wrote. */
enum { MK_UFFD_CTL, MK_UFFD_CHG, MK_UFFD_FQ, MK_UFFD_EVQ, MK_UFFD_PARTS };
#define MK_UFFD_ID(mm, part) ((uint64_t)(part) << 8 | (uint64_t)(mm))
#define MK_UFFD_ALL ((1u << MK_UFFD_PARTS) - 1)
#define MK_UFFD_READ(k, mm, parts)                                           \
	do {                                                                 \
		if ((k)->touching)                                           \
			for (int p_ = 0; p_ < MK_UFFD_PARTS; p_++)           \
				if ((parts) >> p_ & 1)                       \
					sched_touch((k)->s,                  \
						    SCHED_OBJ(MK_OC_UFFD,    \
							      MK_UFFD_ID((mm), p_)), \
						    SCHED_READ);             \
	} while (0)
#define MK_TOUCH(k, cls, id, w)                                              \
	do {                                                                 \
		if ((k)->touching) /* cached per run: a plain run pays a test */ \
			sched_touch((k)->s, SCHED_OBJ((cls), (id)), (w));    \
	} while (0)

/* Kernel profiles (docs/KERNEL.md "Kernel profiles"): what differs
 * between the releases uffdlab models, each difference cited there.
 * mk_config.kver 0 means MK_KVER_DEFAULT. */
enum mk_kver { MK_K6_1 = 601, MK_K6_12 = 612, MK_K6_18 = 618 };
#define MK_KVER_DEFAULT MK_K6_18
struct mk_profile {
	enum mk_kver kver;
	const char *name;          /* "6.18" */
	uint64_t features;         /* UFFDIO_API's available features */
	uint64_t ioctls;           /* fdinfo's API|range ioctl mask */
	int fill_vs_remove_atomic; /* rule 16: map_changing_lock, 6.9 */
	int field_on_eagain;       /* rule 13: the field on the early EAGAIN, 6.15 */
};
/* The profile of kver (0: the default), NULL for an unknown one. */
const struct mk_profile *mk_profile(int kver);
/* "6.1" -> profile, NULL if not one of them. */
const struct mk_profile *mk_profile_named(const char *name);

struct mk_config {
	uint64_t base;        /* region start; 0 = MK_BASE_DEFAULT */
	uint64_t page_size;   /* 4096 (anon) or MK_HUGE_PAGE (hugetlb) */
	int pages;            /* >= 1 */
	uint64_t features;    /* UFFD_FEATURE_* asked in UFFDIO_API */
	int register_wp;      /* register MISSING|WP instead of MISSING */
	int user_mode_only;   /* uffd created with UFFD_USER_MODE_ONLY (rule 12) */
	uint64_t src_offset;  /* snapshot offset of page 0 (source_read) */
	const mk_content *snapshot; /* per page; NULL = MK_SNAP(p) everywhere */
	int kver;             /* enum mk_kver; 0 = MK_KVER_DEFAULT */
};

struct mkern;

/* NULL on a bad config (errno EINVAL) or ENOMEM. s must outlive k. */
struct mkern *mk_new(sched_t *s, const struct mk_config *cfg);
/* Start over for the next schedule (after sched_reset), keeping memory:
 * pages as the config says, every fd, pipe, buffer and lock of the last
 * run reclaimed (free the handler first). cfg NULL = the same config.
 * 0 or -errno (the kernel is unchanged on error). */
int mk_reset(struct mkern *k, const struct mk_config *cfg);
void mk_free(struct mkern *k);

/* The sys_t backend the handler uses, and the handler's uffd number. */
sys_t *mk_sys(struct mkern *k);
int mk_uffd(const struct mkern *k);
struct mkern *mk_of_sys(sys_t *sys);

/* --- guest-side operations (from a coroutine; each one may block) --- */

/* An access by the guest process (mm 0) or a forked child (mm > 0):
 * returns 0 and the tag seen (*out may be NULL), -EFAULT when the page is
 * not mapped, -EINTR when a fatal signal ended the fault, -EINVAL for a
 * bad page. A write stores v. kernel = a kernel-mode access (a syscall
 * touching the page, rule 12). */
int mk_access(struct mkern *k, int mm, int page, int write, mk_content v,
	      int kernel, mk_content *out);
mk_content mk_guest_read(struct mkern *k, int page);   /* or MK_SEGV/MK_KILLED */
int mk_guest_write(struct mkern *k, int page, mk_content v);

/* madvise(MADV_DONTNEED) of pages first..last (inclusive), rules 21-31:
 * 0 or -errno (-ENOMEM when part of the range is not mapped). */
int mk_madvise_dontneed(struct mkern *k, int first, int last);
/* The same on an address range of mm, for unaligned/odd ranges (rule 31). */
int mk_madvise(struct mkern *k, int mm, uint64_t start, uint64_t len);
/* munmap of pages first..last (rule 37); page first must be mapped
 * (-EINVAL), the range is [its address, + (last-first+1) pages). */
int mk_munmap(struct mkern *k, int first, int last);
/* mremap-move pages first..last (one VMA, else -EFAULT) to a fresh
 * address the kernel picks, or to new_start (page-aligned and not
 * overlapping the old range, else -EINVAL; whatever is mapped there is
 * unmapped first, as MREMAP_FIXED does), rule 38. 0 or -errno. */
int mk_mremap(struct mkern *k, int first, int last);
int mk_mremap_to(struct mkern *k, int first, int last, uint64_t new_start);
/* fork (rule 39): returns the child's mm number (>= 1), or -errno
 * (-EAGAIN once MK_MAX_MM - 1 = 3 children exist in this run). */
int mk_fork(struct mkern *k);
/* UFFDIO_UNREGISTER / UFFDIO_REGISTER (mode = UFFDIO_REGISTER_MODE_*) of
 * pages first..last of mm 0, as the process that owns the uffd would. */
int mk_unregister(struct mkern *k, int first, int last);
int mk_register(struct mkern *k, int first, int last, uint64_t mode);
/* The guest process closes its reference to the uffd. The uffd is
 * released (rule 40) when no reference is left: the handler's fd must be
 * closed too (sys close), as in the kernel. */
void mk_release(struct mkern *k);
/* The guest process exits (rule 44): every other thread of it (guest and
 * balloon kinds) dies, a fault or event wait ends as by a fatal signal, a
 * later access by it returns -EINTR; mm 0's users drop to zero, so COPY,
 * ZEROPAGE and WRITEPROTECT on its uffd get -ESRCH (field untouched). The
 * handler's fd keeps the uffd open: read, poll and WAKE work as before. */
int mk_exit(struct mkern *k);
/* Deliver a signal to thread tid (rules 10, 28): a fault wait ends (the
 * access is retried, or abandoned with -EINTR if fatal); an event wait
 * ends only on a fatal signal. Returns 1 if it interrupted a wait. */
int mk_signal(struct mkern *k, int tid, int fatal);

/* --- configuration of the snapshot source (no scheduling point) --- */

/* The next n source reads of page fail with -EIO (n = 0: for good). */
void mk_source_fail(struct mkern *k, int page, int n);

/* The heap kinds (sched_heap_kinds) of a handler that is not
 * data-race-free (handler_drf): handler and control threads run handler
 * code, whose memory (tracker, queues) the model cannot see. */
#define MK_HEAP_KINDS ((UINT64_C(1) << MK_HANDLER) | (UINT64_C(1) << MK_CONTROL))

/* --- observation (no scheduling point) --- */

struct mk_page_view {
	int present;
	mk_content content;   /* 0 when not present */
	int wp;               /* uffd-wp bit, or a WP marker when not present */
	int mapped;           /* the page has an address (not munmapped) */
	uint64_t addr;        /* its current address (if mapped) */
};
void mk_page_view(const struct mkern *k, int page, struct mk_page_view *out);
void mk_mm_page_view(const struct mkern *k, int mm, int page,
		     struct mk_page_view *out);
int mk_mmap_changing(const struct mkern *k);
/* The retry cut (handler/sys.h retrying, docs/DESIGN.md): on, a fill or
 * WRITEPROTECT that a retrying thread gets -EAGAIN from while the uffd is
 * changing ends the run (sched_cut). Off by default; kept across resets. */
void mk_set_retry_cut(struct mkern *k, int on);
/* Messages queued and not yet read: faults, events. */
int mk_pending_faults(const struct mkern *k);
int mk_pending_events(const struct mkern *k);
/* Which page thread tid is blocked on in a fault (-1 if none) and whether
 * its message was read (msg_read may be NULL). */
int mk_waiting_page(const struct mkern *k, int tid, int *msg_read);
/* 1 if tid is blocked waiting for one of its events to be read. */
int mk_waiting_event(const struct mkern *k, int tid);
int mk_released(const struct mkern *k);
/* How many rwlock read sides thread tid holds (or waits for, once it
 * asked): lets the oracle see a lock held across a backoff. */
int mk_read_locks_held(const struct mkern *k, int tid);
/* 1 if thread tid has read the uffd in this run: the handler's serve loop,
 * known by what it does rather than by its name. */
int mk_reads_uffd(const struct mkern *k, int tid);
/* How many uffd calls (read, ioctls) a handler made this run on an fd
 * number that was not an open uffd — closed, or reused by another file —
 * and the first one's thread, fd and errno (*tid -1 when none). */
int mk_bad_uffd_calls(const struct mkern *k, int *tid, int *fd, int *err);

/* Callbacks on every page install by COPY/ZEROPAGE (with the installing
 * thread) and on every page of a zapped range (madvise, munmap), mm 0. */
struct mk_observer {
	void *ctx;
	void (*install)(void *ctx, int tid, int page, mk_content c, int wp);
	void (*zap)(void *ctx, int page);
	/* a handler thread backs off (sys sleep_ns), after its scheduling point */
	void (*sleep)(void *ctx, int tid, uint64_t ns);
	/* a source read of page failed by injection (mk_source_fail);
	 * permanent: it fails for good. NULL: not observed */
	void (*source_fail)(void *ctx, int tid, int page, int permanent);
	/* the handler read a PAGEFAULT message for addr. NULL: not observed */
	void (*fault_read)(void *ctx, uint64_t addr);
};
void mk_set_observer(struct mkern *k, const struct mk_observer *o);
/* A reducing run, as each step ends (the world's footprint hook): a uffd
 * whose readiness the step changed gets MK_OC_UREADY written. */
void mk_touch_readiness(struct mkern *k);
/* Likewise for every uffd (MK_OC_UFFD) and, in memories of at most 64
 * pages, every page (MK_OC_PAGE) the step changed; readiness included.
 * The sites declare those objects read (model/kernel_seen.c). */
void mk_touch_changes(struct mkern *k);

#endif
