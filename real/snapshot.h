/* real/snapshot.h — the snapshot image the handler serves pages from.
 *
 * Contract: a snapshot is a memfd of pages * page_size bytes plus a
 * read-only mapping of it, filled once at creation and never changed, so any
 * thread may compare guest memory with it. What each page holds:
 *   REAL_FILL_PATTERN  8-byte little-endian words: word 0 is
 *                      REAL_SNAP_MAGIC | p ("SNAP" in the top half, the page
 *                      index below), word w > 0 is real_pattern_word(p, w),
 *                      never zero and never eight equal bytes, so a snapshot
 *                      page can be told from zeros and from a page a guest
 *                      filled with one byte value, and page p from page q;
 *   REAL_FILL_ZERO     all zeros;
 *   REAL_FILL_SENTINEL the pattern with byte 0 = REAL_SENTINEL (0xC3), the
 *                      upstream race tests' marker of stale snapshot data.
 * The fill values equal the scenario parser's enum scn_fill.
 * real_snapshot_new() returns 0 or -errno.
 */
#ifndef UFFDLAB_REAL_SNAPSHOT_H
#define UFFDLAB_REAL_SNAPSHOT_H

#include <stdint.h>

#define REAL_SNAP_MAGIC 0x534E415000000000ull
#define REAL_SENTINEL 0xC3

enum real_fill {
	REAL_FILL_PATTERN = 0,
	REAL_FILL_ZERO = 1,
	REAL_FILL_SENTINEL = 2,
};

struct real_snapshot {
	int fd;                /* the memfd (source_fd of sys_real) */
	uint64_t page_size;
	uint64_t pages;
	const uint64_t *words; /* read-only mapping of the whole image */
};

/* fill: one enum real_fill per page, or NULL for all PATTERN. */
int real_snapshot_new(uint64_t page_size, uint64_t pages,
		      const unsigned char *fill, struct real_snapshot **out);
void real_snapshot_free(struct real_snapshot *s);
uint64_t real_pattern_word(uint64_t page, uint64_t w);
/* Word w of page p as stored in s. */
uint64_t real_snapshot_word(const struct real_snapshot *s, uint64_t p,
			    uint64_t w);

#endif
