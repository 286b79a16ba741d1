/* scenarios/library.h — where the bundled scenario library is.
 *
 * Contract: the library is a directory `scenarios/` under a root: beside an
 * installed binary (<prefix>/bin/uffdlab -> <prefix>/share/uffdlab), else
 * the parent of $UFFDLAB_SCENARIOS (which names the scenarios directory
 * itself), else the working directory. scn_library() gives the scenarios
 * directory of the first root that has one ("scenarios" when none does).
 * scn_resolve() maps a path the user gave: as given if it exists, else, for
 * a relative path, the same path under those roots in that order (so
 * `scenarios/zoo/x.scn` works from any directory once installed). Both
 * write at most n bytes and return out, never NULL.
 */
#ifndef UFFDLAB_SCENARIOS_LIBRARY_H
#define UFFDLAB_SCENARIOS_LIBRARY_H

#include <stddef.h>

const char *scn_library(char *out, size_t n);
const char *scn_resolve(const char *path, char *out, size_t n);

#endif
