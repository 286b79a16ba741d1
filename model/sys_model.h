/* model/sys_model.h — the simulated implementation of handler/sys.h.
 *
 * Contract: mk_sys(k) (model/kernel.h) returns a sys_t whose ops run on the
 * simulated kernel k and its scheduler:
 *  - every op that touches shared state (threads, locks, atomics, fds,
 *    pipes, poll, the uffd, the snapshot source, sleep) starts with a
 *    scheduling point, then acts atomically (or blocks where the real call
 *    would); ops on thread-local things (buf_alloc/free/zero, random,
 *    the *_new and *_free ops, note) have no scheduling point: they
 *    commute with every other step, so a point there would only multiply
 *    equivalent schedules;
 *  - with sched_labels_on(), each op labels its step with compact,
 *    deterministic text (addresses, lengths, results; never pointers), e.g.
 *    "uffd_copy 0x7f0000001000 4096 mode=2 S1 -> 0 copied=4096";
 *  - spawn creates sched threads of kind MK_HANDLER; sleep_ns is a
 *    scheduling point only (there is no time); random comes from the run's
 *    seed (sched_random);
 *  - a page buffer is an address range no code may read (model/buffer.c)
 *    holding one tag (mk_content) per page: src and buf may point anywhere
 *    inside a buffer. uffd_copy installs, page by page, the tag of the
 *    page-sized window of the source at the same offset (MK_FOREIGN for a
 *    window across two different pages) and stops with EFAULT at the first
 *    window that is not inside one live buffer or the snapshot mapping
 *    (rule 14: EFAULT, or EAGAIN with the bytes done); source_read writes
 *    the snapshot's tags into any part of a buffer (-EIO per
 *    mk_source_fail, counted by the page of the first byte, or past the
 *    snapshot's end; -EFAULT when the range is not inside one buffer),
 *    buf_zero zeros. When the kernel refuses a fill before writing its
 *    output field (validation EINVAL, bad fd), the field reports the
 *    call's -errno, as in real/;
 *  - uffd_api has no scheduling point (what it reads never changes after
 *    creation); uffd_move and uffd_poison are uffd ioctls like the fills;
 *    before 6.9 (mk_config.kver) COPY and ZEROPAGE take two steps, the
 *    mmap_changing check and the fill (docs/KERNEL.md rule 16);
 *  - note() only appends text to the current step's label.
 */
#ifndef UFFDLAB_MODEL_SYS_MODEL_H
#define UFFDLAB_MODEL_SYS_MODEL_H

#include "handler/sys.h"
#include "model/kernel.h"

extern const struct sys_ops mk_sys_ops;

/* Tests and drivers: the tag a sys buffer of k holds, and setting it.
 * mk_buf_tag returns 0 for a pointer that is not a live buffer of k. */
mk_content mk_buf_tag(const struct mkern *k, const void *buf);
int mk_buf_set(struct mkern *k, void *buf, mk_content tag);
/* Bytes [buf, buf+len) of one live buffer hold tag in every page (a page
 * only partly covered: MK_FOREIGN unless its bytes stay alike). -EINVAL
 * when the range is not inside one live buffer. */
int mk_buf_fill(struct mkern *k, void *buf, uint64_t len, mk_content tag);

#endif
