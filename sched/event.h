/* sched/event.h — typed step events: a generic record and its schema.
 *
 * Contract: a step may carry, besides its human label, a list of typed
 * events: each a kind code and up to SCHED_EV_FIELDS signed 64-bit fields.
 * sched/ stores and forwards them and trace.c writes and reads them, but
 * neither knows what a kind means: the caller (model/event.h) supplies a
 * schema naming every kind and every field, and saying how a field is
 * written (decimal, hex, or a symbol from a table). The schema is data, not
 * code, so the trace writer and reader check every event against the same
 * table: an event whose field count or symbol does not match its kind is an
 * error, never written half-way or read as something else.
 *
 * Why a generic record and not uffd types in sched/: the scheduler and the
 * trace format must stay reusable for any simulated system (the scheduler
 * tests run without the model); the field meanings live with the code that
 * emits them. Integers only, so that recording an event is a handful of
 * stores and the trace reader needs no per-kind code.
 */
#ifndef UFFDLAB_SCHED_EVENT_H
#define UFFDLAB_SCHED_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define SCHED_EV_FIELDS 6     /* fields per event at most */
#define SCHED_STEP_EVENTS 48  /* events kept per step; more are counted lost */
#define SCHED_EV_NAME_MAX 24  /* bytes of a kind or key name, NUL included */

struct sched_event {
	uint16_t kind;        /* index into the schema's kinds */
	uint16_t nf;          /* fields set: must equal the kind's nf */
	int64_t f[SCHED_EV_FIELDS];
};

enum sched_ev_fmt {
	SCHED_EV_DEC = 0,     /* signed decimal: -11, 0, 4096 */
	SCHED_EV_HEX = 1,     /* 0x-hex of the value as uint64: 0x7f0000001000 */
	SCHED_EV_SYM = 2,     /* sym[value]; the value must index the table */
};

struct sched_ev_key {
	const char *name;     /* [a-z0-9_]+, unique within its kind */
	enum sched_ev_fmt fmt;
	const char *const *sym; /* SYM: NULL-terminated names of 0, 1, ... */
};

struct sched_ev_kind {
	const char *name;     /* [a-z0-9_]+, unique within the schema */
	int nf;               /* 0..SCHED_EV_FIELDS */
	struct sched_ev_key key[SCHED_EV_FIELDS];
};

struct sched_ev_schema {
	const struct sched_ev_kind *kinds; /* indexed by sched_event.kind */
	size_t nkinds;
};

/* The kind of ev, or NULL when the schema has no such kind or ev's field
 * count is not the kind's. */
const struct sched_ev_kind *sched_ev_kind_of(const struct sched_ev_schema *sc,
					     const struct sched_event *ev);

#endif
