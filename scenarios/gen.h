/* scenarios/gen.h — random scenarios from the language's grammar (swarm
 * testing), and the text of a parsed scenario.
 *
 * Contract: scn_generate() fills *out from the seed alone (the same seed
 * gives the same scenario on any machine): swarm-style, each seed first
 * picks which features and which operation kinds exist at all, then the
 * memory, the threads and their operations from those. A generated
 * scenario is valid by construction: scn_format() of it parses back with
 * the normal parser to the same scenario (tests/test_swarm.c). It also
 * keeps to what the handlers under test are built for: removes only with
 * EVENT_REMOVE, WP only with WP_ASYNC when something writes, source
 * failures within the retries (one source-fail per page), a pause always
 * followed by a resume in its thread (a resume waits on nothing), at most one exit (the last op of its guest), `after` only on an
 * earlier thread (acyclic), and `contract breaks` whenever a guest access
 * is not ordered against a remove of its page. UNMAP/REMAP/FORK (ops and
 * event features) only with opts->events: no Firecracker unmaps, remaps or
 * forks guest memory while its handler serves it.
 */
#ifndef UFFDLAB_SCENARIOS_GEN_H
#define UFFDLAB_SCENARIOS_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "scenarios/scenario.h"

struct scn_gen_opts {
	int events; /* may use unmap/remap/fork and their event features */
};

void scn_generate(uint64_t seed, const struct scn_gen_opts *opts, struct scenario *out);

/* The text of s (as the parser reads it), first line "# <comment>" when
 * comment is not NULL. Returns its length, or -ENOSPC if n is too small. */
int scn_format(const struct scenario *s, const char *comment, char *buf, size_t n);

/* Recompute s->contract's lower bound: 1 if some guest read or write of a
 * page is ordered neither before nor after a remove covering it (the
 * scenario then breaks the free-page-reporting promise). */
int scn_breaks_contract(const struct scenario *s);

#endif
