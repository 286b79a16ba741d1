/* scenarios/reduce.h — a scenario less one thing: the candidates of both
 * scenario reducers (minimize.c, which shrinks a found failure beside its
 * trace, and swarm_shrink.c, which shrinks a generated scenario's
 * violation), so that what "smaller" means is decided in one place.
 *
 * Contract: scn_reduce(from, c, out, &dropped) writes candidate number c
 * of `from` into *out and returns 1, or returns 0 when candidate c does
 * not apply to this scenario (try c + 1), or -1 when there is no
 * candidate c (every one was tried). The order is fixed: threads (the
 * last first); then each operation from the last, first the operation
 * itself, then only its `after`; then the settings (WP_ASYNC, the other
 * event features, WP, EVENT_REMOVE, the handler's workers and retries,
 * huge pages); then pages from the last, first its fill back to the
 * pattern, then the page itself (not in a memory over 64 pages, which is
 * there for its size: B22's 4 GiB remove). *dropped is the index in `from` of the
 * thread dropped, or -1. A candidate is structurally sound:
 *  - an `after` on a dropped operation waits on the one before it in its
 *    thread (on nothing when it was the first, or its thread is gone);
 *  - a pause and the resume after it go together;
 *  - a page goes only when no operation is about it alone (later pages
 *    move down, ranges over it get one shorter);
 *  - a setting goes only where no operation needs it (EVENT_REMOVE while a
 *    remove is left; default retries fewer than the failures left);
 *  - `contract keeps` becomes `contract breaks` when the candidate lets a
 *    guest access race a remove of its page (a dropped `after` can), so
 *    the oracle never judges a racing guest by the keeping contract.
 * The caller still prints and parses it back (what the user gets).
 */
#ifndef UFFDLAB_SCENARIOS_REDUCE_H
#define UFFDLAB_SCENARIOS_REDUCE_H

#include "scenarios/scenario.h"

int scn_reduce(const struct scenario *from, int c, struct scenario *out, int *dropped);
/* The operations of all of s's threads: the reducers' size. */
int scn_nops(const struct scenario *s);

#endif
