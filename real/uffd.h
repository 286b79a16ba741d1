/* real/uffd.h — creating, configuring and registering a real userfaultfd.
 *
 * Contract: real_uffd_open() creates a uffd the way Firecracker does
 * (non-blocking, close-on-exec, kernel faults allowed): through
 * /dev/userfaultfd + USERFAULTFD_IOC_NEW when the device can be opened, else
 * with the userfaultfd(2) system call; then UFFDIO_API with exactly the
 * requested features. Features the kernel does not offer are named in `why`
 * and the call fails with -EOPNOTSUPP before anything is half set up.
 * -EPERM/-EACCES/-ENOSYS mean userfaultfd is not usable here at all (callers
 * skip). real_uffd_register() registers [start, start+len) with the given
 * UFFDIO_REGISTER_MODE_* bits and checks that the ranges' ioctls include
 * COPY (and WRITEPROTECT for WP). Everything returns 0 or -errno.
 */
#ifndef UFFDLAB_REAL_UFFD_H
#define UFFDLAB_REAL_UFFD_H

#include <stddef.h>
#include <stdint.h>

#include "handler/uffd_compat.h"

int real_uffd_open(uint64_t features, uint64_t *granted, char *why,
		   size_t whylen);
/* Features this kernel offers (UFFDIO_API with none requested). */
int real_uffd_supported(uint64_t *features, char *why, size_t whylen);
int real_uffd_register(int uffd, uint64_t start, uint64_t len, uint64_t mode,
		       uint64_t *ioctls, char *why, size_t whylen);
int real_uffd_unregister(int uffd, uint64_t start, uint64_t len);
/* "EVENT_REMOVE|WP_ASYNC" for a feature mask, into buf. */
const char *real_uffd_feature_str(uint64_t features, char *buf, size_t len);
/* The kernel profile (model/kernel.h enum mk_kver: 601, 612, 618) the
 * running kernel follows, from uname's release: the newest profile whose
 * behaviour it has (>= 6.15: 618, >= 6.9: 612, else 601); the release
 * string in rel (may be NULL). -errno when uname fails. */
int real_kernel_profile(char *rel, size_t n);
/* 0 if a uffd can be created here, else -errno and the reason in why. */
int real_uffd_available(char *why, size_t whylen);

#endif
