/* tests/conform_probe_util.h — the vocabulary probes are written in.
 *
 * Contract: thin wrappers over struct cenv and its sys_t that perform one
 * step and log it as one line in a fixed, backend-neutral format (pages as
 * "p3", errors as "EAGAIN", output fields as "copied=8192" or
 * "copied=-EEXIST"). A failure of the machinery itself (an operation that
 * cannot start, a settle that times out, a view that fails) is logged as an
 * "ERROR ..." line and the wrapper returns -1 or the error, so probes can
 * go on and the test sees the failure. tests/test_conformance.c matches
 * these exact formats; change both together.
 */
#ifndef UFFDLAB_TESTS_CONFORM_PROBE_UTIL_H
#define UFFDLAB_TESTS_CONFORM_PROBE_UTIL_H

#include <stdint.h>

#include "handler/uffd_compat.h"
#include "tests/conform.h"

#define KB4 UINT64_C(4096)
#define MB2 (UINT64_C(2) << 20)
#define COPY_WP UFFDIO_COPY_MODE_WP
#define COPY_DW UFFDIO_COPY_MODE_DONTWAKE
#define WP_ON UFFDIO_WRITEPROTECT_MODE_WP
#define WP_DW UFFDIO_WRITEPROTECT_MODE_DONTWAKE

/* A probe's state: its environment, its log, the ops it started. */
struct pc {
	struct cenv *e;
	struct clog *L;
	int nops;
	int fork_ufd;          /* the last FORK message's new uffd, or -1 */
};

/* The start of every probe: `c`, its state, for the calls below. */
#define PROBE_BEGIN(e, L) struct pc pc_ = {(e), (L), 0, -1}, *c = &pc_

/* open() the memory; 0, or logs "ERROR open: <why>" and returns -1. */
int p_open(struct pc *c, uint64_t ps, int pages, uint64_t features, int wp);
/* The same for memory of a process of its own (struct cmem.proc). */
int p_open_proc(struct pc *c, int pages, uint64_t features, int wp);

/* Start a guest operation on a new thread; its handle "h<n>", or -1. */
int p_read(struct pc *c, int page);
int p_write(struct pc *c, int page, int value);
int p_kread(struct pc *c, int page);                    /* rule 12 */
int p_dontneed(struct pc *c, int first, int n);         /* whole pages */
int p_madvise(struct pc *c, uint64_t off, uint64_t len); /* bytes from base */
int p_munmap(struct pc *c, int first, int n);
/* mremap pages [first, first+n) to page `to` (MREMAP_FIXED): "mremap". */
int p_mremap(struct pc *c, int first, int n, int to);
/* A COPY of n pages from page `first` out of src on a thread of its own. */
int p_copy_async(struct pc *c, int first, int n, const void *src);
/* proc memory: the process forks, its child reads `page`; it exits. */
int p_fork(struct pc *c, int page);
int p_exit(struct pc *c);
void p_settle(struct pc *c);
/* Until a message is queued (not read); 0 or logs "ERROR await". */
int p_await(struct pc *c);
/* "<tag>: signal h0 -> 0": a non-fatal signal to op h's thread. */
int p_signal(struct pc *c, const char *tag, int h);
/* "<tag>: register p2 n=2 mode=0x0 -> 0" (mode 0: unregister only). */
int p_reg(struct pc *c, const char *tag, int first, int n, uint64_t mode);

/* "<tag>: h0 blocked" / "<tag>: h0 done rc=0 seen=snap(3)"; a COP_FORK
 * whose fork returned but whose child still waits: "<tag>: h0 forked" */
void p_state(struct pc *c, const char *tag, int h);
/* "<tag>: p3 present=1 wp=0 snap(3)" */
void p_view(struct pc *c, const char *tag, int page);

/* uffd read of up to max messages: "<tag>: read(8) -> 2" then one line per
 * message, e.g. "<tag>:  PF p0 flags=0", "<tag>:  REMOVE [p2,p4)",
 * "<tag>:  FORK ufd" (the new fd is kept in c->fork_ufd: its number is
 * the backend's). With
 * THREAD_ID the PF line ends in " ptid=h1" (the op whose thread it is).
 * Returns read's result. */
int p_uread(struct pc *c, const char *tag, int max);
/* poll(uffd, POLLIN, 0): "<tag>: poll -> 1 revents=0x1" */
void p_poll(struct pc *c, const char *tag);

/* COPY of n pages from `page`, every page holding content src:
 * "<tag>: COPY p12 len=16384 src=snap(1) mode=0x0 -> EAGAIN copied=8192".
 * Returns the sys result. */
int p_copy(struct pc *c, const char *tag, int page, int n, struct cc src,
	   uint64_t mode);
/* The same at any address and length; src NULL = an unreadable source;
 * show_field 0 leaves " copied=..." out of the line. */
int p_copy_raw(struct pc *c, const char *tag, uint64_t dst, uint64_t len,
	       const struct cc *src, uint64_t mode, int show_field);
/* "<tag>: ZEROPAGE p3 len=4096 mode=0x0 -> 0 zeroed=4096" */
int p_zero(struct pc *c, const char *tag, int page, int n, uint64_t mode);
int p_zero_raw(struct pc *c, const char *tag, uint64_t dst, uint64_t len,
	       uint64_t mode, int show_field);
/* "<tag>: WAKE p2 len=4096 -> 0" */
int p_wake(struct pc *c, const char *tag, int page, int n);
int p_wake_raw(struct pc *c, const char *tag, uint64_t start, uint64_t len);
/* "<tag>: WRITEPROTECT p0 len=4096 mode=0x1 -> 0" */
int p_wp(struct pc *c, const char *tag, int page, int n, uint64_t mode);
int p_wp_raw(struct pc *c, const char *tag, uint64_t start, uint64_t len,
	     uint64_t mode);

/* "<what> -> EINVAL": the result of a call made by the probe itself. */
void p_rc(struct pc *c, const char *what, int rc);

/* "p3", "p3+0x8", "out" for an address outside [base, end]. */
const char *p_where(const struct cenv *e, uint64_t a, char *buf, int n);
/* "0", "EAGAIN", ... for 0 / -errno; "-EEXIST" style for fields. */
const char *p_err(int rc, char *buf, int n);

#endif
