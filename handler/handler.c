/* Handler registry: names to constructors. */
#include "handler.h"

#include <errno.h>
#include <string.h>

#include "e2b.h"

static const char *const names[] = {"e2b-ref", "reference", NULL};

const char *const *handler_names(void)
{
	return names;
}

int handler_new(const char *name, sys_t *sys, const struct handler_config *cfg,
		struct handler **out)
{
	if (strcmp(name, "e2b-ref") == 0)
		return e2b_new(sys, cfg, 0, out);
	if (strcmp(name, "reference") == 0)
		return e2b_new(sys, cfg, FIX_ALL, out);
	return -ENOENT;
}
