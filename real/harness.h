/* real/harness.h — a handler serving a real region, and the guest,
 * balloon and orchestrator around it (docs/HANDLER.md 2: the upstream test
 * harness, in one process).
 *
 * Contract: real_env_open() builds a region (real/region.h), a sys_real on
 * its snapshot, and the named handler on its uffd, and starts the handler.
 * real_env_close() tears it down in the only safe order: release every
 * barrier, stop the handler, unregister the region (which wakes any guest
 * thread still blocked on a missing page, docs/KERNEL.md rule 20), join the guest
 * threads, free the handler, close the region, free the sys. It never
 * hangs on a guest thread; a thread stuck somewhere nothing can wake is the
 * watchdog's business (real/watchdog.h).
 *
 * Guest threads (real_guest_*) are plain pthreads that run one function or
 * one canned operation; every wait on them takes a timeout. Barriers mirror
 * upstream's fault barriers (2.3): install (page, point) -> token; a handler
 * thread reaching that note for that page parks until released; release of
 * one token never disturbs another (B30). Functions return 0 or -errno and
 * put a one-line reason into `why` where they take one.
 */
#ifndef UFFDLAB_REAL_HARNESS_H
#define UFFDLAB_REAL_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "handler/handler.h"
#include "real/region.h"
#include "real/sys_real.h"

/* Something that must happen is given this long before the run fails. */
#define REAL_WAIT_MS 10000
/* Something that must not happen (a guest staying blocked) is watched this
 * long. */
#define REAL_BLOCKED_MS 100

struct real_env_opts {
	const char *handler;        /* NULL = handler_default() */
	uint64_t page_size;
	uint64_t pages;
	int event_remove;           /* UFFD_FEATURE_EVENT_REMOVE */
	int event_unmap;            /* UFFD_FEATURE_EVENT_UNMAP */
	int wp;                     /* WP_ASYNC, register MISSING|WP, cfg.wp */
	uint64_t default_copy_mode; /* cfg.default_copy_mode */
	const unsigned char *fill;  /* enum real_fill per page, NULL = pattern */
	struct real_snapshot *snap; /* borrowed, or NULL */
	uint64_t variants;
	int max_workers;            /* 0 = handler default */
	int source_retries;         /* -1 = handler default */
	int prefetch_all;           /* the handler's own prefetcher */
	uint64_t backoff_base_ns;   /* 0 = handler default */
	uint64_t backoff_cap_ns;
	int no_start;               /* build, but do not handler_start() */
	int anon_vma;               /* real_region_opts.anon_vma */
	/* a replay gate on the sys before the handler is made (its first
	 * sys calls are scheduling points too: real/turnstile.h), or NULL */
	const struct sys_real_gate *gate;
	void *gate_ctx;
};

void real_env_opts_init(struct real_env_opts *o, uint64_t page_size,
			uint64_t pages);

struct real_env_private;

struct real_env {
	struct real_region *r;
	sys_t *sys;
	struct handler *h;
	struct handler_config cfg;
	struct real_env_private *p;
};

/* -EPERM/-ENOSYS/-EACCES (no uffd) and, for 2 MiB, -ENOMEM/-EACCES (no
 * hugepages) and -ENOENT (no readable hugetlb pool) are skip reasons;
 * anything else is a failure. */
int real_env_open(const struct real_env_opts *o, struct real_env **out,
		  char *why, size_t whylen);
/* Stop the handler once (barriers released first) and return what
 * handler_stop() returned; later calls return the same value. */
int real_env_stop(struct real_env *e);
void real_env_close(struct real_env *e);
/* 1 if `rc` from real_env_open means "this machine cannot", not "broken". */
int real_env_skip_reason(int rc, uint64_t page_size);

/* Poll handler_page_export every millisecond until it is `want`: 0, or
 * -ETIMEDOUT with the state last seen in why. */
int real_env_wait_state(struct real_env *e, uint64_t page, enum hpage want,
			int timeout_ms, char *why, size_t whylen);
/* Wait until no thread the handler spawned is running: its serve loop and
 * workers have all returned. */
int real_env_wait_idle(struct real_env *e, int timeout_ms);
/* Fill a sys buffer with page `page` of the snapshot and prefault it. A
 * failed source read (an injected source-fail) prefaults nothing and is
 * no error: the orchestrator has no bytes to hand over, as in the model's
 * prefetch op (model/world.c) and replay --real's. */
int real_env_prefault(struct real_env *e, uint64_t page, char *why,
		      size_t whylen);

/* Dirtiness as upstream's checkDirtiness sees it through pagemap. */
enum real_dirt {
	REAL_D_CLEAN = 1,  /* present, uffd-WP set */
	REAL_D_DIRTY = 2,  /* present, uffd-WP clear */
	REAL_D_ABSENT = 3, /* not present */
};
const char *real_dirt_name(enum real_dirt d);
int real_env_expect_dirt(struct real_env *e, uint64_t page, enum real_dirt want,
			 char *why, size_t whylen);
/* Expect tracker state (the unlocked page view), waiting up to 500 ms for
 * a note that follows the install that woke the guest. */
int real_env_expect_state(struct real_env *e, uint64_t page,
			  enum hpage want, char *why, size_t whylen);

/* --- guest threads --- */
struct real_guest;
typedef int (*real_guest_fn)(struct real_env *e, void *arg, char *why,
			     size_t whylen);

enum real_op_kind {
	REAL_OP_READ = 1,   /* read and expect `want` (value for WRITTEN) */
	REAL_OP_WRITE,      /* fill with `value` */
	REAL_OP_REMOVE,     /* madvise DONTNEED of n pages from `page` */
};
struct real_op {
	enum real_op_kind kind;
	uint64_t page;
	uint64_t n;
	uint8_t value;
	enum real_content want; /* READ: 0 = accept anything */
};
/* Run op on the calling thread: 0, or -1 with the reason. */
int real_op_run(struct real_env *e, const struct real_op *op, char *why,
		size_t whylen);

int real_guest_start(struct real_env *e, const char *name, real_guest_fn fn,
		     void *arg, struct real_guest **out);
/* op is copied. */
int real_guest_start_op(struct real_env *e, const struct real_op *op,
			struct real_guest **out);
/* 0 once the guest's function returned, -ETIMEDOUT if not within timeout. */
int real_guest_wait(struct real_guest *g, int timeout_ms);
int real_guest_finished(struct real_guest *g);
/* After finished: what the function returned, and its reason. */
int real_guest_result(struct real_guest *g, const char **why);
/* Wait (bounded) and report: 0 if it finished and succeeded, else -1 and
 * "<name>: <reason>" or "<name>: still blocked after N ms". */
int real_guest_check(struct real_guest *g, int timeout_ms, char *why,
		     size_t whylen);
/* Guests are joined and freed by real_env_close(); this does it earlier,
 * and only for a finished guest (-EBUSY otherwise). */
int real_guest_free(struct real_guest *g);

/* --- fault barriers --- */
/* point: SYS_NOTE_BEFORE_RLOCK, _BEFORE_FAULT_PAGE, _BEFORE_PREFAULT_RLOCK.
 * Returns a token > 0 or -errno. */
int real_barrier_install(struct real_env *e, uint64_t page, enum sys_note point);
/* 0 once a handler thread is parked at it, else -ETIMEDOUT. */
int real_barrier_wait_held(struct real_env *e, int token, int timeout_ms);
void real_barrier_release(struct real_env *e, int token);
/* Release everything, and let every later arrival pass (teardown). */
void real_barrier_release_all(struct real_env *e);

#endif
