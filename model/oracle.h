/* model/oracle.h — the sequential specification of guest memory.
 *
 * Contract: per page, a log of mutating operations (guest writes, removes)
 * with the step at which each began and ended. oracle_read_ok() says whether
 * a read that began at step s and ended at step e may return `got` under
 * per-page linearizability: the candidates are the value of any mutation that
 * began before e and is not followed by another mutation wholly between it
 * and s, plus the initial snapshot value if no mutation ended before s.
 * Values are model content tags (0 = zeros). No allocation after reset;
 * each page's mutations are chained in log order, so a query costs the
 * page's own mutations, not the whole log's. */
#ifndef UFFDLAB_ORACLE_H
#define UFFDLAB_ORACLE_H

#include <stdint.h>

/* one remove of a whole 4,096-page memory (a mutation per page) and 256
 * more */
#define ORACLE_MAX_MUTS (4096 + 256)
#define ORACLE_OPEN UINT64_MAX
/* scenarios/scenario.h's SCN_MAX_PAGES */
#define ORACLE_MAX_PAGES 4096

struct oracle_mut {
	int page;
	uint64_t value;
	uint64_t start, end; /* end = ORACLE_OPEN while in flight */
	int next;            /* the page's next mutation in the log, or -1 */
};

struct oracle {
	int pages;
	const uint64_t *initial; /* per page, owned by the caller */
	int nmuts;
	struct oracle_mut muts[ORACLE_MAX_MUTS];
	int first[ORACLE_MAX_PAGES], last[ORACLE_MAX_PAGES]; /* per page, or -1 */
};

void oracle_reset(struct oracle *o, int pages, const uint64_t *initial);
/* Returns a handle for oracle_end, or -1 when the log is full. */
int oracle_begin(struct oracle *o, int page, uint64_t value, uint64_t now);
void oracle_end(struct oracle *o, int handle, uint64_t now);
int oracle_read_ok(const struct oracle *o, int page, uint64_t got,
		   uint64_t start, uint64_t end);
/* The values a read over [start, end] may return, for messages; returns
 * how many were written (at most max). */
/* 1 if a mutation of page ended before step now: its snapshot bytes
 * can no longer be what a read of it returns. */
int oracle_mutated_before(const struct oracle *o, int page, uint64_t now);
/* 1 if a remove (a mutation to zeros) of page is in flight. */
int oracle_remove_open(const struct oracle *o, int page);
int oracle_candidates(const struct oracle *o, int page, uint64_t start,
		      uint64_t end, uint64_t *out, int max);

#endif
