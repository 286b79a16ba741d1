/* A scenario on hardware: pthreads per scenario thread, the simulator's
 * oracle over real-time-ordered operations, bounded waits everywhere. */
#include "real/stress.h"
#include "real/hw_oracle.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "handler/handler.h"
#include "model/invariant.h"
#include "model/content.h"
#include "model/oracle.h"
#include "real/harness.h"
#include "real/snapshot.h"
#include "real/sys_real.h"

#define STUCK_MS 10000
/* Content tags as the simulator's (model/kernel.h), so that the same
 * invariant functions judge both: snapshot of a page, the bytes of one
 * write of the scenario, 0 for zeros. */
#define T_SNAP(p) MK_SNAP(p)
#define T_WRITE(id) MK_WRITE(id)

struct st_run;

struct st_targ {
	struct st_run *r;
	int idx;
};

struct st_run {
	const struct scenario *scn;
	struct real_env *e;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done_ops[SCN_MAX_THREADS];
	struct oracle orc;
	uint64_t initial[SCN_MAX_PAGES];
	uint64_t tick;
	uint64_t ops;
	int exit_allowed;
	int teardown;        /* the sandbox is being torn down: reads are moot */
	struct real_stress_result *res;
	struct st_targ targs[SCN_MAX_THREADS];
};

static void set_result(struct st_run *r, const char *name, const char *text)
{
	assert(inv_known(name));
	pthread_mutex_lock(&r->mu);
	if (!r->res->violated) {
		r->res->violated = 1;
		snprintf(r->res->name, sizeof r->res->name, "%s", name);
		snprintf(r->res->text, sizeof r->res->text, "%s", text);
	}
	pthread_mutex_unlock(&r->mu);
}

/* The verdict so far, read under the lock the scenario threads set it
 * under (they may still run while the main thread looks). */
static int violated_yet(struct st_run *r)
{
	pthread_mutex_lock(&r->mu);
	int v = r->res->violated;
	pthread_mutex_unlock(&r->mu);
	return v;
}

/* Check one layer's facts against the invariant registry. */
static void check(struct st_run *r, const struct inv_facts *f)
{
	struct inv_report rep;
	if (inv_check(f, &rep))
		set_result(r, rep.name, rep.text);
}

/* A run outcome that is not an invariant (setup, harness). */
#define OUTCOME(r, ...)                                                      \
	do {                                                                 \
		struct inv_report o_;                                        \
		inv_outcome(&o_, __VA_ARGS__);                               \
		set_result((r), o_.name, o_.text);                           \
	} while (0)

static uint64_t now_tick(struct st_run *r)
{
	return __atomic_fetch_add(&r->tick, 1, __ATOMIC_SEQ_CST);
}

/* The model tag of what a real read saw, or -1 for bytes no operation of
 * the scenario can produce. */
uint64_t real_content_tag(const struct scenario *scn, int page, int content, uint8_t v)
{
	enum real_content c = (enum real_content)content;
	if (c == REAL_C_ZERO)
		return 0;
	/* a `snapshot P zero` page holds zeros: the model tags them 0 */
	if (c == REAL_C_SNAPSHOT)
		return scn->fill[page] == SCN_FILL_ZERO ? 0 : T_SNAP((uint64_t)page);
	if (c != REAL_C_WRITTEN)
		return INV_FOREIGN;
	for (int t = 0; t < scn->nthreads; t++)
		for (int o = 0; o < scn->threads[t].nops; o++) {
			const struct scn_op *op = &scn->threads[t].ops[o];
			if (op->kind == SCN_WRITE && (int)op->a == page && op->b == v)
				return T_WRITE((uint64_t)t * SCN_MAX_OPS + (uint64_t)o + 1);
		}
	return INV_FOREIGN;
}

int real_check_read(const struct scenario *scn, const struct oracle *orc, pthread_mutex_t *mu,
		    const char *who, int page, uint64_t tag, uint64_t start, uint64_t end,
		    struct inv_report *rep)
{
	struct inv_facts f = {.layer = INV_AT_READ};
	f.u.read = (struct inv_read){
		.who = who, .page = page, .got = tag, .start = start, .end = end,
		.orc = orc, .contract_breaks = scn->contract == SCN_CONTRACT_BREAKS,
		.where = " on hardware"};
	pthread_mutex_lock(mu);
	int bad = inv_check(&f, rep);
	pthread_mutex_unlock(mu);
	return bad;
}

static void checked_read(struct st_run *r, const char *who, int page)
{
	uint8_t v = 0;
	uint64_t start = now_tick(r);
	enum real_content c = real_guest_read(r->e->r, (uint64_t)page, 1, &v);
	uint64_t end = now_tick(r);
	/* after the handler exited by design, unregistering wakes blocked
	 * guests into plain memory: what they read then says nothing */
	if (__atomic_load_n(&r->teardown, __ATOMIC_SEQ_CST))
		return;
	uint64_t tag = real_content_tag(r->scn, page, (int)c, v);
	if (tag == INV_FOREIGN) {
		/* a guest read racing another guest's write of its page, or a
		 * zap (the contract broken on purpose), can see a torn page on
		 * hardware: the model's mutations are atomic per page, memcpy
		 * and the zap are not (fix7-write-fill-writable: write 0 ‖ read
		 * 0 with the contract kept). Torn between allowed values is no
		 * violation; a whole stale value still is. */
		uint64_t cand[8];
		pthread_mutex_lock(&r->mu);
		int n = oracle_candidates(&r->orc, page, start, end, cand, 8);
		pthread_mutex_unlock(&r->mu);
		if (n >= 2)
			return;
	}
	struct inv_report rep;
	if (real_check_read(r->scn, &r->orc, &r->mu, who, page, tag, start, end, &rep))
		set_result(r, rep.name, rep.text);
}

static int mut_begin(struct st_run *r, int page, uint64_t value)
{
	uint64_t t = now_tick(r);
	pthread_mutex_lock(&r->mu);
	int h = oracle_begin(&r->orc, page, value, t);
	pthread_mutex_unlock(&r->mu);
	return h;
}

static void mut_end(struct st_run *r, int h)
{
	uint64_t t = now_tick(r);
	pthread_mutex_lock(&r->mu);
	oracle_end(&r->orc, h, t);
	pthread_mutex_unlock(&r->mu);
}

static int run_op(struct st_run *r, int ti, int oi, char *why, size_t whylen)
{
	const struct scn_op *op = &r->scn->threads[ti].ops[oi];
	const char *who = r->scn->threads[ti].name;
	struct real_env *e = r->e;
	int a = (int)op->a, b = (int)op->b, h[SCN_MAX_PAGES], err = 0;
	switch (op->kind) {
	case SCN_READ:
		checked_read(r, who, a);
		break;
	case SCN_WRITE:
		h[0] = mut_begin(r, a, T_WRITE((uint64_t)ti * SCN_MAX_OPS + (uint64_t)oi + 1));
		real_guest_write(e->r, (uint64_t)a, (uint8_t)b);
		mut_end(r, h[0]);
		break;
	case SCN_REMOVE:
		for (int p = a; p <= b; p++)
			h[p] = mut_begin(r, p, 0);
		err = real_guest_remove(e->r, (uint64_t)a, (uint64_t)(b - a + 1));
		for (int p = a; p <= b; p++)
			mut_end(r, h[p]);
		if (err)
			snprintf(why, whylen, "%s: madvise: %s", who, strerror(-err));
		break;
	case SCN_PAUSE:
		err = handler_pause(e->h);
		break;
	case SCN_RESUME:
		err = handler_resume(e->h);
		break;
	case SCN_PREFETCH:
		for (int p = a; p <= b && !err; p++)
			err = real_env_prefault(e, (uint64_t)p, why, whylen) ? -EIO : 0;
		break;
	case SCN_SOURCE_FAIL:
		err = sys_real_source_fail(e->sys, (uint64_t)a, (int)b);
		break;
	case SCN_EXPORT: { /* taken; judged by the simulator only (docs/ORACLE.md) */
		enum hpage views[SCN_MAX_PAGES];
		err = handler_export(e->h, 0, (uint64_t)r->scn->pages, views);
		if (err == -EOPNOTSUPP)
			err = 0; /* a handler with no snapshot diff */
		break;
	}
	default:
		err = -ENOTSUP;
		break;
	}
	if (err && !why[0])
		snprintf(why, whylen, "%s: %s: %s", who, scn_op_name(op->kind), strerror(-err));
	return err ? -1 : 0;
}

static int thread_main(struct real_env *e, void *arg, char *why, size_t whylen)
{
	struct st_targ *t = arg;
	struct st_run *r = t->r;
	const struct scn_thread *th = &r->scn->threads[t->idx];
	(void)e;
	for (int i = 0; i < th->nops; i++) {
		const struct scn_op *op = &th->ops[i];
		if (op->after_thread >= 0) {
			struct timespec dl;
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_sec += STUCK_MS / 1000;
			pthread_mutex_lock(&r->mu);
			int rc = 0;
			while (r->done_ops[op->after_thread] <= op->after_op && rc == 0)
				rc = pthread_cond_timedwait(&r->cv, &r->mu, &dl);
			pthread_mutex_unlock(&r->mu);
			if (rc) {
				snprintf(why, whylen, "%s: waited too long for %s", th->name,
					 r->scn->threads[op->after_thread].name);
				return -1;
			}
		}
		if (run_op(r, t->idx, i, why, whylen))
			return -1;
		__atomic_add_fetch(&r->ops, 1, __ATOMIC_RELAXED);
		pthread_mutex_lock(&r->mu);
		r->done_ops[t->idx]++;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	return 0;
}

static int final_main(struct real_env *e, void *arg, char *why, size_t whylen)
{
	struct st_run *r = arg;
	(void)e;
	(void)why;
	(void)whylen;
	for (int p = 0; p < r->scn->pages; p++)
		checked_read(r, "final", p);
	return 0;
}

/* A scenario thread that made no progress for STUCK_MS, as the stuck
 * layer sees it: a guest is taken to sleep in a fault (its page unknown),
 * a balloon in madvise waiting for its REMOVE. */
static void stuck(struct st_run *r, const char *name, enum scn_role role,
		  const char *handler_error)
{
	struct inv_blocked b = {.name = name, .fault_page = -1};
	if (role == SCN_BALLOON)
		b.event_wait = 1;
	else
		b.fault_page = INV_PAGE_UNKNOWN;
	char where[64];
	snprintf(where, sizeof where, " (on hardware: no progress in %d ms)", STUCK_MS);
	struct inv_facts f = {.layer = INV_AT_STUCK};
	f.u.stuck = (struct inv_stuck){.n = 1, .t = &b, .handler_error = handler_error,
				       .where = handler_error ? "" : where};
	check(r, &f);
}

/* Wait for g. A handler that gave up (an error, and no serve loop or
 * worker left; a paused one has no error) ends the wait early: by design
 * where the scenario allows it (1: the sandbox is torn down), else it is
 * the violation. */
static int wait_guest(struct st_run *r, struct real_guest *g, const char *name,
		      enum scn_role role)
{
	for (int ms = 0; ms < STUCK_MS; ms += 10) {
		if (real_guest_wait(g, 10) == 0) {
			const char *why = NULL;
			if (real_guest_result(g, &why)) {
				OUTCOME(r, "harness", "%s", why ? why : name);
				return -1;
			}
			return 0;
		}
		if (real_env_wait_idle(r->e, 0) == 0 && handler_error(r->e->h)) {
			if (r->exit_allowed)
				return 1;
			stuck(r, name, role, handler_error(r->e->h));
			return -1;
		}
	}
	stuck(r, name, role, NULL);
	return -1;
}

/* The handler's export against memory, before the final reads fault
 * every page back in. */
static void tracker_check(struct st_run *r)
{
	enum hpage views[SCN_MAX_PAGES];
	int err = handler_export(r->e->h, 0, (uint64_t)r->scn->pages, views);
	if (err == -EOPNOTSUPP)
		return; /* no per-page record to compare */
	if (err) {
		OUTCOME(r, "setup", "the handler's export failed: %s", strerror(-err));
		return;
	}
	for (int p = 0; p < r->scn->pages; p++) {
		int present = 0;
		if (real_page_flags(r->e->r, (uint64_t)p, &present, NULL))
			continue;
		uint8_t v = 0;
		uint64_t tag = 0;
		if (present) {
			enum real_content c = real_guest_read(r->e->r, (uint64_t)p, 1, &v);
			tag = real_content_tag(r->scn, p, (int)c, v);
		}
		struct inv_facts f = {.layer = INV_AT_EXPORT};
		f.u.exp = (struct inv_export){.page = p, .view = views[p], .present = present,
					      .content = tag, .where = " on hardware"};
		check(r, &f);
	}
}

static int supported(const struct scenario *scn, char *why, size_t n)
{
	if (scn->wp && !scn->wp_async) {
		snprintf(why, n, "WP without WP_ASYNC: the real harness registers WP only with WP_ASYNC");
		return 0;
	}
	if (scn->event_unmap || scn->event_remap || scn->event_fork) {
		snprintf(why, n, "UNMAP/REMAP/FORK events are not run on hardware");
		return 0;
	}
	for (int t = 0; t < scn->nthreads; t++)
		for (int o = 0; o < scn->threads[t].nops; o++) {
			enum scn_op_kind k = scn->threads[t].ops[o].kind;
			if (k == SCN_UNMAP || k == SCN_REMAP || k == SCN_FORK || k == SCN_EXIT) {
				snprintf(why, n, "'%s' is not run on hardware", scn_op_name(k));
				return 0;
			}
		}
	return 1;
}

static void one_iteration(struct st_run *r, const char *handler, uint64_t variants)
{
	const struct scenario *scn = r->scn;
	struct real_stress_result *res = r->res;
	struct real_env_opts o;
	real_env_opts_init(&o, scn->page_size, (uint64_t)scn->pages);
	o.handler = handler;
	o.variants = variants;
	o.event_remove = scn->event_remove;
	o.wp = scn->wp;
	o.fill = scn->fill;
	o.max_workers = scn->workers;
	o.source_retries = scn->retries;
	o.prefetch_all = scn->prefetch;
	o.backoff_base_ns = 1000000; /* 1 ms: transient failures stay cheap */
	o.backoff_cap_ns = 10000000;
	char why[256];
	int rc = real_env_open(&o, &r->e, why, sizeof why);
	if (rc) {
		if (real_env_skip_reason(rc, scn->page_size)) {
			res->skipped = 1;
			snprintf(res->text, sizeof res->text, "%s", why);
		} else {
			OUTCOME(r, "setup", "%s", why);
		}
		return;
	}
	memset(r->done_ops, 0, sizeof r->done_ops);
	r->teardown = 0;
	oracle_reset(&r->orc, scn->pages, r->initial);
	struct real_guest *g[SCN_MAX_THREADS];
	int started = 0;
	for (int i = 0; i < scn->nthreads; i++, started++) {
		r->targs[i] = (struct st_targ){r, i};
		if (real_guest_start(r->e, scn->threads[i].name, thread_main, &r->targs[i], &g[i])) {
			OUTCOME(r, "setup", "cannot start thread %s", scn->threads[i].name);
			break;
		}
	}
	int torn_down = 0;
	for (int i = 0; i < started && !violated_yet(r) && !torn_down; i++)
		torn_down = wait_guest(r, g[i], scn->threads[i].name, scn->threads[i].role) == 1;
	if (!violated_yet(r) && !torn_down) {
		tracker_check(r);
		handler_resume(r->e->h); /* a scenario may end paused */
		struct real_guest *f;
		if (!violated_yet(r) && real_guest_start(r->e, "final", final_main, r, &f) == 0)
			wait_guest(r, f, "the final read", SCN_GUEST);
	}
	if (torn_down)
		__atomic_store_n(&r->teardown, 1, __ATOMIC_SEQ_CST);
	int stop = real_env_stop(r->e);
	if (!r->exit_allowed && !violated_yet(r)) {
		struct inv_facts f = {.layer = INV_AT_STOP};
		f.u.stop = (struct inv_stop){.err = stop, .handler_error = handler_error(r->e->h)};
		check(r, &f);
	}
	real_env_close(r->e);
	r->e = NULL;
}

int real_stress_run(const struct scenario *scn, const char *handler, uint64_t variants,
		    uint64_t iterations, struct real_stress_result *res)
{
	memset(res, 0, sizeof *res);
	if (!supported(scn, res->text, sizeof res->text)) {
		res->skipped = 1;
		return 0;
	}
	static struct st_run r; /* large; one stress run at a time */
	memset(&r, 0, sizeof r);
	r.scn = scn;
	r.res = res;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	for (int p = 0; p < scn->pages; p++)
		r.initial[p] = scn->fill[p] == SCN_FILL_ZERO ? 0 : T_SNAP((uint64_t)p);
	for (int t = 0; t < scn->nthreads; t++)
		for (int o = 0; o < scn->threads[t].nops; o++)
			if (scn->threads[t].ops[o].kind == SCN_SOURCE_FAIL &&
			    scn->threads[t].ops[o].b == 0)
				r.exit_allowed = 1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < iterations && !violated_yet(&r) && !res->skipped; i++) {
		one_iteration(&r, handler, variants);
		if (!violated_yet(&r) && !res->skipped)
			res->iterations++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->ops = r.ops;
	res->ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	return 0;
}
