#include "real/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

uint64_t real_pattern_word(uint64_t page, uint64_t w)
{
	if (w == 0)
		return REAL_SNAP_MAGIC | (page & 0xFFFFFFFFull);
	/* A mixing multiply spreads (page, w) over all bytes; forcing the
	 * low bit rules out zero, and the rare word of eight equal bytes
	 * (which would look like a guest write) is patched. */
	uint64_t x = ((page << 32) ^ w) * 0x9E3779B97F4A7C15ull;
	x ^= x >> 29;
	x |= 1;
	if ((x & 0xFF) * 0x0101010101010101ull == x)
		x ^= 0x100;
	return x;
}

int real_snapshot_new(uint64_t page_size, uint64_t pages,
		      const unsigned char *fill, struct real_snapshot **out)
{
	if (!page_size || page_size % 4096 || !pages)
		return -EINVAL;
	struct real_snapshot *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->page_size = page_size;
	s->pages = pages;
	size_t size = (size_t)(page_size * pages);
	int rc;
	s->fd = memfd_create("uffdlab-snapshot", MFD_CLOEXEC);
	if (s->fd < 0) {
		rc = -errno;
		free(s);
		return rc;
	}
	if (ftruncate(s->fd, (off_t)size)) {
		rc = -errno;
		goto fail;
	}
	/* the pages at once (in-kernel, not one fault per 4 KiB while the
	 * pattern is written): a 4 GiB image (B22's 2,048 huge pages) took
	 * 15 s of 4 KiB shmem faults before the first step */
	if (fallocate(s->fd, 0, 0, (off_t)size)) {
		rc = -errno;
		goto fail;
	}
	uint64_t *w = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			   s->fd, 0);
	if (w == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	uint64_t nw = page_size / 8;
	for (uint64_t p = 0; p < pages; p++) {
		uint64_t *pw = w + p * nw;
		int f = fill ? fill[p] : REAL_FILL_PATTERN;
		if (f == REAL_FILL_ZERO)
			continue; /* a fresh memfd reads as zeros */
		for (uint64_t i = 0; i < nw; i++)
			pw[i] = real_pattern_word(p, i);
		if (f == REAL_FILL_SENTINEL)
			pw[0] = (pw[0] & ~0xFFull) | REAL_SENTINEL;
	}
	/* Read-only from now on: the image must not change under the tests. */
	if (mprotect(w, size, PROT_READ)) {
		rc = -errno;
		munmap(w, size);
		goto fail;
	}
	s->words = w;
	*out = s;
	return 0;
fail:
	close(s->fd);
	free(s);
	return rc;
}

void real_snapshot_free(struct real_snapshot *s)
{
	if (!s)
		return;
	munmap((void *)s->words, (size_t)(s->page_size * s->pages));
	close(s->fd);
	free(s);
}

uint64_t real_snapshot_word(const struct real_snapshot *s, uint64_t p,
			    uint64_t w)
{
	return s->words[p * (s->page_size / 8) + w];
}
