/* tests/test_model_kernel.c — the simulated kernel as a whole: a small
 * handler (one serve loop over a queue, workers that COPY) driven by
 * guests on the scheduler. Same seed, same trace byte for byte, whether
 * the objects are fresh or reused; every schedule ends with snapshot data
 * or zeros read; and the speed, reported. The rule-by-rule tests of
 * docs/KERNEL.md are tests/test_model_{queue,fill,remove,events}.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tests/mk_fixture.h"

/* ------------------------------------------------------------------ */
/* a small handler: determinism, reuse, speed                          */

#define PP_PAGES 4
#define PP_QUEUE 16

struct pp {
	struct x x;
	sys_mutex_t *mu;
	sys_cond_t *cv;
	struct uffd_msg q[PP_QUEUE];
	int qhead, qlen;
	int stop;
	int exitp[2];
	int guests_left;
	uint64_t served, eagain;
};

static void pp_guest(void *a)
{
	struct pp *p = a;
	int me = sched_self(p->x.s);

	for (int i = 0; i < PP_PAGES; i++) {
		int page = (i + me) % PP_PAGES;
		mk_content c = mk_guest_read(p->x.k, page);

		/* the snapshot, zeros after a remove, or the other
		 * guest's write */
		assert_true(c == MK_SNAP((uint64_t)page) || c == 0 ||
			    MK_IS_WRITE(c));
	}
	mk_guest_write(p->x.k, me % PP_PAGES, MK_WRITE((uint64_t)me));
	if (--p->guests_left == 0) {
		const struct sys_ops *o = p->x.sys->ops;

		o->write(p->x.sys, p->exitp[1], "x", 1);
	}
}

static void pp_balloon(void *a)
{
	struct pp *p = a;

	mk_madvise_dontneed(p->x.k, 0, PP_PAGES - 1);
}

static void pp_worker(void *a)
{
	struct pp *p = a;
	sys_t *sys = p->x.sys;
	const struct sys_ops *o = sys->ops;
	void *b = o->buf_alloc(sys, PS);

	for (;;) {
		o->mutex_lock(sys, p->mu);
		while (!p->qlen && !p->stop)
			o->cond_wait(sys, p->cv, p->mu);
		if (!p->qlen) {
			o->mutex_unlock(sys, p->mu);
			break;
		}
		struct uffd_msg m = p->q[p->qhead];

		p->qhead = (p->qhead + 1) % PP_QUEUE;
		p->qlen--;
		o->mutex_unlock(sys, p->mu);
		uint64_t addr = m.arg.pagefault.address;
		uint64_t page = (addr - p->x.base) / PS;
		int64_t f;
		int r;

		do {
			o->source_read(sys, page * PS, b, PS);
			r = o->uffd_copy(sys, p->x.uffd, addr, b, PS, 0, &f);
			if (r == -EAGAIN) {
				p->eagain++;
				o->yield(sys);
			}
		} while (r == -EAGAIN);
		if (r == -EEXIST)
			o->uffd_wake(sys, p->x.uffd, addr, PS);
		else
			assert_int_equal(r, 0);
		p->served++;
	}
	o->buf_free(sys, b, PS);
}

static void pp_serve(void *a)
{
	struct pp *p = a;
	sys_t *sys = p->x.sys;
	const struct sys_ops *o = sys->ops;
	sys_thread_t *w[2];

	assert_int_equal(o->mutex_new(sys, &p->mu), 0);
	assert_int_equal(o->cond_new(sys, &p->cv), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(o->spawn(sys, &w[i], "w", pp_worker, p), 0);
	for (;;) {
		struct sys_pollfd fds[2] = {
			{.fd = p->x.uffd, .events = SYS_POLLIN},
			{.fd = p->exitp[0], .events = SYS_POLLIN},
		};

		assert_true(o->poll(sys, fds, 2, -1) > 0);
		if (fds[1].revents)
			break;
		struct uffd_msg m[8];
		int n = o->uffd_read(sys, p->x.uffd, m, 8);

		o->mutex_lock(sys, p->mu);
		for (int i = 0; i < n; i++) {
			if (m[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			assert_true(p->qlen < PP_QUEUE);
			p->q[(p->qhead + p->qlen) % PP_QUEUE] = m[i];
			p->qlen++;
		}
		o->cond_broadcast(sys, p->cv);
		o->mutex_unlock(sys, p->mu);
	}
	o->mutex_lock(sys, p->mu);
	p->stop = 1;
	o->cond_broadcast(sys, p->cv);
	o->mutex_unlock(sys, p->mu);
	for (int i = 0; i < 2; i++)
		o->join(sys, w[i]);
	o->mutex_free(sys, p->mu);
	o->cond_free(sys, p->cv);
	o->close(sys, p->exitp[0]);
	o->close(sys, p->exitp[1]);
}

/* One schedule of 2 guests, 1 balloon, a serve loop and 2 workers on 4
 * pages. Reuses p's scheduler and kernel when they exist. */
static enum sched_result pp_run(struct pp *p, uint64_t seed, int labels,
				sched_step_sink sink, void *ctx)
{
	struct sched_opts o = {
		.strategy = SCHED_RANDOM,
		.seed = seed,
		.max_steps = 100000,
		.labels = labels,
	};
	struct mk_config c = cfg_basic(UFFD_FEATURE_EVENT_REMOVE);

	c.pages = PP_PAGES;
	if (!p->x.s) {
		p->x.s = sched_new(&o);
		assert_non_null(p->x.s);
		p->x.k = mk_new(p->x.s, &c);
		assert_non_null(p->x.k);
	} else {
		assert_int_equal(sched_reset(p->x.s, &o), 0);
		assert_int_equal(mk_reset(p->x.k, NULL), 0);
	}
	p->x.sys = mk_sys(p->x.k);
	p->x.uffd = mk_uffd(p->x.k);
	p->x.base = MK_BASE_DEFAULT;
	p->x.ps = PS;
	p->qhead = p->qlen = p->stop = 0;
	p->guests_left = 2;
	sched_set_step_sink(p->x.s, sink, ctx);
	/* the exit pipe exists before any thread runs */
	assert_int_equal(p->x.sys->ops->pipe(p->x.sys, p->exitp), 0);
	sched_spawn(p->x.s, "g0", MK_GUEST, pp_guest, p);
	sched_spawn(p->x.s, "g1", MK_GUEST, pp_guest, p);
	sched_spawn(p->x.s, "b", MK_BALLOON, pp_balloon, p);
	sched_spawn(p->x.s, "serve", MK_HANDLER, pp_serve, p);
	return sched_run(p->x.s);
}

static void pp_fini(struct pp *p)
{
	mk_free(p->x.k);
	sched_free(p->x.s);
	memset(p, 0, sizeof(*p));
}

struct trace {
	uint64_t hash;
	uint64_t steps;
};

static void trace_sink(void *ctx, const struct sched_step_info *si)
{
	uint64_t step = si->step;
	int tid = si->tid;
	const char *label = si->label;
	struct trace *t = ctx;
	char buf[600];
	int n = snprintf(buf, sizeof(buf), "%llu t%d %s\n",
			 (unsigned long long)step, tid, label);

	for (int i = 0; i < n && i < (int)sizeof(buf); i++)
		t->hash = (t->hash ^ (unsigned char)buf[i]) * 0x100000001b3ull;
	/* the typed events are part of the trace too */
	for (size_t e = 0; e < si->nev; e++)
		for (unsigned f = 0; f <= si->ev[e].nf; f++) {
			uint64_t v = f ? (uint64_t)si->ev[e].f[f - 1] :
					 si->ev[e].kind;

			t->hash = (t->hash ^ v) * 0x100000001b3ull;
		}
	t->steps++;
}

/* Same seed, same trace byte for byte: fresh objects or reused ones. */
static void test_determinism_and_reuse(void **st)
{
	(void)st;
	struct pp a, b;
	struct trace ta[4], tb[4];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (int i = 0; i < 4; i++) {
		ta[i] = (struct trace){.hash = 0xcbf29ce484222325ull};
		tb[i] = ta[i];
		/* a: reused across seeds; b: fresh for every run */
		assert_int_equal(pp_run(&a, 100 + (uint64_t)i, 1, trace_sink, &ta[i]),
				 SCHED_DONE);
		assert_int_equal(pp_run(&b, 100 + (uint64_t)i, 1, trace_sink, &tb[i]),
				 SCHED_DONE);
		pp_fini(&b);
		assert_int_equal(ta[i].hash, tb[i].hash);
		assert_int_equal(ta[i].steps, tb[i].steps);
	}
	assert_true(ta[0].hash != ta[1].hash || ta[1].hash != ta[2].hash);
	pp_fini(&a);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Stress: every schedule ends (no deadlock, no lost wake) and the guests
 * only ever read snapshot data or zeros. Reports the speed. */
static void test_pingpong_speed(void **st)
{
	(void)st;
	struct pp p;
	int runs = getenv("UFFDLAB_QUICK") ? 200 : 20000;
	uint64_t steps = 0;

	memset(&p, 0, sizeof(p));
	double t0 = now_s();

	for (int i = 0; i < runs; i++) {
		assert_int_equal(pp_run(&p, (uint64_t)i + 1, 0, NULL, NULL),
				 SCHED_DONE);
		steps += sched_steps(p.x.s);
	}
	double dt = now_s() - t0;

	print_message("pingpong: %d schedules, %llu steps in %.3f s: %.0f steps/s, %.0f schedules/s (served %llu, eagain %llu)\n",
		      runs, (unsigned long long)steps, dt, (double)steps / dt,
		      runs / dt, (unsigned long long)p.served,
		      (unsigned long long)p.eagain);
	pp_fini(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_determinism_and_reuse),
		cmocka_unit_test(test_pingpong_speed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
