/* scenarios/order.c — resolve `after T.k` constraints once all threads are
 * known, and reject ordering cycles.
 *
 * The ordering graph has one node per op; edges are program order (op i
 * before op i+1 of the same thread) and the after constraints (T's op k
 * before the constrained op). Constraints are added one by one in file
 * order; the first one whose target already (transitively) waits for the
 * constrained op closes a cycle and is the one reported. Program order is
 * implicit: reaching op i of a thread reaches all its later ops, so the
 * search keeps, per thread, only the lowest op index reached — at most
 * SCN_MAX_OPS lowerings per thread, each scanning only newly reached ops.
 */
#include <limits.h>
#include <string.h>

#include "scenarios/parse.h"

static int node(int t, int i)
{
	return t * SCN_MAX_OPS + i;
}

/* Does op (ft, fi) precede op (tt, ti) in the graph built so far? */
static int reaches(const struct scn_ctx *c, int ft, int fi, int tt, int ti)
{
	int reach[SCN_MAX_THREADS], scanned[SCN_MAX_THREADS];
	int stack[SCN_MAX_THREADS], queued[SCN_MAX_THREADS] = {0};
	int nstack = 0, t;

	for (t = 0; t < c->s->nthreads; t++) {
		reach[t] = INT_MAX;
		scanned[t] = c->s->threads[t].nops;
	}
	reach[ft] = fi;
	stack[nstack++] = ft;
	queued[ft] = 1;
	while (nstack > 0) {
		int u = stack[--nstack], lo = reach[u], hi = scanned[u], j;

		queued[u] = 0;
		scanned[u] = lo < hi ? lo : hi;
		for (j = lo; j < hi; j++) {
			int v;

			for (v = c->head[node(u, j)]; v >= 0; v = c->next[v]) {
				int vt = v / SCN_MAX_OPS, vi = v % SCN_MAX_OPS;

				if (vi >= reach[vt])
					continue;
				reach[vt] = vi;
				if (!queued[vt]) {
					queued[vt] = 1;
					stack[nstack++] = vt;
				}
			}
		}
	}
	return reach[tt] <= ti;
}

static int find_thread(const struct scenario *s, const char *name)
{
	int t;

	for (t = 0; t < s->nthreads; t++)
		if (!strcmp(s->threads[t].name, name))
			return t;
	return -1;
}

int scn_resolve_order(struct scn_ctx *c)
{
	struct scenario *s = c->s;
	int t, i, n;

	for (n = 0; n < SCN_NODES; n++)
		c->head[n] = -1;
	for (t = 0; t < s->nthreads; t++) {
		for (i = 0; i < s->threads[t].nops; i++) {
			const struct scn_after *af = &c->after[t][i];
			struct scn_op *op = &s->threads[t].ops[i];
			int u, k;

			if (af->k == 0)
				continue;
			/* errors point at the constrained op's `after` target */
			u = find_thread(s, af->name);
			if (u < 0)
				return scn_fail(&c->e, op->line, af->col,
						"unknown thread '%s' in 'after'",
						af->name);
			if (af->k > (uint64_t)s->threads[u].nops)
				return scn_fail(&c->e, op->line, af->col,
						"thread '%s' has no operation %llu (it has %d)",
						af->name,
						(unsigned long long)af->k,
						s->threads[u].nops);
			k = (int)af->k - 1;
			if (reaches(c, t, i, u, k))
				return scn_fail(&c->e, op->line, af->col,
						"'after %s.%d' closes an ordering cycle",
						af->name, k + 1);
			op->after_thread = u;
			op->after_op = k;
			c->next[node(t, i)] = c->head[node(u, k)];
			c->head[node(u, k)] = node(t, i);
		}
	}
	return 0;
}
