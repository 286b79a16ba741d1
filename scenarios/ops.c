/* scenarios/ops.c — `thread NAME ROLE` lines and the operations of a thread:
 * which ops exist, which role may use them, their arguments and the optional
 * trailing `after T.k`. See scenarios/README.md for the language.
 */
#include <string.h>

#include "scenarios/parse.h"

enum args {
	ARGS_NONE,       /* fork, exit, pause, resume, export */
	ARGS_PAGE,       /* read P */
	ARGS_PAGE_VALUE, /* write P V */
	ARGS_RANGE,      /* remove/unmap/remap/prefetch P..Q or P */
	ARGS_PAGE_COUNT, /* source-fail P N */
};

static const struct op_info {
	const char *name;
	enum scn_op_kind kind;
	enum scn_role role;
	enum args args;
} op_table[] = {
	{"read", SCN_READ, SCN_GUEST, ARGS_PAGE},
	{"write", SCN_WRITE, SCN_GUEST, ARGS_PAGE_VALUE},
	{"exit", SCN_EXIT, SCN_GUEST, ARGS_NONE},
	{"remove", SCN_REMOVE, SCN_BALLOON, ARGS_RANGE},
	{"unmap", SCN_UNMAP, SCN_BALLOON, ARGS_RANGE},
	{"remap", SCN_REMAP, SCN_BALLOON, ARGS_RANGE},
	{"fork", SCN_FORK, SCN_BALLOON, ARGS_NONE},
	{"pause", SCN_PAUSE, SCN_CONTROL, ARGS_NONE},
	{"resume", SCN_RESUME, SCN_CONTROL, ARGS_NONE},
	{"prefetch", SCN_PREFETCH, SCN_CONTROL, ARGS_RANGE},
	{"source-fail", SCN_SOURCE_FAIL, SCN_CONTROL, ARGS_PAGE_COUNT},
	{"export", SCN_EXPORT, SCN_CONTROL, ARGS_NONE},
};

#define N_OPS (sizeof(op_table) / sizeof(op_table[0]))

/* A storage blip is a handful of failed reads; a count this large can only
 * be a typo, and N = 0 already says "for good". */
#define SCN_SOURCE_FAIL_MAX 65535
/* model/kernel_impl.h MK_MAX_MM - 1: the guest process and its children */
#define SCN_MAX_FORKS 3

static const char *const role_names[] = {
	[SCN_GUEST] = "guest",
	[SCN_BALLOON] = "balloon",
	[SCN_CONTROL] = "control",
};

const char *scn_op_name(enum scn_op_kind k)
{
	size_t i;

	for (i = 0; i < N_OPS; i++)
		if (op_table[i].kind == k)
			return op_table[i].name;
	return "?";
}

const char *scn_role_name(enum scn_role r)
{
	if (r >= SCN_GUEST && r <= SCN_CONTROL)
		return role_names[r];
	return "?";
}

static const struct op_info *find_op(const char *word)
{
	size_t i;

	for (i = 0; i < N_OPS; i++)
		if (!strcmp(op_table[i].name, word))
			return &op_table[i];
	return NULL;
}

int scn_is_op(const char *word)
{
	return find_op(word) != NULL;
}

static int valid_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			     "0123456789_");

	return n > 0 && s[n] == '\0' && !(s[0] >= '0' && s[0] <= '9');
}

static int check_name(struct scn_ctx *c, const struct scn_tok *t,
		      const char *name)
{
	if (!valid_name(name))
		return scn_fail_at(c, t,
				   "invalid thread name '%.40s' (expected [A-Za-z_][A-Za-z0-9_]*)",
				   name);
	if (strlen(name) >= SCN_NAME_MAX)
		return scn_fail_at(c, t,
				   "thread name too long (%zu characters, max %d)",
				   strlen(name), SCN_NAME_MAX - 1);
	return 0;
}

int scn_parse_thread(struct scn_ctx *c)
{
	struct scenario *s = c->s;
	const struct scn_tok *t = c->l.tok;
	struct scn_thread *th;
	int i, role;

	/* Ops index pages, so the memory must be known by the first op. */
	if (s->nthreads == 0 && !c->once_line[SCN_D_MEMORY])
		return scn_fail_at(c, &t[0],
				   "missing 'memory' directive before the first thread");
	if (s->nthreads == SCN_MAX_THREADS)
		return scn_fail_at(c, &t[0], "too many threads (max %d)",
				   SCN_MAX_THREADS);
	if (c->l.ntok < 2)
		return scn_fail_after(c, &t[0], "expected a thread name");
	if (check_name(c, &t[1], t[1].s))
		return -1;
	for (i = 0; i < s->nthreads; i++)
		if (!strcmp(s->threads[i].name, t[1].s))
			return scn_fail_at(c, &t[1],
					   "duplicate thread '%s' (first at line %d)",
					   t[1].s, c->thread_line[i]);
	if (c->l.ntok < 3)
		return scn_fail_after(c, &t[1],
				      "expected a role: guest, balloon or control");
	for (role = SCN_GUEST; role <= SCN_CONTROL; role++)
		if (!strcmp(t[2].s, role_names[role]))
			break;
	if (role > SCN_CONTROL)
		return scn_fail_at(c, &t[2],
				   "unknown role '%.40s' (expected guest, balloon or control)",
				   t[2].s);
	if (scn_no_more(c, 3))
		return -1;
	th = &s->threads[s->nthreads];
	strcpy(th->name, t[1].s);
	th->role = (enum scn_role)role;
	c->thread_line[s->nthreads++] = c->l.no;
	return 0;
}

/* Tokens i and i+1 as "after T.k"; stores T and k for order.c. */
static int parse_after(struct scn_ctx *c, int i, struct scn_after *af)
{
	const struct scn_thread *self = &c->s->threads[c->s->nthreads - 1];
	const struct scn_tok *t = &c->l.tok[i];
	char name[SCN_LINE_MAX + 1];
	const char *dot;
	int rc;

	if (strcmp(t->s, "after"))
		return scn_fail_at(c, t, "unexpected '%.40s'", t->s);
	if (i + 1 >= c->l.ntok)
		return scn_fail_after(c, t, "expected THREAD.OP after 'after'");
	t++;
	dot = strchr(t->s, '.');
	if (!dot)
		return scn_fail_at(c, t,
				   "invalid 'after' target '%.40s' (expected THREAD.OP)",
				   t->s);
	memcpy(name, t->s, (size_t)(dot - t->s));
	name[dot - t->s] = '\0';
	if (check_name(c, t, name))
		return -1;
	rc = scn_parse_u64(dot + 1, &af->k);
	if (rc == -2)
		return scn_fail_at(c, t,
				   "operation index in '%.40s' does not fit in 64 bits",
				   t->s);
	if (rc)
		return scn_fail_at(c, t,
				   "invalid 'after' target '%.40s' (expected THREAD.OP)",
				   t->s);
	if (af->k == 0)
		return scn_fail_at(c, t,
				   "operation index in '%.40s' starts at 1",
				   t->s);
	if (!strcmp(name, self->name))
		return scn_fail_at(c, t,
				   "'after' on its own thread '%s' (program order already orders it)",
				   name);
	strcpy(af->name, name);
	af->col = t->col;
	return scn_no_more(c, i + 2);
}

/* Argument tokens of each kind: `after` may follow them. */
static const int nargs[] = {
	[ARGS_NONE] = 0,
	[ARGS_PAGE] = 1,
	[ARGS_PAGE_VALUE] = 2,
	[ARGS_RANGE] = 1,
	[ARGS_PAGE_COUNT] = 2,
};

static int parse_args(struct scn_ctx *c, const struct op_info *oi,
		      struct scn_op *op)
{
	uint64_t pages = (uint64_t)c->s->pages;

	switch (oi->args) {
	case ARGS_NONE:
		return 0;
	case ARGS_PAGE:
		return scn_tok_page(c, 1, &op->a);
	case ARGS_PAGE_VALUE:
		if (scn_tok_page(c, 1, &op->a))
			return -1;
		return scn_tok_num(c, 2, "value", 1, 255, &op->b);
	case ARGS_RANGE:
		return scn_tok_range(c, 1, pages, &op->a, &op->b);
	case ARGS_PAGE_COUNT:
		if (scn_tok_page(c, 1, &op->a))
			return -1;
		return scn_tok_num(c, 2, "count", 0, SCN_SOURCE_FAIL_MAX,
				   &op->b);
	}
	return scn_fail_at(c, &c->l.tok[0], "internal: bad argument kind");
}

int scn_parse_op(struct scn_ctx *c)
{
	struct scenario *s = c->s;
	int ti = s->nthreads - 1, next;
	struct scn_thread *th = &s->threads[ti];
	const struct scn_tok *kw = &c->l.tok[0];
	const struct op_info *oi = find_op(kw->s);
	struct scn_op *op;

	if (!oi)
		return scn_fail_at(c, kw, "unknown operation '%.40s'", kw->s);
	if (oi->role != th->role)
		return scn_fail_at(c, kw,
				   "'%s' is a %s operation; thread '%s' is a %s",
				   oi->name, role_names[oi->role], th->name,
				   role_names[th->role]);
	if (th->nops == SCN_MAX_OPS)
		return scn_fail_at(c, kw,
				   "too many operations in thread '%s' (max %d)",
				   th->name, SCN_MAX_OPS);
	if (oi->kind == SCN_FORK) {
		int forks = 0;
		for (int t = 0; t <= ti; t++)
			for (int i = 0; i < s->threads[t].nops; i++)
				forks += s->threads[t].ops[i].kind == SCN_FORK;
		/* the kernel has no such limit: refuse what the model would
		 * answer differently (EAGAIN) */
		if (forks >= SCN_MAX_FORKS)
			return scn_fail_at(c, kw,
					   "at most %d fork operations per scenario (the simulated kernel's limit of %d child processes)",
					   SCN_MAX_FORKS, SCN_MAX_FORKS);
	}
	op = &th->ops[th->nops];
	op->kind = oi->kind;
	op->after_thread = -1;
	op->after_op = -1;
	op->line = c->l.no;
	if (parse_args(c, oi, op))
		return -1;
	next = 1 + nargs[oi->args];
	if (next < c->l.ntok &&
	    parse_after(c, next, &c->after[ti][th->nops]))
		return -1;
	th->nops++;
	return 0;
}
