/* A parsed scenario back to text the parser reads (scn_write, scenario.h):
 * what the shrinker writes beside a trace. Comments are not kept. */
#include "scenarios/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static const char *const fills[] = {"pattern", "zero", "sentinel"};

static void write_directives(FILE *f, const struct scenario *s)
{
	fprintf(f, "memory %s %d\n", s->page_size == 4096 ? "4k" : "2m", s->pages);
	for (int p = 0; p < s->pages; p++)
		if (s->fill[p] != SCN_FILL_PATTERN && s->fill[p] <= SCN_FILL_SENTINEL)
			fprintf(f, "snapshot %d %s\n", p, fills[s->fill[p]]);
	if (!s->event_remove && !s->wp)
		fprintf(f, "features none\n");
	else
		fprintf(f, "features%s%s%s\n", s->event_remove ? " remove" : "",
			s->wp ? " wp" : "", s->wp_async ? " wp-async" : "");
	if (s->workers > 0 || s->retries >= 0) {
		fprintf(f, "handler");
		if (s->workers > 0)
			fprintf(f, " workers %d", s->workers);
		if (s->retries >= 0)
			fprintf(f, " retries %d", s->retries);
		fprintf(f, "\n");
	}
	fprintf(f, "contract %s\n", s->contract == SCN_CONTRACT_BREAKS ? "breaks" : "keeps");
	for (int e = 0; e < s->nexpect; e++) {
		const struct scn_expect *x = &s->expects[e];
		fprintf(f, "expect %s", x->invariant);
		for (int k = 0; k < x->nwho; k++)
			fprintf(f, " %s%s%s", x->who[k].handler, x->who[k].variant[0] ? "/" : "",
				x->who[k].variant);
		fprintf(f, "\n");
	}
}

static void write_op(FILE *f, const struct scenario *s, const struct scn_op *o)
{
	fprintf(f, "  %s", scn_op_name(o->kind));
	switch (o->kind) {
	case SCN_READ:
		fprintf(f, " %llu", (unsigned long long)o->a);
		break;
	case SCN_WRITE:
	case SCN_SOURCE_FAIL:
		fprintf(f, " %llu %llu", (unsigned long long)o->a, (unsigned long long)o->b);
		break;
	case SCN_REMOVE:
	case SCN_PREFETCH:
	case SCN_UNMAP:
	case SCN_REMAP:
		if (o->a == o->b)
			fprintf(f, " %llu", (unsigned long long)o->a);
		else
			fprintf(f, " %llu..%llu", (unsigned long long)o->a, (unsigned long long)o->b);
		break;
	default:
		break;
	}
	if (o->after_thread >= 0)
		fprintf(f, " after %s.%d", s->threads[o->after_thread].name, o->after_op + 1);
	fprintf(f, "\n");
}

int scn_write(const struct scenario *s, const char *comment, char **text, size_t *len)
{
	*text = NULL;
	FILE *f = open_memstream(text, len);
	if (!f)
		return -ENOMEM;
	if (comment)
		fprintf(f, "# %s\n", comment);
	write_directives(f, s);
	for (int t = 0; t < s->nthreads; t++) {
		const struct scn_thread *th = &s->threads[t];
		fprintf(f, "\nthread %s %s\n", th->name, scn_role_name(th->role));
		for (int k = 0; k < th->nops; k++)
			write_op(f, s, &th->ops[k]);
	}
	if (fclose(f)) {
		free(*text);
		*text = NULL;
		return -ENOMEM;
	}
	return 0;
}
