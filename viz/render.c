/* viz/render.c — DOT text -> SVG/PNG through libgvc (the dot layout). */
#include "viz/viz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include "sched/files.h"

/* The last line graphviz logged (it keeps messages in a temporary file
 * while the level is AGMAX), or fallback. */
static void gv_err(char *err, size_t errlen, const char *path,
		   const char *what, const char *fallback)
{
	char *m = aglasterr();
	char *line = NULL;

	if (m) {
		/* one line: the last non-empty one */
		for (char *p = strtok(m, "\n"); p; p = strtok(NULL, "\n"))
			if (*p)
				line = p;
	}
	if (err && errlen)
		snprintf(err, errlen, "%s: %s: %s", path, what,
			 line ? line : fallback);
	free(m);
}

static void sys_err(char *err, size_t errlen, const char *path, int e)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", path, strerror(e));
}

/* Lay out g and write it; 0 or -errno with err filled. */
static int layout_and_write(GVC_t *gvc, Agraph_t *g, const char *out_path,
			    const char *format, char *err, size_t errlen)
{
	/* our own FILE: an unwritable path is an errno, not a graphviz
	 * message, and the close is checked */
	struct output o;
	int e = -output_open(&o, out_path);
	FILE *f = o.f;

	if (e) {
		sys_err(err, errlen, out_path, e);
		return -e;
	}
	if (gvLayout(gvc, g, "dot")) {
		gv_err(err, errlen, out_path, "layout failed", "gvLayout error");
		e = EINVAL;
	} else {
		if (gvRender(gvc, g, format, f)) {
			gv_err(err, errlen, out_path, "render failed",
			       "gvRender error");
			e = EINVAL;
		}
		gvFreeLayout(gvc, g);
	}
	if (e) {
		output_abort(&o);
		return -e;
	}
	e = -output_commit(&o);
	if (e)
		sys_err(err, errlen, out_path, e);
	return -e;
}

/* The render itself; runs in the child process of viz_render(). */
static int render_here(const char *dot, size_t len, const char *out_path,
		       const char *format, char *err, size_t errlen)
{
	char *text = malloc(len + 1);

	if (!text) {
		sys_err(err, errlen, out_path, ENOMEM);
		return -ENOMEM;
	}
	memcpy(text, dot, len);
	text[len] = 0;
	/* libgvc prints to stderr by default; keep its messages for err
	 * (one process renders one graph: nothing to restore after) */
	agseterr(AGMAX);
	int e = 0;

	agreseterrors();
	GVC_t *gvc = gvContext();

	if (!gvc) {
		sys_err(err, errlen, out_path, ENOMEM);
		e = -ENOMEM;
	} else {
		Agraph_t *g = agmemread(text);

		if (!g) {
			gv_err(err, errlen, out_path, "bad DOT", "not a graph");
			e = -EINVAL;
		} else {
			e = layout_and_write(gvc, g, out_path, format, err,
					     errlen);
			if (agclose(g) && !e) {
				gv_err(err, errlen, out_path, "agclose failed",
				       "agclose error");
				e = -EIO;
				unlink(out_path);
			}
		}
		/* gvFreeContext returns the errors of the whole process so
		 * far (a counter nobody resets) plus agerrors(); only the
		 * part logged since agreseterrors() above is ours */
		int logged = agerrors() >= AGERR;

		if (gvFreeContext(gvc) && logged && !e) {
			gv_err(err, errlen, out_path, "graphviz error",
			       "unknown graphviz error");
			e = -EINVAL;
			unlink(out_path);
		}
	}
	free(text);
	return e;
}

/* What the child reports: its result and its error line. */
struct child_report {
	int e;
	char err[512];
};

static int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static size_t read_all(int fd, void *buf, size_t n)
{
	char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	return got;
}

/* libgvc is rendered in a child process: its state is process-global and
 * not all of it survives a second graph (graphviz 2.43's pango plugin
 * keeps a pointer to the previous context's font name and strcmp()s it
 * after gvFreeContext() freed it), some of its error paths exit(), and a
 * crash in it must not take the explorer down. */
int viz_render(const char *dot, size_t len, const char *out_path,
	       const char *format, char *err, size_t errlen)
{
	struct child_report rep = {0};
	int fds[2], status = 0;
	pid_t pid;

	if (!format || (strcmp(format, "svg") && strcmp(format, "png"))) {
		if (err && errlen)
			snprintf(err, errlen, "%s: format '%s' is not svg or png",
				 out_path, format ? format : "(null)");
		return -EINVAL;
	}
	if (pipe2(fds, O_CLOEXEC)) {
		int e = errno;

		sys_err(err, errlen, out_path, e);
		return -e;
	}
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		sys_err(err, errlen, out_path, e);
		return -e;
	}
	if (pid == 0) {
		close(fds[0]);
		rep.e = render_here(dot, len, out_path, format, rep.err,
				    sizeof(rep.err));
		/* _exit: the parent's stdio buffers and atexit handlers are
		 * the parent's */
		_exit(write_all(fds[1], &rep, sizeof(rep)) ? 2 : 0);
	}
	close(fds[1]);
	size_t got = read_all(fds[0], &rep, sizeof(rep));

	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != sizeof(rep)) {
		unlink(out_path);
		if (err && errlen)
			snprintf(err, errlen, "%s: graphviz died while rendering%s",
				 out_path,
				 WIFSIGNALED(status) ? " (killed by a signal)" : "");
		return -EIO;
	}
	rep.err[sizeof(rep.err) - 1] = 0;
	if (rep.e && err && errlen)
		snprintf(err, errlen, "%s", rep.err);
	return rep.e;
}

int viz_render_file(const char *dot_path, const char *out_path,
		    const char *format, char *err, size_t errlen)
{
	FILE *f = fopen(dot_path, "r");
	char *buf = NULL;
	size_t len = 0;
	int e = 0;

	if (!f) {
		e = errno;
		sys_err(err, errlen, dot_path, e);
		return -e;
	}
	FILE *m = open_memstream(&buf, &len);

	if (!m) {
		e = ENOMEM;
	} else {
		char chunk[65536];
		size_t n;

		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			if (fwrite(chunk, 1, n, m) != n)
				break;
		if (ferror(f))
			e = EIO;
		if (fclose(m) && !e)
			e = ENOMEM;
	}
	fclose(f);
	if (e) {
		sys_err(err, errlen, dot_path, e);
		free(buf);
		return -e;
	}
	e = viz_render(buf, len, out_path, format, err, errlen);
	free(buf);
	return e;
}
