/* viz/files.c — a trace file -> its .dot and .svg/.png beside it. */
#include "viz/viz_impl.h"
#include "sched/files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* base + ext, base being path less a ".trace" suffix; NULL on ENOMEM. */
static char *sibling(const char *path, const char *ext)
{
	static const char suf[] = ".trace";
	size_t l = strlen(path), sl = sizeof(suf) - 1;
	char *s;

	if (l > sl && !strcmp(path + l - sl, suf))
		l -= sl;
	s = malloc(l + strlen(ext) + 2);
	if (s)
		sprintf(s, "%.*s.%s", (int)l, path, ext);
	return s;
}

static int write_file(const char *path, const char *buf, size_t len,
		      char *err, size_t errlen)
{
	struct output o;
	int e = output_open(&o, path);

	if (!e && fwrite(buf, 1, len, o.f) != len) {
		e = errno ? -errno : -EIO;
		output_abort(&o);
	} else if (!e) {
		e = output_commit(&o);
	}
	if (e && err && errlen)
		snprintf(err, errlen, "%s: %s", path, strerror(-e));
	return e;
}

int viz_trace_to(const char *trace_path, const struct viz_opts *o,
		 const char *format, char *err, size_t errlen)
{
	struct trace tr;
	char *dot = NULL, *dot_path = NULL, *img_path = NULL;
	size_t len = 0;
	FILE *f, *m;
	int e;

	if (!format)
		format = "svg";
	if (strcmp(format, "svg") && strcmp(format, "png")) {
		if (err && errlen)
			snprintf(err, errlen, "%s: format '%s' is not svg or png",
				 trace_path, format);
		return -EINVAL;
	}
	f = input_open(trace_path, &e);

	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s:1: cannot open: %s", trace_path, input_strerror(e));
		return e;
	}
	e = trace_read_stream(f, trace_path, &mev_schema, &tr, err, errlen);
	fclose(f);
	if (e)
		return -EINVAL; /* err holds the reader's "path:line: ..." */
	dot_path = sibling(trace_path, "dot");
	img_path = sibling(trace_path, format);
	if (!dot_path || !img_path) {
		e = -ENOMEM;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", trace_path, strerror(ENOMEM));
		goto out;
	}
	m = open_memstream(&dot, &len);

	if (!m) {
		e = -ENOMEM;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", trace_path, strerror(ENOMEM));
		goto out;
	}
	e = viz_dot_named(&tr, trace_path, m, o, err, errlen);
	if (fclose(m) && !e) {
		e = -ENOMEM;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", trace_path, strerror(ENOMEM));
	}
	if (!e)
		e = write_file(dot_path, dot, len, err, errlen);
	if (!e)
		e = viz_render(dot, len, img_path, format, err, errlen);
out:
	free(dot);
	free(dot_path);
	free(img_path);
	trace_free(&tr);
	return e;
}

int viz_trace_files(const char *trace_path, char *err, size_t errlen)
{
	return viz_trace_to(trace_path, NULL, "svg", err, errlen);
}
