/* handler/variants.h — run-time switches that put one historical bug back.
 *
 * Contract: each variant is one bit in handler_config.variants, named as on
 * the command line (`--variant NAME`), with the docs/HANDLER.md zoo entry it
 * re-creates, the handler it applies to and the zoo scenario that shows it.
 * variant_parse() returns the bit or 0 for an unknown name. */
#ifndef UFFDLAB_VARIANTS_H
#define UFFDLAB_VARIANTS_H

#include <stddef.h>
#include <stdint.h>

enum variant {
	VARIANT_STALE_SOURCE = 1u << 0,           /* B1 */
	VARIANT_DISPATCH_BEFORE_REMOVE = 1u << 1, /* B5 */
	VARIANT_NO_WAKE_PIPE = 1u << 2,           /* B6 */
	VARIANT_EAGAIN_FATAL = 1u << 3,           /* B13 */
	VARIANT_PREFAULT_UNLOCKED = 1u << 4,      /* B3 */
	/* take one of reference's fixes back out (handler/README.md) */
	VARIANT_NO_READ_GATE = 1u << 5,
	VARIANT_NO_WAKE_DEFERRED = 1u << 6,
	VARIANT_NO_YIELD_ON_RETRY = 1u << 7,
	VARIANT_SHORT_CIRCUIT = 1u << 8,
	VARIANT_READ_UNDER_SETTLE = 1u << 9,      /* B4 */
	VARIANT_NO_REMOVE_EXCLUSION = 1u << 10,   /* B2 */
	VARIANT_SKIP_DEFERRED_ON_EMPTY_READ = 1u << 20, /* B7 */
	VARIANT_ALIAS_BATCH = 1u << 21,           /* B11 */
	VARIANT_ERROR_COUNTED_INSTALLED = 1u << 22, /* B17 */
	/* reference's zero-fill and export fixes taken back out (B9, B10,
	 * B24); high bits, clear of the rows other zoo entries add */
	VARIANT_EEXIST_LEAVES_UNARMED = 1u << 24, /* B9 */
	VARIANT_ZERO_WP_SPLIT = 1u << 25,         /* B10 */
	VARIANT_ZERO_INSTALL_MERGE = 1u << 26,    /* B24 */
	/* guest exit and uffd close (B16, B18, B19) */
	/* 1u << 27 was B16 esrch-dirty (dropped: not observable) */
	VARIANT_REMOVE_LEN_TRUNCATED = 1u << 27,  /* B22 */
	VARIANT_WORKERS_OUTLIVE_SERVE = 1u << 28, /* B18 */
	VARIANT_PREFAULT_AFTER_CLOSE = 1u << 29,  /* B19 */
	VARIANT_WRITE_FILL_WRITABLE = 1u << 30,   /* fix 7 taken back out */
	VARIANT_EEXIST_MARKS_DIRTY = 1u << 31,    /* fix 8 taken back out */
};

struct variant_info {
	const char *name;
	uint64_t bit;
	const char *bug;      /* docs/HANDLER.md id, or the reference fix it undoes */
	const char *what;     /* one line */
	const char *handler;  /* the handler it puts the bug back into */
	const char *scenario; /* the zoo scenario that shows it */
	const char *expect;   /* the invariant it breaks there (model/world.h) */
	int pct;              /* found faster (or only) under pct */
};

/* NULL-name-terminated table. */
extern const struct variant_info variant_table[];
uint64_t variant_parse(const char *name);
/* A comma-separated list of variants for handler `handler`: 0 with *bits
 * set, or -1 with one line in msg: an unknown handler, an empty or unknown
 * name, or a variant that puts its bug into another handler. NULL or "" is
 * the handler as written. */
int variant_parse_list(const char *handler, const char *list, uint64_t *bits,
		       char *msg, size_t n);
const char *variant_name(uint64_t bit);

#endif
