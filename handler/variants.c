#include "variants.h"

#include <string.h>

const struct variant_info variant_table[] = {
	{"stale-source", VARIANT_STALE_SOURCE, "B1",
	 "the serve loop reads the page state and picks the source before the worker takes the settle lock"},
	{"dispatch-before-remove", VARIANT_DISPATCH_BEFORE_REMOVE, "B5",
	 "faults of a batch are dispatched before the batch's REMOVEs are applied"},
	{"no-wake-pipe", VARIANT_NO_WAKE_PIPE, "B6",
	 "a deferred fault does not write the wake-up pipe"},
	{"eagain-fatal", VARIANT_EAGAIN_FATAL, "B13",
	 "EAGAIN or a partial copy ends the handler instead of deferring"},
	{"prefault-unlocked", VARIANT_PREFAULT_UNLOCKED, "B3",
	 "Prefault neither takes the settle lock nor checks the tracker"},
	{NULL, 0, NULL, NULL},
};

uint64_t variant_parse(const char *name)
{
	for (const struct variant_info *v = variant_table; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v->bit;
	return 0;
}

const char *variant_name(uint64_t bit)
{
	for (const struct variant_info *v = variant_table; v->name; v++)
		if (v->bit == bit)
			return v->name;
	return NULL;
}
