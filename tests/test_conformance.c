/* tests/test_conformance.c — the simulated kernel against the real one.
 *
 * Every probe of tests/conform_probes.c runs on the model (three seeds:
 * a probe that settles must not depend on the schedule) and on the real
 * kernel, and the two observation logs must be identical line by line
 * (both are printed, side by side, when they are not). Each probe also
 * has its key observations from docs/KERNEL.md spelled out here and checked
 * against both logs in order, so a probe that observes nothing, or the
 * wrong thing on both kernels alike, cannot pass. Real-kernel runs skip
 * with the reason printed where userfaultfd or 2 MiB pages are missing;
 * the model side still runs and is checked against docs/KERNEL.md then.
 *
 * A known divergence of the model from the kernel is the third field of
 * the probe's `tests` entry (D_* below), with the exact difference: the
 * probe still checks docs/KERNEL.md against the real log, then prints both
 * logs and skips, so `make test` stays green while the model is fixed;
 * once the logs agree it says the mark can go and checks as usual.
 *
 * Rule 25 is a race: test_remove_race asserts that the model reaches all
 * three outcomes across seeds, and that every outcome seen on hardware is
 * one of the three. Rule 16 is one too: test_fill_remove collects the
 * outcome sets of the 6.18 and 6.1 profiles, requires the 6.1 set to hold
 * an outcome the 6.18 one lacks, and every hardware outcome to be in the
 * set of the running kernel's profile (6.18 here). UFFDLAB_CONFORM_DUMP=1
 * prints every log.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/conform.h"
#include "tests/realtest.h"
#include "real/uffd.h"

#define MODEL_SEEDS 3
#define RACE_MODEL_SEEDS 200
#define RACE_REAL_ROUNDS 300
#define FILL_MODEL_SEEDS 100
#define FILL_REAL_ROUNDS 60

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dump_on(void)
{
	const char *v = getenv("UFFDLAB_CONFORM_DUMP");

	return v && *v && strcmp(v, "0") != 0;
}

static void print_log(const char *title, const struct clog *l)
{
	printf("---- %s (%d lines%s)\n", title, l->n, l->overflow ? ", OVERFLOW" : "");
	for (int i = 0; i < l->n; i++)
		printf("  %s\n", l->line[i]);
}

/* Side by side, every line, differing ones marked. */
static void print_diff(const char *probe, const struct clog *m, const struct clog *r)
{
	int n = m->n > r->n ? m->n : r->n;

	printf("---- %s: model | real\n", probe);
	for (int i = 0; i < n; i++) {
		const char *a = i < m->n ? m->line[i] : "(none)";
		const char *b = i < r->n ? r->line[i] : "(none)";
		int same = strcmp(a, b) == 0;

		printf("%s %-52s | %s\n", same ? "  " : "!=", a, b);
	}
}

static int logs_equal(const struct clog *a, const struct clog *b)
{
	if (a->n != b->n || a->overflow || b->overflow)
		return 0;
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->line[i], b->line[i]) != 0)
			return 0;
	return 1;
}

static struct clog *new_log(void)
{
	struct clog *l = malloc(sizeof(*l));

	assert_non_null(l);
	clog_init(l);
	return l;
}

struct ctest {
	const char *probe;
	const char *const *expect;   /* NULL-ended, must appear in this order */
	const char *divergence;      /* known model divergence, or NULL */
};
static const struct ctest tests[];

/* The first expected line missing from l (in order), or NULL. */
static const char *missing_expectation(const struct clog *l, const char *const *expect)
{
	int i = 0;

	for (const char *const *x = expect; *x; x++) {
		while (i < l->n && strcmp(l->line[i], *x) != 0)
			i++;
		if (i == l->n)
			return *x;
		i++;
	}
	return NULL;
}

static void check_expectations(const char *who, const struct ctest *t,
			       const struct clog *l)
{
	const char *miss = missing_expectation(l, t->expect);

	if (miss) {
		print_log(who, l);
		fail_msg("%s: %s: expected line (in order) not seen: \"%s\"", t->probe,
			 who, miss);
	}
}

static void run_model(const struct cprobe *p, struct clog *out)
{
	struct clog *other = new_log();

	for (uint64_t seed = 1; seed <= MODEL_SEEDS; seed++) {
		struct clog *l = seed == 1 ? out : other;

		clog_init(l);
		int rc = conform_model_run(p, seed, l);

		if (rc || clog_has_error(l)) {
			print_log("model", l);
			fail_msg("%s: model run failed (%d)", p->name, rc);
		}
		if (seed > 1 && !logs_equal(out, l)) {
			print_diff(p->name, out, l);
			fail_msg("%s: the model's log depends on the seed (1 vs %llu)",
				 p->name, (unsigned long long)seed);
		}
	}
	free(other);
}

/* Each probe's verdict, for the table test_table prints at the end. */
static const char *verdicts[64];

static void set_verdict(const struct ctest *t, const char *v)
{
	int i = (int)(t - tests);

	if (i >= 0 && i < 64)
		verdicts[i] = v;
}

static void test_probe(void **state)
{
	const struct ctest *t = *state;
	const struct cprobe *p = conform_probe(t->probe);

	assert_non_null(p);
	struct clog *m = new_log(), *r = new_log();
	double t0 = now_ms();

	run_model(p, m);
	double t1 = now_ms();

	if (dump_on())
		print_log("model", m);
	set_verdict(t, "FAILED");
	if (!rt_require(p->page_size)) {
		if (!t->divergence)
			check_expectations("model", t, m);
		set_verdict(t, "model only");
		printf("%s: model only (%.1f ms)\n", p->name, t1 - t0);
		free(m);
		free(r);
		skip();
		return;
	}
	int rc = conform_real_run(p, r);
	double t2 = now_ms();

	if (dump_on())
		print_log("real", r);
	if (rc || clog_has_error(r)) {
		print_log("real", r);
		fail_msg("%s: real run failed (%d)", p->name, rc);
	}
	/* docs/KERNEL.md's observations hold on the real kernel: else the probe
	 * (or docs/KERNEL.md) is wrong, whatever the model does */
	check_expectations("real", t, r);
	printf("%s: model %d runs %.1f ms, real %.1f ms\n", p->name, MODEL_SEEDS,
	       t1 - t0, t2 - t1);
	if (!logs_equal(m, r)) {
		print_diff(p->name, m, r);
		if (t->divergence) {
			set_verdict(t, "known divergence");
			printf("known divergence (model to be fixed): %s\n", t->divergence);
			free(m);
			free(r);
			skip();
			return;
		}
		fail_msg("%s: the model and the real kernel disagree (lines marked !=)",
			 p->name);
	}
	if (t->divergence)
		printf("note: %s: the known divergence no longer reproduces; remove its mark: %s\n",
		       p->name, t->divergence);
	check_expectations("model", t, m);
	set_verdict(t, "agree");
	free(m);
	free(r);
}


/* ------------------------------------------------------------------ */
/* key observations per probe: what docs/KERNEL.md's probes saw on 6.18      */

/* p01 A-D: rules 1-4 */
static const char *const x_read_order[] = {
	"A queued: h1 blocked",              /* madvise waits for the read */
	"A: read(8) -> 2",                   /* one read, both messages */
	"A:  PF p0 flags=0",
	"A:  REMOVE [p2,p4)",
	"A after read: h1 done rc=0",        /* rule 4: the read completed it */
	"A after read: h0 blocked",          /* rule 3: reading a PF wakes nobody */
	"B1:  PF p5 flags=0",                /* rule 1: the later PF comes first */
	"B1: h2 blocked",
	"B2:  REMOVE [p4,p6)",
	"B2: h2 done rc=0",
	"C1: read(2) -> 2",                  /* rule 2: batches, FIFO */
	"C1:  PF p8 flags=0",
	"C1:  PF p9 flags=0",
	"C2: read(8) -> 3",
	"C2:  PF p10 flags=0",
	"C2:  REMOVE [p12,p13)",
	"C2:  REMOVE [p13,p14)",
	"D empty: read(8) -> EAGAIN",
	"served: h0 done rc=0 seen=snap(0)",
	"served: h6 done rc=0 seen=snap(8)",
	NULL,
};

/* p01 E: rule 5 */
static const char *const x_poll[] = {
	"empty: poll -> 0 revents=0x0",
	"fault queued: poll -> 1 revents=0x1",
	"fault read, waiting: poll -> 0 revents=0x0",
	"REMOVE queued: poll -> 1 revents=0x1",
	"all read: poll -> 0 revents=0x0",
	NULL,
};

/* p04 7, p01: rules 6, 7 */
static const char *const x_fault_threads[] = {
	"two readers: read(8) -> 2",
	"two readers:  PF p3 flags=0 ptid=h0",
	"two readers:  PF p3 flags=0 ptid=h1",
	"served: h0 done rc=0 seen=snap(3)",
	"served: h1 done rc=0 seen=snap(3)",
	"writer:  PF p4 flags=W ptid=h2",
	"after write: p4 present=1 wp=0 write(0x41)",
	NULL,
};

/* p04 1-6: rules 8, 9, 11, 15, 19 */
static const char *const x_wake[] = {
	"dontwake: COPY p2 len=4096 src=snap(2) mode=0x1 -> 0 copied=4096",
	"dontwake: h0 blocked",
	"eexist: COPY p2 len=4096 src=snap(7) mode=0x0 -> EEXIST copied=-EEXIST",
	"eexist: h0 blocked",
	"eexist: p2 present=1 wp=0 snap(2)",
	"wake: WAKE p2 len=4096 -> 0",
	"wake: h0 done rc=0 seen=snap(2)",
	"no waiter: WAKE p5 len=4096 -> 0",
	"unregistered: WAKE p16 len=4096 -> 0",
	"retry: h1 blocked",
	"retry 2: read(8) -> 1",
	"retry 2:  PF p6 flags=0",
	"unread: h2 done rc=0 seen=snap(7)",
	"unread: read(8) -> EAGAIN",
	"stale:  PF p9 flags=0",
	"stale: COPY p9 len=4096 src=snap(9) mode=0x0 -> EEXIST copied=-EEXIST",
	"stale: h3 blocked",
	"stale: h3 done rc=0 seen=snap(9)",
	NULL,
};

/* p03 3, p04 11: rules 14, 15 */
static const char *const x_partial[] = {
	"partial: COPY p12 len=16384 src=snap(1) mode=0x0 -> EAGAIN copied=8192",
	"partial: p13 present=1 wp=0 snap(1)",
	"partial: p14 present=1 wp=0 snap(14)",
	"partial: p15 present=0 wp=0 -",
	"first present: COPY p14 len=8192 src=snap(1) mode=0x0 -> EEXIST copied=-EEXIST",
	"first present: p15 present=0 wp=0 -",
	"zero partial: ZEROPAGE p3 len=8192 mode=0x0 -> EAGAIN zeroed=4096",
	"bad source: COPY p6 len=4096 src=unreadable mode=0x0 -> EFAULT copied=-EFAULT",
	"prefix: COPY p8 len=16384 src=snap(8) mode=0x0 -> EAGAIN copied=8192",
	"prefix: h0 done rc=0 seen=snap(8)",
	"prefix: h1 blocked",
	NULL,
};

/* p03 4, p06 5: rules 17, 19 */
static const char *const x_validation[] = {
	"dst unaligned: COPY p0+0x8 len=4096 src=snap(0) mode=0x0 -> EINVAL",
	"len 100: COPY p0 len=100 src=snap(0) mode=0x0 -> EINVAL",
	"outside: COPY p8 len=4096 src=snap(0) mode=0x0 -> ENOENT copied=-ENOENT",
	"crosses end: COPY p7 len=8192 src=snap(0) mode=0x0 -> ENOENT copied=-ENOENT",
	"WP mode, no WP: COPY p0 len=4096 src=snap(0) mode=0x2 -> EINVAL copied=-EINVAL",
	"unaligned: WAKE p0+0x8 len=4096 -> EINVAL",
	"unregistered: WAKE p8 len=4096 -> 0",
	"untouched: p7 present=0 wp=0 -",
	NULL,
};

/* the kernel does not write the field on these; sys_real.h reports
 * -errno for a field the kernel left alone */
static const char *const x_field_untouched[] = {
	"dst unaligned: COPY p0+0x8 len=4096 src=snap(0) mode=0x0 -> EINVAL copied=-EINVAL",
	"unknown mode: COPY p0 len=4096 src=snap(0) mode=0x10 -> EINVAL copied=-EINVAL",
	"len 0: ZEROPAGE p0 len=0 mode=0x0 -> EINVAL zeroed=-EINVAL",
	NULL,
};

/* p10: rule 18 */
static const char *const x_zeropage[] = {
	"zeropage: ZEROPAGE p3 len=4096 mode=0x0 -> 0 zeroed=4096",
	"zeropage: p3 present=1 wp=0 zero",
	"over zero page: COPY p3 len=4096 src=snap(3) mode=0x0 -> EEXIST copied=-EEXIST",
	"over zero page: ZEROPAGE p3 len=4096 mode=0x0 -> EEXIST zeroed=-EEXIST",
	"write: h0 done rc=0",
	"write: read(8) -> EAGAIN",
	"write: p3 present=1 wp=0 write(0x42)",
	"served: h1 done rc=0 seen=zero",
	"dontwake: h2 blocked",
	"dontwake: h2 done rc=0 seen=zero",
	NULL,
};

/* p03 1, p08 1: rules 13, 29 */
static const char *const x_mmap_changing[] = {
	"unread: h0 blocked",
	"unread: COPY p6 len=4096 src=snap(6) mode=0x0 -> EAGAIN copied=-EAGAIN",
	"unread: ZEROPAGE p6 len=4096 mode=0x0 -> EAGAIN zeroed=-EAGAIN",
	"unread: WRITEPROTECT p0 len=4096 mode=0x1 -> EAGAIN",
	"unread: WAKE p6 len=4096 -> 0",
	"read:  REMOVE [p2,p3)",
	"after: COPY p6 len=4096 src=snap(6) mode=0x0 -> 0 copied=4096",
	"after: p0 present=1 wp=1 snap(0)",
	"first: h1 done rc=0",
	"first: h2 blocked",
	"one unread: COPY p7 len=4096 src=snap(7) mode=0x0 -> EAGAIN copied=-EAGAIN",
	"none unread: COPY p7 len=4096 src=snap(7) mode=0x0 -> 0 copied=4096",
	NULL,
};

/* p02 1, 2, 7; p04 8: rules 21-24, 26 */
static const char *const x_remove[] = {
	"unread: h0 blocked",
	"unread: p0 present=1 wp=0 snap(0)",
	"unread: h1 done rc=0 seen=snap(0)",
	"unread: p2 present=1 wp=0 write(0x51)",
	"unread: h3 blocked",
	"read: read(8) -> 2",
	"read:  PF p1 flags=0",
	"read:  REMOVE [p0,p4)",
	"zapped: h0 done rc=0",
	"zapped: p0 present=0 wp=0 -",
	"zapped: p2 present=0 wp=0 -",
	"zapped: h3 blocked",
	"served: h3 done rc=0 seen=zero",
	"refault:  PF p0 flags=0",
	"all missing:  REMOVE [p6,p8)",
	"len 100:  REMOVE [p5,p6)",
	"len 0: h7 done rc=0",
	"unaligned: h8 done rc=EINVAL",
	"no events: read(8) -> EAGAIN",
	NULL,
};

/* p02 6: rule 27 */
static const char *const x_no_event_remove[] = {
	"madvise: h0 done rc=0",
	"madvise: read(8) -> EAGAIN",
	"madvise: p0 present=0 wp=0 -",
	"refault:  PF p0 flags=0",
	"served: h1 done rc=0 seen=snap(0)",
	NULL,
};

/* p06 1-5, 9: rules 9, 24, 33, 34, 35 */
static const char *const x_wp[] = {
	"copy wp: p0 present=1 wp=1 snap(0)",
	"read wp page: h0 done rc=0 seen=snap(0)",
	"write wp page: h1 blocked",
	"write wp page:  PF p0 flags=WP|W",
	"over wp page: COPY p0 len=4096 src=snap(0) mode=0x0 -> EEXIST copied=-EEXIST",
	"wp|dontwake: WRITEPROTECT p0 len=4096 mode=0x3 -> EINVAL",
	"unprotect dontwake: p0 present=1 wp=0 snap(0)",
	"unprotect dontwake: h1 blocked",
	"wake: h1 done rc=0",
	"wake: p0 present=1 wp=0 write(0x61)",
	"protect:  PF p1 flags=WP|W",
	"unprotect: h2 done rc=0",
	"write missing:  PF p2 flags=W",
	"write missing: h3 blocked",
	"write missing:  PF p2 flags=WP|W",
	"write missing: p2 present=1 wp=0 write(0x63)",
	"unpopulated: p4 present=0 wp=0 -",
	"wake protected: h4 blocked",
	"wake protected:  PF p5 flags=WP|W",
	"unprotect missing: h5 blocked",
	"unprotect missing:  PF p6 flags=0",
	"dontneed wp page: p7 present=0 wp=0 -",
	"dontneed wp page:  PF p7 flags=W",
	NULL,
};

/* p06 6: rule 35 */
static const char *const x_wp_unpopulated[] = {
	"marker: p0 present=0 wp=1 -",
	"missing|wp:  PF p0 flags=W",
	"wp only:  PF p1 flags=WP|W",
	"wp only: p1 present=1 wp=0 write(0x72)",
	"copy marker: p4 present=1 wp=0 snap(4)",
	NULL,
};

/* p06 7, 8: rule 36 */
static const char *const x_wp_async[] = {
	"async write: h0 done rc=0",
	"async write: read(8) -> EAGAIN",
	"async write: p0 present=1 wp=1 snap(0)",
	"async write: p1 present=1 wp=0 write(0x81)",
	"unpopulated: p2 present=0 wp=1 -",
	NULL,
};

/* kernel source (mfill_atomic_pte_zeropage: pte_none), seen on 6.18 */
static const char *const x_zeropage_marker[] = {
	"fault:  PF p0 flags=0",
	"zeropage: ZEROPAGE p0 len=4096 mode=0x0 -> EEXIST zeroed=-EEXIST",
	"zeropage: h0 blocked",
	"zeropage: p0 present=0 wp=1 -",
	"wake:  PF p0 flags=0",
	"copy zeros: h0 done rc=0 seen=zero",
	NULL,
};

/* p09 1, 2: rule 40 */
static const char *const x_release[] = {
	"before: h2 blocked",
	"release -> 0",
	"released: h0 done rc=0 seen=zero",
	"released: h1 done rc=0 seen=zero",
	"released: h2 done rc=0",
	NULL,
};

/* p04 10: rule 20 */
static const char *const x_unregister[] = {
	"unregister: register p0 n=4 mode=0x0 -> 0",
	"unregistered: h0 done rc=0 seen=zero",
	"unregistered: h1 done rc=0 seen=zero",
	"unregistered: COPY p2 len=4096 src=snap(2) mode=0x0 -> ENOENT copied=-ENOENT",
	"unregistered: COPY p0 len=4096 src=snap(0) mode=0x0 -> ENOENT copied=-ENOENT",
	NULL,
};

/* p08 1: rule 37 */
static const char *const x_unmap[] = {
	"unread: h0 blocked",
	"unread: p1 present=0 wp=0 -",
	"unread: COPY p5 len=4096 src=snap(5) mode=0x0 -> EAGAIN copied=-EAGAIN",
	"read:  UNMAP [p1,p3)",
	"read: h0 done rc=0",
	"unmapped: COPY p1 len=4096 src=snap(1) mode=0x0 -> ENOENT copied=-ENOENT",
	"read unmapped: h1 done rc=EFAULT",
	"hole: h2 done rc=ENOMEM",
	"hole: p0 present=0 wp=0 -",
	NULL,
};

/* p11, p12: rules 10, 28 */
static const char *const x_signals[] = {
	"unread: h0 blocked",
	"unread: read(8) -> 1",
	"read: read(8) -> 1",
	"read:  PF p0 flags=0",
	"event wait: h1 blocked",
	"event wait:  REMOVE [p4,p5)",
	"event wait: h1 done rc=0",
	NULL,
};

/* p10: rule 12 */
static const char *const x_kernel_access[] = {
	"missing: h0 blocked",
	"missing:  PF p1 flags=0",
	"served: h0 done rc=0 seen=snap(1)",
	NULL,
};

/* p09 4: rule 41 */
static const char *const x_sigbus[] = {
	"read: h0 done rc=EFAULT",
	"write: h1 done rc=EFAULT",
	"kernel read: h2 done rc=EFAULT",
	"nothing queued: read(8) -> EAGAIN",
	"copy: h3 done rc=0 seen=snap(0)",
	"remove:  REMOVE [p0,p1)",
	NULL,
};

/* p02 3, 4: rule 21 */
static const char *const x_remove_vmas[] = {
	"first REMOVE: h2 blocked",
	"first REMOVE: p0 present=0 wp=0 -",
	"first REMOVE: p2 present=1 wp=0 snap(2)",
	"first REMOVE: p4 present=1 wp=0 write(0xa4)",
	"first REMOVE:  REMOVE [p2,p4)",
	"second REMOVE: h2 blocked",
	"second REMOVE: p2 present=0 wp=0 -",
	"second REMOVE: p4 present=0 wp=0 -",
	"second REMOVE: p6 present=1 wp=0 snap(6)",
	"second REMOVE:  REMOVE [p6,p8)",
	"done: h2 done rc=0",
	NULL,
};

/* p07 2, 4, 5: rules 30, 31 */
static const char *const x_hugetlb[] = {
	"no zeropage: ZEROPAGE p0 len=2097152 mode=0x0 -> EINVAL zeroed=-EINVAL",
	"len 4KiB: COPY p0 len=4096 src=zero mode=0x0 -> EINVAL copied=-EINVAL",
	"dst +4KiB: COPY p0+0x1000 len=2097152 src=zero mode=0x0 -> EINVAL copied=-EINVAL",
	"zero copy: h0 done rc=0 seen=zero",
	"4KiB madvise: h1 done rc=0",
	"4KiB madvise: read(8) -> EAGAIN",
	"4KiB madvise: p1 present=1 wp=0 snap(1)",
	"unaligned madvise: h2 done rc=EINVAL",
	"3MiB madvise: h3 blocked",
	"3MiB madvise: COPY p3 len=2097152 src=snap(3) mode=0x0 -> EAGAIN copied=-EAGAIN",
	"3MiB madvise:  REMOVE [p1,p2)",
	"3MiB madvise: p1 present=0 wp=0 -",
	"3MiB madvise: p2 present=1 wp=0 snap(2)",
	"partial: COPY p1 len=4194304 src=snap(1) mode=0x0 -> EAGAIN copied=2097152",
	NULL,
};

/* p07 6: rule 32 */
static const char *const x_hugetlb_wp[] = {
	"copy wp: p0 present=1 wp=1 snap(0)",
	"dontneed: p0 present=0 wp=1 -",
	"write:  PF p0 flags=W",
	"served: p0 present=1 wp=0 write(0x91)",
	"served: read(8) -> EAGAIN",
	NULL,
};

/* rule 14 and the sources of sys.h: any offset into a buffer, a source
 * that ends early (seen on 6.18.44 as EAGAIN copied=4096) */
static const char *const x_copy_source[] = {
	"offset: COPY p0 len=4096 src=buf+1p mode=0x0 -> 0 copied=4096",
	"offset: p0 present=1 wp=0 snap(5)",
	"two from offset: p1 present=1 wp=0 snap(5)",
	"two from offset: p2 present=1 wp=0 snap(6)",
	"unaligned: p3 present=1 wp=0 other",
	"short source: COPY p5 len=8192 src=1 page mode=0x0 -> EAGAIN copied=4096",
	"short source: p5 present=1 wp=0 snap(7)",
	"short source: p6 present=0 wp=0 -",
	"crosses the end: COPY p7 len=4096 src=1 page+8 mode=0x0 -> EFAULT copied=-EFAULT",
	"zeros unaligned: p8 present=1 wp=0 zero",
	"present, unreadable: COPY p0 len=4096 src=unreadable mode=0x0 -> EFAULT copied=-EFAULT",
	NULL,
};

static const char *const x_source_read[] = {
	"two pages: source_read p8 len=8192 -> 0",
	"two pages: p8 present=1 wp=0 snap(8)",
	"two pages: p9 present=1 wp=0 snap(9)",
	"into buf+2p: p10 present=1 wp=0 snap(10)",
	"map: mapped len=16 pages",
	"map: p11 present=1 wp=0 snap(11)",
	"map two: p12 present=1 wp=0 snap(3)",
	"map two: p13 present=1 wp=0 snap(4)",
	NULL,
};

/* A5 (6.18.44: fdinfo's mask UFFD_API_IOCTLS|UFFD_API_RANGE_IOCTLS);
 * MOVE needs no feature bit, the bit only says the ioctl exists */
static const char *const x_api[] = {
	"nothing wanted: API want=0x0 -> 0 features=0x108 ioctls=0x80000000000001ff",
	"known, not given: API want=0x8000 -> 0 features=0x108 ioctls=0x80000000000001ff",
	"unknown bit: API want=0x40000000 -> EINVAL features=0x0 ioctls=0x0",
	"no MOVE feature: MOVE p1 <- p0 len=4096 mode=0x0 -> 0 moved=4096",
	"no MOVE feature: p0 present=0 wp=0 -",
	NULL,
};

/* rule 42, seen on 6.18.44: a COPY installs over a poison marker */
static const char *const x_poison[] = {
	"poison: POISON p0 len=8192 mode=0x0 -> 0 updated=8192",
	"read poisoned: h0 done rc=EFAULT",
	"copy over marker: COPY p1 len=4096 src=snap(1) mode=0x0 -> 0 copied=4096",
	"zeropage over marker: ZEROPAGE p2 len=4096 mode=0x0 -> EEXIST zeroed=-EEXIST",
	"present: POISON p3 len=4096 mode=0x0 -> EEXIST updated=-EEXIST",
	"waiter: h1 done rc=EFAULT",
	"after dontneed:  PF p5 flags=0",
	"served: h3 done rc=0 seen=snap(5)",
	NULL,
};

static const char *const x_move[] = {
	"move: p0 present=0 wp=0 -",
	"move: p4 present=1 wp=0 snap(0)",
	"onto present: MOVE p4 <- p1 len=4096 mode=0x0 -> EEXIST moved=-EEXIST",
	"missing source: MOVE p6 <- p0 len=4096 mode=0x0 -> ENOENT moved=-ENOENT",
	"holes allowed: MOVE p6 <- p0 len=4096 mode=0x2 -> 0 moved=4096",
	"holes allowed: p6 present=0 wp=0 -",
	"waiter: h0 done rc=0 seen=snap(0)",
	NULL,
};

/* rule 41 for a WP fault (handle_userfault: the feature before the reason) */
static const char *const x_sigbus_wp[] = {
	"write wp page: h0 done rc=EFAULT",
	"nothing queued: read(8) -> EAGAIN",
	"unchanged: p0 present=1 wp=1 snap(0)",
	NULL,
};

/* rule 21 after VMAs merge back (vma_modify_flags_uffd) */
static const char *const x_vma_merge[] = {
	"split: 0 of 20 unregisters failed",
	"one REMOVE: read(8) -> 1",
	"one REMOVE:  REMOVE [p0,p40)",
	"still one:  REMOVE [p0,p40)",
	NULL,
};

/* rules 37, 38 on 6.18.44: MREMAP_FIXED's implicit unmap of the target */
static const char *const x_remap[] = {
	"target unmap: h0 blocked",
	"target unmap:  UNMAP [p4,p6)",
	"remap: h0 blocked",
	"remap:  REMAP p0->p4 len=8192",
	"old unmap:  UNMAP [p0,p2)",
	"done: h0 done rc=0",
	"overlap: h1 done rc=EINVAL",
	NULL,
};

/* rule 43 (p12) on 6.18.44 */
static const char *const x_proc[] = {
	"unread fault: pending=1 total=1 h0 S handle_userfault",
	"read fault: pending=0 total=1 h0 S handle_userfault",
	"event: pending=0 total=1 h1 D userfaultfd_event_wait_completion",
	"served: pending=0 total=0 h0 other",
	NULL,
};

/* rule 39 with EVENT_FORK (probed on 6.18.44) */
static const char *const x_fork[] = {
	"unread: h0 blocked",                  /* fork waits for the read */
	"read:  FORK ufd",
	"child faults: h0 forked",             /* the read let fork return */
	"parent uffd: read(8) -> EAGAIN",      /* the child's fault is not here */
	"child uffd:  PF p1 flags=0",          /* but on the FORK's uffd */
	"served: h0 done rc=0 seen=snap(1)",
	"second fork: h1 blocked",
	"present page: h1 done rc=0 seen=snap(0)", /* present pages are copied */
	NULL,
};

/* rule 39 without EVENT_FORK (probed on 6.18.44) */
static const char *const x_fork_plain[] = {
	"missing page: h0 done rc=0 seen=zero", /* the child is unregistered */
	"nothing queued: read(8) -> EAGAIN",
	"present page: h1 done rc=0 seen=snap(0)",
	"parent still registered: COPY p1 len=4096 src=snap(1) mode=0x0 -> 0 copied=4096",
	NULL,
};

/* rule 44 (probed on 6.18.44) */
static const char *const x_exit[] = {
	"alive: COPY p0 len=4096 src=snap(0) mode=0x0 -> 0 copied=4096",
	"alive: h0 blocked",                   /* a thread waits in a fault */
	"alive: poll -> 1 revents=0x1",        /* its message is queued */
	"exit: h1 done rc=0",
	"exit: h0 done rc=EINTR",              /* the exit ended its wait */
	"exited: COPY p1 len=4096 src=snap(1) mode=0x0 -> ESRCH copied=-ESRCH",
	"exited: ZEROPAGE p2 len=4096 mode=0x0 -> ESRCH zeroed=-ESRCH",
	"exited: WRITEPROTECT p0 len=4096 mode=0x1 -> ESRCH",
	"misaligned: COPY p0+0x8 len=4096 src=snap(1) mode=0x0 -> EINVAL copied=-EINVAL",
	"odd length: ZEROPAGE p3 len=100 mode=0x0 -> EINVAL zeroed=-EINVAL",
	"exited: WAKE p1 len=4096 -> 0",
	"exited: poll -> 0 revents=0x0",
	"exited: read(8) -> EAGAIN",           /* and dropped its message */
	NULL,
};

static const struct ctest tests[] = {
	{"read_order", x_read_order, NULL},
	{"poll", x_poll, NULL},
	{"fault_threads", x_fault_threads, NULL},
	{"wake", x_wake, NULL},
	{"partial", x_partial, NULL},
	{"validation", x_validation, NULL},
	{"field_untouched", x_field_untouched, NULL},
	{"zeropage", x_zeropage, NULL},
	{"mmap_changing", x_mmap_changing, NULL},
	{"remove", x_remove, NULL},
	{"no_event_remove", x_no_event_remove, NULL},
	{"wp", x_wp, NULL},
	{"wp_unpopulated", x_wp_unpopulated, NULL},
	{"wp_async", x_wp_async, NULL},
	{"zeropage_marker", x_zeropage_marker, NULL},
	{"zeropage_marker_async", x_zeropage_marker, NULL},
	{"release", x_release, NULL},
	{"unregister", x_unregister, NULL},
	{"unmap", x_unmap, NULL},
	{"signals", x_signals, NULL},
	{"kernel_access", x_kernel_access, NULL},
	{"sigbus", x_sigbus, NULL},
	{"remove_vmas", x_remove_vmas, NULL},
	{"hugetlb", x_hugetlb, NULL},
	{"hugetlb_wp", x_hugetlb_wp, NULL},
	{"copy_source", x_copy_source, NULL},
	{"source_read", x_source_read, NULL},
	{"api", x_api, NULL},
	{"poison", x_poison, NULL},
	{"move", x_move, NULL},
	{"sigbus_wp", x_sigbus_wp, NULL},
	{"vma_merge", x_vma_merge, NULL},
	{"remap", x_remap, NULL},
	{"proc", x_proc, NULL},
	{"fork", x_fork, NULL},
	{"fork_plain", x_fork_plain, NULL},
	{"exit", x_exit, NULL},
};

/* ------------------------------------------------------------------ */
/* rule 25: a race, judged by the set of outcomes                       */

static const char *const race_outcomes[] = {"EAGAIN", "copied-zapped", "copied-kept"};

/* Index of the log's outcome in race_outcomes, or -1. */
static int race_outcome(const struct clog *l)
{
	size_t n = strlen(C_OUTCOME_PREFIX);

	for (int i = l->n - 1; i >= 0; i--) {
		if (strncmp(l->line[i], C_OUTCOME_PREFIX, n) != 0)
			continue;
		for (int k = 0; k < 3; k++)
			if (strcmp(l->line[i] + n, race_outcomes[k]) == 0)
				return k;
		return -1;
	}
	return -1;
}

static int race_round(const char *who, int model, uint64_t seed, struct clog *l)
{
	clog_init(l);
	int rc = model ? conform_model_run(&conform_probe_remove_race, seed, l) :
			 conform_real_run(&conform_probe_remove_race, l);
	int k = race_outcome(l);

	if (rc || clog_has_error(l) || k < 0) {
		print_log(who, l);
		fail_msg("remove_race on %s: run %d, outcome not one of the three", who, rc);
	}
	return k;
}

/* docs/KERNEL.md rule 25 (p03 2, p05): a COPY after the REMOVE was read gets
 * EAGAIN, or lands and is zapped, or lands after the zap and stays. The
 * model must reach all three across seeds; on hardware the window is
 * statistical, so every outcome seen must merely be one of the three. */
static void test_remove_race(void **state)
{
	(void)state;
	struct clog *l = new_log(), *again = new_log();
	int model[3] = {0, 0, 0}, real[3] = {0, 0, 0};
	double t0 = now_ms();

	for (uint64_t seed = 1; seed <= RACE_MODEL_SEEDS; seed++)
		model[race_round("model", 1, seed, l)]++;
	/* and a seed decides the outcome: the same seed, the same log */
	race_round("model", 1, 7, l);
	race_round("model", 1, 7, again);
	assert_true(logs_equal(l, again));
	double t1 = now_ms();

	printf("remove_race: model, %d seeds (%.1f ms): EAGAIN %d, copied-zapped %d, copied-kept %d\n",
	       RACE_MODEL_SEEDS, t1 - t0, model[0], model[1], model[2]);
	for (int k = 0; k < 3; k++)
		if (!model[k])
			fail_msg("remove_race: the model never reached outcome %s", race_outcomes[k]);
	if (!rt_require(4096)) {
		free(l);
		free(again);
		skip();
		return;
	}
	for (int i = 0; i < RACE_REAL_ROUNDS; i++)
		real[race_round("real", 0, 0, l)]++;
	printf("remove_race: real, %d rounds (%.1f ms): EAGAIN %d, copied-zapped %d, copied-kept %d\n",
	       RACE_REAL_ROUNDS, now_ms() - t1, real[0], real[1], real[2]);
	free(l);
	free(again);
}

/* ------------------------------------------------------------------ */
/* rule 16: a race, judged by the set of outcomes per kernel profile   */

struct oset {
	int n;
	char s[16][CLOG_LINE];
	int count[16];
};

/* The log's outcome (after C_OUTCOME_PREFIX), or NULL. */
static const char *outcome_of(const struct clog *l)
{
	size_t n = strlen(C_OUTCOME_PREFIX);

	for (int i = l->n - 1; i >= 0; i--)
		if (strncmp(l->line[i], C_OUTCOME_PREFIX, n) == 0)
			return l->line[i] + n;
	return NULL;
}

static int oset_find(const struct oset *o, const char *s)
{
	for (int i = 0; i < o->n; i++)
		if (strcmp(o->s[i], s) == 0)
			return i;
	return -1;
}

static void oset_add(struct oset *o, const char *s)
{
	int i = oset_find(o, s);

	if (i < 0) {
		if (o->n == 16)
			fail_msg("more than 16 different outcomes: %s", s);
		i = o->n++;
		snprintf(o->s[i], sizeof o->s[i], "%s", s);
	}
	o->count[i]++;
}

static void oset_print(const char *who, const struct oset *o)
{
	printf("fill_remove: %s:", who);
	for (int i = 0; i < o->n; i++)
		printf(" {%s} x%d", o->s[i], o->count[i]);
	printf("\n");
}

/* One round's outcome, on the model (profile kver) or on hardware. */
static const char *fill_round(int model, uint64_t seed, int kver, struct clog *l)
{
	clog_init(l);
	int rc = model ? conform_model_run_kver(&conform_probe_fill_remove, seed,
						kver, l) :
			 conform_real_run(&conform_probe_fill_remove, l);
	const char *o = outcome_of(l);

	if (rc || clog_has_error(l) || !o) {
		print_log(model ? "model" : "real", l);
		fail_msg("fill_remove on %s: run %d, no outcome", model ? "model" : "real", rc);
	}
	return o;
}

/* 1 if the outcome shows pages filled while the REMOVE was queued: the two
 * looks at the queued REMOVE disagree, or saw part of the range. */
static int filled_while_queued(const char *o)
{
	int a, b;

	if (sscanf(o, "pending=%d,%d", &a, &b) != 2)
		fail_msg("fill_remove: bad outcome %s", o);
	return a != b || (a != 0 && a != C_FILL_REMOVE_PAGES);
}

/* docs/KERNEL.md rule 16: on 6.18 a fill is atomic with respect to a REMOVE
 * being queued. The 6.18 profile's outcomes must all show it, the 6.1
 * profile must reach one that does not (the probe tells the releases
 * apart), and every hardware outcome must be one of the 6.18 profile's. */
static void test_fill_remove(void **state)
{
	(void)state;
	struct clog *l = new_log();
	struct oset m18 = {0}, m61 = {0}, real = {0};
	double t0 = now_ms();

	for (uint64_t seed = 1; seed <= FILL_MODEL_SEEDS; seed++) {
		oset_add(&m18, fill_round(1, seed, 618, l));
		oset_add(&m61, fill_round(1, seed, 601, l));
	}
	double t1 = now_ms();

	printf("fill_remove: model, %d seeds per profile (%.1f ms)\n", FILL_MODEL_SEEDS,
	       t1 - t0);
	oset_print("model 6.18", &m18);
	oset_print("model 6.1", &m61);
	int wider = 0;

	for (int i = 0; i < m18.n; i++)
		if (filled_while_queued(m18.s[i]))
			fail_msg("fill_remove: the 6.18 profile filled while the REMOVE was queued: %s",
				 m18.s[i]);
	for (int i = 0; i < m61.n; i++)
		wider += oset_find(&m18, m61.s[i]) < 0;
	if (!wider)
		fail_msg("fill_remove: the 6.1 profile reached nothing the 6.18 one did not");
	if (!rt_require(4096)) {
		free(l);
		skip();
		return;
	}
	/* the running kernel's profile: 6.12 has 6.18's rule 16 */
	char rel[128];
	int kp = real_kernel_profile(rel, sizeof rel);
	const struct oset *want = kp == 601 ? &m61 : &m18;
	int overlap = 0;

	if (kp != 601 && kp != 612 && kp != 618)
		printf("fill_remove: kernel %s has no profile: judged by 6.18's\n", rel);
	for (int i = 0; i < FILL_REAL_ROUNDS; i++) {
		oset_add(&real, fill_round(0, 0, 0, l));
		for (int j = 0; j < l->n; j++)
			overlap += strcmp(l->line[j], "overlap: 1") == 0;
	}
	oset_print("real", &real);
	printf("fill_remove: real, %d rounds (%.1f ms), madvise entered during the COPY in %d\n",
	       FILL_REAL_ROUNDS, now_ms() - t1, overlap);
	for (int i = 0; i < real.n; i++)
		if (oset_find(want, real.s[i]) < 0)
			fail_msg("fill_remove: hardware outcome {%s} is not one of the %s profile's",
				 real.s[i], want == &m61 ? "6.1" : "6.18");
	free(l);
}

/* ------------------------------------------------------------------ */

/* The coverage table: docs/KERNEL.md rule x probe x verdict, on the model
 * (its default profile) and the running kernel. README.md carries it. */
static void test_table(void **state)
{
	char rel[128] = "?";
	int kp = real_kernel_profile(rel, sizeof rel);

	(void)state;
	printf("conformance: model (profile 6.18) vs running kernel %s (profile %s)\n",
	       rel, kp == 618 ? "6.18" : kp == 612 ? "6.12" : kp == 601 ? "6.1" : "?");
	printf("| rules | probe | page | verdict |\n|---|---|---|---|\n");
	int bad = 0;

	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		const struct cprobe *p = conform_probe(tests[i].probe);
		const char *v = verdicts[i] ? verdicts[i] : "not run";

		printf("| %s | %s | %s | %s |\n", p ? p->rules : "?", tests[i].probe,
		       p && p->page_size > 4096 ? "2M" : "4K", v);
		bad += strcmp(v, "agree") && strcmp(v, "model only");
	}
	printf("| 25 | remove_race | 4K | outcome sets (test_remove_race) |\n");
	printf("| 16 | fill_remove | 4K | outcome sets per profile (test_fill_remove) |\n");
	assert_int_equal(bad, 0);
}

int main(void)
{
	struct CMUnitTest t[64];
	size_t n = 0;

	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		t[n] = (struct CMUnitTest){tests[i].probe, test_probe, rt_setup,
					   rt_teardown, (void *)&tests[i]};
		n++;
	}
	t[n++] = (struct CMUnitTest){"remove_race", test_remove_race, rt_setup,
				     rt_teardown, NULL};
	t[n++] = (struct CMUnitTest){"fill_remove", test_fill_remove, rt_setup,
				     rt_teardown, NULL};
	t[n++] = (struct CMUnitTest){"table", test_table, NULL, NULL, NULL};
	return _cmocka_run_group_tests("conformance", t, n, NULL, NULL);
}
