/* model/version.h — the semantics version of a trace.
 *
 * Contract: UFFDLAB_SEMANTICS names everything a trace's bytes depend on
 * besides its header: the model's rules (model/), the handlers and their
 * variants (handler/), the oracle, the scheduler's strategies and the
 * trace format (sched/trace.h, model/event.c's schema). Every trace
 * records it (header key "semantics"); replay refuses a trace of another
 * semantics (exit 2) instead of calling its difference a determinism bug.
 * Bump it in the commit that changes any of them so that a golden trace
 * replays differently; tests/golden/VERSION records it with a digest of
 * the golden traces, and test_golden fails when the goldens change while
 * it stays the same (docs/TRACE.md, "Versioning").
 */
#ifndef UFFDLAB_MODEL_VERSION_H
#define UFFDLAB_MODEL_VERSION_H

/* 1: the unversioned traces of format 1; 2: typed events, embedded
 * scenario; 3: the handler interface (the oracle reads the export under the
 * handler's lock at the end of a run), the invariant registry's texts,
 * op-failed, the checksum line, no event queued on a released uffd;
 * 4: the export oracle (the export op, the pause-time export before the
 * final reads, the export and dirty invariants), reference's one-COPY
 * zero-fill and pagemap export; 5: the final phase observes at
 * quiescence (sched_wait_quiet before the pause, each final read and
 * the stop); 6: the e2b errgroup is a sys semaphore (sem_acquire,
 * sem_release, sem_wait_zero: handler/sys.h) instead of a mutex and a
 * condition, and a deferred fault's worker declares its retry */
#define UFFDLAB_SEMANTICS 6

#endif
