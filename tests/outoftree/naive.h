/* tests/outoftree/naive.h — the test handler "naive" (naive.c).
 *
 * Contract: naive_desc is a complete registry row; register it with
 * handler_register() before exploring. It includes the interface as an
 * installed program would (<uffdlab/handler.h>) when UFFDLAB_INSTALLED is
 * defined, else from the tree.
 */
#ifndef UFFDLAB_TESTS_NAIVE_H
#define UFFDLAB_TESTS_NAIVE_H

#ifdef UFFDLAB_INSTALLED
#include <uffdlab/handler.h>
#else
#include "handler/handler.h"
#endif

extern const struct handler_desc naive_desc;

#endif
