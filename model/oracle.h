/* model/oracle.h — the sequential specification of guest memory.
 *
 * Contract: per page, a log of mutating operations (guest writes, removes)
 * with the step at which each began and ended. oracle_read_ok() says whether
 * a read that began at step s and ended at step e may return `got` under
 * per-page linearizability: the candidates are the value of any mutation that
 * began before e and is not followed by another mutation wholly between it
 * and s, plus the initial snapshot value if no mutation ended before s.
 * Values are model content tags (0 = zeros). No allocation after reset. */
#ifndef UFFDLAB_ORACLE_H
#define UFFDLAB_ORACLE_H

#include <stdint.h>

#define ORACLE_MAX_MUTS 256
#define ORACLE_OPEN UINT64_MAX

struct oracle_mut {
	int page;
	uint64_t value;
	uint64_t start, end; /* end = ORACLE_OPEN while in flight */
};

struct oracle {
	int pages;
	const uint64_t *initial; /* per page, owned by the caller */
	int nmuts;
	struct oracle_mut muts[ORACLE_MAX_MUTS];
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
