/* model/profile.c — the kernel profiles of model/kernel.h: per release,
 * the features UFFDIO_API offers, the ioctl mask fdinfo shows, and the
 * rules that changed (docs/KERNEL.md "Kernel profiles" cites each one).
 */
#include "model/kernel.h"

#include <string.h>

#include "handler/uffd_compat.h"

#define F(x) ((uint64_t)UFFD_FEATURE_##x)
#define IO(x) (UINT64_C(1) << _UFFDIO_##x)

/* 6.1: every feature up to WP_HUGETLBFS_SHMEM (5.19) */
#define F_6_1 (F(PAGEFAULT_FLAG_WP) | F(EVENT_FORK) | F(EVENT_REMAP) |     \
	       F(EVENT_REMOVE) | F(MISSING_HUGETLBFS) | F(MISSING_SHMEM) |  \
	       F(EVENT_UNMAP) | F(SIGBUS) | F(THREAD_ID) |                  \
	       F(MINOR_HUGETLBFS) | F(MINOR_SHMEM) | F(EXACT_ADDRESS) |     \
	       F(WP_HUGETLBFS_SHMEM))
/* + WP_UNPOPULATED (6.4), POISON (6.6), WP_ASYNC (6.7), MOVE (6.8) */
#define F_6_12 (F_6_1 | F(WP_UNPOPULATED) | F(POISON) | F(WP_ASYNC) | F(MOVE))
/* UFFD_API_IOCTLS | UFFD_API_RANGE_IOCTLS */
#define IO_6_1 (IO(API) | IO(REGISTER) | IO(UNREGISTER) | IO(WAKE) |       \
		IO(COPY) | IO(ZEROPAGE) | IO(WRITEPROTECT) | IO(CONTINUE))
#define IO_6_12 (IO_6_1 | IO(MOVE) | IO(POISON))

static const struct mk_profile profiles[] = {
	{MK_K6_1, "6.1", F_6_1, IO_6_1, 0, 0},
	{MK_K6_12, "6.12", F_6_12, IO_6_12, 1, 0},
	{MK_K6_18, "6.18", F_6_12, IO_6_12, 1, 1},
};

const struct mk_profile *mk_profile(int kver)
{
	if (!kver)
		kver = MK_KVER_DEFAULT;
	for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
		if ((int)profiles[i].kver == kver)
			return &profiles[i];
	return NULL;
}

const struct mk_profile *mk_profile_named(const char *name)
{
	for (size_t i = 0; name && i < sizeof profiles / sizeof profiles[0]; i++)
		if (strcmp(profiles[i].name, name) == 0)
			return &profiles[i];
	return NULL;
}
