/* viz/viz.c — trace -> DOT: the passes of viz_impl.h in order. */
#include "viz/viz_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void viz_opts_init(struct viz_opts *o)
{
	o->head = 40;
	o->tail = 120;
	o->fold_min = 12;
	o->label_max = 160;
	o->queue_lane = 1;
	o->page_lanes = 1;
	o->all = 0;
}

static void set_err(char *err, size_t errlen, const char *name, int e)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", name, strerror(-e));
}

int viz_dot_named(const struct trace *tr, const char *name_for_err,
		  FILE *out, const struct viz_opts *o, char *err, size_t errlen)
{
	struct viz_opts def;
	struct viz_threads th;
	struct viz_window w;
	struct viz_hb h;
	struct viz_pages pg = {0};
	int e;

	if (!o) {
		viz_opts_init(&def);
		o = &def;
	}
	if (o->label_max < 16) {
		if (err && errlen)
			snprintf(err, errlen, "%s: label_max %u is below 16",
				 name_for_err, o->label_max);
		return -EINVAL;
	}
	e = viz_threads_build(tr, name_for_err, &th, err, errlen);
	if (e) {
		if (e != -EINVAL)
			set_err(err, errlen, name_for_err, e);
		return e;
	}
	e = viz_window_build(tr, &th, o, &w);
	if (!e) {
		e = viz_hb_derive(tr, &th, w.shown, &h);
		if (!e) {
			if (o->page_lanes)
				e = viz_pages_derive(tr, w.shown, &pg);
			if (!e)
				e = viz_dot_emit(tr, &th, &w, &h, &pg, o, out);
			viz_pages_free(&pg);
			viz_hb_free(&h);
		}
		viz_window_free(&w);
	}
	viz_threads_free(&th);
	/* a FILE's error is sticky: one check covers every write */
	if (!e && (fflush(out) || ferror(out)))
		e = -EIO;
	if (e)
		set_err(err, errlen, name_for_err, e);
	return e;
}

int viz_dot(const struct trace *t, FILE *out, const struct viz_opts *o,
	    char *err, size_t errlen)
{
	return viz_dot_named(t, "trace", out, o, err, errlen);
}

int viz_dot_string(const struct trace *t, const struct viz_opts *o,
		   char **dot, size_t *len, char *err, size_t errlen)
{
	size_t l = 0;
	FILE *f = open_memstream(dot, &l);
	int e;

	if (!f) {
		*dot = NULL;
		set_err(err, errlen, "trace", -ENOMEM);
		return -ENOMEM;
	}
	e = viz_dot(t, f, o, err, errlen);
	if (fclose(f) && !e) {
		e = -ENOMEM;
		set_err(err, errlen, "trace", e);
	}
	if (e) {
		free(*dot);
		*dot = NULL;
		return e;
	}
	if (len)
		*len = l;
	return 0;
}
