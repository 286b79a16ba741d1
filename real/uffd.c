#include "real/uffd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
	uint64_t bit;
	const char *name;
} feature_names[] = {
	{UFFD_FEATURE_PAGEFAULT_FLAG_WP, "PAGEFAULT_FLAG_WP"},
	{UFFD_FEATURE_EVENT_FORK, "EVENT_FORK"},
	{UFFD_FEATURE_EVENT_REMAP, "EVENT_REMAP"},
	{UFFD_FEATURE_EVENT_REMOVE, "EVENT_REMOVE"},
	{UFFD_FEATURE_EVENT_UNMAP, "EVENT_UNMAP"},
	{UFFD_FEATURE_MISSING_HUGETLBFS, "MISSING_HUGETLBFS"},
	{UFFD_FEATURE_MISSING_SHMEM, "MISSING_SHMEM"},
	{UFFD_FEATURE_SIGBUS, "SIGBUS"},
	{UFFD_FEATURE_THREAD_ID, "THREAD_ID"},
	{UFFD_FEATURE_MINOR_HUGETLBFS, "MINOR_HUGETLBFS"},
	{UFFD_FEATURE_MINOR_SHMEM, "MINOR_SHMEM"},
	{UFFD_FEATURE_EXACT_ADDRESS, "EXACT_ADDRESS"},
	{UFFD_FEATURE_WP_HUGETLBFS_SHMEM, "WP_HUGETLBFS_SHMEM"},
	{UFFD_FEATURE_WP_UNPOPULATED, "WP_UNPOPULATED"},
	{UFFD_FEATURE_POISON, "POISON"},
	{UFFD_FEATURE_WP_ASYNC, "WP_ASYNC"},
	{UFFD_FEATURE_MOVE, "MOVE"},
};

const char *real_uffd_feature_str(uint64_t features, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < sizeof feature_names / sizeof *feature_names; i++) {
		if (!(features & feature_names[i].bit))
			continue;
		features &= ~feature_names[i].bit;
		int n = snprintf(buf + used, len - used, "%s%s", used ? "|" : "",
				 feature_names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			return buf;
		used += (size_t)n;
	}
	if (features)
		snprintf(buf + used, len - used, "%s0x%llx", used ? "|" : "",
			 (unsigned long long)features);
	return buf;
}

/* A bare uffd, before UFFDIO_API. */
static int uffd_create(char *why, size_t whylen)
{
	const int flags = O_NONBLOCK | O_CLOEXEC;
	int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev >= 0) {
		int fd = ioctl(dev, USERFAULTFD_IOC_NEW, flags);
		close(dev);
		if (fd >= 0)
			return fd;
		/* A device that refuses may still leave the syscall usable. */
	}
	int fd = (int)syscall(SYS_userfaultfd, flags);
	if (fd >= 0)
		return fd;
	int e = errno;
	snprintf(why, whylen,
		 "userfaultfd unavailable: /dev/userfaultfd and userfaultfd(2) both failed (%s)%s",
		 strerror(e),
		 e == EPERM ? "; needs root, CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1" : "");
	return -e;
}

static int uffd_api(int fd, uint64_t features, uint64_t *granted)
{
	struct uffdio_api api = {.api = UFFD_API, .features = features};
	if (ioctl(fd, UFFDIO_API, &api))
		return -errno;
	if (granted)
		*granted = api.features;
	return 0;
}

int real_uffd_supported(uint64_t *features, char *why, size_t whylen)
{
	int fd = uffd_create(why, whylen);
	if (fd < 0)
		return fd;
	int rc = uffd_api(fd, 0, features);
	if (rc)
		snprintf(why, whylen, "UFFDIO_API: %s", strerror(-rc));
	close(fd);
	return rc;
}

int real_uffd_open(uint64_t features, uint64_t *granted, char *why,
		   size_t whylen)
{
	uint64_t have;
	/* Ask on a throwaway fd first: UFFDIO_API can be issued only once,
	 * and a refused one would tell us nothing about which bit is wrong. */
	int rc = real_uffd_supported(&have, why, whylen);
	if (rc)
		return rc;
	if (features & ~have) {
		char b[256];
		snprintf(why, whylen, "kernel lacks userfaultfd features %s",
			 real_uffd_feature_str(features & ~have, b, sizeof b));
		return -EOPNOTSUPP;
	}
	int fd = uffd_create(why, whylen);
	if (fd < 0)
		return fd;
	rc = uffd_api(fd, features, granted);
	if (rc) {
		char b[256];
		snprintf(why, whylen, "UFFDIO_API(%s): %s",
			 real_uffd_feature_str(features, b, sizeof b),
			 strerror(-rc));
		close(fd);
		return rc;
	}
	return fd;
}

int real_uffd_register(int uffd, uint64_t start, uint64_t len, uint64_t mode,
		       uint64_t *ioctls, char *why, size_t whylen)
{
	struct uffdio_register reg = {.range = {.start = start, .len = len},
				      .mode = mode};
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		int e = errno;
		snprintf(why, whylen, "UFFDIO_REGISTER(mode 0x%llx, %llu bytes): %s",
			 (unsigned long long)mode, (unsigned long long)len,
			 strerror(e));
		return -e;
	}
	uint64_t need = 1ull << _UFFDIO_COPY;
	if (mode & UFFDIO_REGISTER_MODE_WP)
		need |= 1ull << _UFFDIO_WRITEPROTECT;
	if ((reg.ioctls & need) != need) {
		snprintf(why, whylen,
			 "registered range lacks ioctls: have 0x%llx, need 0x%llx",
			 (unsigned long long)reg.ioctls,
			 (unsigned long long)need);
		real_uffd_unregister(uffd, start, len);
		return -EOPNOTSUPP;
	}
	if (ioctls)
		*ioctls = reg.ioctls;
	return 0;
}

int real_uffd_unregister(int uffd, uint64_t start, uint64_t len)
{
	struct uffdio_range r = {.start = start, .len = len};
	return ioctl(uffd, UFFDIO_UNREGISTER, &r) ? -errno : 0;
}

int real_uffd_available(char *why, size_t whylen)
{
	uint64_t f;
	return real_uffd_supported(&f, why, whylen);
}

int real_kernel_profile(char *rel, size_t n)
{
	struct utsname u;
	if (uname(&u))
		return -errno;
	if (rel && n)
		snprintf(rel, n, "%s", u.release);
	unsigned maj = 0, min = 0;
	if (sscanf(u.release, "%u.%u", &maj, &min) != 2)
		return -EINVAL;
	unsigned v = maj * 100 + min;
	/* the rules that changed: 6.15 the field, 6.9 map_changing_lock */
	return v >= 615 ? 618 : v >= 609 ? 612 : 601;
}
