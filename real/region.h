/* real/region.h — guest memory on the real kernel: a registered region, its
 * snapshot, and the guest's operations on it.
 *
 * Contract: real_region_open() builds, in this order, the snapshot (unless
 * one is given), the hugepage reservation (2 MiB pages: nr_hugepages raised
 * by the region's page count, real/hugepages.h), the uffd
 * (real/uffd.h; MISSING_HUGETLBFS is added to the features for 2 MiB), the
 * private anonymous mapping (4 KiB pages with THP off, or
 * MAP_HUGETLB|MAP_HUGE_2MB), and the registration (MISSING, plus WP when
 * opts.wp). On failure everything already built is undone (hugepages given
 * back) and `why` says what failed: -EPERM/-ENOSYS mean no userfaultfd,
 * -ENOMEM/-EACCES on 2 MiB mean no hugepages and -ENOENT on 2 MiB no
 * readable hugetlb pool (environment failures: callers skip on those),
 * other errors are real failures. real_region_close() unregisters before it
 * closes the uffd (docs/HANDLER.md 2.1: no un-acked REMOVE keeps munmap waiting,
 * and waiters are woken into plain memory), then unmaps and gives back the
 * hugepages. No guest thread may still touch the region then.
 *
 * Guest operations run on the caller's thread and touch memory with relaxed
 * atomic 8-byte accesses (they race with each other and with the kernel by
 * design; atomics keep that well defined and sanitizer-clean). A missing
 * page blocks the caller in the kernel until the handler serves it, so
 * callers that must not hang run them on a thread of their own.
 */
#ifndef UFFDLAB_REAL_REGION_H
#define UFFDLAB_REAL_REGION_H

#include <stddef.h>
#include <stdint.h>

#include "real/snapshot.h"
#include "real/uffd.h"

struct real_region_opts {
	uint64_t page_size;        /* 4096 or 2 MiB */
	uint64_t pages;
	uint64_t features;         /* UFFD_FEATURE_* to ask for */
	int wp;                    /* register MISSING|WP */
	struct real_snapshot *snap; /* borrowed, or NULL: the region makes one */
	const unsigned char *fill; /* enum real_fill per page when making one */
	int anon_vma;              /* give the VMA its anon_vma before
				      registering (a page written and zapped),
				      as a guest whose memory was ever touched
				      has: fills then take the per-VMA lock, not
				      mmap_lock (the replay's late rule-25 hold
				      needs that) */
};

struct real_region {
	int uffd;
	uint64_t base;             /* first address */
	uint64_t size;
	uint64_t page_size;
	uint64_t pages;
	uint64_t features;         /* granted by UFFDIO_API */
	uint64_t ioctls;           /* advertised by UFFDIO_REGISTER */
	struct real_snapshot *snap;
	/* private */
	int own_snap;
	int registered;
	int pagemap_fd;
	uint64_t huge_raised;
};

int real_region_open(const struct real_region_opts *opts,
		     struct real_region **out, char *why, size_t whylen);
void real_region_close(struct real_region *r);
/* UFFDIO_UNREGISTER of the whole region (idempotent): wakes every thread
 * blocked on a missing page of it (docs/KERNEL.md rule 20). */
int real_region_unregister(struct real_region *r);

/* Unregister, then close the uffd (idempotent): the release also ends a
 * madvise blocked on a REMOVE nobody will read (docs/KERNEL.md rules 28, 40).
 * The memory stays mapped, as plain anonymous memory. */
void real_region_close_uffd(struct real_region *r);

/* 0 if 2 MiB hugetlb pages can be had here (reserves, maps and gives back
 * one), else -errno and the reason. */
int real_hugetlb_available(char *why, size_t whylen);

static inline uint64_t real_page_addr(const struct real_region *r,
				      uint64_t page)
{
	return r->base + page * r->page_size;
}

/* What a page holds, as a guest sees it. */
enum real_content {
	REAL_C_SNAPSHOT = 1, /* exactly the snapshot's page */
	REAL_C_ZERO = 2,     /* all zeros */
	REAL_C_WRITTEN = 3,  /* every byte = one value from real_guest_write */
	REAL_C_OTHER = 4,    /* anything else (torn, wrong page, ...) */
};
const char *real_content_name(enum real_content c);

/* Read page `page` (a fault if missing) and classify it; *value gets the
 * byte for WRITTEN. full = compare every word, else word 0, the first word
 * of every 4 KiB and the last word (what a 2 MiB hot loop can afford). */
enum real_content real_guest_read(struct real_region *r, uint64_t page,
				  int full, uint8_t *value);
/* Like real_guest_read, and 0 if the page is `want` (for WRITTEN: with
 * byte v), else -1 with "page 3: want ZERO, got SNAPSHOT" in why. */
int real_guest_expect(struct real_region *r, uint64_t page,
		      enum real_content want, uint8_t v, int full, char *why,
		      size_t whylen);
/* Fill the page with byte v (1..255), word 0 first: a missing page faults
 * with the WRITE flag on the very first store. */
void real_guest_write(struct real_region *r, uint64_t page, uint8_t v);
/* madvise(MADV_DONTNEED) of pages [first, first+n): with EVENT_REMOVE this
 * blocks until the handler reads the REMOVE. 0 or -errno. */
int real_guest_remove(struct real_region *r, uint64_t first, uint64_t n);
/* munmap of n pages from first (with EVENT_UNMAP it waits until the
 * UNMAP is read): 0 or -errno. The pages are gone: no guest operation
 * may touch them again; the close unmaps the rest. */
int real_guest_unmap(struct real_region *r, uint64_t first, uint64_t n);

/* From /proc/self/pagemap (the first 4 KiB entry for a huge page): present
 * (bit 63) and uffd-WP (bit 57). 0 or -errno. */
int real_page_flags(struct real_region *r, uint64_t page, int *present,
		    int *wp);

#endif
