/* A parsed scenario back to text the parser reads (scn_write, scenario.h):
 * what the shrinker writes beside a trace. One writer serves the shrinker
 * and the swarm's generator (scn_format, scenarios/gen_text.c), so that a
 * directive added to the language is written back in one place. Comments
 * are not kept. */
#include "scenarios/scenario.h"

#include <errno.h>
#include <stdlib.h>

#include "scenarios/gen.h"

int scn_write(const struct scenario *s, const char *comment, char **text, size_t *len)
{
	*text = NULL;
	*len = 0;
	size_t cap = 1 << 16; /* a scenario of the parser's limits fits */
	for (;;) {
		char *b = malloc(cap);
		if (!b)
			return -ENOMEM;
		int k = scn_format(s, comment, b, cap);
		if (k >= 0) {
			*text = b;
			*len = (size_t)k;
			return 0;
		}
		free(b);
		if (k != -ENOSPC || cap >= (1u << 24))
			return k;
		cap *= 4;
	}
}
