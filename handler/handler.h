/* handler/handler.h — the handler interface and its registry.
 *
 * Contract: a handler serves one registered region of guest memory through a
 * uffd that the backend created and registered. Each handler implements
 * struct handler_ops and is one row of the registry (handler/registry.c, or
 * handler_register() for a handler built outside the tree). Its object starts
 * with `struct handler`; the registry allocates it (the row's size, zeroed),
 * fills `desc` and hands it out before init() makes its first sys call, so
 * that a simulated run abandoned anywhere, even inside init(), can discard
 * it. Drivers and the oracle reach it only through the calls below, never
 * through its internals or its thread names. init() builds it (no thread
 * yet); start() runs the
 * serve loop on a new sys thread; pause() signals exit and waits for the loop
 * and its workers (state kept); resume() starts a fresh loop; stop() = pause
 * + release, and returns the loop's first error. prefault() may be called
 * from any sys thread (the prefetcher). All return 0 or -errno; error() gives
 * the reason of the first fatal error. Variants (handler/variants.h) put one
 * historical bug back; a row says which ones its handler accepts.
 * How to add a handler: handler/README.md.
 */
#ifndef UFFDLAB_HANDLER_H
#define UFFDLAB_HANDLER_H

#include <stdint.h>

#include "sys.h"

struct handler_config {
	uint64_t base;        /* first address of the region */
	uint64_t size;        /* bytes, a multiple of page_size */
	uint64_t page_size;   /* 4096 or 2 MiB */
	uint64_t src_offset;  /* offset of the region in the snapshot */
	int uffd;             /* registered MISSING (and WP if wp) */
	int max_workers;      /* worker limit; 0 = the handler's default */
	int wp;               /* install read faults write-protected */
	uint64_t default_copy_mode; /* extra COPY mode for write faults */
	int source_retries;   /* retries after the first source read; -1 = default */
	uint64_t backoff_base_ns; /* 0 = the handler's default */
	uint64_t backoff_cap_ns;  /* 0 = the handler's default */
	uint64_t variants;    /* bit set of enum variant */
	/* start the handler's own full-memory prefetcher after the handshake
	 * (Wrenn's Prefetch(), cancelled by stop); ignored by handlers that
	 * have none */
	int prefetch_all;
};

/* The handler's own view of one page, which it would export with the
 * snapshot and which decides how it serves the next fault there. */
enum hpage {
	HPAGE_UNKNOWN = 0, /* no record: served from the snapshot */
	HPAGE_DIRTY = 1,   /* installed or written: exported as memory */
	HPAGE_REMOVED = 2, /* removed (balloon/free-page reporting): exported empty */
	HPAGE_ZERO = 3,    /* known zeros, not removed */
};
#define HPAGE_NKINDS 4
const char *hpage_name(enum hpage v);

struct handler_stats {
	uint64_t faults;      /* page-fault messages dispatched (incl. retries) */
	uint64_t installed;   /* installed outcomes (incl. EEXIST) */
	uint64_t eexist;
	uint64_t deferred;
	uint64_t short_circuit; /* no ioctl, no wake */
	uint64_t removes;     /* REMOVE messages applied */
	uint64_t source_retries;
	uint64_t prefaulted;
};

struct handler_desc;

/* Every handler object begins with this. */
struct handler {
	const struct handler_desc *desc;
};

struct handler_ops {
	/* h is zeroed but for desc. On an error, the registry calls free(h):
	 * free must take an object whose init stopped part-way. */
	int (*init)(struct handler *h, sys_t *sys, const struct handler_config *cfg);
	int (*start)(struct handler *h);
	int (*pause)(struct handler *h);
	int (*resume)(struct handler *h);
	int (*stop)(struct handler *h);
	/* Install page `page` from data (a sys buffer of page_size bytes);
	 * 0 whether or not it installed. NULL: the handler cannot prefault. */
	int (*prefault)(struct handler *h, uint64_t page, const void *data);
	/* The view of a page without taking any lock: the oracle calls it
	 * between steps, when no handler thread is inside a sys call. */
	enum hpage (*page_view)(const struct handler *h, uint64_t page);
	/* The export: the view of pages [first, first + n), as the handler
	 * would write them into a snapshot, taken under its own exclusion
	 * (it may block). 0, or -EINVAL for pages outside the region. */
	int (*export_pages)(struct handler *h, uint64_t first, uint64_t n,
			    enum hpage *out);
	void (*get_stats)(const struct handler *h, struct handler_stats *out);
	const char *(*error)(const struct handler *h);
	/* Release everything the handler holds; the registry frees h. */
	void (*free)(struct handler *h);
	/* Release only the handler's own memory, calling no sys op: for a run
	 * the simulator abandoned mid-flight, whose backend reclaims sys
	 * objects itself. No thread of the handler may run again. Every
	 * allocation must be reachable from h at every sys call. */
	void (*discard)(struct handler *h);
};

struct handler_desc {
	const char *name;        /* [a-z0-9-]+, as on the command line */
	const char *what;        /* one line */
	uint64_t variants;       /* the enum variant bits it accepts */
	size_t size;             /* of its object, >= sizeof(struct handler) */
	const struct handler_ops *ops;
	/* 1: data-race-free as the reducing dfs needs it (docs/DESIGN.md):
	 * memory its threads share is accessed only under a sys mutex or the
	 * write side of a sys rwlock, through sys atomics, or declared with
	 * sys_shared(); page_view() reads only SYS_SHARED_PAGE(page) and
	 * error() only SYS_SHARED_ERROR; start/pause/resume/stop are called
	 * by one thread at a time. 0 (the default of a row that does not
	 * say): the search treats every step of its threads as dependent. */
	int drf;
	uint64_t racy_variants;  /* variants that break drf (race on purpose) */
	/* 1: a seed system's handler modelled as found (wrenn, fc-example):
	 * `uffdlab run` judges it on the scenarios whose expect lines name
	 * it, apart from the library table, which records e2b-ref's and
	 * reference's expectations only */
	int seed;
};

/* ---- the registry ---- */

/* The registered handlers in registration order (built-ins first), n of
 * them. The first one is the default handler. */
const struct handler_desc *const *handler_list(int *n);
const struct handler_desc *handler_find(const char *name);
/* Whether handler `name` with these variants is data-race-free (its row's
 * drf, no racy variant): 0 for an unknown name. */
int handler_drf(const char *name, uint64_t variants);
const char *handler_default(void);
/* Add a handler built outside handler/registry.c. -EEXIST for a taken
 * name, -EINVAL for a bad name or missing op, -ENOSPC when full. */
int handler_register(const struct handler_desc *d);
/* Names of the registered handlers, NULL-terminated (valid until the next
 * handler_register). */
const char *const *handler_names(void);

/* ---- calls through the interface ---- */

/* -ENOENT for an unknown name, -EINVAL for a variant it does not accept.
 * *out is set before init runs (NULL again if it fails). */
int handler_new(const char *name, sys_t *sys, const struct handler_config *cfg,
		struct handler **out);
int handler_start(struct handler *h);
int handler_pause(struct handler *h);
int handler_resume(struct handler *h);
int handler_stop(struct handler *h);
int handler_prefault(struct handler *h, uint64_t page, const void *data);
enum hpage handler_page_view(const struct handler *h, uint64_t page);
int handler_export(struct handler *h, uint64_t first, uint64_t n,
		   enum hpage *out);
/* One page of the export; HPAGE_UNKNOWN if the export failed. */
enum hpage handler_page_export(struct handler *h, uint64_t page);
void handler_get_stats(const struct handler *h, struct handler_stats *out);
const char *handler_error(const struct handler *h);
const char *handler_name(const struct handler *h);
void handler_free(struct handler *h);
void handler_discard(struct handler *h);

#endif
