/* The handler registry: one row per handler, built-ins first. Adding a
 * handler is one row here (or handler_register() from outside the tree). */
#include "handler.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "e2b.h"
#include "fc_example.h"
#include "wrenn.h"
#include "variants.h"

#define HANDLERS_MAX 32

/* The variants a handler accepts: those whose bug is put back into it. */
#define E2B_REF_VARIANTS                                                     \
	(VARIANT_STALE_SOURCE | VARIANT_DISPATCH_BEFORE_REMOVE |              \
	 VARIANT_NO_WAKE_PIPE | VARIANT_EAGAIN_FATAL |                         \
	 VARIANT_PREFAULT_UNLOCKED | VARIANT_READ_UNDER_SETTLE |               \
	 VARIANT_NO_REMOVE_EXCLUSION | VARIANT_SKIP_DEFERRED_ON_EMPTY_READ |   \
	 VARIANT_ALIAS_BATCH | VARIANT_ERROR_COUNTED_INSTALLED |               \
	 VARIANT_WORKERS_OUTLIVE_SERVE |                                       \
	 VARIANT_PREFAULT_AFTER_CLOSE | VARIANT_REMOVE_LEN_TRUNCATED)
#define REFERENCE_VARIANTS                                                   \
	(VARIANT_NO_READ_GATE | VARIANT_NO_WAKE_DEFERRED |                    \
	 VARIANT_NO_YIELD_ON_RETRY | VARIANT_SHORT_CIRCUIT |                  \
	 VARIANT_EEXIST_LEAVES_UNARMED | VARIANT_ZERO_WP_SPLIT |               \
	 VARIANT_ZERO_INSTALL_MERGE | VARIANT_WRITE_FILL_WRITABLE | VARIANT_EEXIST_MARKS_DIRTY)

static const struct handler_desc builtins[] = {
	{"e2b-ref", "E2B's orchestrator handler at REF b01a6a1, warts included (docs/HANDLER.md 1)",
	 E2B_REF_VARIANTS, sizeof(struct e2b), &e2b_ref_ops, 1, 0, 0},
	{"reference", "e2b-ref plus the fixes the testbed showed it needs (handler/README.md)",
	 REFERENCE_VARIANTS, sizeof(struct e2b), &e2b_reference_ops, 1, 0, 0},
	{"wrenn", "Wrenn's uffd server at c93ad5e2db: REMOVE skipped, failed faults dropped, full prefetch (docs/HANDLER.md B35)",
	 0, sizeof(struct wrenn), &wrenn_ops, 0, 0, 1}, /* drf not declared: the reducing dfs orders its steps */
	{"fc-example", "Firecracker's example on-demand handler: greedy reads, EAGAIN deferred, REMOVE unregisters (docs/HANDLER.md B36)",
	 0, sizeof(struct fcx), &fc_example_ops, 0, 0, 1},
};

/* drf (handler.h) for both rows, every variant: between sys calls their
 * threads share the errgroup's error (wg_err, errmsg) only under wg_mu,
 * its slots through the sys semaphore, a work item's done flag through
 * its declared access (the item is the serve thread's otherwise), the
 * deferred queue only under dmu or after wait_workers (whose wait for
 * zero comes after every worker's last step), and the tracker through
 * its declared accesses (handler/tracker.h); the statistics are relaxed
 * increments nothing reads during a run (they commute); the serve
 * object, the batch and the fds are the serve thread's or the caller's
 * of start/pause alone, handed over by spawn and join. No variant breaks
 * it: the unlocked tracker reads and writes of B1, B2 and B3 are declared. */
static struct {
	int n;
	const struct handler_desc *rows[HANDLERS_MAX];
	const char *names[HANDLERS_MAX + 1];
} reg;

static void init_builtins(void)
{
	if (reg.n)
		return;
	for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
		reg.rows[reg.n] = &builtins[i];
		reg.names[reg.n++] = builtins[i].name;
	}
	reg.names[reg.n] = NULL;
	assert(reg.n > 0 && reg.n < HANDLERS_MAX);
}

const struct handler_desc *const *handler_list(int *n)
{
	init_builtins();
	*n = reg.n;
	return reg.rows;
}

const char *const *handler_names(void)
{
	init_builtins();
	return reg.names;
}

const char *handler_default(void)
{
	init_builtins();
	return reg.rows[0]->name;
}

int handler_drf(const char *name, uint64_t variants)
{
	const struct handler_desc *d = handler_find(name);
	return d && d->drf && !(variants & d->racy_variants);
}

const struct handler_desc *handler_find(const char *name)
{
	init_builtins();
	for (int i = 0; i < reg.n; i++)
		if (strcmp(reg.rows[i]->name, name) == 0)
			return reg.rows[i];
	return NULL;
}

static int name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");
	return n > 0 && n <= 40 && s[n] == '\0';
}

static int ops_complete(const struct handler_ops *o)
{
	return o && o->init && o->start && o->pause && o->resume && o->stop &&
	       o->page_view && o->export_pages && o->get_stats && o->error &&
	       o->free && o->discard;
}

int handler_register(const struct handler_desc *d)
{
	init_builtins();
	if (!d || !d->name || !name_ok(d->name) || !d->what || !ops_complete(d->ops) ||
	    d->size < sizeof(struct handler))
		return -EINVAL;
	if (handler_find(d->name))
		return -EEXIST;
	if (reg.n >= HANDLERS_MAX)
		return -ENOSPC;
	reg.rows[reg.n] = d;
	reg.names[reg.n++] = d->name;
	reg.names[reg.n] = NULL;
	assert(reg.rows[reg.n - 1] == d && !reg.names[reg.n]);
	return 0;
}
