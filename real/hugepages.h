/* real/hugepages.h — borrowing 2 MiB pages from the kernel's hugetlb pool.
 *
 * Contract: real_hugepages_reserve(n) makes n more free 2 MiB pages exist by
 * raising /proc/sys/vm/nr_hugepages by n (or, when the pool cannot be
 * raised here, by checking that n are already free; then nothing is raised)
 * and reports how many it raised; real_hugepages_release(k) lowers the pool
 * by k again, but never by more than this process still holds. No signal,
 * crash or concurrent run can move the pool by more than what live processes
 * hold:
 *
 *  - every raise is recorded before it is made, in a ledger the next process
 *    finds: REAL_HUGEPAGES_DIR/hugepages/<pid> ("pid starttime held") per
 *    borrowing process, and hugepages/journal for the one change in flight
 *    (who, what it held, the pool before, the change). Every change of
 *    nr_hugepages is made under the pool lock with the journal written
 *    first, so a process killed at any instant leaves a ledger from which
 *    the next one computes exactly what it held;
 *  - each reserve, release and real_hugepages_lock() first settles a dead
 *    process's journal and gives back what dead owners (pid gone, a zombie,
 *    or reused by a process that started later) held;
 *  - this process gives back what it holds at exit, on SIGINT, SIGTERM,
 *    SIGHUP and SIGQUIT (then the default action runs) and through
 *    real_hugepages_restore_now() (async-signal-safe, for watchdogs that
 *    _exit()). A handler is installed only over SIG_DFL: an inherited
 *    SIG_IGN (nohup, `cmd &`) or a program's own handler is left alone. These
 *    paths wait a bounded time for the lock; when they cannot get it they
 *    leave the ledger for the next process instead of changing the pool
 *    unlocked. A forked child holds nothing of its parent's.
 *
 * The pool lock: an flock on REAL_HUGEPAGES_LOCK ("the hold": other process
 * trees keep out; real_hugepages_lock() keeps it across several steps, for
 * tests that compare exact pool sizes), and inside it a short OFD record
 * lock on REAL_HUGEPAGES_DIR/hugepages.lock per change (serialises the
 * changes of processes that share one hold). A forked child shares its
 * parent's hold, and so does a program exec'ed by a holder that finds a
 * descriptor of the same open lock file in $UFFDLAB_HUGEPAGES_LOCK_FD (pass
 * a duplicate of real_hugepages_lock_fd() that survives exec). A process
 * sharing a hold never releases it: the flock belongs to the shared open
 * file, and only its first holder may drop it. Every wait for the lock is
 * bounded (REAL_HUGEPAGES_WAIT_MS); every descriptor is close-on-exec.
 *
 * Global state: the amount held, the hold's depth and descriptor and the
 * handler flag are process-wide because atexit and signal handlers have no
 * context argument; they are changed only by the thread that owns an
 * internal busy flag (an atomic, so that signal handlers can try it).
 * Errors: -ENOMEM when the kernel could not find the pages (the raise is
 * undone), -EACCES when the pool cannot be raised and too few are free,
 * -ENOENT when nr_hugepages cannot be read (no hugetlb: an environment
 * failure, not a test failure), -ETIMEDOUT when the lock stayed held by
 * another process, other -errno from the ledger. why gets a one-line reason.
 */
#ifndef UFFDLAB_REAL_HUGEPAGES_H
#define UFFDLAB_REAL_HUGEPAGES_H

#include <stddef.h>
#include <stdint.h>

#define REAL_HUGE_2M (2ull << 20)
#define REAL_HUGEPAGES_LOCK "/tmp/uffdlab-hugepages.lock"
#define REAL_HUGEPAGES_DIR "/run/uffdlab"
/* Longest wait for the pool lock in reserve, release and lock. */
#define REAL_HUGEPAGES_WAIT_MS 60000
/* Longest wait at exit, in a signal handler or a watchdog. */
#define REAL_HUGEPAGES_EXIT_WAIT_MS 3000

int real_hugepages_reserve(uint64_t n, uint64_t *raised, char *why,
			   size_t whylen);
/* 0 or -errno; what could not be given back stays in the ledger and is
 * given back at exit or, after a crash, by the next process. */
int real_hugepages_release(uint64_t raised);
/* Give back everything this process holds, now. Async-signal-safe. */
void real_hugepages_restore_now(void);
/* Amount this process currently holds raised (tests). */
uint64_t real_hugepages_raised(void);
/* Take the hold (nests). 0 or -errno (-ETIMEDOUT after
 * REAL_HUGEPAGES_WAIT_MS). Dead owners' pages are given back on the way
 * when this process can write the pool; a failure to do so is reported by
 * the next reserve, which tries again. */
int real_hugepages_lock(void);
/* Drop one level of the hold. 0, or -ETIMEDOUT when the state stayed busy. */
int real_hugepages_unlock(void);
/* The hold's descriptor (close-on-exec), or -1 before the first hold. */
int real_hugepages_lock_fd(void);
/* nr_hugepages and HugePages_Free, or -errno. */
int real_hugepages_read(uint64_t *nr, uint64_t *free_pages);
/* The ledger's record of process pid: what it holds. -ENOENT when it has
 * none (it holds nothing), other -errno when the ledger is unreadable. */
int real_hugepages_owner(uint64_t pid, uint64_t *held);

#endif
