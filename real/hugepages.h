/* real/hugepages.h — borrowing 2 MiB pages from the kernel's hugetlb pool.
 *
 * Contract: real_hugepages_reserve(n) makes n more free 2 MiB pages exist by
 * raising /proc/sys/vm/nr_hugepages by n (or, when that file is not
 * writable, by checking that n are already free; then nothing is raised)
 * and reports how many it raised; real_hugepages_release(raised) lowers the
 * value by that much again. Giving back is relative (current - raised), so
 * with nobody else touching the pool the original value comes back exactly,
 * and a concurrent user's own raise is not undone. Whatever this process
 * still holds is given back by an atexit handler, on SIGINT/SIGTERM (then the
 * signal's previous disposition is restored and the signal re-raised), and
 * by real_hugepages_restore_now(), which is async-signal-safe, for
 * watchdogs that end the process with _exit().
 *
 * Processes using this file serialise their changes of nr_hugepages with an
 * flock on REAL_HUGEPAGES_LOCK; real_hugepages_lock() holds it across
 * several steps (tests that compare exact pool sizes while other test
 * binaries run). The exit and signal paths give back without the lock: a
 * best effort that must not block.
 *
 * Global state: the amount raised, the handler-installed flag and the lock
 * file are process-wide because atexit and signal handlers have no context
 * argument; they are only touched with atomics or under internal mutexes.
 * Errors: -ENOMEM when the kernel could not find the pages (the raise is
 * undone), -EACCES when the pool cannot be raised and too few are free,
 * -ENOENT without hugetlb support. why gets a one-line reason.
 */
#ifndef UFFDLAB_REAL_HUGEPAGES_H
#define UFFDLAB_REAL_HUGEPAGES_H

#include <stddef.h>
#include <stdint.h>

#define REAL_HUGE_2M (2ull << 20)
#define REAL_HUGEPAGES_LOCK "/tmp/uffdlab-hugepages.lock"

int real_hugepages_reserve(uint64_t n, uint64_t *raised, char *why,
			   size_t whylen);
void real_hugepages_release(uint64_t raised);
/* Give back everything this process raised, now. Async-signal-safe. */
void real_hugepages_restore_now(void);
/* Amount this process currently holds raised (tests). */
uint64_t real_hugepages_raised(void);
/* Hold the pool still (nests; a forked child shares its parent's hold).
 * A program exec'ed by a holder shares the hold when it finds a descriptor
 * of the same open lock file in $UFFDLAB_HUGEPAGES_LOCK_FD (pass a
 * duplicate of real_hugepages_lock_fd(), which survives exec). */
int real_hugepages_lock(void);
void real_hugepages_unlock(void);
int real_hugepages_lock_fd(void);
/* nr_hugepages and HugePages_Free, or -errno. */
int real_hugepages_read(uint64_t *nr, uint64_t *free_pages);

#endif
