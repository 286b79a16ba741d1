/* uffdlab — the command line. Subcommands grow with the drivers. */
#include <stdio.h>
#include <string.h>

#include "handler/handler.h"
#include "handler/variants.h"

static int usage(void)
{
	fprintf(stderr, "usage: uffdlab list | run\n");
	return 2;
}

static int cmd_list(void)
{
	printf("handlers:\n");
	for (const char *const *n = handler_names(); *n; n++)
		printf("  %s\n", *n);
	printf("variants:\n");
	for (const struct variant_info *v = variant_table; v->name; v++)
		printf("  %-24s %-4s %s\n", v->name, v->bug, v->what);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "list") == 0)
		return cmd_list();
	fprintf(stderr, "uffdlab: unknown command '%s'\n", argv[1]);
	return usage();
}
