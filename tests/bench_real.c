/* bench_real — fault-service throughput of e2b-ref on the real kernel.
 *
 * For each configuration guest threads touch every page of a fresh region
 * once (one load of the page's first word: one MISSING read fault per page);
 * only the touching is timed, from a common start barrier to the last
 * thread's end. A new region and handler are built for every sweep, since a
 * page faults only once. Totals: 1,000,000 faults for 4 KiB pages (sweeps
 * of a 64 MiB region), 2,000 for 2 MiB pages (sweeps of 64 huge pages);
 * UFFDLAB_BENCH_QUICK=1 divides both by 10; UFFDLAB_BENCH_ONLY=4k or 2m
 * runs one page size. The floor is the least any
 * handler can do on this machine: one plain reader thread that polls,
 * reads a batch of messages and COPYs each page straight from the snapshot
 * mapping, for one guest thread. After each sweep the pages are checked
 * (first word of each page) and the handler's install count must equal the
 * fault count, so a fast wrong handler cannot post a number.
 *
 * Output: "bench: real_e2b_4k_1t N faults/s", ..._4k_2t, _2m_1t, _2m_2t,
 * "bench: real_floor_4k N faults/s", _2m, and "bench: real_ratio_4k_1t R x"
 * = e2b rate / floor rate (the share of the floor's throughput the handler
 * reaches), for every e2b configuration. Exit 1 on a wrong result, 0 (with a "skipped" line)
 * when the machine has no userfaultfd or no hugepages.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "real/harness.h"
#include "real/hugepages.h"
#include "real/region.h"
#include "real/watchdog.h"

struct toucher {
	struct real_region *r;
	uint64_t first, n;
	pthread_barrier_t *start;
	pthread_t th;
};

static void *touch_main(void *arg)
{
	struct toucher *t = arg;
	pthread_barrier_wait(t->start);
	for (uint64_t p = t->first; p < t->first + t->n; p++)
		(void)__atomic_load_n((uint64_t *)(uintptr_t)real_page_addr(t->r, p),
				      __ATOMIC_RELAXED);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Time `threads` guests touching pages [0, n) of r, split into halves. */
static double timed_touch(struct real_region *r, uint64_t n, int threads)
{
	pthread_barrier_t start;
	struct toucher t[2];
	pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
	for (int i = 0; i < threads; i++) {
		uint64_t lo = n * (uint64_t)i / (uint64_t)threads;
		uint64_t hi = n * (uint64_t)(i + 1) / (uint64_t)threads;
		t[i] = (struct toucher){.r = r, .first = lo, .n = hi - lo, .start = &start};
		pthread_create(&t[i].th, NULL, touch_main, &t[i]);
	}
	pthread_barrier_wait(&start);
	double t0 = now_s();
	for (int i = 0; i < threads; i++)
		pthread_join(t[i].th, NULL);
	double dt = now_s() - t0;
	pthread_barrier_destroy(&start);
	return dt;
}

static int verify(struct real_region *r, uint64_t n, const char *what)
{
	for (uint64_t p = 0; p < n; p++) {
		uint64_t w = *(volatile uint64_t *)(uintptr_t)real_page_addr(r, p);
		if (w != real_snapshot_word(r->snap, p, 0)) {
			fprintf(stderr, "bench: %s: page %llu holds 0x%016llx, want the snapshot's\n",
				what, (unsigned long long)p, (unsigned long long)w);
			return -1;
		}
	}
	return 0;
}

/* ---------------- e2b-ref ---------------- */

static int bench_e2b(struct real_snapshot *snap, uint64_t ps, uint64_t pages,
		     uint64_t total, int threads, double *rate, char *why,
		     size_t whylen)
{
	double secs = 0;
	uint64_t done = 0;
	while (done < total) {
		uint64_t n = total - done < pages ? total - done : pages;
		struct real_env_opts o;
		real_env_opts_init(&o, ps, pages);
		o.snap = snap;
		o.event_remove = 1; /* Firecracker always asks for it */
		struct real_env *e;
		int rc = real_env_open(&o, &e, why, whylen);
		if (rc)
			return rc;
		secs += timed_touch(e->r, n, threads);
		rc = real_env_stop(e);
		struct handler_stats st;
		handler_get_stats(e->h, &st);
		if (rc || st.installed != n || verify(e->r, n, "e2b-ref")) {
			snprintf(why, whylen,
				 "sweep wrong: stop=%d, %llu installed for %llu faults",
				 rc, (unsigned long long)st.installed,
				 (unsigned long long)n);
			real_env_close(e);
			return -EIO;
		}
		real_env_close(e);
		done += n;
	}
	*rate = (double)total / secs;
	return 0;
}

/* ---------------- the floor ---------------- */

struct floor_reader {
	struct real_region *r;
	int stop_fd;
	uint64_t served;
	int err;
};

static void *floor_main(void *arg)
{
	struct floor_reader *f = arg;
	struct real_region *r = f->r;
	struct uffd_msg m[64];
	for (;;) {
		struct pollfd p[2] = {{r->uffd, POLLIN, 0}, {f->stop_fd, POLLIN, 0}};
		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			f->err = -errno;
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		ssize_t n = read(r->uffd, m, sizeof m);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			f->err = -errno;
			return NULL;
		}
		for (ssize_t i = 0; i < n / (ssize_t)sizeof *m; i++) {
			if (m[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			uint64_t a = m[i].arg.pagefault.address & ~(r->page_size - 1);
			uint64_t page = (a - r->base) / r->page_size;
			struct uffdio_copy c = {
				.dst = a,
				.src = (uint64_t)(uintptr_t)(r->snap->words +
							    page * (r->page_size / 8)),
				.len = r->page_size,
			};
			if (ioctl(r->uffd, UFFDIO_COPY, &c) && errno != EEXIST) {
				f->err = -errno;
				return NULL;
			}
			f->served++;
		}
	}
}

static int bench_floor(struct real_snapshot *snap, uint64_t ps, uint64_t pages,
		       uint64_t total, double *rate, char *why, size_t whylen)
{
	double secs = 0;
	uint64_t done = 0;
	while (done < total) {
		uint64_t n = total - done < pages ? total - done : pages;
		struct real_region_opts o = {.page_size = ps, .pages = pages,
					     .features = UFFD_FEATURE_EVENT_REMOVE,
					     .snap = snap};
		struct real_region *r;
		int rc = real_region_open(&o, &r, why, whylen);
		if (rc)
			return rc;
		int stop[2];
		if (pipe(stop)) {
			real_region_close(r);
			return -errno;
		}
		struct floor_reader f = {.r = r, .stop_fd = stop[0]};
		pthread_t th;
		pthread_create(&th, NULL, floor_main, &f);
		secs += timed_touch(r, n, 1);
		char b = 1;
		if (write(stop[1], &b, 1) != 1)
			f.err = -EIO;
		pthread_join(th, NULL);
		close(stop[0]);
		close(stop[1]);
		rc = f.err || f.served != n || verify(r, n, "floor") ? -EIO : 0;
		if (rc)
			snprintf(why, whylen, "floor sweep wrong: err=%d, %llu served for %llu",
				 f.err, (unsigned long long)f.served,
				 (unsigned long long)n);
		real_region_close(r);
		if (rc)
			return rc;
		done += n;
	}
	*rate = (double)total / secs;
	return 0;
}

/* ---------------- main ---------------- */

static int run_size(uint64_t ps, const char *tag, uint64_t pages, uint64_t total)
{
	char why[256];
	struct real_snapshot *snap;
	int rc = real_snapshot_new(ps, pages, NULL, &snap);
	if (rc) {
		fprintf(stderr, "bench: snapshot: %s\n", strerror(-rc));
		return 1;
	}
	double e2b[2] = {0, 0}, floor = 0;
	printf("bench: real %s: %llu faults per configuration, %llu-page sweeps\n", tag,
	       (unsigned long long)total, (unsigned long long)pages);
	for (int t = 1; t <= 2; t++) {
		rc = bench_e2b(snap, ps, pages, total, t, &e2b[t - 1], why, sizeof why);
		if (rc && real_env_skip_reason(rc, ps)) {
			printf("bench: real_e2b_%s skipped (%s)\n", tag, why);
			real_snapshot_free(snap);
			return 0;
		}
		if (rc) {
			fprintf(stderr, "bench: real_e2b_%s_%dt: %s\n", tag, t, why);
			real_snapshot_free(snap);
			return 1;
		}
		printf("bench: real_e2b_%s_%dt %.0f faults/s\n", tag, t, e2b[t - 1]);
		fflush(stdout);
	}
	rc = bench_floor(snap, ps, pages, total, &floor, why, sizeof why);
	real_snapshot_free(snap);
	if (rc) {
		fprintf(stderr, "bench: real_floor_%s: %s\n", tag, why);
		return 1;
	}
	printf("bench: real_floor_%s %.0f faults/s\n", tag, floor);
	for (int t = 1; t <= 2; t++)
		printf("bench: real_ratio_%s_%dt %.2f x (e2b-ref / floor)\n", tag, t,
		       e2b[t - 1] / floor);
	fflush(stdout);
	return 0;
}

int main(void)
{
	char why[256];
	if (real_uffd_available(why, sizeof why)) {
		printf("bench: real skipped (%s)\n", why);
		return 0;
	}
	const char *q = getenv("UFFDLAB_BENCH_QUICK");
	uint64_t div = q && *q && *q != '0' ? 10 : 1;
	const char *only = getenv("UFFDLAB_BENCH_ONLY");
	real_watchdog_arm(600, "bench_real");
	int rc = 0;
	if (!only || strcmp(only, "2m"))
		rc = run_size(4096, "4k", 16384, 1000000 / div);
	if (!rc && (!only || strcmp(only, "4k"))) {
		if (real_hugetlb_available(why, sizeof why))
			printf("bench: real_e2b_2m skipped (%s)\n", why);
		else
			rc = run_size(REAL_HUGE_2M, "2m", 64, 2000 / div);
	}
	real_watchdog_disarm();
	return rc;
}
