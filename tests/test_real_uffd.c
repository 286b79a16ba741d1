/* The real backend's uffd ops on hardware: sys_real passes the kernel's
 * conventions through as handler/sys.h documents them — read order (faults
 * before events), COPY/ZEROPAGE results (EEXIST, partial progress, EAGAIN
 * while mmap_changing with the field set, ENOENT, EINVAL on hugetlb),
 * DONTWAKE then WAKE (docs/KERNEL.md rules 1-19, 30). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "real/region.h"
#include "real/sys_real.h"
#include "tests/realtest.h"

static sys_t *new_sys(int source_fd, uint64_t page)
{
	struct sys_real_opts o = {.source_fd = source_fd, .source_page = page,
				  .seed = 42};
	sys_t *s = NULL;
	assert_int_equal(sys_real_new(&o, &s), 0);
	return s;
}

struct toucher {
	struct real_region *r;
	uint64_t page;
	int write;
	int tid;            /* atomic */
	int done;           /* atomic */
	enum real_content got;
	int rc;             /* remove: madvise's result */
	pthread_t th;
};

static void *touch_main(void *arg)
{
	struct toucher *t = arg;
	__atomic_store_n(&t->tid, gettid(), __ATOMIC_SEQ_CST);
	if (t->write)
		real_guest_write(t->r, t->page, 0x77);
	else
		t->got = real_guest_read(t->r, t->page, 1, NULL);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *remove_main(void *arg)
{
	struct toucher *t = arg;
	__atomic_store_n(&t->tid, gettid(), __ATOMIC_SEQ_CST);
	t->rc = real_guest_remove(t->r, t->page, 1);
	__atomic_store_n(&t->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void start(struct toucher *t, struct real_region *r, uint64_t page,
		  int write, void *(*fn)(void *))
{
	*t = (struct toucher){.r = r, .page = page, .write = write};
	assert_int_equal(pthread_create(&t->th, NULL, fn, t), 0);
	while (!__atomic_load_n(&t->tid, __ATOMIC_SEQ_CST))
		usleep(100);
}

static int done_within(struct toucher *t, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(&t->done, __ATOMIC_SEQ_CST))
			return 1;
		usleep(1000);
	}
	return __atomic_load_n(&t->done, __ATOMIC_SEQ_CST);
}

/* Waits until the uffd has something to read. */
static void wait_readable(struct real_region *r)
{
	struct pollfd p = {r->uffd, POLLIN, 0};
	assert_int_equal(poll(&p, 1, 5000), 1);
}

static struct real_region *open_region(uint64_t ps, uint64_t pages,
				       uint64_t features, int wp)
{
	struct real_region_opts o = {.page_size = ps, .pages = pages,
				     .features = features, .wp = wp};
	struct real_region *r = NULL;
	char why[256];
	int rc = real_region_open(&o, &r, why, sizeof why);
	if (rc)
		fail_msg("real_region_open: %s", why);
	return r;
}

/* docs/KERNEL.md rule 1: faults before events, whatever the queueing order. */
static void test_uffd_read_gives_faults_before_events(void **state)
{
	(void)state;
	RT_REQUIRE(rt_4k);
	struct real_region *r = open_region(4096, 8, UFFD_FEATURE_EVENT_REMOVE, 0);
	sys_t *s = new_sys(r->snap->fd, 4096);
	struct toucher f0, rm, f1;
	struct uffd_msg m[8];

	assert_int_equal(s->ops->uffd_read(s, r->uffd, m, 8), -EAGAIN);
	assert_int_equal(s->ops->uffd_read(s, r->uffd, m, 0), -EINVAL);

	start(&f0, r, 0, 0, touch_main);
	wait_readable(r);
	start(&rm, r, 4, 0, remove_main);
	assert_int_equal(rt_wait_wchan(rm.tid, "userfaultfd_event_wait_completion", 5000), 0);
	start(&f1, r, 1, 1, touch_main);
	assert_int_equal(rt_wait_wchan(f1.tid, "handle_userfault", 5000), 0);

	int n = s->ops->uffd_read(s, r->uffd, m, 8);
	assert_int_equal(n, 3);
	assert_int_equal(m[0].event, UFFD_EVENT_PAGEFAULT);
	assert_int_equal(m[0].arg.pagefault.address, real_page_addr(r, 0));
	assert_int_equal(m[1].event, UFFD_EVENT_PAGEFAULT);
	assert_int_equal(m[1].arg.pagefault.address, real_page_addr(r, 1));
	assert_true(m[1].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WRITE);
	assert_int_equal(m[2].event, UFFD_EVENT_REMOVE);
	assert_int_equal(m[2].arg.remove.start, real_page_addr(r, 4));
	assert_int_equal(m[2].arg.remove.end, real_page_addr(r, 5));
	/* reading the REMOVE completed it; reading the faults woke nobody */
	assert_true(done_within(&rm, 5000));
	assert_int_equal(rm.rc, 0);
	assert_false(done_within(&f0, 20));
	assert_false(__atomic_load_n(&f1.done, __ATOMIC_SEQ_CST));

	void *src = s->ops->buf_alloc(s, 4096);
	assert_int_equal(s->ops->source_read(s, 0, src, 4096), 0);
	int64_t copied = 0;
	for (int p = 0; p < 2; p++) {
		int rc;
		/* the madvise thread may still be on its way out (rule 25) */
		while ((rc = s->ops->uffd_copy(s, r->uffd, real_page_addr(r, p), src,
					       4096, 0, &copied)) == -EAGAIN)
			usleep(100);
		assert_int_equal(rc, 0);
		assert_int_equal(copied, 4096);
	}
	assert_true(done_within(&f0, 5000));
	assert_true(done_within(&f1, 5000));
	assert_int_equal(f0.got, REAL_C_SNAPSHOT);
	pthread_join(f0.th, NULL);
	pthread_join(f1.th, NULL);
	pthread_join(rm.th, NULL);
	s->ops->buf_free(s, src, 4096);
	sys_real_free(s);
	real_region_close(r);
}

/* Rules 13, 14, 17, 19: the results sys.h passes through unchanged. */
static void test_uffd_copy_conventions(void **state)
{
	(void)state;
	RT_REQUIRE(rt_4k);
	struct real_region *r = open_region(4096, 16, UFFD_FEATURE_EVENT_REMOVE |
						      UFFD_FEATURE_WP_ASYNC, 1);
	sys_t *s = new_sys(r->snap->fd, 4096);
	unsigned char *src = s->ops->buf_alloc(s, 4 * 4096);
	memset(src, 0x5A, 4 * 4096);
	int64_t f;

	/* a page nobody waits for */
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 2), src, 4096, 0, &f), 0);
	assert_int_equal(f, 4096);
	/* EEXIST: the field carries it too */
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 2), src, 4096, 0, &f), -EEXIST);
	assert_int_equal(f, -EEXIST);
	/* partial: pages 0,1 done, page 2 present -> EAGAIN with 8192 */
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 0), src, 4 * 4096, 0, &f), -EAGAIN);
	assert_int_equal(f, 8192);
	/* ZEROPAGE partial the same way */
	assert_int_equal(s->ops->uffd_zeropage(s, r->uffd, real_page_addr(r, 6), 2 * 4096, 0, &f), 0);
	assert_int_equal(f, 8192);
	assert_int_equal(s->ops->uffd_zeropage(s, r->uffd, real_page_addr(r, 5), 2 * 4096, 0, &f), -EAGAIN);
	assert_int_equal(f, 4096);
	/* validation: unaligned dst, and a dst outside any registered range */
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 8) + 8, src, 4096, 0, &f), -EINVAL);
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, (uint64_t)(uintptr_t)src, src, 4096, 0, &f), -ENOENT);
	assert_int_equal(f, -ENOENT);
	assert_int_equal(s->ops->uffd_wake(s, r->uffd, real_page_addr(r, 8), 4096), 0);
	assert_int_equal(s->ops->uffd_wake(s, r->uffd, real_page_addr(r, 8) + 1, 4096), -EINVAL);

	/* A REMOVE queued and unread: every fill of this uffd gets EAGAIN,
	 * field -EAGAIN (6.15+); WAKE is unaffected. */
	struct toucher rm;
	start(&rm, r, 2, 0, remove_main);
	assert_int_equal(rt_wait_wchan(rm.tid, "userfaultfd_event_wait_completion", 5000), 0);
	f = 0x5a5a;
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 10), src, 4096, 0, &f), -EAGAIN);
	assert_int_equal(f, -EAGAIN);
	f = 0x5a5a;
	assert_int_equal(s->ops->uffd_zeropage(s, r->uffd, real_page_addr(r, 10), 4096, 0, &f), -EAGAIN);
	assert_int_equal(f, -EAGAIN);
	assert_int_equal(s->ops->uffd_writeprotect(s, r->uffd, real_page_addr(r, 0), 4096,
						   UFFDIO_WRITEPROTECT_MODE_WP), -EAGAIN);
	assert_int_equal(s->ops->uffd_wake(s, r->uffd, real_page_addr(r, 10), 4096), 0);
	struct uffd_msg m[4];
	assert_int_equal(s->ops->uffd_read(s, r->uffd, m, 4), 1);
	assert_int_equal(m[0].event, UFFD_EVENT_REMOVE);
	assert_true(done_within(&rm, 5000));
	assert_int_equal(rm.rc, 0);
	pthread_join(rm.th, NULL);
	/* once madvise has resumed, fills work again */
	int rc;
	for (int i = 0; i < 5000; i++) {
		rc = s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 10), src, 4096, 0, &f);
		if (rc != -EAGAIN)
			break;
		usleep(1000);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(s->ops->uffd_writeprotect(s, r->uffd, real_page_addr(r, 10), 4096,
						   UFFDIO_WRITEPROTECT_MODE_WP), 0);
	int present = 0, wp = 0;
	assert_int_equal(real_page_flags(r, 10, &present, &wp), 0);
	assert_int_equal(present, 1);
	assert_int_equal(wp, 1);
	s->ops->buf_free(s, src, 4 * 4096);
	sys_real_free(s);
	real_region_close(r);
}

/* Rule 15 and 19: DONTWAKE installs without waking; WAKE then releases. */
static void test_uffd_dontwake_then_wake(void **state)
{
	uint64_t ps = rt_page_size(state);
	RT_REQUIRE(ps);
	struct real_region *r = open_region(ps, 2, 0, 0);
	sys_t *s = new_sys(r->snap->fd, ps);
	void *src = s->ops->buf_alloc(s, ps);
	assert_int_equal(s->ops->source_read(s, 0, src, ps), 0);
	struct toucher t;
	start(&t, r, 0, 0, touch_main);
	wait_readable(r);
	struct uffd_msg m;
	assert_int_equal(s->ops->uffd_read(s, r->uffd, &m, 1), 1);
	assert_int_equal(m.arg.pagefault.address, real_page_addr(r, 0));
	int64_t f;
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, real_page_addr(r, 0), src, ps,
					   UFFDIO_COPY_MODE_DONTWAKE, &f), 0);
	assert_int_equal(f, (int64_t)ps);
	assert_false(done_within(&t, 50));
	assert_int_equal(s->ops->uffd_wake(s, r->uffd, real_page_addr(r, 0), ps), 0);
	assert_true(done_within(&t, 5000));
	pthread_join(t.th, NULL);
	assert_int_equal(t.got, REAL_C_SNAPSHOT);
	s->ops->buf_free(s, src, ps);
	sys_real_free(s);
	real_region_close(r);
}

/* Rule 30: hugetlb has no ZEROPAGE and fills in 2 MiB units only. */
static void test_uffd_hugetlb_conventions(void **state)
{
	(void)state;
	RT_REQUIRE(rt_2m);
	uint64_t ps = rt_2m;
	struct real_region *r = open_region(ps, 2, UFFD_FEATURE_EVENT_REMOVE, 0);
	assert_false(r->ioctls & (1ull << _UFFDIO_ZEROPAGE));
	sys_t *s = new_sys(r->snap->fd, ps);
	void *src = s->ops->buf_alloc(s, ps);
	s->ops->buf_zero(s, src, ps);
	int64_t f;
	assert_int_equal(s->ops->uffd_zeropage(s, r->uffd, r->base, ps, 0, &f), -EINVAL);
	assert_int_equal(f, -EINVAL);
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, r->base, src, 4096, 0, &f), -EINVAL);
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, r->base + 4096, src, ps, 0, &f), -EINVAL);
	assert_int_equal(s->ops->uffd_copy(s, r->uffd, r->base, src, ps, 0, &f), 0);
	assert_int_equal(f, (int64_t)ps);
	assert_int_equal(real_guest_read(r, 0, 1, NULL), REAL_C_ZERO);
	/* a 4 KiB madvise on hugetlb is rounded down to nothing: no event */
	assert_int_equal(madvise((void *)(uintptr_t)r->base, 4096, MADV_DONTNEED), 0);
	struct uffd_msg m;
	assert_int_equal(s->ops->uffd_read(s, r->uffd, &m, 1), -EAGAIN);
	s->ops->buf_free(s, src, ps);
	sys_real_free(s);
	real_region_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_ONE(test_uffd_read_gives_faults_before_events),
		RT_ONE(test_uffd_copy_conventions),
		RT_BOTH(test_uffd_dontwake_then_wake),
		RT_ONE(test_uffd_hugetlb_conventions),
	};
	return cmocka_run_group_tests_name("real_uffd", tests, NULL, NULL);
}
