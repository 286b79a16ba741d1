/* uffdlab with one more handler, built out of tree against an installed
 * uffdlab (`cc main.c naive.c $(pkg-config --cflags --libs uffdlab)`):
 * the whole command line, with "naive" in the registry. */
#include <stdio.h>
#include <string.h>

#include <uffdlab/handler.h>
#include <uffdlab/uffdlab.h>

#include "naive.h"

int main(int argc, char **argv)
{
	int err = handler_register(&naive_desc);
	if (err) {
		fprintf(stderr, "naive: cannot register the handler: %s\n", strerror(-err));
		return 2;
	}
	return uffdlab_main(argc, argv);
}
