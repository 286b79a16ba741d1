/* model/event.h — the typed step events of the simulated kernel.
 *
 * Contract: every place the model labels a step (sched_label) also emits
 * one typed event (sched_event) saying the same thing in fields: the kinds
 * below, with the fields in the order of mev_schema (model/event.c, and
 * docs/TRACE.md, which lists every kind and key). The label stays for
 * humans; tools (viz/) read only the events. Events cost nothing while
 * exploring: MEV() tests sched_labels_on() before it evaluates a field.
 *
 * Identities that the labels only implied are explicit: every uffd message
 * queued gets a sequence number ("msg", 1, 2, ... per run, in queueing
 * order), which the read that returns it names; every mutex, rwlock and
 * cond gets an id ("lock", 1, 2, ... per run, in creation order); threads
 * are sched thread ids; the step's own thread is the trace line's tid.
 * Addresses and contents are hex, contents as the model's 64-bit tags
 * (model/kernel.h: 0 zeros, 0x53<<56|p snapshot of page p, 0x57<<56|id
 * guest write id).
 */
#ifndef UFFDLAB_MODEL_EVENT_H
#define UFFDLAB_MODEL_EVENT_H

#include <stdint.h>

#include "sched/event.h"
#include "sched/sched.h"

enum mev_kind {
	/* guest accesses and faults (kernel_fault.c) */
	MEV_ACCESS,        /* mm page write res val: done without a fault */
	MEV_FAULT,         /* mm page addr flags val msg: PF queued, sleeps */
	MEV_KILLED,        /* mm page msg: a fatal signal ended the fault */
	MEV_WOKEN,         /* mm page msg: woken, the access is retried */
	MEV_SIGNAL,        /* target fatal */
	MEV_CHECKED_READ,  /* page val: a scenario read the oracle checked */
	/* events and address-space changes (kernel_events.c) */
	MEV_REMOVE_QUEUED, /* msg start end mc */
	MEV_UNMAP_QUEUED,  /* msg start end mc */
	MEV_REMAP_QUEUED,  /* msg from to len mc */
	MEV_FORK_QUEUED,   /* msg child mc */
	MEV_EV_RESUMED,    /* type msg mc: its read completed it */
	MEV_EV_WITHDRAWN,  /* type msg mc: release or a fatal signal */
	MEV_RELEASED,      /* mm faults events: the uffd's last ref went */
	MEV_PROC_CLOSE,    /* -: the guest process drops its uffd ref */
	MEV_ZAP,           /* mm start end: madvise zaps the range */
	MEV_MADVISE,       /* mm start len: madvise(DONTNEED) starts */
	MEV_MADVISE_RET,   /* res */
	MEV_MUNMAP,        /* start end */
	MEV_MREMAP,        /* start end to */
	MEV_FORK,          /* child */
	MEV_UNREGISTER,    /* start end */
	MEV_REGISTER,      /* start end mode */
	/* fds (pipe.c) */
	MEV_PIPE,          /* rfd wfd */
	MEV_PIPE_WRITE,    /* fd len res */
	MEV_PIPE_READ,     /* fd len res */
	MEV_CLOSE,         /* fd res */
	MEV_POLL,          /* nfds res */
	MEV_POLL_READY,    /* fd revents: one per ready fd, after MEV_POLL */
	MEV_POLL_SLEEP,    /* nfds */
	/* locks (sync.c) */
	MEV_BAD_FREE,      /* type: freeing what is not a live object */
	MEV_MUTEX_LOCK,    /* lock wait */
	MEV_MUTEX_UNLOCK,  /* lock owner: owner != tid is a misuse */
	MEV_RDLOCK,        /* lock readers: acquired at once */
	MEV_RDLOCK_WAIT,   /* lock writer announced */
	MEV_RDLOCK_ACQ,    /* lock readers: acquired after waiting */
	MEV_RDUNLOCK,      /* lock readers bad */
	MEV_WRLOCK,        /* lock wait */
	MEV_WRLOCK_ACQ,    /* lock */
	MEV_WRUNLOCK,      /* lock admits bad */
	MEV_COND_WAIT,     /* cond mutex */
	MEV_COND_SIGNAL,   /* cond woken */
	MEV_COND_BROADCAST, /* cond woken */
	/* the rest of sys (sys_model.c) */
	MEV_SPAWN,         /* child */
	MEV_JOIN,          /* target res */
	MEV_SLEEP,         /* ns */
	MEV_ATOMIC_LOAD,   /* val */
	MEV_ATOMIC_STORE,  /* val */
	MEV_ATOMIC_ADD,    /* add val */
	MEV_ATOMIC_CAS,    /* expect desired ok */
	MEV_UFFD_READ,     /* fd max res; then one MEV_READ_* per message */
	MEV_READ_PF,       /* msg addr flags */
	MEV_READ_REMOVE,   /* msg start end */
	MEV_READ_UNMAP,    /* msg start end */
	MEV_READ_REMAP,    /* msg from to len */
	MEV_READ_FORK,     /* msg ufd */
	MEV_UFFD_COPY,     /* dst len mode src res copied */
	MEV_UFFD_ZEROPAGE, /* dst len mode res zeroed */
	MEV_UFFD_WAKE,     /* start len res */
	MEV_UFFD_WP,       /* start len mode res */
	MEV_SOURCE_READ,   /* page res val */
	MEV_NOTE,          /* what a b: the handler's sys note */
	/* the semaphore (sem.c) */
	MEV_SEM_ACQUIRE,   /* sem taken wait */
	MEV_SEM_RELEASE,   /* sem taken bad */
	MEV_SEM_WAIT,      /* sem taken wait: the wait for zero */
	MEV_NKINDS
};

/* MEV_ACCESS res */
enum { MEV_RES_OK, MEV_RES_SEGV, MEV_RES_EFAULT, MEV_RES_SIGBUS };
/* MEV_EV_RESUMED / MEV_EV_WITHDRAWN type */
enum { MEV_T_REMOVE, MEV_T_UNMAP, MEV_T_REMAP, MEV_T_FORK };
/* MEV_BAD_FREE type */
enum { MEV_OBJ_MUTEX, MEV_OBJ_RWLOCK, MEV_OBJ_COND, MEV_OBJ_BUF, MEV_OBJ_SEM };
/* MEV_WRLOCK wait */
enum { MEV_WAIT_NONE, MEV_WAIT_WRITER, MEV_WAIT_READERS };
/* MEV_NOTE what: handler/sys.h enum sys_note, whose values start at 1 */
enum { MEV_NOTE_NONE, MEV_NOTE_BEFORE_RLOCK, MEV_NOTE_BEFORE_FAULT_PAGE,
       MEV_NOTE_BEFORE_PREFAULT_RLOCK, MEV_NOTE_TRACKER, MEV_NOTE_DEFER,
       MEV_NOTE_ERROR };

/* Every kind's name and keys: what the trace writer and reader use. */
extern const struct sched_ev_schema mev_schema;

/* Emit an event of kind with the given fields (at least one; MEV0 for a
 * kind without fields) on the current step of s, if tracing. */
#define MEV(s, kind, ...)                                               \
	do {                                                            \
		if (sched_labels_on(s)) {                               \
			const int64_t mev_f_[] = {__VA_ARGS__};         \
			sched_event((s), (kind),                        \
				    sizeof(mev_f_) / sizeof(mev_f_[0]), \
				    mev_f_);                            \
		}                                                       \
	} while (0)
#define MEV0(s, kind)                                                   \
	do {                                                            \
		if (sched_labels_on(s))                                 \
			sched_event((s), (kind), 0, NULL);              \
	} while (0)

#endif
