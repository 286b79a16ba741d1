/* viz/threads.c — the lane table: thread names and kinds from the trace
 * header ("thread <tid> <name> <kind>"), step counts from the steps. */
#include "viz/viz_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *viz_kind_role(const struct viz_thread *t)
{
	switch (t->kind) {
	case VIZ_KIND_GUEST: return "guest vCPU";
	case VIZ_KIND_BALLOON: return "balloon / madvise";
	case VIZ_KIND_CONTROL: return "harness / control";
	case VIZ_KIND_HANDLER:
		return t->reads_uffd ? "handler: serve loop (reads the uffd)" : "handler thread";
	}
	return "thread";
}

/* "<tid> <name> <kind>": 0 with the parts, or -EINVAL. */
static int parse_line(const char *v, uint64_t *tid, const char **name,
		      size_t *namelen, uint64_t *kind)
{
	const char *p = v;

	if (viz_num(&p, tid) || *p != ' ' || *tid > TRACE_TID_MAX)
		return -EINVAL;
	*name = ++p;
	while (*p && *p != ' ')
		p++;
	*namelen = (size_t)(p - *name);
	if (!*namelen || *p != ' ')
		return -EINVAL;
	p++;
	if (viz_num(&p, kind) || *p || *kind > 1000)
		return -EINVAL;
	return 0;
}

int viz_threads_build(const struct trace *tr, const char *name_for_err,
		      struct viz_threads *th, char *err, size_t errlen)
{
	uint64_t maxtid = 0, tid, kind;
	const char *v, *name;
	size_t pos = 0, namelen;

	memset(th, 0, sizeof(*th));
	while ((v = trace_get_next(tr, "thread", &pos))) {
		if (parse_line(v, &tid, &name, &namelen, &kind)) {
			/* header line k of the file is kv[k - 2] */
			if (err && errlen)
				snprintf(err, errlen,
					 "%s:%zu: bad thread line 'thread %.60s' "
					 "(expected 'thread <tid> <name> <kind>')",
					 name_for_err, pos + 1, v);
			return -EINVAL;
		}
		if (tid > maxtid)
			maxtid = tid;
	}
	for (size_t i = 0; i < tr->nsteps; i++)
		if (tr->steps[i].tid > maxtid)
			maxtid = tr->steps[i].tid;
	th->n = (uint32_t)maxtid + 1;
	th->t = calloc(th->n, sizeof(*th->t));
	if (!th->t)
		return -ENOMEM;
	pos = 0;
	while ((v = trace_get_next(tr, "thread", &pos))) {
		parse_line(v, &tid, &name, &namelen, &kind);
		struct viz_thread *t = &th->t[tid];

		free(t->name); /* a repeated tid: the last line wins */
		t->name = strndup(name, namelen);
		if (!t->name)
			goto oom;
		t->kind = (int)kind;
	}
	for (uint32_t i = 0; i < th->n; i++) {
		if (th->t[i].name)
			continue;
		char buf[16];

		snprintf(buf, sizeof(buf), "t%u", i);
		th->t[i].name = strdup(buf);
		if (!th->t[i].name)
			goto oom;
	}
	for (size_t i = 0; i < tr->nsteps; i++) {
		struct viz_thread *t = &th->t[tr->steps[i].tid];
		t->nsteps++;
		for (size_t e = 0; e < tr->steps[i].nev; e++)
			t->reads_uffd |= tr->steps[i].ev[e].kind == MEV_UFFD_READ;
	}
	return 0;
oom:
	viz_threads_free(th);
	return -ENOMEM;
}

void viz_threads_free(struct viz_threads *th)
{
	if (th->t)
		for (uint32_t i = 0; i < th->n; i++)
			free(th->t[i].name);
	free(th->t);
	memset(th, 0, sizeof(*th));
}
