/* model/event.c — the schema of the model's step events (model/event.h):
 * each kind's name and its keys in order. docs/TRACE.md documents them;
 * a change here changes the trace format: bump UFFDLAB_SEMANTICS
 * (model/version.h). */
#include "model/event.h"

#define D(n) {n, SCHED_EV_DEC, NULL}
#define X(n) {n, SCHED_EV_HEX, NULL}
#define S(n, t) {n, SCHED_EV_SYM, t}
#define K(code, name, nf, ...) [code] = {name, nf, {__VA_ARGS__}}

static const char *const res_sym[] = {"ok", "segv", "efault", "sigbus",
				      NULL};
static const char *const type_sym[] = {"REMOVE", "UNMAP", "REMAP", "FORK",
				       NULL};
static const char *const obj_sym[] = {"mutex", "rwlock", "cond", "buf",
				      "sem", NULL};
static const char *const wait_sym[] = {"none", "writer", "readers", NULL};
static const char *const note_sym[] = {
	"none", "before_rlock", "before_fault_page", "before_prefault_rlock",
	"tracker", "defer", "error", NULL,
};

static const struct sched_ev_kind kinds[MEV_NKINDS] = {
	K(MEV_ACCESS, "access", 5, D("mm"), D("page"), D("write"),
	  S("res", res_sym), X("val")),
	K(MEV_FAULT, "fault", 6, D("mm"), D("page"), X("addr"), X("flags"),
	  X("val"), D("msg")),
	K(MEV_KILLED, "killed", 3, D("mm"), D("page"), D("msg")),
	K(MEV_WOKEN, "woken", 3, D("mm"), D("page"), D("msg")),
	K(MEV_SIGNAL, "signal", 2, D("target"), D("fatal")),
	K(MEV_CHECKED_READ, "checked_read", 2, D("page"), X("val")),
	K(MEV_REMOVE_QUEUED, "remove_queued", 4, D("msg"), X("start"),
	  X("end"), D("mc")),
	K(MEV_UNMAP_QUEUED, "unmap_queued", 4, D("msg"), X("start"), X("end"),
	  D("mc")),
	K(MEV_REMAP_QUEUED, "remap_queued", 5, D("msg"), X("from"), X("to"),
	  X("len"), D("mc")),
	K(MEV_FORK_QUEUED, "fork_queued", 3, D("msg"), D("child"), D("mc")),
	K(MEV_EV_RESUMED, "ev_resumed", 3, S("type", type_sym), D("msg"),
	  D("mc")),
	K(MEV_EV_WITHDRAWN, "ev_withdrawn", 3, S("type", type_sym), D("msg"),
	  D("mc")),
	K(MEV_RELEASED, "released", 3, D("mm"), D("faults"), D("events")),
	K(MEV_PROC_CLOSE, "proc_close", 0),
	K(MEV_ZAP, "zap", 3, D("mm"), X("start"), X("end")),
	K(MEV_MADVISE, "madvise", 3, D("mm"), X("start"), X("len")),
	K(MEV_MADVISE_RET, "madvise_ret", 1, D("res")),
	K(MEV_MUNMAP, "munmap", 2, X("start"), X("end")),
	K(MEV_MREMAP, "mremap", 3, X("start"), X("end"), X("to")),
	K(MEV_FORK, "fork", 1, D("child")),
	K(MEV_UNREGISTER, "unregister", 2, X("start"), X("end")),
	K(MEV_REGISTER, "register", 3, X("start"), X("end"), D("mode")),
	K(MEV_PIPE, "pipe", 2, D("rfd"), D("wfd")),
	K(MEV_PIPE_WRITE, "pipe_write", 3, D("fd"), D("len"), D("res")),
	K(MEV_PIPE_READ, "pipe_read", 3, D("fd"), D("len"), D("res")),
	K(MEV_CLOSE, "close", 2, D("fd"), D("res")),
	K(MEV_POLL, "poll", 2, D("nfds"), D("res")),
	K(MEV_POLL_READY, "poll_ready", 2, D("fd"), X("revents")),
	K(MEV_POLL_SLEEP, "poll_sleep", 1, D("nfds")),
	K(MEV_BAD_FREE, "bad_free", 1, S("type", obj_sym)),
	K(MEV_MUTEX_LOCK, "mutex_lock", 2, D("lock"), D("wait")),
	K(MEV_MUTEX_UNLOCK, "mutex_unlock", 2, D("lock"), D("owner")),
	K(MEV_RDLOCK, "rdlock", 2, D("lock"), D("readers")),
	K(MEV_RDLOCK_WAIT, "rdlock_wait", 3, D("lock"), D("writer"),
	  D("announced")),
	K(MEV_RDLOCK_ACQ, "rdlock_acq", 2, D("lock"), D("readers")),
	K(MEV_RDUNLOCK, "rdunlock", 3, D("lock"), D("readers"), D("bad")),
	K(MEV_WRLOCK, "wrlock", 2, D("lock"), S("wait", wait_sym)),
	K(MEV_WRLOCK_ACQ, "wrlock_acq", 1, D("lock")),
	K(MEV_WRUNLOCK, "wrunlock", 3, D("lock"), D("admits"), D("bad")),
	K(MEV_COND_WAIT, "cond_wait", 2, D("cond"), D("mutex")),
	K(MEV_COND_SIGNAL, "cond_signal", 2, D("cond"), D("woken")),
	K(MEV_COND_BROADCAST, "cond_broadcast", 2, D("cond"), D("woken")),
	K(MEV_SPAWN, "spawn", 1, D("child")),
	K(MEV_JOIN, "join", 2, D("target"), D("res")),
	K(MEV_SLEEP, "sleep", 1, D("ns")),
	K(MEV_ATOMIC_LOAD, "atomic_load", 1, D("val")),
	K(MEV_ATOMIC_STORE, "atomic_store", 1, D("val")),
	K(MEV_ATOMIC_ADD, "atomic_add", 2, D("add"), D("val")),
	K(MEV_ATOMIC_CAS, "atomic_cas", 3, D("expect"), D("desired"), D("ok")),
	K(MEV_UFFD_READ, "uffd_read", 3, D("fd"), D("max"), D("res")),
	K(MEV_READ_PF, "read_pf", 3, D("msg"), X("addr"), X("flags")),
	K(MEV_READ_REMOVE, "read_remove", 3, D("msg"), X("start"), X("end")),
	K(MEV_READ_UNMAP, "read_unmap", 3, D("msg"), X("start"), X("end")),
	K(MEV_READ_REMAP, "read_remap", 4, D("msg"), X("from"), X("to"),
	  X("len")),
	K(MEV_READ_FORK, "read_fork", 2, D("msg"), D("ufd")),
	K(MEV_UFFD_COPY, "uffd_copy", 6, X("dst"), D("len"), D("mode"),
	  X("src"), D("res"), D("copied")),
	K(MEV_UFFD_ZEROPAGE, "uffd_zeropage", 5, X("dst"), D("len"), D("mode"),
	  D("res"), D("zeroed")),
	K(MEV_UFFD_WAKE, "uffd_wake", 3, X("start"), D("len"), D("res")),
	K(MEV_UFFD_WP, "uffd_wp", 4, X("start"), D("len"), D("mode"),
	  D("res")),
	K(MEV_SOURCE_READ, "source_read", 3, D("page"), D("res"), X("val")),
	K(MEV_NOTE, "note", 3, S("what", note_sym), X("a"), D("b")),
	K(MEV_SEM_ACQUIRE, "sem_acquire", 3, D("sem"), D("taken"), D("wait")),
	K(MEV_SEM_RELEASE, "sem_release", 3, D("sem"), D("taken"), D("bad")),
	K(MEV_SEM_WAIT, "sem_wait_zero", 3, D("sem"), D("taken"), D("wait")),
};

const struct sched_ev_schema mev_schema = {kinds, MEV_NKINDS};
