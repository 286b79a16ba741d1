/* model/kernel_impl.h — internals of the simulated kernel, shared by
 * model/kernel*.c, model/sync.c, model/pipe.c and model/sys_model.c only.
 *
 * Contract: the state of one simulated world hangs off `struct mkern`:
 * address spaces (mm) with their VMAs, pages and uffd context, the handler
 * process's fd table and pipes, per-thread kernel state (the fault or event
 * a thread sleeps in), and object pools for the sys layer. The functions
 * below are step bodies: they contain no scheduling point unless their
 * comment says they block.
 */
#ifndef UFFDLAB_MODEL_KERNEL_IMPL_H
#define UFFDLAB_MODEL_KERNEL_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "handler/sys.h"
#include "model/event.h"
#include "model/kernel.h"
#include "model/sys_model.h"
#include "sched/sched.h"

#define MK_MAX_MM 4        /* the guest process and up to 3 forked children */
#define MK_MAX_VMAS 256    /* per mm; munmap/mremap/(un)register split VMAs;
                            * beyond: ENOMEM, as at vm.max_map_count */
#define MK_PIPE_CAP 64     /* bytes a simulated pipe holds before EAGAIN */
#define MK_FD_FIRST 3      /* 0-2 are stdio in the handler process */
#define MK_SMALL_PAGE UINT64_C(4096)
#define MK_POLLOUT 0x004   /* <poll.h> value; sys.h has no name for it */

/* VMA registration modes (vm_flags VM_UFFD_MISSING / VM_UFFD_WP). */
enum { MK_VM_MISSING = 1, MK_VM_WP = 2 };
/* Where a faulting thread's message is (rule 3). */
enum { MK_FL_NONE = 0, MK_FL_PENDING, MK_FL_READ };
/* The state of the event a thread waits on (rules 4, 28). */
enum { MK_EV_NONE = 0, MK_EV_QUEUED, MK_EV_DONE, MK_EV_WITHDRAWN };
enum { MK_FD_FREE = 0, MK_FD_UFFD, MK_FD_PIPE_R, MK_FD_PIPE_W };

struct mk_page {
	mk_content content;
	uint8_t present;
	uint8_t wp;        /* uffd-wp bit; a marker when !present */
	uint8_t poison;    /* a poison marker (UFFDIO_POISON), !present */
};

/* Pages [first, first+npages) mapped at [start, start + npages*ps). */
struct mk_vma {
	uint64_t start;
	int first;
	int npages;
	unsigned flags;    /* MK_VM_*: 0 = not registered */
};

struct mk_thr;
struct mk_list {
	struct mk_thr *head, *tail;
};

/* A userfaultfd context (struct userfaultfd_ctx). */
struct mk_ctx {
	int live;          /* exists and not released */
	int released;
	int refs;          /* open fds + the owning process */
	int proc_ref;      /* the owning process still holds one */
	uint64_t features;
	int user_mode_only;
	int mmap_changing; /* rule 29: a counter, not a flag */
	int mm_exited;     /* rule 44: mmget_not_zero(ctx->mm) fails */
	struct mk_list fpend;  /* unread PAGEFAULTs (fault_pending_wqh) */
	struct mk_list fread;  /* read, still waiting (fault_wqh) */
	struct mk_list events; /* queued events (event_wqh) */
	int nfpend, nevents;
};

struct mk_mm {
	int used;
	struct mk_page *pages;   /* k->npages entries */
	struct mk_vma vmas[MK_MAX_VMAS]; /* sorted by start */
	int nvmas;
	struct mk_ctx ctx;       /* the uffd its VMAs are registered to */
};

/* The handle sys spawn returns; lives in the thread's mk_thr. */
struct sys_thread {
	int tid;
	int joinable;
};

/* Kernel state of one simulated thread (indexed by sched thread id). */
struct mk_thr {
	sched_waitq_t q;         /* the thread sleeps here in faults/events */
	int tid;
	/* fault */
	int flist;               /* MK_FL_* */
	int fkilled;             /* a fatal signal ended the fault */
	int fmm, fpage;
	struct mk_ctx *fctx;
	struct mk_thr *fprev, *fnext;
	struct uffd_msg fmsg;
	int64_t fmsg_id;         /* its sequence number (trace events) */
	/* event */
	int est;                 /* MK_EV_* */
	int efork;               /* FORK: the child mm */
	struct mk_ctx *ectx;
	struct mk_thr *eprev, *enext;
	struct uffd_msg emsg;
	int64_t emsg_id;
	struct sys_thread handle;
	int rd_held;             /* read sides of rwlocks held (oracle) */
	int reads_uffd;          /* it has read the uffd this run (oracle) */
	int retrying;            /* sys_retrying(): a deferred fault's worker */
};

struct mk_fd {
	int kind;                /* MK_FD_* */
	int idx;                 /* mm (uffd) or pipe number */
};

struct mk_pipe {
	int used;
	int rd_open, wr_open;
	int head, len;
	unsigned char buf[MK_PIPE_CAP];
};

/* A sys buffer (or the snapshot's mapping): len bytes at a fake address
 * `start` in address space the model reserved PROT_NONE, so that a handler
 * may point into it (buf + off) but never read it; one tag per page of
 * k->ps bytes (model/buffer.c). */
struct mk_buf {
	uint64_t start, len;
	uint64_t span;           /* address space it owns: pages + a guard page */
	int tag0, ntags;         /* its tags: k->bs.tags[tag0, tag0 + ntags) */
	int live;
	int snap;                /* the snapshot mapping: tags are k->snap */
};

/* Reserved address space; chunks kept across runs, handed out again in
 * the same order at every reset, so the n-th buffer of a run always gets
 * the same address. */
struct mk_bchunk {
	uint64_t lo, hi;
	struct mk_bchunk *next;
};
struct mk_bufspace {
	struct mk_buf *v;        /* this run's buffers, by creation */
	int n, cap;
	mk_content *tags;
	int ntags, tags_cap;
	struct mk_bchunk *chunks, *cur;
	uint64_t next;           /* bump pointer in cur */
	int snapmap;             /* index in v of the snapshot mapping, or -1 */
};

/* A pool of fixed-size objects, kept across runs; reclaim() frees every
 * object at once (the end of a schedule). */
struct mk_pool_chunk;
struct mk_pool_obj;
struct mk_pool {
	size_t objsz;            /* payload bytes */
	uint32_t magic;
	struct mk_pool_chunk *chunks;
	struct mk_pool_obj *free;
};

/* What a step's end saw of a uffd (kernel_seen.c): every field another
 * step can read, and the threads on its queues (fpend, fread, events). */
#define MK_SEEN_LIST 16
#define MK_SEEN_PAGES 64         /* larger memories declare page writes */
struct mk_ctx_seen {
	uint64_t features;
	int used, live, released, refs, proc_ref, user_mode_only;
	int mmap_changing, mm_exited, nfpend, nevents;
	int over[3];             /* the queue is longer than MK_SEEN_LIST */
	int n[3];
	int tid[3][MK_SEEN_LIST];
};

struct mkern {
	struct sys sys;          /* first member: mk_of_sys() */
	sched_t *s;
	int touching;            /* sched_touching(s), cached by configure() */
	short ready_seen[MK_MAX_MM]; /* readiness at the last step's end */
	struct mk_ctx_seen ctx_seen[MK_MAX_MM]; /* each uffd, likewise */
	int pages_seen;          /* npages <= MK_SEEN_PAGES: page_seen kept */
	struct mk_page page_seen[MK_MAX_MM][MK_SEEN_PAGES];
	struct mk_config cfg;
	const struct mk_profile *prof; /* cfg.kver's */
	uint64_t ps;
	int huge;
	int npages, pages_cap;
	mk_content *snap;        /* per page: what the source returns */
	int *src_fail;           /* per page: >0 fail n more, -1 for good */
	struct mk_mm mm[MK_MAX_MM];
	int uffd_fd;             /* the handler's fd of mm 0's uffd */
	struct mk_fd *fds;
	int nfds;
	struct mk_pipe *pipes;
	int npipes;
	struct mk_thr **thr;
	int nthr;
	sched_waitq_t pollq;     /* "readiness changed": poll sleeps here */
	uint64_t next_map;       /* where mremap puts a moved range */
	struct mk_observer obs;
	struct mk_bufspace bs;   /* sys buffers (model/buffer.c) */
	struct mk_pool mutexes, rwlocks, conds, sems;
	int64_t msg_seq;         /* uffd messages queued this run */
	int64_t obj_seq;         /* locks and conds created this run */
	/* handler uffd calls on a number that was no open uffd this run */
	int bad_uffd_calls, bad_uffd_tid, bad_uffd_fd, bad_uffd_err;
	int retry_cut;           /* mk_set_retry_cut(): kept across resets */
};

#define MK_LABEL(k, ...)                                      \
	do {                                                  \
		if (sched_labels_on((k)->s))                  \
			sched_label((k)->s, __VA_ARGS__);     \
	} while (0)

/* The mm whose uffd context c is (footprint ids). */
static inline int mk_ctx_mm(const struct mkern *k, const struct mk_ctx *c)
{
	for (int i = 0; i < MK_MAX_MM; i++)
		if (&k->mm[i].ctx == c)
			return i;
	return MK_MAX_MM; /* not a context of k: an id of its own */
}

/* kernel.c: threads, fds, VMAs, pools, formatting */
struct mk_thr *mk_thr_get(struct mkern *k, int tid); /* NULL: ENOMEM */
struct mk_thr *mk_thr_self(struct mkern *k);
int mk_fd_alloc(struct mkern *k, int kind, int idx);
struct mk_fd *mk_fd_get(struct mkern *k, int fd);
void mk_ready(struct mkern *k);
int mk_vma_at(const struct mk_mm *mm, uint64_t ps, uint64_t addr);
int mk_vma_of_page(const struct mk_mm *mm, int page);
uint64_t mk_vma_end(const struct mk_vma *v, uint64_t ps);
int mk_vma_split(struct mk_mm *mm, uint64_t ps, uint64_t addr);
void mk_vma_remove(struct mk_mm *mm, int i);
void mk_vma_sort(struct mk_mm *mm);
int mk_page_addr(const struct mkern *k, int mm, int page, uint64_t *addr);
/* The footprint of a uffd ioctl on [start, start+len) through fd: the
 * uffd and VMAs of its mm, and every page of the range, written. */
void mk_touch_uffd_range(struct mkern *k, int fd, uint64_t start, uint64_t len);
/* kernel_seen.c: the step-end comparison starts from the state now */
void mk_seen_reset(struct mkern *k);
/* A site's page write, as it must declare it: a read where the step's
 * end finds the writes (small memories), else as given. */
int mk_page_write(const struct mkern *k, int write);
void mk_fmt_content(char *buf, size_t n, mk_content c);
void mk_fmt_msg(char *buf, size_t n, const struct uffd_msg *m);
int mk_pool_init(struct mk_pool *p, size_t objsz, uint32_t magic);
void *mk_pool_get(struct mk_pool *p);            /* NULL: ENOMEM */
int mk_pool_put(struct mk_pool *p, void *obj);   /* -EINVAL: not ours */
int mk_pool_owns(const struct mk_pool *p, const void *obj);
void mk_pool_reclaim(struct mk_pool *p);
void mk_pool_destroy(struct mk_pool *p);

/* buffer.c: sys buffers and the snapshot mapping (no scheduling point) */
void mk_bufs_reset(struct mkern *k);
void mk_bufs_destroy(struct mkern *k);
void *mk_buf_new(struct mkern *k, uint64_t len);     /* NULL: ENOMEM */
int mk_buf_put(struct mkern *k, const void *p);      /* -EINVAL: not a live buffer start */
const void *mk_buf_snapmap(struct mkern *k);         /* NULL: ENOMEM */
/* Bytes of the live buffer (or mapping) holding a, from a to its end; 0 if none. */
uint64_t mk_buf_left(const struct mkern *k, uint64_t a);
/* The tag of the `n` bytes at address a (n <= k->ps): -EFAULT unless they
 * lie in one live buffer (or the snapshot mapping). */
int mk_src_tag(const struct mkern *k, uint64_t a, uint64_t n, mk_content *out);
/* Bytes [a, a+len) of one live, writable buffer now hold what fn says the
 * source holds at the same offsets (fn(ctx, off, n, &tag): the tag of n
 * bytes at offset off of the source, 0 or -errno, called page by page;
 * NULL fn = zeros). -EFAULT when the range is not inside one writable
 * buffer, else fn's first error, with nothing changed. */
typedef int (*mk_src_fn)(void *ctx, uint64_t off, uint64_t n, mk_content *out);
int mk_buf_write(struct mkern *k, uint64_t a, uint64_t len, mk_src_fn fn,
		 void *ctx);
/* The tag of n bytes at offset off of the snapshot file (source_read's
 * view): -EIO past its end. */
int mk_snap_tag(const struct mkern *k, uint64_t off, uint64_t n, mk_content *out);

/* kernel_fault.c: fault queues and wakes (step bodies) */
void mk_fault_unlink(struct mk_thr *t);
void mk_fault_to_read(struct mk_thr *t);
int mk_wake_range(struct mkern *k, struct mk_ctx *ctx, uint64_t start,
		  uint64_t len);

/* kernel_events.c */
/* Queue msg as the calling thread's event and sleep until it is read
 * (0), or withdrawn by release or a fatal signal (-EINTR). Blocks. */
int mk_event_wait(struct mkern *k, struct mk_ctx *ctx, struct mk_thr *t,
		  const struct uffd_msg *msg);
void mk_event_unlink(struct mk_thr *t);
void mk_zap(struct mkern *k, int mm, uint64_t start, uint64_t end);
void mk_ctx_put(struct mkern *k, int mm);

/* kernel_ioctl.c: the uffd syscalls (step bodies; the sys layer has
 * already passed its scheduling point). Field pointers receive the
 * kernel's output field only when the kernel writes it. */
/* ids (may be NULL): the sequence numbers of the first nids messages */
int mk_uffd_read(struct mkern *k, int fd, struct uffd_msg *msgs, int max,
		 int64_t *ids, int nids);
/* src: the source address; each page's tag comes from mk_src_tag, an
 * unreadable page stops the copy there with EFAULT (rule 14). *first:
 * the first page's source tag (0 when unreadable), for traces. */
int mk_uffd_copy(struct mkern *k, int fd, uint64_t dst, uint64_t src,
		 uint64_t len, uint64_t mode, int64_t *field, mk_content *first,
		 int checked);
int mk_uffd_zeropage(struct mkern *k, int fd, uint64_t dst, uint64_t len,
		     uint64_t mode, int64_t *field, int checked);
/* Before 6.9 (rule 16) a fill checks mmap_changing in one step and fills
 * in a later one (checked = 1 then): 0, or the early refusal. */
int mk_fill_precheck(struct mkern *k, int fd, int64_t *field);
/* Whether fd's uffd refuses fills now because it is changing (rule 13). */
int mk_uffd_changing(struct mkern *k, int fd);
int mk_uffd_wake(struct mkern *k, int fd, uint64_t start, uint64_t len);
int mk_uffd_writeprotect(struct mkern *k, int fd, uint64_t start,
			 uint64_t len, uint64_t mode);
/* The handler's UFFDIO_UNREGISTER through its fd (after the sys op's
 * scheduling point): rules 17, 20. */
int mk_uffd_unregister(struct mkern *k, int fd, uint64_t start, uint64_t len);
/* A handler's uffd call on a number that is not an open uffd (closed, or
 * reused by a pipe): counted for the oracle (fd-after-close). */
void mk_bad_uffd_call(struct mkern *k, int fd, int err);
int mk_sys_dup(sys_t *sys, int fd);
short mk_uffd_revents(const struct mkern *k, int mm);
int mk_uffd_api(struct mkern *k, int fd, uint64_t want, uint64_t *features,
		uint64_t *ioctls);
int mk_uffd_move(struct mkern *k, int fd, uint64_t dst, uint64_t src,
		 uint64_t len, uint64_t mode, int64_t *field);
int mk_uffd_poison(struct mkern *k, int fd, uint64_t dst, uint64_t len,
		   uint64_t mode, int64_t *field);

/* pipe.c: pipes, close, poll (sys ops) */
int mk_sys_pipe(sys_t *sys, int fds[2]);
long mk_sys_write(sys_t *sys, int fd, const void *buf, size_t len);
long mk_sys_read(sys_t *sys, int fd, void *buf, size_t len);
int mk_sys_close(sys_t *sys, int fd);
int mk_sys_poll(sys_t *sys, struct sys_pollfd *fds, int nfds, int timeout_ms);

/* sync.c: mutex, rwlock, cond (sys ops) */
int mk_sys_mutex_new(sys_t *sys, sys_mutex_t **out);
void mk_sys_mutex_free(sys_t *sys, sys_mutex_t *m);
void mk_sys_mutex_lock(sys_t *sys, sys_mutex_t *m);
void mk_sys_mutex_unlock(sys_t *sys, sys_mutex_t *m);
int mk_sys_rwlock_new(sys_t *sys, sys_rwlock_t **out);
void mk_sys_rwlock_free(sys_t *sys, sys_rwlock_t *l);
void mk_sys_rdlock(sys_t *sys, sys_rwlock_t *l);
void mk_sys_rdunlock(sys_t *sys, sys_rwlock_t *l);
void mk_sys_wrlock(sys_t *sys, sys_rwlock_t *l);
void mk_sys_wrunlock(sys_t *sys, sys_rwlock_t *l);
int mk_sys_cond_new(sys_t *sys, sys_cond_t **out);
void mk_sys_cond_free(sys_t *sys, sys_cond_t *c);
void mk_sys_cond_wait(sys_t *sys, sys_cond_t *c, sys_mutex_t *m);
void mk_sys_cond_signal(sys_t *sys, sys_cond_t *c);
void mk_sys_cond_broadcast(sys_t *sys, sys_cond_t *c);
size_t mk_sync_mutex_size(void);
size_t mk_sync_rwlock_size(void);
size_t mk_sync_cond_size(void);
int mk_sys_sem_new(sys_t *sys, sys_sem_t **out, int limit);
void mk_sys_sem_free(sys_t *sys, sys_sem_t *m);
void mk_sys_sem_acquire(sys_t *sys, sys_sem_t *m);
void mk_sys_sem_release(sys_t *sys, sys_sem_t *m);
void mk_sys_sem_wait_zero(sys_t *sys, sys_sem_t *m);
size_t mk_sync_sem_size(void);


#endif
