#include "real/region.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "real/hugepages.h"

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26) /* log2(2 MiB) << MAP_HUGE_SHIFT */
#endif

#define BYTES8(v) ((uint64_t)(v) * 0x0101010101010101ull)

static void *map_memory(uint64_t size, uint64_t page_size)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	if (page_size == REAL_HUGE_2M)
		flags |= MAP_HUGETLB | MAP_HUGE_2MB;
	void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* 4 KiB means 4 KiB: a THP fault would hand the handler a fault
	 * whose install size differs from the page size under test. */
	if (page_size != REAL_HUGE_2M)
		madvise(p, (size_t)size, MADV_NOHUGEPAGE);
	return p;
}

static int opts_ok(const struct real_region_opts *o, char *why, size_t whylen)
{
	if (o->page_size != 4096 && o->page_size != REAL_HUGE_2M) {
		snprintf(why, whylen, "page size %llu: want 4096 or 2 MiB",
			 (unsigned long long)o->page_size);
		return -EINVAL;
	}
	if (!o->pages) {
		snprintf(why, whylen, "a region needs at least one page");
		return -EINVAL;
	}
	if (o->snap && (o->snap->page_size != o->page_size ||
			o->snap->pages < o->pages)) {
		snprintf(why, whylen, "snapshot does not cover the region");
		return -EINVAL;
	}
	return 0;
}

/* The snapshot (given or a new memfd), huge pages, and the uffd. */
static int region_sources(struct real_region *r, const struct real_region_opts *o,
			  char *why, size_t whylen)
{
	int rc;
	if (o->snap) {
		r->snap = o->snap;
	} else {
		rc = real_snapshot_new(o->page_size, o->pages, o->fill, &r->snap);
		if (rc) {
			snprintf(why, whylen, "snapshot memfd: %s", strerror(-rc));
			return rc;
		}
		r->own_snap = 1;
	}
	uint64_t features = o->features;
	if (o->page_size == REAL_HUGE_2M) {
		features |= UFFD_FEATURE_MISSING_HUGETLBFS;
		rc = real_hugepages_reserve(o->pages, &r->huge_raised, why, whylen);
		if (rc)
			return rc;
	}
	rc = real_uffd_open(features, &r->features, why, whylen);
	if (rc < 0)
		return rc;
	r->uffd = rc;
	return 0;
}

/* Guest memory mapped, registered with the uffd, and pagemap opened. */
static int region_memory(struct real_region *r, const struct real_region_opts *o,
			 char *why, size_t whylen)
{
	void *mem = map_memory(r->size, r->page_size);
	if (!mem) {
		int rc = -errno;
		snprintf(why, whylen, "mmap of %llu x %s pages: %s",
			 (unsigned long long)r->pages,
			 r->page_size == REAL_HUGE_2M ? "2 MiB" : "4 KiB", strerror(-rc));
		return rc;
	}
	r->base = (uint64_t)(uintptr_t)mem;
	if (o->anon_vma) {
		/* UFFDIO_COPY/ZEROPAGE into a private VMA without an anon_vma
		 * fall back to mmap_lock (uffd_lock_vma); one written page,
		 * zapped again, gives the VMA one and leaves every page absent
		 * (hugetlb too: its private fault prepares one; the huge page
		 * goes back to the pool) */
		*(volatile char *)mem = 1;
		madvise(mem, (size_t)r->page_size, MADV_DONTNEED);
	}
	uint64_t mode = UFFDIO_REGISTER_MODE_MISSING;
	if (o->wp)
		mode |= UFFDIO_REGISTER_MODE_WP;
	int rc = real_uffd_register(r->uffd, r->base, r->size, mode, &r->ioctls, why, whylen);
	if (rc)
		return rc;
	r->registered = 1;
	r->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (r->pagemap_fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "/proc/self/pagemap: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

int real_region_open(const struct real_region_opts *o, struct real_region **out,
		     char *why, size_t whylen)
{
	int rc = opts_ok(o, why, whylen);
	if (rc)
		return rc;
	struct real_region *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	r->uffd = -1;
	r->pagemap_fd = -1;
	r->page_size = o->page_size;
	r->pages = o->pages;
	r->size = o->page_size * o->pages;
	rc = region_sources(r, o, why, whylen);
	if (!rc)
		rc = region_memory(r, o, why, whylen);
	if (rc) {
		real_region_close(r); /* releases whatever was set up */
		return rc;
	}
	*out = r;
	return 0;
}

int real_region_unregister(struct real_region *r)
{
	if (!r->registered)
		return 0;
	int rc = real_uffd_unregister(r->uffd, r->base, r->size);
	if (rc == 0)
		r->registered = 0;
	return rc;
}

void real_region_close_uffd(struct real_region *r)
{
	if (r->uffd < 0)
		return;
	real_region_unregister(r);
	close(r->uffd);
	r->uffd = -1;
}

void real_region_close(struct real_region *r)
{
	if (!r)
		return;
	real_region_close_uffd(r);
	if (r->base)
		munmap((void *)(uintptr_t)r->base, (size_t)r->size);
	if (r->pagemap_fd >= 0)
		close(r->pagemap_fd);
	/* After munmap: the pages are back in the pool and can be taken
	 * out of it again. */
	int rc = real_hugepages_release(r->huge_raised);
	if (rc) /* no caller to return it to; the ledger still has them */
		fprintf(stderr, "uffdlab: giving back %llu huge pages: %s (left to the next run)\n",
			(unsigned long long)r->huge_raised, strerror(-rc));
	if (r->own_snap)
		real_snapshot_free(r->snap);
	free(r);
}

int real_hugetlb_available(char *why, size_t whylen)
{
	uint64_t raised;
	int rc = real_hugepages_reserve(1, &raised, why, whylen);
	if (rc)
		return rc;
	void *p = map_memory(REAL_HUGE_2M, REAL_HUGE_2M);
	if (!p) {
		rc = -errno;
		snprintf(why, whylen, "mmap(MAP_HUGETLB|MAP_HUGE_2MB): %s",
			 strerror(-rc));
	} else {
		munmap(p, REAL_HUGE_2M);
	}
	int brc = real_hugepages_release(raised);
	if (brc && !rc) {
		snprintf(why, whylen, "giving back the probe's huge page: %s",
			 strerror(-brc));
		rc = brc;
	}
	return rc;
}

const char *real_content_name(enum real_content c)
{
	switch (c) {
	case REAL_C_SNAPSHOT: return "SNAPSHOT";
	case REAL_C_ZERO: return "ZERO";
	case REAL_C_WRITTEN: return "WRITTEN";
	case REAL_C_OTHER: return "OTHER";
	}
	return "?";
}

static uint64_t *page_words(struct real_region *r, uint64_t page)
{
	return (uint64_t *)(uintptr_t)real_page_addr(r, page);
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* Does word w of the page match what `kind` predicts? */
static int word_ok(struct real_region *r, uint64_t page, uint64_t w,
		   uint64_t got, enum real_content kind, uint8_t v)
{
	switch (kind) {
	case REAL_C_SNAPSHOT: return got == real_snapshot_word(r->snap, page, w);
	case REAL_C_ZERO: return got == 0;
	case REAL_C_WRITTEN: return got == BYTES8(v);
	default: return 0;
	}
}

/* Checks the page against `kind`; returns the first bad word index or -1. */
static int64_t scan(struct real_region *r, uint64_t page, enum real_content kind,
		    uint8_t v, int full)
{
	const uint64_t *pw = page_words(r, page);
	uint64_t nw = r->page_size / 8;
	uint64_t step = full ? 1 : 512; /* 512 words = 4 KiB */
	for (uint64_t w = 0; w < nw; w += step)
		if (!word_ok(r, page, w, load(pw + w), kind, v))
			return (int64_t)w;
	if (!word_ok(r, page, nw - 1, load(pw + nw - 1), kind, v))
		return (int64_t)(nw - 1);
	return -1;
}

enum real_content real_guest_read(struct real_region *r, uint64_t page,
				  int full, uint8_t *value)
{
	uint64_t w0 = load(page_words(r, page)); /* the faulting access */
	enum real_content kind;
	uint8_t v = 0;
	if (w0 == real_snapshot_word(r->snap, page, 0))
		kind = REAL_C_SNAPSHOT;
	else if (w0 == 0)
		kind = REAL_C_ZERO;
	else if (w0 == BYTES8(w0 & 0xFF))
		kind = REAL_C_WRITTEN, v = (uint8_t)w0;
	else
		return REAL_C_OTHER;
	if (scan(r, page, kind, v, full) >= 0)
		return REAL_C_OTHER;
	if (value)
		*value = v;
	return kind;
}

int real_guest_expect(struct real_region *r, uint64_t page,
		      enum real_content want, uint8_t v, int full, char *why,
		      size_t whylen)
{
	uint8_t got_v = 0;
	enum real_content got = real_guest_read(r, page, full, &got_v);
	if (got == want && (want != REAL_C_WRITTEN || got_v == v))
		return 0;
	char wb[16] = "", gb[16] = "";
	if (want == REAL_C_WRITTEN)
		snprintf(wb, sizeof wb, "(0x%02x)", v);
	if (got == REAL_C_WRITTEN)
		snprintf(gb, sizeof gb, "(0x%02x)", got_v);
	if (got == REAL_C_OTHER) {
		const uint64_t *pw = page_words(r, page);
		int64_t bad = scan(r, page, want, v, 1);
		snprintf(why, whylen,
			 "page %llu: want %s%s, got OTHER: word %lld = 0x%016llx (word 0 = 0x%016llx)",
			 (unsigned long long)page, real_content_name(want), wb,
			 (long long)bad,
			 (unsigned long long)(bad >= 0 ? load(pw + bad) : 0),
			 (unsigned long long)load(pw));
	} else {
		/* Name the upstream race tests' marker when it is what we got. */
		if (got == REAL_C_SNAPSHOT &&
		    (real_snapshot_word(r->snap, page, 0) & 0xFF) == REAL_SENTINEL)
			snprintf(gb, sizeof gb, " (sentinel)");
		snprintf(why, whylen, "page %llu: want %s%s, got %s%s",
			 (unsigned long long)page, real_content_name(want), wb,
			 real_content_name(got), gb);
	}
	return -1;
}

void real_guest_write(struct real_region *r, uint64_t page, uint8_t v)
{
	uint64_t *pw = page_words(r, page);
	uint64_t nw = r->page_size / 8, x = BYTES8(v);
	for (uint64_t w = 0; w < nw; w++)
		__atomic_store_n(pw + w, x, __ATOMIC_RELAXED);
}

int real_guest_remove(struct real_region *r, uint64_t first, uint64_t n)
{
	void *a = (void *)(uintptr_t)real_page_addr(r, first);
	return madvise(a, (size_t)(n * r->page_size), MADV_DONTNEED) ? -errno : 0;
}

int real_guest_unmap(struct real_region *r, uint64_t first, uint64_t n)
{
	void *a = (void *)(uintptr_t)real_page_addr(r, first);
	return munmap(a, (size_t)(n * r->page_size)) ? -errno : 0;
}

int real_page_flags(struct real_region *r, uint64_t page, int *present, int *wp)
{
	uint64_t e;
	off_t off = (off_t)(real_page_addr(r, page) / 4096 * 8);
	ssize_t n = pread(r->pagemap_fd, &e, sizeof e, off);
	if (n != (ssize_t)sizeof e)
		return n < 0 ? -errno : -EIO;
	if (present)
		*present = (int)((e >> PM_PRESENT_BIT) & 1);
	if (wp)
		*wp = (int)((e >> PM_UFFD_WP_BIT) & 1);
	return 0;
}
