/* handler/variants.h — run-time switches that put one historical bug back.
 *
 * Contract: each variant is one bit in handler_config.variants, named as on
 * the command line (`--variant NAME`), with the HANDLER.md zoo entry it
 * re-creates. variant_parse() returns the bit or 0 for an unknown name. */
#ifndef UFFDLAB_VARIANTS_H
#define UFFDLAB_VARIANTS_H

#include <stdint.h>

enum variant {
	VARIANT_STALE_SOURCE = 1u << 0,           /* B1 */
	VARIANT_DISPATCH_BEFORE_REMOVE = 1u << 1, /* B5 */
	VARIANT_NO_WAKE_PIPE = 1u << 2,           /* B6 */
	VARIANT_EAGAIN_FATAL = 1u << 3,           /* B13 */
	VARIANT_PREFAULT_UNLOCKED = 1u << 4,      /* B3 */
};

struct variant_info {
	const char *name;
	uint64_t bit;
	const char *bug;   /* HANDLER.md id */
	const char *what;  /* one line */
};

/* NULL-name-terminated table. */
extern const struct variant_info variant_table[];
uint64_t variant_parse(const char *name);
const char *variant_name(uint64_t bit);

#endif
