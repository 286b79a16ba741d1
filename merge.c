/* `uffdlab merge SHARD.json...` (driver.h): the --json outputs of
 * `explore --shard i/N`, i = 0..N-1, as the output of one run over all
 * seeds. Every shard stops at its first failure and has run every one of
 * its seeds below it, so the first violation of the whole is the one with
 * the lowest seed, and the runs up to it are all seeds up to it; with no
 * violation the runs and steps are the shards' sums. Steps after a
 * violation would need every shard's steps per seed, and are null. A
 * split dfs's shards (explore --strategy dfs --shard) carry their
 * prefixes' runs, steps and pruned runs one by one, so the merge counts
 * every prefix up to the lowest failing one, whose violation it keeps,
 * and says exhausted only if every shard did. The
 * reader reads what json.c writes (one object, members' values copied
 * as text), not JSON in general. */
#include "driver.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "scenarios/lex.h"
#include "sched/files.h"

#define MERGE_KEYS 48

struct member {
	char key[32];
	const char *v;            /* the value's JSON text, in the file's buffer */
	size_t len;
};

struct shard {
	const char *path;
	char *text;
	int dfs;                  /* a split dfs's shard (explore.c) */
	int n;
	struct member m[MERGE_KEYS];
};

/* The end of the JSON value at p (a string, an object, or a literal). */
static const char *skip_value(const char *p)
{
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
		return *p ? p + 1 : NULL;
	}
	if (*p == '[') { /* this writer's arrays hold numbers only */
		size_t n = strcspn(p, "]");
		return p[n] ? p + n + 1 : NULL;
	}
	if (*p == '{') {
		for (p++; *p && *p != '}';) {
			const char *q = skip_value(p);
			if (!q)
				return NULL;
			p = q;
			p += strspn(p, " \t\n\r:,");
		}
		return *p ? p + 1 : NULL;
	}
	size_t n = strcspn(p, ",}");
	return n ? p + n : NULL;
}

/* The top-level members of s->text. 0, or -1 (not this writer's JSON). */
static int parse(struct shard *s)
{
	const char *p = s->text + strspn(s->text, " \t\n\r");
	if (*p++ != '{')
		return -1;
	while (*p && *p != '}') {
		const char *k = p, *ke;
		if (*k != '"' || !(ke = strchr(k + 1, '"')) || ke[1] != ':' ||
		    (size_t)(ke - k) > sizeof s->m[0].key || s->n == MERGE_KEYS)
			return -1;
		struct member *m = &s->m[s->n++];
		snprintf(m->key, sizeof m->key, "%.*s", (int)(ke - k - 1), k + 1);
		m->v = ke + 2;
		const char *e = skip_value(m->v);
		if (!e)
			return -1;
		m->len = (size_t)(e - m->v);
		p = e + (*e == ',');
	}
	return *p == '}' ? 0 : -1;
}

static const struct member *get(const struct shard *s, const char *key)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->m[i].key, key))
			return &s->m[i];
	return NULL;
}

/* A member's value as a number (NULL member or not a number: -1). */
static int num(const struct member *m, uint64_t *out)
{
	char buf[32];
	if (!m || m->len >= sizeof buf)
		return -1;
	snprintf(buf, sizeof buf, "%.*s", (int)m->len, m->v);
	return scn_parse_u64(buf, out) ? -1 : 0;
}

/* The seed of a violation object's "seed" member. */
static int violation_seed(const struct member *v, uint64_t *seed)
{
	const char *p = strstr(v->v, "\"seed\":");
	if (!p || p > v->v + v->len)
		return -1;
	return sscanf(p + 7, "%" SCNu64, seed) == 1 ? 0 : -1;
}

/* What a split dfs's shard carries, and what its shards share. */
static const char *const need_dfs[] = {"scenario", "handler", "variant", "strategy",
				       "dfs_bound", "dfs_preemptions", "dfs_reduce",
				       "dfs_split_depth", "dfs_prefixes", "prefix_runs",
				       "prefix_steps", "prefix_pruned", "violation_prefix",
				       "runs", "steps", "pruned", "exhausted", "coverage",
				       "violation", NULL};
static const char *const same_dfs[] = {"scenario", "handler", "variant", "strategy",
				       "dfs_bound", "dfs_preemptions", "dfs_reduce",
				       "dfs_split_depth", "dfs_prefixes", NULL};

static int bad(const char *path, const char *what)
{
	fprintf(stderr, "%s:1: %s\n", path, what);
	return 2;
}

/* Read and parse one shard's file; its index and count. 0 or 2. */
static int load(struct shard *s, const char *path, unsigned *i, unsigned *n)
{
	size_t len;
	s->path = path;
	int e = input_read_all(path, &s->text, &len);
	if (e) {
		fprintf(stderr, "%s:1:1: cannot open: %s\n", path, input_strerror(e));
		return 2;
	}
	if (parse(s))
		return bad(path, "not the --json output of uffdlab explore");
	const struct member *sh = get(s, "shard");
	static const char *const need[] = {"scenario", "handler", "variant", "strategy",
					   "first_seed", "runs_asked", "runs", "steps",
					   "violation", NULL};
	s->dfs = get(s, "dfs_prefixes") != NULL;
	for (const char *const *k = s->dfs ? need_dfs : need; *k; k++)
		if (!get(s, *k))
			return bad(path, "not the --json output of uffdlab explore (a member is missing)");
	if (!sh || sscanf(sh->v, "\"%u/%u\"", i, n) != 2 || *i >= *n)
		return bad(path, "no \"shard\" member: not the output of explore --shard i/N --json");
	return 0;
}

/* Every shard of one campaign, each once. 0 or 2. */
static int agree(struct shard *s, int n, unsigned nshards, const unsigned *idx)
{
	static const char *const same[] = {"scenario", "handler", "variant", "strategy",
					   "first_seed", "runs_asked", NULL};
	if ((unsigned)n != nshards)
		return bad(s[0].path, "the number of files is not the shards' N");
	for (int a = 0; a < n; a++) {
		for (int b = 0; b < a; b++)
			if (idx[a] == idx[b])
				return bad(s[a].path, "the same shard twice");
		if (s[a].dfs != s[0].dfs)
			return bad(s[a].path, "a dfs shard and a seeded one: not one campaign");
		for (const char *const *k = s[0].dfs ? same_dfs : same; *k; k++) {
			const struct member *x = get(&s[a], *k), *y = get(&s[0], *k);
			if (x->len != y->len || memcmp(x->v, y->v, x->len)) {
				fprintf(stderr, "%s:1: its \"%s\" differs from %s's: not one campaign\n",
					s[a].path, *k, s[0].path);
				return 2;
			}
		}
	}
	return 0;
}

/* The merged object; 1 with a violation, 0 without. */
static int print_merged(struct shard *s, int n)
{
	int first = -1;
	uint64_t fseed = UINT64_MAX, runs = 0, steps = 0, base, v;
	for (int a = 0; a < n; a++) {
		const struct member *vi = get(&s[a], "violation");
		uint64_t seed;
		if (vi->len != 4 && !violation_seed(vi, &seed) && seed < fseed) {
			fseed = seed;
			first = a;
		}
		if (!num(get(&s[a], "runs"), &v))
			runs += v;
		if (!num(get(&s[a], "steps"), &v))
			steps += v;
	}
	num(get(&s[0], "first_seed"), &base);
	if (first >= 0)
		runs = fseed - base + 1; /* every seed up to the first failure */
	struct json j;
	json_begin(&j, stdout);
	json_bool(&j, "merged", 1);
	json_int(&j, "shards", n);
	static const char *const copy[] = {"scenario", "handler", "variant", "strategy",
					   "first_seed", "runs_asked", NULL};
	for (const char *const *k = copy; *k; k++)
		json_raw(&j, *k, get(&s[0], *k)->v, get(&s[0], *k)->len);
	json_u64(&j, "runs", runs);
	if (first >= 0)
		json_null(&j, "steps");
	else
		json_u64(&j, "steps", steps);
	char cov[128];
	snprintf(cov, sizeof cov, "not exhausted: %" PRIu64 " schedules", runs);
	json_string(&j, "coverage", cov);
	if (first >= 0)
		json_raw(&j, "violation", get(&s[first], "violation")->v,
			 get(&s[first], "violation")->len);
	else
		json_null(&j, "violation");
	json_end(&j);
	return first >= 0;
}

/* The numbers of an array member into out[0..cap): their count, or -1. */
static long array_of(const struct member *m, uint64_t *out, size_t cap)
{
	if (!m || m->len < 2 || m->v[0] != '[')
		return -1;
	size_t n = 0;
	const char *p = m->v + 1, *end = m->v + m->len - 1;
	while (p < end) {
		char *q;
		if (n == cap || *p < '0' || *p > '9')
			return -1;
		out[n++] = strtoull(p, &q, 10);
		p = q + (*q == ',');
	}
	return (long)n;
}

/* Shard a's per-prefix numbers into all[j] for its prefixes j = i, i + N,
 * ...; the entries must reach its violation's prefix or the last. 0 or 2. */
static int spread(const struct shard *s, unsigned i, unsigned nshards, uint64_t nprefixes,
		  const char *key, uint64_t *all, uint64_t *vp)
{
	size_t cap = (size_t)(nprefixes / nshards + 1);
	uint64_t *v = malloc(cap * sizeof *v);
	if (!v)
		return bad(s->path, "out of memory");
	long n = array_of(get(s, key), v, cap);
	const struct member *vm = get(s, "violation_prefix");
	*vp = UINT64_MAX;
	if (vm->len != 4 && (num(vm, vp) || *vp >= nprefixes || *vp % nshards != i)) {
		free(v);
		return bad(s->path, "its \"violation_prefix\" is not one of its prefixes");
	}
	uint64_t want = *vp != UINT64_MAX ? (*vp - i) / nshards + 1
		      : i < nprefixes ? (nprefixes - i + nshards - 1) / nshards : 0;
	if (n < 0 || (uint64_t)n != want) {
		free(v);
		fprintf(stderr, "%s:1: its \"%s\" does not have one number per prefix it ran\n",
			s->path, key);
		return 2;
	}
	for (long k = 0; k < n; k++)
		all[i + (uint64_t)k * nshards] = v[k];
	free(v);
	return 0;
}

/* The merged object of a split dfs: the prefixes up to the lowest failing
 * one (or all), as one process runs them; 1 with a violation, 0 without,
 * 2 on bad input. */
static int print_merged_dfs(struct shard *s, int n, const unsigned *idx)
{
	uint64_t np, tot[3] = {0}, best = UINT64_MAX, vp;
	int first = -1, exhausted = 1, st = num(get(&s[0], "dfs_prefixes"), &np) ||
		np > (UINT64_C(1) << 24) ? bad(s[0].path, "bad \"dfs_prefixes\"") : 0;
	static const char *const keys[] = {"prefix_runs", "prefix_steps", "prefix_pruned"};
	uint64_t *all = st ? NULL : calloc(3 * (size_t)np + 1, sizeof *all);
	if (!st && !all)
		st = bad(s[0].path, "out of memory");
	for (int a = 0; !st && a < n; a++) {
		for (int k = 0; !st && k < 3; k++)
			st = spread(&s[a], idx[a], (unsigned)n, np, keys[k], all + k * np, &vp);
		if (!st && vp < best) {
			best = vp;
			first = a;
		}
		exhausted &= get(&s[a], "exhausted")->len == 4; /* true */
	}
	for (uint64_t j = 0; !st && j < np && j <= best; j++)
		for (int k = 0; k < 3; k++)
			tot[k] += all[k * np + j];
	free(all);
	if (st)
		return st;
	struct json j;
	json_begin(&j, stdout);
	json_bool(&j, "merged", 1);
	json_int(&j, "shards", n);
	for (const char *const *k = same_dfs; *k; k++)
		json_raw(&j, *k, get(&s[0], *k)->v, get(&s[0], *k)->len);
	json_u64(&j, "runs", tot[0]);
	json_u64(&j, "steps", tot[1]);
	json_u64(&j, "pruned", tot[2]);
	json_bool(&j, "exhausted", exhausted && first < 0);
	char cov[400];
	const struct member *c0 = get(&s[0], "coverage");
	const char *tail = memmem(c0->v, c0->len, "pruned), ", 9);
	if (exhausted && first < 0 && tail) /* the bounds' words, as every shard says them */
		snprintf(cov, sizeof cov, "exhausted: %" PRIu64 " schedules (%" PRIu64 " pruned), %.*s",
			 tot[0], tot[2], (int)(c0->v + c0->len - 1 - (tail + 9)), tail + 9);
	else
		snprintf(cov, sizeof cov, "not exhausted: %" PRIu64 " schedules", tot[0]);
	json_string(&j, "coverage", cov);
	if (first >= 0) {
		json_u64(&j, "violation_prefix", best);
		json_raw(&j, "violation", get(&s[first], "violation")->v,
			 get(&s[first], "violation")->len);
	} else {
		json_null(&j, "violation_prefix");
		json_null(&j, "violation");
	}
	json_end(&j);
	return first >= 0;
}

int drive_merge(int n, char **paths)
{
	struct shard *s = calloc((size_t)n, sizeof *s);
	unsigned *idx = calloc((size_t)n, sizeof *idx), nshards = 0;
	int status = s && idx ? 0 : 2;
	for (int a = 0; !status && a < n; a++) {
		unsigned cnt;
		status = load(&s[a], paths[a], &idx[a], &cnt);
		if (!status && a && cnt != nshards)
			status = bad(paths[a], "another N than the first file's shard");
		nshards = cnt;
	}
	if (!status)
		status = agree(s, n, nshards, idx);
	if (!status)
		status = s[0].dfs ? print_merged_dfs(s, n, idx) : print_merged(s, n);
	for (int a = 0; s && a < n; a++)
		free(s[a].text);
	free(s);
	free(idx);
	return status;
}
