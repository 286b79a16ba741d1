/* Does graphviz still read freed memory on a second render in one process?
 * `make check-graphviz` runs this under valgrind: while it reports invalid
 * reads, viz/render.c keeps rendering in a forked child (README,
 * "Dependencies"); once it runs clean, rendering can move in-process.
 * Measured with libgvc6 2.42.2-7+deb12u1: 48 errors, invalid reads in
 * libgvplugin_pango's textspan_size on the second layout. */
#include <graphviz/gvc.h>
#include <stdio.h>

int main(void)
{
	static const char dot[] =
		"digraph g { node [label=\"a label\", fontname=\"DejaVu Sans\"]; a -> b;"
		" subgraph cluster_x { c -> d; } }";
	for (int i = 0; i < 2; i++) {
		GVC_t *gvc = gvContext();
		Agraph_t *g = agmemread(dot);
		char *out = NULL;
		unsigned len = 0;
		if (!gvc || !g || gvLayout(gvc, g, "dot") ||
		    gvRenderData(gvc, g, i ? "png" : "svg", &out, &len))
			return 1;
		printf("render %d: %u bytes\n", i + 1, len);
		gvFreeRenderData(out);
		gvFreeLayout(gvc, g);
		agclose(g);
		gvFreeContext(gvc);
	}
	return 0;
}
