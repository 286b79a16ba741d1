/* handler/sys.h — the platform interface every handler is written against.
 *
 * Contract: a handler touches the outside world only through a `sys_t`'s ops
 * table; it includes nothing from Linux or from a backend. Two backends
 * implement it: model/ (simulated kernel; every call is a scheduling point)
 * and real/ (pthreads, a real userfaultfd). Errors are returned as negative
 * errno values (-EAGAIN, -EEXIST, ...), never via a global errno. Addresses
 * are uint64_t host-virtual addresses of guest memory; page contents move
 * through opaque buffers from buf_alloc (a handler may point into them,
 * never read or write their bytes itself), so a backend may represent a
 * page by a tag instead of its bytes. uffd messages are the kernel's struct uffd_msg.
 */
#ifndef UFFDLAB_SYS_H
#define UFFDLAB_SYS_H

#include <stddef.h>
#include <stdint.h>

#include "uffd_compat.h"

typedef struct sys sys_t;
typedef struct sys_thread sys_thread_t;
typedef struct sys_mutex sys_mutex_t;
typedef struct sys_rwlock sys_rwlock_t;
typedef struct sys_cond sys_cond_t;
typedef struct sys_sem sys_sem_t;

/* poll bits, same values as <poll.h> so the real backend passes them through */
enum {
	SYS_POLLIN = 0x001,
	SYS_POLLERR = 0x008,
	SYS_POLLHUP = 0x010,
	SYS_POLLNVAL = 0x020,
};

struct sys_pollfd {
	int fd;
	short events;
	short revents;
};

/* Annotation kinds: test barrier points and notes that end up in traces. */
enum sys_note {
	SYS_NOTE_BEFORE_RLOCK = 1,     /* worker, before the settle read lock */
	SYS_NOTE_BEFORE_FAULT_PAGE = 2, /* worker, lock held, source chosen */
	SYS_NOTE_BEFORE_PREFAULT_RLOCK = 3,
	SYS_NOTE_TRACKER = 4,           /* a tracker transition: a=page, b=state */
	SYS_NOTE_DEFER = 5,             /* a fault deferred: a=address */
	SYS_NOTE_ERROR = 6,             /* handler gave up: a=address, b=-errno */
};

struct sys_ops {
	/* --- threads --- */
	/* Start fn(arg) on a new thread. out may be NULL (detached). */
	int (*spawn)(sys_t *, sys_thread_t **out, const char *name,
		     void (*fn)(void *), void *arg);
	/* Wait for a non-detached thread to end and release it. */
	int (*join)(sys_t *, sys_thread_t *);
	/* A spin hint: the caller made no progress and wants others to run. */
	void (*yield)(sys_t *);
	/* Back off for ns nanoseconds (simulated: a scheduling point only). */
	void (*sleep_ns)(sys_t *, uint64_t ns);
	/* A pseudo-random number (simulated: from the run's seed). */
	uint64_t (*random)(sys_t *);

	/* --- synchronisation --- */
	int (*mutex_new)(sys_t *, sys_mutex_t **out);
	void (*mutex_free)(sys_t *, sys_mutex_t *);
	void (*mutex_lock)(sys_t *, sys_mutex_t *);
	void (*mutex_unlock)(sys_t *, sys_mutex_t *);
	/* Writer-preferring: once a writer waits, new readers block (Go RWMutex). */
	int (*rwlock_new)(sys_t *, sys_rwlock_t **out);
	void (*rwlock_free)(sys_t *, sys_rwlock_t *);
	void (*rdlock)(sys_t *, sys_rwlock_t *);
	void (*rdunlock)(sys_t *, sys_rwlock_t *);
	void (*wrlock)(sys_t *, sys_rwlock_t *);
	void (*wrunlock)(sys_t *, sys_rwlock_t *);
	int (*cond_new)(sys_t *, sys_cond_t **out);
	void (*cond_free)(sys_t *, sys_cond_t *);
	void (*cond_wait)(sys_t *, sys_cond_t *, sys_mutex_t *);
	void (*cond_signal)(sys_t *, sys_cond_t *);
	void (*cond_broadcast)(sys_t *, sys_cond_t *);
	/* A counting semaphore that can be waited empty: Go's errgroup with
	 * SetLimit (a token channel and a WaitGroup) as one primitive, so
	 * that the simulator knows that taking and giving back slots
	 * commute (a mutex-and-condition errgroup orders every worker's end
	 * against every dispatch). limit >= 1 slots. acquire blocks while
	 * every slot is taken (g.sem <- token; wg.Add(1)); release gives one
	 * back (<-g.sem; wg.Done()), from any thread; wait_zero blocks until
	 * none is taken (wg.Wait()). */
	int (*sem_new)(sys_t *, sys_sem_t **out, int limit);
	void (*sem_free)(sys_t *, sys_sem_t *);
	void (*sem_acquire)(sys_t *, sys_sem_t *);
	void (*sem_release)(sys_t *, sys_sem_t *);
	void (*sem_wait_zero)(sys_t *, sys_sem_t *);
	/* Sequentially consistent atomics on shared words that matter for races. */
	uint64_t (*atomic_load)(sys_t *, uint64_t *p);
	void (*atomic_store)(sys_t *, uint64_t *p, uint64_t v);
	uint64_t (*atomic_add)(sys_t *, uint64_t *p, uint64_t v); /* returns new */
	/* compare-and-swap: returns 1 and stores desired if *p == expected */
	int (*atomic_cas)(sys_t *, uint64_t *p, uint64_t expected, uint64_t desired);

	/* --- file descriptors: pipes and poll --- */
	/* A non-blocking pipe: fds[0] read end, fds[1] write end. */
	int (*pipe)(sys_t *, int fds[2]);
	/* write/read return bytes done or -errno (-EAGAIN when it would block). */
	long (*write)(sys_t *, int fd, const void *buf, size_t len);
	long (*read)(sys_t *, int fd, void *buf, size_t len);
	int (*close)(sys_t *, int fd);
	/* Block until an fd is ready (timeout_ms < 0: forever). Returns the
	 * number of fds with revents, 0 on timeout, or -errno (-EINTR). */
	int (*poll)(sys_t *, struct sys_pollfd *fds, int nfds, int timeout_ms);

	/* --- userfaultfd (uffd is non-blocking, as Firecracker creates it) --- */
	/* Read up to max messages; returns how many (>= 1), -EAGAIN when none
	 * is queued, or another -errno. Faults come before events (docs/KERNEL.md 1). */
	int (*uffd_read)(sys_t *, int uffd, struct uffd_msg *msgs, int max);
	/* UFFDIO_COPY. Returns 0 or -errno; *copied gets the kernel's `copy`
	 * field (bytes done, or -errno), or the call's -errno where the kernel
	 * refused the call before writing the field (validation). A partial
	 * copy returns -EAGAIN with 0 < *copied < len. src points into a
	 * buffer from buf_alloc or into source_map's mapping, at any offset;
	 * the copy stops at the first page whose source bytes are not all in
	 * it (EFAULT, or EAGAIN with the bytes done). On the real backend the
	 * bytes after a buffer may happen to be readable; never rely on it. */
	int (*uffd_copy)(sys_t *, int uffd, uint64_t dst, const void *src,
			 uint64_t len, uint64_t mode, int64_t *copied);
	/* UFFDIO_ZEROPAGE, same conventions; *zeroed gets the `zeropage` field. */
	int (*uffd_zeropage)(sys_t *, int uffd, uint64_t dst, uint64_t len,
			     uint64_t mode, int64_t *zeroed);
	int (*uffd_wake)(sys_t *, int uffd, uint64_t start, uint64_t len);
	int (*uffd_writeprotect)(sys_t *, int uffd, uint64_t start, uint64_t len,
				 uint64_t mode);
	/* UFFDIO_UNREGISTER of [start, start+len): 0 or -errno. Wakes the
	 * range's MISSING waiters, which then see plain anonymous memory; a
	 * later COPY there is -ENOENT (docs/KERNEL.md rules 17, 20). */
	int (*uffd_unregister)(sys_t *, int uffd, uint64_t start, uint64_t len);
	/* A new fd for the uffd behind uffd (the copy SCM_RIGHTS hands a
	 * handler of its own): the lowest free number, or -errno. The
	 * simulator dups uffds only (-EINVAL for a pipe). */
	int (*dup)(sys_t *, int uffd);

	/* --- page buffers and the snapshot source --- */
	/* A buffer of len bytes (any number of pages), zeros; NULL on
	 * ENOMEM. buf_free takes the pointer buf_alloc returned. */
	void *(*buf_alloc)(sys_t *, uint64_t len);
	void (*buf_free)(sys_t *, void *buf, uint64_t len);
	/* Zero len bytes at buf (anywhere inside one buffer). */
	void (*buf_zero)(sys_t *, void *buf, uint64_t len);
	/* Read len bytes of the snapshot at offset into buf (anywhere inside
	 * one buffer, any length): 0 or -errno (-EIO: may succeed on a later
	 * attempt, or fail for good; also a read past the snapshot's end). */
	int (*source_read)(sys_t *, uint64_t offset, void *buf, uint64_t len);

	/* --- annotations --- */
	/* A test barrier point or a trace note; see enum sys_note. */
	void (*note)(sys_t *, enum sys_note what, uint64_t a, uint64_t b);
	/* The caller reads (write 0) or writes (1) memory its threads share
	 * that no sys lock or sys atomic orders (its own C atomics, such as
	 * the tracker's), named by id (SYS_SHARED_*; equality only). Not a
	 * scheduling point. The simulator adds it to the step's footprint so
	 * that the reducing dfs orders such accesses (docs/DESIGN.md); NULL
	 * (the real backend) ignores it. Call it through sys_shared(). */
	void (*shared)(sys_t *, uint64_t id, int write);

	/* --- the snapshot mapped, the API handshake, MOVE and POISON
	 * (docs/KERNEL.md rules 14, 42, A5) --- */
	/* The snapshot mapped read-only: source_read's offset o is the byte
	 * at base + o, for o < *len; a COPY may use any address in it as
	 * src (Firecracker's handler copies from its mapping of the memory
	 * file). NULL on ENOMEM. Not for the handler to read (a simulated
	 * backend maps no bytes); source failure injection does not apply. */
	const void *(*source_map)(sys_t *, uint64_t *len);
	/* UFFDIO_API as a handler handed an initialised uffd sees it (the
	 * VMM did the call): want = the UFFD_FEATURE_* bits the handler
	 * needs. -EINVAL (and both outputs 0, as the kernel's err_out) when
	 * want has a bit this kernel does not offer at all; else 0 with
	 * *features = the features this uffd has and *ioctls = the kernel's
	 * ioctl mask (1 << _UFFDIO_*: API, REGISTER, UNREGISTER and the range
	 * ioctls, as fdinfo shows it). A bit of want missing from *features
	 * on success: the kernel knows it, this uffd was not given it. No
	 * scheduling point: nothing it reads changes. */
	int (*uffd_api)(sys_t *, int uffd, uint64_t want, uint64_t *features,
			uint64_t *ioctls);
	/* UFFDIO_MOVE (6.8): move len bytes of present pages at src to the
	 * missing pages at dst; *moved gets the `move` field, conventions
	 * as uffd_copy (mode: UFFDIO_MOVE_MODE_*). */
	int (*uffd_move)(sys_t *, int uffd, uint64_t dst, uint64_t src,
			 uint64_t len, uint64_t mode, int64_t *moved);
	/* UFFDIO_POISON (6.6): missing pages at [dst, dst+len) raise SIGBUS
	 * when accessed; *updated gets the `updated` field. */
	int (*uffd_poison)(sys_t *, int uffd, uint64_t dst, uint64_t len,
			   uint64_t mode, int64_t *updated);
	/* --- memory state --- */
	/* The guest's pagemap entry of the page at addr, as
	 * /proc/PID/pagemap gives it (PM_PRESENT_BIT, PM_UFFD_WP_BIT of
	 * uffd_compat.h): under WP_ASYNC, present and not WP is "dirty".
	 * 0 or -errno. The simulator reads it atomically with the step
	 * before (no scheduling point: an observation, not a syscall that
	 * can race the handler's own exclusion). */
	int (*pagemap)(sys_t *, uint64_t addr, uint64_t *entry);
	/* --- the retry declaration --- */
	/* The calling thread now retries work an earlier attempt gave up
	 * with -EAGAIN because the uffd was changing (rule 13), and the
	 * handler promises: if a fill or WRITEPROTECT of this thread again
	 * fails so, it goes back to where the attempt before it went, with
	 * nothing new but counters and thread ids (the spin-assume of GenMC
	 * and Nidhugg over a dispatch-defer cycle). The simulator's reducing
	 * search may then end that run (sched_cut): the run in which the
	 * event's thread resumed first covers it (docs/DESIGN.md, "the retry
	 * cut"). Not a scheduling point. NULL (the real backend) ignores it;
	 * call it through sys_retrying(). */
	void (*retrying)(sys_t *);
};

struct sys {
	const struct sys_ops *ops;
};

/* Ids for ops->shared. The handler's per-page state (what page_view and
 * the export read) is SYS_SHARED_PAGE(page); the reason of its first fatal
 * error (what error() reads) is SYS_SHARED_ERROR; a handler may name more
 * of its own from SYS_SHARED_OWN up. */
#define SYS_SHARED_PAGE(p) ((uint64_t)(p) & ((UINT64_C(1) << 40) - 1))
#define SYS_SHARED_ERROR (UINT64_C(1) << 40)
#define SYS_SHARED_OWN (UINT64_C(2) << 40)

static inline void sys_shared(sys_t *s, uint64_t id, int write)
{
	if (s && s->ops->shared)
		s->ops->shared(s, id, write);
}

static inline void sys_retrying(sys_t *s)
{
	if (s && s->ops->retrying)
		s->ops->retrying(s);
}

#endif
