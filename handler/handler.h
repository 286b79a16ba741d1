/* handler/handler.h — the handlers under test, as the drivers see them.
 *
 * Contract: a handler serves one registered region of guest memory through a
 * uffd that the backend created and registered. handler_new() builds it (no
 * thread yet); handler_start() runs the serve loop on a new sys thread;
 * pause() signals exit and waits for the loop and its workers (state kept);
 * resume() starts a fresh loop; stop() = pause + release, and returns the
 * loop's first error. prefault() is called from any sys thread (the
 * prefetcher). All functions return 0 or -errno; handler_error() gives the
 * human-readable reason of the first fatal error. Handlers are chosen by name
 * (`e2b-ref`, ...); variants put one historical bug back (handler/variants.h).
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
	int max_workers;      /* errgroup limit; 0 = 4096 */
	int wp;               /* install read faults write-protected */
	uint64_t default_copy_mode; /* extra COPY mode for write faults */
	int source_retries;   /* retries after the first source read; -1 = 3 */
	uint64_t backoff_base_ns; /* 0 = 50 ms */
	uint64_t backoff_cap_ns;  /* 0 = 500 ms */
	uint64_t variants;    /* bit set of enum variant */
};

/* Page tracker states (REF, HANDLER.md 1.6). */
enum page_state {
	PAGE_NOT_PRESENT = 0,
	PAGE_DIRTY = 1,
	PAGE_ZERO = 2,
};

struct handler;

struct handler_stats {
	uint64_t faults;      /* page-fault messages dispatched (incl. retries) */
	uint64_t installed;   /* INSTALLED outcomes (incl. EEXIST) */
	uint64_t eexist;
	uint64_t deferred;
	uint64_t short_circuit; /* DIRTY: no ioctl, no wake */
	uint64_t removes;     /* REMOVE messages applied */
	uint64_t source_retries;
	uint64_t prefaulted;
};

/* Names of the available handlers, NULL-terminated. */
const char *const *handler_names(void);
int handler_new(const char *name, sys_t *sys, const struct handler_config *cfg,
		struct handler **out);
int handler_start(struct handler *h);
int handler_pause(struct handler *h);
int handler_resume(struct handler *h);
int handler_stop(struct handler *h);
/* Install page `page` (index in the region) from data (a sys buffer holding
 * page_size bytes), as REF's Prefault. Returns 0 whether or not it installed. */
int handler_prefault(struct handler *h, uint64_t page, const void *data);
/* Tracker state of one page, read under the settle write lock. */
enum page_state handler_page_state(struct handler *h, uint64_t page);
/* Tracker state without taking any lock (oracle use, between steps). */
enum page_state handler_page_state_peek(const struct handler *h, uint64_t page);
void handler_get_stats(const struct handler *h, struct handler_stats *out);
const char *handler_error(const struct handler *h);
void handler_free(struct handler *h);
/* Free the handler's own memory without calling any sys op: for a run the
 * simulator abandoned mid-flight, whose backend reclaims its sys objects
 * (locks, fds, buffers) itself. No thread of the handler may run again. */
void handler_discard(struct handler *h);

#endif
