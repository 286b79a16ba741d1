/* model/content.h — page contents as 64-bit tags, never bytes.
 *
 * Contract: 0 = zeros, MK_SNAP(p) = the snapshot of page p, MK_WRITE(id) =
 * the data of guest write `id` (every byte alike, as real/ writes it),
 * MK_FOREIGN = bytes no tag names. The simulated kernel stores these, the
 * oracle compares them, and the real backend maps the bytes it reads to
 * them, so one set of invariant functions judges both backends. Header
 * only, no dependencies.
 */
#ifndef UFFDLAB_MODEL_CONTENT_H
#define UFFDLAB_MODEL_CONTENT_H

#include <stdint.h>

typedef uint64_t mk_content;

#define MK_TAG_SHIFT 56
#define MK_TAG_LOW(c) ((uint64_t)(c) & ((UINT64_C(1) << MK_TAG_SHIFT) - 1))
#define MK_SNAP(p) ((mk_content)(UINT64_C(0x53) << MK_TAG_SHIFT | (uint64_t)(p)))
#define MK_WRITE(id) ((mk_content)(UINT64_C(0x57) << MK_TAG_SHIFT | (uint64_t)(id)))
#define MK_IS_SNAP(c) (((uint64_t)(c) >> MK_TAG_SHIFT) == 0x53)
#define MK_IS_WRITE(c) (((uint64_t)(c) >> MK_TAG_SHIFT) == 0x57)
#define MK_SNAP_PAGE(c) MK_TAG_LOW(c)
/* Bytes no tag names: a page made of parts of two source pages (a copy
 * from an address that is not a page boundary of its buffer) or of two
 * writes. Equal to model/invariant.h's INV_FOREIGN, so the oracle judges
 * it as bytes no operation wrote. */
#define MK_FOREIGN ((mk_content)(UINT64_C(0x46) << MK_TAG_SHIFT))
#define MK_WRITE_ID(c) MK_TAG_LOW(c)

#endif
