#include "variants.h"

#include <stdio.h>
#include <string.h>

#include "handler.h"

const struct variant_info variant_table[] = {
	{"stale-source", VARIANT_STALE_SOURCE, "B1",
	 "the serve loop reads the page state and picks the source before the worker takes the settle lock",
	 "e2b-ref", "scenarios/zoo/b01-stale-source.scn", "install-into-removed", 0},
	{"dispatch-before-remove", VARIANT_DISPATCH_BEFORE_REMOVE, "B5",
	 "faults of a batch are dispatched before the batch's REMOVEs are applied",
	 "e2b-ref", "scenarios/zoo/b05-dispatch-before-remove.scn", "lost-wake", 0},
	{"no-wake-pipe", VARIANT_NO_WAKE_PIPE, "B6",
	 "a deferred fault does not write the wake-up pipe",
	 "e2b-ref", "scenarios/zoo/b06-no-wake-pipe.scn", "lost-wake", 1},
	{"eagain-fatal", VARIANT_EAGAIN_FATAL, "B13",
	 "EAGAIN or a partial copy ends the handler instead of deferring",
	 "e2b-ref", "scenarios/zoo/b13-eagain-fatal.scn", "handler-exit", 0},
	{"prefault-unlocked", VARIANT_PREFAULT_UNLOCKED, "B3",
	 "Prefault neither takes the settle lock nor checks the tracker",
	 "e2b-ref", "scenarios/zoo/b03-prefault-unlocked.scn", "install-into-removed", 0},
	{"read-under-settle", VARIANT_READ_UNDER_SETTLE, "B4",
	 "the serve loop takes the settle write lock before reading the uffd, while workers read the source under the read lock",
	 "e2b-ref", "scenarios/zoo/b04-read-under-settle.scn", "madvise-blocked", 0},
	{"no-remove-exclusion", VARIANT_NO_REMOVE_EXCLUSION, "B2",
	 "a worker checks, installs and marks its page without the settle read lock, so a REMOVE batch can be applied in between",
	 "e2b-ref", "scenarios/zoo/b02-no-remove-exclusion.scn", "install-into-removed", 0},
	{"skip-deferred-on-empty-read", VARIANT_SKIP_DEFERRED_ON_EMPTY_READ, "B7",
	 "a poll that found the uffd readable but a read that got nothing goes back to poll without the deferred faults",
	 "e2b-ref", "scenarios/zoo/b07-skip-deferred-on-empty-read.scn", "lost-wake", 0},
	{"alias-batch", VARIANT_ALIAS_BATCH, "B11",
	 "the drain keeps pointers to its one reused read buffer: every fault of a batch is the last one read",
	 "e2b-ref", "scenarios/zoo/b11-alias-batch.scn", "lost-wake", 0},
	{"error-counted-installed", VARIANT_ERROR_COUNTED_INSTALLED, "B17",
	 "a failed install returns the zero values (INSTALLED, no error), as the recovered panic did: the page is marked dirty, nobody is woken",
	 "e2b-ref", "scenarios/zoo/b17-error-counted-installed.scn", "lost-wake", 0},
	{"workers-outlive-serve", VARIANT_WORKERS_OUTLIVE_SERVE, "B18",
	 "when Serve ends for good the handler closes its uffd before its workers finished: a worker's COPY goes to the closed number",
	 "e2b-ref", "scenarios/zoo/b18-workers-outlive-serve.scn", "fd-after-close", 0},
	{"prefault-after-close", VARIANT_PREFAULT_AFTER_CLOSE, "B19",
	 "when Serve ends for good the handler closes its uffd, and Prefault does not check for it: its COPY goes to the closed number",
	 "e2b-ref", "scenarios/zoo/b19-prefault-after-close.scn", "fd-after-close", 0},
	{"remove-len-truncated", VARIANT_REMOVE_LEN_TRUNCATED, "B22",
	 "a REMOVE's byte length is narrowed to 32 bits before the division by the page size: a REMOVE of 4 GiB marks no page removed",
	 "e2b-ref", "scenarios/zoo/b22-remove-len-truncated.scn", "stale-data", 0},
	{"no-read-gate", VARIANT_NO_READ_GATE, "fix 1",
	 "reference without its read gate: a worker can install after madvise zapped",
	 "reference", "scenarios/zoo/b03-prefault-unlocked.scn", "stale-data", 0},
	{"no-wake-deferred", VARIANT_NO_WAKE_DEFERRED, "fix 2",
	 "reference without waking deferred faults when Serve returns",
	 "reference", "scenarios/zoo/fix2-no-wake-deferred.scn", "lost-wake", 0},
	{"no-yield-on-retry", VARIANT_NO_YIELD_ON_RETRY, "fix 3 (B14)",
	 "reference retrying deferred faults without yielding",
	 "reference", "scenarios/zoo/b14-no-yield-on-retry.scn", "busy-spin", 1},
	{"short-circuit", VARIANT_SHORT_CIRCUIT, "fix 4",
	 "reference short-circuiting faults on pages its tracker marks dirty",
	 "reference", "scenarios/zoo/b01-stale-source.scn", "lost-wake", 0},
	{"eexist-leaves-unarmed", VARIANT_EEXIST_LEAVES_UNARMED, "B9",
	 "reference's read zero-fill split as at REF, and an EEXIST retry reports it installed without arming WP",
	 "reference", "scenarios/zoo/b09-eexist-leaves-unarmed.scn", "wp-unwritten-dirty", 0},
	{"zero-wp-split", VARIANT_ZERO_WP_SPLIT, "B10",
	 "reference's read zero-fill as ZEROPAGE(DONTWAKE) + WRITEPROTECT + WAKE: a write lands between install and arm",
	 "reference", "scenarios/zoo/b10-zero-wp-split.scn", "export-lost-write", 0},
	{"zero-install-merge", VARIANT_ZERO_INSTALL_MERGE, "B24",
	 "a read zero-fill makes a removed page DIRTY and the export lets empty win over dirty (7f22709)",
	 "reference", "scenarios/zoo/b24-zero-install-merge.scn", "export-not-zero", 0},
	{"write-fill-writable", VARIANT_WRITE_FILL_WRITABLE, "fix 7",
	 "reference filling a write fault's page writable under WP, as REF: a stale write fault's fill reads dirty with no write",
	 "reference", "scenarios/zoo/fix7-write-fill-writable.scn", "wp-unwritten-dirty", 0},
	{"eexist-marks-dirty", VARIANT_EEXIST_MARKS_DIRTY, "fix 8",
	 "reference marking DIRTY a page marked ZERO on EEXIST, as REF: a stale fault served before the REMOVE's zap leaves DIRTY over an absent page",
	 "reference", "scenarios/zoo/fix8-eexist-marks-dirty.scn", "tracker-disagrees", 0},
	{NULL, 0, NULL, NULL, NULL, NULL, NULL, 0},
};

uint64_t variant_parse(const char *name)
{
	for (const struct variant_info *v = variant_table; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v->bit;
	return 0;
}

static const struct variant_info *variant_find(const char *name)
{
	for (const struct variant_info *v = variant_table; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/* One name of the list (len bytes at s). */
static int one_variant(const struct handler_desc *d, const char *s, size_t len,
		       uint64_t *bits, char *msg, size_t n)
{
	char name[64];
	if (len == 0) {
		snprintf(msg, n, "empty variant name in the --variant list");
		return -1;
	}
	snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), s);
	const struct variant_info *v = variant_find(name);
	if (!v || len > 63) {
		snprintf(msg, n, "unknown variant '%s' (see uffdlab list)", name);
		return -1;
	}
	if (!(d->variants & v->bit)) {
		snprintf(msg, n, "variant '%s' puts its bug into %s, not into %s", name, v->handler,
			 d->name);
		return -1;
	}
	*bits |= v->bit;
	return 0;
}

int variant_parse_list(const char *handler, const char *list, uint64_t *bits,
		       char *msg, size_t n)
{
	*bits = 0;
	const struct handler_desc *d = handler_find(handler);
	if (!d) {
		snprintf(msg, n, "unknown handler '%s' (see uffdlab list)", handler);
		return -1;
	}
	if (!list || !*list)
		return 0;
	for (const char *p = list;; ) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (one_variant(d, p, len, bits, msg, n))
			return -1;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

const char *variant_name(uint64_t bit)
{
	for (const struct variant_info *v = variant_table; v->name; v++)
		if (v->bit == bit)
			return v->name;
	return NULL;
}
