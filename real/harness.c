#include "real/harness.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "real/hugepages.h"
#include "real/sys_real.h"

#define MAX_BARRIERS 16

struct barrier {
	int token;      /* 0: free slot */
	uint64_t page;
	enum sys_note point;
	int arrived;
	int released;
};

struct real_guest {
	struct real_env *e;
	pthread_t tid;
	char name[32];
	real_guest_fn fn;
	void *arg;
	struct real_op op;
	int finished;   /* under p->mu */
	int rc;
	char why[256];
	struct real_guest *next;
};

struct real_env_private {
	pthread_mutex_t mu;     /* guards everything below */
	pthread_cond_t cv;      /* CLOCK_MONOTONIC; any change of state */
	struct barrier bar[MAX_BARRIERS];
	int nbar;               /* atomic: the note hook's fast path */
	int next_token;
	int pass_all;
	struct real_guest *guests;
	int stopped;
	int stop_rc;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timespec deadline_in(int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

void real_env_opts_init(struct real_env_opts *o, uint64_t page_size,
			uint64_t pages)
{
	memset(o, 0, sizeof *o);
	o->page_size = page_size;
	o->pages = pages;
	o->source_retries = -1;
}

/* --- the note hook: barriers --- */

static void on_note(void *ctx, enum sys_note what, uint64_t a, uint64_t b)
{
	struct real_env *e = ctx;
	struct real_env_private *p = e->p;
	(void)b;
	if (what != SYS_NOTE_BEFORE_RLOCK && what != SYS_NOTE_BEFORE_FAULT_PAGE &&
	    what != SYS_NOTE_BEFORE_PREFAULT_RLOCK)
		return;
	if (!__atomic_load_n(&p->nbar, __ATOMIC_ACQUIRE))
		return;
	if (a < e->r->base || a >= e->r->base + e->r->size)
		return;
	uint64_t page = (a - e->r->base) / e->r->page_size;
	pthread_mutex_lock(&p->mu);
	struct barrier *hit = NULL;
	for (int i = 0; i < MAX_BARRIERS && !p->pass_all; i++) {
		struct barrier *s = &p->bar[i];
		/* the newest matching token wins, as upstream's index does */
		if (s->token && !s->released && s->page == page &&
		    s->point == what && (!hit || s->token > hit->token))
			hit = s;
	}
	if (hit) {
		int token = hit->token;
		hit->arrived = 1;
		pthread_cond_broadcast(&p->cv);
		while (hit->token == token && !hit->released && !p->pass_all)
			pthread_cond_wait(&p->cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
}

int real_barrier_install(struct real_env *e, uint64_t page, enum sys_note point)
{
	struct real_env_private *p = e->p;
	int rc = -ENOSPC;
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < MAX_BARRIERS; i++) {
		struct barrier *s = &p->bar[i];
		if (s->token)
			continue;
		*s = (struct barrier){.token = ++p->next_token, .page = page,
				      .point = point};
		__atomic_add_fetch(&p->nbar, 1, __ATOMIC_RELEASE);
		rc = s->token;
		break;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static struct barrier *find_token(struct real_env_private *p, int token)
{
	for (int i = 0; i < MAX_BARRIERS; i++)
		if (p->bar[i].token == token)
			return &p->bar[i];
	return NULL;
}

int real_barrier_wait_held(struct real_env *e, int token, int timeout_ms)
{
	struct real_env_private *p = e->p;
	struct timespec dl = deadline_in(timeout_ms);
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct barrier *s = find_token(p, token);
		if (!s) {
			rc = -ENOENT;
			break;
		}
		if (s->arrived)
			break;
		if (pthread_cond_timedwait(&p->cv, &p->mu, &dl) == ETIMEDOUT) {
			rc = s->arrived ? 0 : -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void real_barrier_release(struct real_env *e, int token)
{
	struct real_env_private *p = e->p;
	pthread_mutex_lock(&p->mu);
	struct barrier *s = find_token(p, token);
	if (s) {
		/* Freeing the slot changes its token, which is what a parked
		 * thread waits for; another token's slot is untouched (B30). */
		memset(s, 0, sizeof *s);
		__atomic_sub_fetch(&p->nbar, 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

void real_barrier_release_all(struct real_env *e)
{
	struct real_env_private *p = e->p;
	pthread_mutex_lock(&p->mu);
	p->pass_all = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* --- the environment --- */

int real_env_skip_reason(int rc, uint64_t page_size)
{
	if (rc == -EPERM || rc == -ENOSYS || rc == -EACCES)
		return 1;
	/* -ENOENT: the hugetlb pool cannot be read (an environment failure) */
	return page_size == REAL_HUGE_2M && (rc == -ENOMEM || rc == -ENOENT);
}

/* The handler over the region, started unless the caller will. */
static int env_handler(struct real_env *e, const struct real_env_opts *o, char *why,
		       size_t whylen)
{
	e->cfg = (struct handler_config){
		.base = e->r->base,
		.size = e->r->size,
		.page_size = o->page_size,
		.src_offset = 0,
		.uffd = e->r->uffd,
		.max_workers = o->max_workers,
		.wp = o->wp,
		.default_copy_mode = o->default_copy_mode,
		.source_retries = o->source_retries,
		.prefetch_all = o->prefetch_all,
		.backoff_base_ns = o->backoff_base_ns,
		.backoff_cap_ns = o->backoff_cap_ns,
		.variants = o->variants,
		.wp_async = o->wp, /* the real backend's WP is WP_ASYNC */
	};
	const char *name = o->handler ? o->handler : handler_default();
	int rc = handler_new(name, e->sys, &e->cfg, &e->h);
	if (rc) {
		snprintf(why, whylen, "handler_new(%s): %s", name, strerror(-rc));
		return rc;
	}
	if (!o->no_start && (rc = handler_start(e->h)))
		snprintf(why, whylen, "handler_start: %s", strerror(-rc));
	return rc;
}

int real_env_open(const struct real_env_opts *o, struct real_env **out,
		  char *why, size_t whylen)
{
	struct real_env *e = calloc(1, sizeof *e);
	struct real_env_private *p = calloc(1, sizeof *p);
	if (!e || !p) {
		free(e);
		free(p);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	e->p = p;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);

	struct real_region_opts ro = {
		.page_size = o->page_size,
		.pages = o->pages,
		.features = (o->event_remove ? UFFD_FEATURE_EVENT_REMOVE : 0) |
			    (o->event_unmap ? UFFD_FEATURE_EVENT_UNMAP : 0) |
			    (o->wp ? UFFD_FEATURE_WP_ASYNC : 0),
		.wp = o->wp,
		.snap = o->snap,
		.fill = o->fill,
		.anon_vma = o->anon_vma,
	};
	int rc = real_region_open(&ro, &e->r, why, whylen);
	if (rc)
		goto fail;

	struct sys_real_opts so = {.source_fd = e->r->snap->fd,
				   .source_page = o->page_size};
	rc = sys_real_new(&so, &e->sys);
	if (rc) {
		snprintf(why, whylen, "sys_real_new: %s", strerror(-rc));
		goto fail;
	}
	sys_real_set_note_hook(e->sys, on_note, e);
	if (o->gate)
		sys_real_set_gate(e->sys, o->gate, o->gate_ctx);

	rc = env_handler(e, o, why, whylen);
	if (rc)
		goto fail;
	*out = e;
	return 0;
fail:
	real_env_close(e);
	return rc;
}

int real_env_stop(struct real_env *e)
{
	struct real_env_private *p = e->p;
	/* stopped/stop_rc belong to the driving thread, the only caller. */
	if (p->stopped)
		return p->stop_rc;
	real_barrier_release_all(e);
	p->stop_rc = e->h ? handler_stop(e->h) : 0;
	p->stopped = 1;
	return p->stop_rc;
}

void real_env_close(struct real_env *e)
{
	if (!e)
		return;
	struct real_env_private *p = e->p;
	if (e->h)
		real_env_stop(e);
	else
		real_barrier_release_all(e);
	/* The handler is done with the uffd. Unregistering wakes guests
	 * blocked on faults; closing it (release) also ends a madvise
	 * blocked on a REMOVE nobody will read (docs/KERNEL.md rules 20, 28, 40). */
	if (e->r)
		real_region_close_uffd(e->r);
	pthread_mutex_lock(&p->mu);
	struct real_guest *g = p->guests;
	p->guests = NULL;
	pthread_mutex_unlock(&p->mu);
	while (g) {
		struct real_guest *next = g->next;
		pthread_join(g->tid, NULL);
		free(g);
		g = next;
	}
	handler_free(e->h);
	real_region_close(e->r);
	sys_real_free(e->sys);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
	free(e);
}

int real_env_wait_state(struct real_env *e, uint64_t page, enum hpage want,
			int timeout_ms, char *why, size_t whylen)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	enum hpage s;
	for (;;) {
		/* the tracker's view: reference's export is the pagemap's
		 * under WP_ASYNC, where a read-installed page is clean */
		s = handler_page_view(e->h, page);
		if (s == want)
			return 0;
		if (now_ms() >= end)
			break;
		usleep(1000);
	}
	snprintf(why, whylen, "page %llu: tracker still %s after %d ms, want %s",
		 (unsigned long long)page, hpage_name(s), timeout_ms,
		 hpage_name(want));
	return -ETIMEDOUT;
}

int real_env_wait_idle(struct real_env *e, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	while (sys_real_threads_running(e->sys) > 0) {
		if (now_ms() >= end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

int real_env_prefault(struct real_env *e, uint64_t page, char *why,
		      size_t whylen)
{
	const struct sys_ops *o = e->sys->ops;
	uint64_t ps = e->r->page_size;
	void *buf = o->buf_alloc(e->sys, ps);
	if (!buf) {
		snprintf(why, whylen, "no memory for a page buffer");
		return -ENOMEM;
	}
	int rc = 0;
	if (o->source_read(e->sys, page * ps, buf, ps) == 0 &&
	    (rc = handler_prefault(e->h, page, buf)))
		snprintf(why, whylen, "handler_prefault(%llu): %s",
			 (unsigned long long)page, strerror(-rc));
	o->buf_free(e->sys, buf, ps);
	return rc;
}

const char *real_dirt_name(enum real_dirt d)
{
	switch (d) {
	case REAL_D_CLEAN: return "clean";
	case REAL_D_DIRTY: return "dirty";
	case REAL_D_ABSENT: return "absent";
	}
	return "?";
}

int real_env_expect_dirt(struct real_env *e, uint64_t page, enum real_dirt want,
			 char *why, size_t whylen)
{
	int present = 0, wp = 0; /* set by real_page_flags on success */
	int rc = real_page_flags(e->r, page, &present, &wp);
	if (rc) {
		snprintf(why, whylen, "pagemap of page %llu: %s",
			 (unsigned long long)page, strerror(-rc));
		return rc;
	}
	enum real_dirt got = !present ? REAL_D_ABSENT
			     : wp     ? REAL_D_CLEAN
				      : REAL_D_DIRTY;
	if (got == want)
		return 0;
	snprintf(why, whylen, "page %llu: want %s, pagemap says %s (present=%d wp=%d)",
		 (unsigned long long)page, real_dirt_name(want),
		 real_dirt_name(got), present, wp);
	return -1;
}

int real_env_expect_state(struct real_env *e, uint64_t page,
			  enum hpage want, char *why, size_t whylen)
{
	/* the tracker, as above; a worker notes a page after its install
	 * woke the guest, so a state that is due may still be on its way */
	enum hpage s = handler_page_view(e->h, page);
	for (int ms = 0; s != want && ms < 500; ms++) {
		usleep(1000);
		s = handler_page_view(e->h, page);
	}
	if (s == want)
		return 0;
	snprintf(why, whylen, "page %llu: tracker says %s, want %s",
		 (unsigned long long)page, hpage_name(s),
		 hpage_name(want));
	return -1;
}

/* --- guests --- */

int real_op_run(struct real_env *e, const struct real_op *op, char *why,
		size_t whylen)
{
	switch (op->kind) {
	case REAL_OP_READ:
		if (!op->want) {
			real_guest_read(e->r, op->page, 1, NULL);
			return 0;
		}
		return real_guest_expect(e->r, op->page, op->want, op->value, 1,
					 why, whylen);
	case REAL_OP_WRITE:
		real_guest_write(e->r, op->page, op->value);
		return 0;
	case REAL_OP_REMOVE: {
		int rc = real_guest_remove(e->r, op->page, op->n ? op->n : 1);
		if (rc)
			snprintf(why, whylen, "madvise(DONTNEED) of page %llu: %s",
				 (unsigned long long)op->page, strerror(-rc));
		return rc ? -1 : 0;
	}
	}
	snprintf(why, whylen, "unknown op %d", (int)op->kind);
	return -1;
}

static void *guest_main(void *v)
{
	struct real_guest *g = v;
	struct real_env_private *p = g->e->p;
	char why[256] = "";
	int rc = g->fn ? g->fn(g->e, g->arg, why, sizeof why)
		       : real_op_run(g->e, &g->op, why, sizeof why);
	pthread_mutex_lock(&p->mu);
	g->rc = rc;
	memcpy(g->why, why, sizeof why);
	g->finished = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int guest_launch(struct real_env *e, struct real_guest *g)
{
	struct real_env_private *p = e->p;
	g->e = e;
	pthread_mutex_lock(&p->mu);
	int err = pthread_create(&g->tid, NULL, guest_main, g);
	if (!err) {
		g->next = p->guests;
		p->guests = g;
	}
	pthread_mutex_unlock(&p->mu);
	if (err)
		free(g);
	return -err;
}

int real_guest_start(struct real_env *e, const char *name, real_guest_fn fn,
		     void *arg, struct real_guest **out)
{
	struct real_guest *g = calloc(1, sizeof *g);
	if (!g)
		return -ENOMEM;
	snprintf(g->name, sizeof g->name, "%s", name ? name : "guest");
	g->fn = fn;
	g->arg = arg;
	int rc = guest_launch(e, g);
	if (!rc && out)
		*out = g;
	return rc;
}

int real_guest_start_op(struct real_env *e, const struct real_op *op,
			struct real_guest **out)
{
	struct real_guest *g = calloc(1, sizeof *g);
	if (!g)
		return -ENOMEM;
	static const char *const kind[] = {"?", "read", "write", "remove"};
	snprintf(g->name, sizeof g->name, "%s %llu",
		 kind[op->kind <= REAL_OP_REMOVE ? op->kind : 0],
		 (unsigned long long)op->page);
	g->op = *op;
	int rc = guest_launch(e, g);
	if (!rc && out)
		*out = g;
	return rc;
}

int real_guest_wait(struct real_guest *g, int timeout_ms)
{
	struct real_env_private *p = g->e->p;
	struct timespec dl = deadline_in(timeout_ms);
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	while (!g->finished) {
		if (pthread_cond_timedwait(&p->cv, &p->mu, &dl) == ETIMEDOUT) {
			rc = g->finished ? 0 : -ETIMEDOUT;
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

int real_guest_finished(struct real_guest *g)
{
	struct real_env_private *p = g->e->p;
	pthread_mutex_lock(&p->mu);
	int f = g->finished;
	pthread_mutex_unlock(&p->mu);
	return f;
}

int real_guest_result(struct real_guest *g, const char **why)
{
	struct real_env_private *p = g->e->p;
	pthread_mutex_lock(&p->mu);
	int rc = g->finished ? g->rc : -EBUSY;
	pthread_mutex_unlock(&p->mu);
	if (why)
		*why = g->why;
	return rc;
}

int real_guest_check(struct real_guest *g, int timeout_ms, char *why,
		     size_t whylen)
{
	if (real_guest_wait(g, timeout_ms)) {
		snprintf(why, whylen, "%s: still blocked after %d ms", g->name,
			 timeout_ms);
		return -1;
	}
	const char *r;
	if (real_guest_result(g, &r)) {
		snprintf(why, whylen, "%s: %s", g->name, r);
		return -1;
	}
	return 0;
}

int real_guest_free(struct real_guest *g)
{
	struct real_env_private *p = g->e->p;
	pthread_mutex_lock(&p->mu);
	if (!g->finished) {
		pthread_mutex_unlock(&p->mu);
		return -EBUSY;
	}
	struct real_guest **pp = &p->guests;
	while (*pp && *pp != g)
		pp = &(*pp)->next;
	if (*pp)
		*pp = g->next;
	pthread_mutex_unlock(&p->mu);
	pthread_join(g->tid, NULL);
	free(g);
	return 0;
}
