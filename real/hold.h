/* real/hold.h — keeping a woken thread off the CPU for a while, to hold a
 * window the kernel closes as soon as that thread runs (docs/KERNEL.md
 * rule 25: a madvise woken by the read of its REMOVE lowers mmap_changing
 * only once it runs).
 *
 * Contract: real_hold_open() picks the hold CPU (the highest one the
 * caller may run on) and starts a spinner thread pinned there at
 * SCHED_FIFO 1 that spins only while a hold is on. A thread that calls
 * real_hold_pin() runs on the hold CPU only; real_hold_avoid() keeps the
 * caller (and the threads it creates from then on) off it.
 * real_hold_on() returns once the spinner owns the CPU: from then on no
 * normal thread pinned there runs until real_hold_off(). A hold ends by
 * itself after cap_ms (a lost off never starves the CPU for longer).
 * real_hold_close() stops the spinner and gives the caller its CPU mask
 * back. Every call returns 0 or -errno, with one line in why where there
 * is one (no second CPU, no right to SCHED_FIFO).
 *
 * real_hold_writer_start() makes a writer of the caller's mm: a thread off
 * the hold CPU runs one mprotect() of a large range of its own
 * (REAL_HOLD_WRITER_BYTES of read-only zero-page PTEs, mapped once per
 * process), which holds the mm's write lock while the kernel rewrites
 * every PTE (tens of ms); it returns once the thread is inside the call.
 * A madvise that resumes meanwhile waits for that lock before its zap
 * (docs/KERNEL.md rule 21 step c). real_hold_writer_wait() joins it and
 * gives the ms the call took; a writer started while the last one still
 * works waits for it first. real_hold_move_off() moves thread ktid off
 * the hold CPU, real_hold_move_on() onto it (a thread asleep in the
 * kernel runs there when woken).
 */
#ifndef UFFDLAB_REAL_HOLD_H
#define UFFDLAB_REAL_HOLD_H

#include <stddef.h>

struct real_hold;

int real_hold_open(int cap_ms, struct real_hold **out, char *why, size_t n);
void real_hold_close(struct real_hold *h);
int real_hold_cpu(const struct real_hold *h);
int real_hold_pin(struct real_hold *h);
int real_hold_avoid(struct real_hold *h);
int real_hold_on(struct real_hold *h);
void real_hold_off(struct real_hold *h);
#define REAL_HOLD_WRITER_BYTES (1ull << 30)
int real_hold_writer_prepare(void); /* the range, made ahead: 0 or -ENOMEM */
int real_hold_writer_start(struct real_hold *h);
double real_hold_writer_wait(struct real_hold *h);
/* The writer at normal priority from now on: SCHED_IDLE keeps it from
 * the replay's steps while it holds the lock, but on a loaded machine it
 * would then hold it for seconds; once the window's steps are done it
 * should finish at once. 0 or -errno. */
int real_hold_writer_boost(struct real_hold *h);
int real_hold_move_off(struct real_hold *h, int ktid);
int real_hold_move_on(struct real_hold *h, int ktid);
/* How many holds reached their cap (the window closed by the timer). */
int real_hold_capped(struct real_hold *h);

#endif
