/* uffdlab — the command line: explore, replay, list, run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "swarm.h"
#include "uffdlab.h"
#include "handler/handler.h"
#include "handler/variants.h"
#include "model/invariant.h"
#include "model/kernel.h"
#include "scenarios/lex.h"
#include "scenarios/library.h"
#include "scenarios/scenario.h"
#include "sched/strategy.h"
#include "real/stress.h"
#include "viz/viz.h"
#include "model/version.h"
#include "sched/trace.h"

/* One row per command: its synopsis (every flag its parser takes: the
 * usage, `CMD --help`, the man page and the shell completion all come from
 * or are checked against these lines) and one line of what it does. */
struct command {
	const char *name;
	const char *synopsis;
	const char *what;
	int (*run)(int argc, char **argv);
};

static const char exit_text[] =
	"exit: 0 as expected, 1 a violation (or run: an expectation failed; replay --real:\n"
	"      confirmed), 2 bad usage or input, 3 a determinism bug, 5 replay --real diverged,\n"
	"      77 skipped (the reason is printed)\n";

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "uffdlab: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (uffdlab --help)\n");
	return 2;
}

/* The one positional argument a command takes: an unknown option or a
 * second argument is a usage error. */
static int positional(const char *f, const char **slot)
{
	if (f[0] == '-')
		return usage_error("unknown or incomplete option '%s'", f);
	if (*slot)
		return usage_error("unexpected argument '%s'", f);
	*slot = f;
	return 0;
}

/* Decimal or 0x hex digits only, as the scenario language: no sign, no
 * space, no octal (strtoull alone takes " -1" as 2^64-1 and 040 as 32). */
static int num_arg(const char *flag, const char *s, uint64_t *out)
{
	if (!s)
		return usage_error("%s needs a value", flag);
	int r = scn_parse_u64(s, out);
	if (r == -2) {
		fprintf(stderr, "uffdlab: %s: '%s' is out of range (at most 2^64-1)\n", flag, s);
		return 2;
	}
	if (r) {
		fprintf(stderr, "uffdlab: %s: '%s' is not a non-negative integer (decimal or 0x hex)\n",
			flag, s);
		return 2;
	}
	return 0;
}

/* Seconds: digits with at most one '.', finite, in (0, 1e7]. */
static int seconds_arg(const char *s, double *out)
{
	size_t digits = strspn(s, "0123456789"), dot = s[digits] == '.';
	size_t frac = dot ? strspn(s + digits + 1, "0123456789") : 0;
	if (!digits && !frac)
		return -1;
	if (s[digits + dot + frac] != '\0')
		return -1;
	char *end;
	*out = strtod(s, &end);
	return *end || !(*out > 0 && *out <= 1e7) ? -1 : 0;
}

/* The options of explore that belong to a strategy: --time, --depth,
 * --bound, --pct-k (bit in *given). 1 if f is one of them and was taken
 * with its value v, 0 if f is another option, 2 after an error line. */
static int strategy_opt(struct explore_args *a, unsigned *given, const char *f,
			const char *v)
{
	uint64_t n;
	if (strcmp(f, "--time") == 0 && v) {
		if (seconds_arg(v, &a->seconds))
			return usage_error("--time: '%s' is not a positive number of seconds (at most 1e7)", v);
		*given |= STRATEGY_OPT_TIME;
	} else if (strcmp(f, "--depth") == 0) {
		if (num_arg(f, v, &n))
			return 2;
		if (n < 1 || n > 100)
			return usage_error("%s must be between 1 and 100", f);
		a->depth = (int)n;
		*given |= STRATEGY_OPT_DEPTH;
	} else if (strcmp(f, "--bound") == 0) {
		if (num_arg(f, v, &n))
			return 2;
		if (n > 8)
			return usage_error("%s must be at most 8", f);
		a->bound = (unsigned)n;
		*given |= STRATEGY_OPT_BOUND;
	} else if (strcmp(f, "--preemptions") == 0) {
		if (num_arg(f, v, &n))
			return 2;
		if (n > 64)
			return usage_error("%s must be at most 64", f);
		a->preemptions = (unsigned)n;
		a->preempt_bounded = 1;
		*given |= STRATEGY_OPT_BOUND;
	} else if (strcmp(f, "--pct-k") == 0) {
		if (num_arg(f, v, &a->pct_k))
			return 2;
		*given |= STRATEGY_OPT_PCT_K;
	} else {
		return 0;
	}
	return 1;
}

/* --shard i/N: 0 <= i < N <= 4096. 1 taken, 2 after an error line. */
static int shard_arg(struct explore_args *a, const char *v)
{
	uint64_t i, n;
	const char *slash = v ? strchr(v, '/') : NULL;
	char num[32];
	if (!slash || (size_t)(slash - v) >= sizeof num)
		return usage_error("--shard: '%s' is not i/N", v ? v : "");
	snprintf(num, sizeof num, "%.*s", (int)(slash - v), v);
	if (scn_parse_u64(num, &i) || scn_parse_u64(slash + 1, &n) || n < 1 || n > 4096 || i >= n)
		return usage_error("--shard: '%s' is not i/N with 0 <= i < N <= 4096", v);
	a->shard = (unsigned)i;
	a->nshards = (unsigned)n;
	return 1;
}

/* Every other option of explore taking a value: 1 taken, 0 not one, 2 error. */
static int explore_opt(struct explore_args *a, const char **strategy, const char *f,
		       const char *v)
{
	if (strcmp(f, "--handler") == 0 && v)
		a->handler = v;
	else if (strcmp(f, "--variant") == 0 && v && !*v)
		return usage_error("%s needs a variant name (uffdlab list)", f), 2;
	else if (strcmp(f, "--variant") == 0 && v)
		a->variant = v;
	else if (strcmp(f, "--strategy") == 0 && v)
		*strategy = v;
	else if (strcmp(f, "--kernel") == 0 && v) {
		const struct mk_profile *kp = mk_profile_named(v);
		if (!kp)
			return usage_error("--kernel: '%s' is not a kernel profile (6.1, 6.12, 6.18)", v), 2;
		a->kver = (int)kp->kver;
	} else if (strcmp(f, "--out") == 0 && v)
		a->out_dir = v;
	else if (strcmp(f, "--seed") == 0)
		return num_arg(f, v, &a->seed) ? 2 : 1;
	else if (strcmp(f, "--max-steps") == 0)
		return num_arg(f, v, &a->max_steps) ? 2 : 1;
	else if (strcmp(f, "--jobs") == 0) {
		uint64_t n;
		if (num_arg(f, v, &n))
			return 2;
		if (n > 256)
			return usage_error("%s must be between 0 and 256", f);
		a->jobs = (unsigned)n;
		a->no_split = n == 0; /* dfs: the unsplit search, here */
	} else if (strcmp(f, "--shard") == 0) {
		return shard_arg(a, v);
	} else if (strcmp(f, "--proof-runs") == 0) {
		if (num_arg(f, v, &a->proof_runs))
			return 2;
		if (!a->proof_runs)
			return usage_error("%s must be at least 1", f);
	} else if (strcmp(f, "--proof-steps") == 0) {
		if (num_arg(f, v, &a->proof_steps))
			return 2;
		if (!a->proof_steps)
			return usage_error("%s must be at least 1", f);
	}
	else if (strcmp(f, "--runs") == 0) {
		if (num_arg(f, v, &a->runs))
			return 2;
		if (!a->runs)
			return usage_error("%s must be at least 1", f);
	} else
		return 0;
	return 1;
}

static int cmd_explore(int argc, char **argv)
{
	struct explore_args a = {.handler = NULL, .out_dir = "out", .depth = 3,
				 .bound = EXPLORE_NO_BOUND};
	const char *strategy = "random";
	unsigned given = 0; /* the strategy options given (sched/strategy.h) */
	for (int i = 2; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int r = explore_opt(&a, &strategy, f, v);
		if (!r)
			r = strategy_opt(&a, &given, f, v);
		if (r == 2)
			return 2;
		if (r == 1)
			i++;
		else if (strcmp(f, "--json") == 0)
			a.json = 1;
		else if (strcmp(f, "--no-shrink") == 0)
			a.no_shrink = 1;
		else if (strcmp(f, "--all") == 0)
			a.all_steps = 1;
		else if (strcmp(f, "--reduce") == 0 || strcmp(f, "--no-reduce") == 0) {
			a.reduce = f[2] == 'r' ? 1 : -1;
			given |= STRATEGY_OPT_BOUND; /* dfs only */
		} else if (strcmp(f, "--no-retry-cut") == 0) {
			a.no_retry_cut = 1;
			given |= STRATEGY_OPT_BOUND; /* dfs only */
		}
		else if (positional(f, &a.scenario))
			return 2;
	}
	if (!a.scenario)
		return usage_error("%s", "explore needs a SCENARIO file");
	if (a.runs && a.seconds > 0)
		return usage_error("%s", "--runs and --time exclude each other");
	char err[256];
	const struct sched_strategy_ops *ops = sched_strategy_parse(strategy, given, err,
								    sizeof err);
	if (!ops)
		return usage_error("%s", err);
	a.strategy = ops->id;
	/* dfs splits by default, over every core: its answer (schedules,
	 * first violation) is the same for any split (docs/DESIGN.md); a run
	 * budget caps the unsplit search, which --jobs 0 also asks for */
	if ((ops->flags & STRATEGY_EXHAUSTIVE) && !a.jobs && !a.nshards && !a.runs &&
	    !a.no_split) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		a.jobs = cores > 0 && cores <= 64 ? (unsigned)cores : 1;
	}
	if ((a.jobs || a.nshards) && (ops->flags & STRATEGY_EXHAUSTIVE) && a.runs)
		return usage_error("%s", "--runs with dfs --jobs/--shard: a split search runs every prefix's schedules");
	if ((a.jobs > 1 || a.nshards > 1) && !(ops->flags & (STRATEGY_SEEDED | STRATEGY_EXHAUSTIVE)))
		return usage_error("%s", "--jobs and --shard split the seeds of random and pct, and the prefixes of dfs");
	if ((a.jobs > 1 || a.nshards > 1) && a.seconds > 0)
		return usage_error("%s", "--jobs and --shard need --runs, not --time (shards must agree on the runs)");
	return drive_explore(&a);
}

/* One option of swarm taking a value: 1 taken, 0 not one, 2 error. */
static int swarm_opt(struct swarm_args *a, const char *f, const char *v)
{
	uint64_t n;
	if (strcmp(f, "--handler") == 0 && v)
		a->handler = v;
	else if (strcmp(f, "--variant") == 0 && v)
		a->variant = v;
	else if (strcmp(f, "--out") == 0 && v)
		a->out_dir = v;
	else if (strcmp(f, "--seed") == 0)
		return num_arg(f, v, &a->seed) ? 2 : 1;
	else if (strcmp(f, "--scenarios") == 0 || strcmp(f, "--budget") == 0 ||
		 strcmp(f, "--jobs") == 0) {
		if (num_arg(f, v, &n))
			return 2;
		if (!n || (f[2] == 'j' && n > 64))
			return usage_error("%s must be at least 1 (jobs: at most 64)", f);
		if (f[2] == 's')
			a->scenarios = n;
		else if (f[2] == 'j')
			a->jobs = (int)n;
		else
			a->budget.random = a->budget.pct = a->budget.dfs = n;
	} else if (strcmp(f, "--time") == 0) {
		if (!v || seconds_arg(v, &a->seconds))
			return usage_error("%s needs seconds, a number in (0, 1e7]", f);
	} else
		return 0;
	return 1;
}

static int cmd_swarm(int argc, char **argv)
{
	struct swarm_args a = {.handler = handler_default(), .variant = "", .jobs = 1,
			       .out_dir = "out/swarm",
			       .budget = {SWARM_BUDGET_DEFAULT, SWARM_BUDGET_DEFAULT,
					  SWARM_BUDGET_DEFAULT, 0}};
	int timed = 0;
	for (int i = 2; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int r = swarm_opt(&a, f, v);
		if (r == 2)
			return 2;
		if (r == 1) {
			timed |= strcmp(f, "--time") == 0;
			i++;
		} else if (strcmp(f, "--events") == 0)
			a.events = 1;
		else if (strcmp(f, "--no-shrink") == 0)
			a.no_shrink = 1;
		else
			return usage_error("unknown or incomplete option '%s'", f);
	}
	if (timed && a.scenarios)
		return usage_error("%s", "--scenarios and --time exclude each other");
	if (!timed && !a.scenarios)
		a.seconds = 10;
	if (!handler_find(a.handler))
		return usage_error("unknown handler '%s' (uffdlab list)", a.handler);
	return drive_swarm(&a);
}

static int cmd_replay(int argc, char **argv)
{
	const char *trace = NULL, *out = NULL;
	int json = 0, real = 0;
	uint64_t repeat = 1, ps = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--real") == 0)
			real = 1;
		else if (strcmp(argv[i], "--repeat") == 0) {
			if (num_arg(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &repeat))
				return 2;
			if (!repeat || repeat > 10000)
				return usage_error("%s must be between 1 and 10000", argv[i]);
			i++;
		} else if (strcmp(argv[i], "--page-size") == 0 && i + 1 < argc) {
			const char *v = argv[++i];
			if (strcmp(v, "4k") && strcmp(v, "2m"))
				return usage_error("--page-size: '%s' is not 4k or 2m", v);
			ps = v[0] == '2' ? 2u << 20 : 4096;
		}
		else if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (positional(argv[i], &trace))
			return 2;
	}
	if (!trace)
		return usage_error("%s", "replay needs a TRACE file");
	if (!real && (repeat != 1 || ps))
		return usage_error("%s", "--repeat and --page-size go with --real");
	if (real && out)
		return usage_error("%s", "--out does not go with --real");
	if (real)
		return drive_replay_real(trace, (int)repeat, ps, json);
	return drive_replay(trace, out, json);
}

static int cmd_merge(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (argv[i][0] == '-')
			return usage_error("unknown option '%s'", argv[i]);
	if (argc < 3)
		return usage_error("%s", "merge needs the JSON files of an explore's shards");
	return drive_merge(argc - 2, argv + 2);
}

static int cmd_shrink(int argc, char **argv)
{
	const char *trace = NULL, *out = NULL;
	struct proof_budget pb = {0, 0};
	int json = 0;
	for (int i = 2; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if ((strcmp(f, "-o") == 0 || strcmp(f, "--out") == 0) && v) {
			out = v;
			i++;
		} else if (strcmp(f, "--proof-runs") == 0 || strcmp(f, "--proof-steps") == 0) {
			uint64_t *to = strcmp(f, "--proof-runs") == 0 ? &pb.runs : &pb.steps;
			if (num_arg(f, v, to))
				return 2;
			if (!*to)
				return usage_error("%s must be at least 1", f);
			i++;
		} else if (strcmp(f, "--json") == 0) {
			json = 1;
		} else if (positional(f, &trace)) {
			return 2;
		}
	}
	if (!trace)
		return usage_error("%s", "shrink needs a TRACE file");
	return drive_shrink(trace, out, pb, json);
}

/* Every strategy --strategy takes, with its line of help. */
static void print_strategies(const char *title)
{
	fputs(title, stdout);
	for (const struct sched_strategy_ops *const *o = sched_strategies; *o; o++)
		if ((*o)->flags & STRATEGY_CLI)
			printf("  %-8s %s\n", (*o)->name, (*o)->help);
}

static int cmd_list(int argc, char **argv)
{
	char lib[4096];
	const char *dir = argc > 2 ? argv[2] : scn_library(lib, sizeof lib);
	static char names[512][256];
	int n = scn_list_dir(dir, names, 512);
	int nh;
	const struct handler_desc *const *hs = handler_list(&nh);
	printf("handlers (the first is the default):\n");
	for (int h = 0; h < nh; h++)
		printf("  %-24s %s\n", hs[h]->name, hs[h]->what);
	printf("invariants (model/invariant.c; checked at the layers named):\n");
	for (const struct invariant *i = inv_table; i->name; i++) {
		char layers[96] = "";
		for (int l = 0; l < INV_NLAYERS; l++)
			if (i->layers & (1u << l))
				snprintf(layers + strlen(layers), sizeof layers - strlen(layers), "%s%s",
					 layers[0] ? "," : "", inv_layer_name((enum inv_layer)l));
		printf("  %-24s %-14s %s\n", i->name, layers, i->meaning);
	}
	printf("outcomes (not invariants):\n");
	for (const struct inv_outcome *o = inv_outcomes; o->name; o++)
		printf("  %-24s %s\n", o->name, o->meaning);
	print_strategies("strategies:\n");
	printf("variants:\n");
	for (const struct variant_info *v = variant_table; v->name; v++)
		printf("  %-28s %-11s into %-9s shown by %s (%s)\n      %s\n", v->name, v->bug,
		       v->handler, v->scenario, v->expect, v->what);
	if (n < 0 && argc <= 2) { /* no library here: not bad input */
		printf("scenarios: no library found (beside an installed binary, $UFFDLAB_SCENARIOS, or ./scenarios)\n");
		return 0;
	}
	printf("scenarios (%s):\n", dir);
	if (n < 0) {
		fprintf(stderr, "uffdlab: %s: %s\n", dir, strerror(-n));
		return 2;
	}
	for (int i = 0; i < n; i++)
		printf("  %s\n", names[i]);
	return 0;
}

int cmd_run(int argc, char **argv);

static int cmd_real(int argc, char **argv)
{
	const char *path = NULL, *handler = handler_default(), *variant = NULL;
	uint64_t iterations = 100;
	for (int i = 2; i < argc; i++) {
		const char *f = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(f, "--handler") == 0 && v) {
			handler = v;
			i++;
		} else if (strcmp(f, "--variant") == 0 && v) {
			if (!*v)
				return usage_error("%s needs a variant name (uffdlab list)", f);
			variant = v;
			i++;
		} else if (strcmp(f, "--iterations") == 0) {
			if (num_arg(f, v, &iterations))
				return 2;
			if (!iterations)
				return usage_error("%s must be at least 1", f);
			i++;
		} else if (positional(f, &path)) {
			return 2;
		}
	}
	if (!path)
		return usage_error("%s", "real needs a SCENARIO file");
	static struct scenario scn;
	char err[512];
	char where[4096];
	if (scn_parse_file(scn_resolve(path, where, sizeof where), &scn, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	uint64_t bits = 0;
	char msg[160];
	if (variant_parse_list(handler, variant, &bits, msg, sizeof msg))
		return usage_error("%s", msg);
	struct real_stress_result r;
	real_stress_run(&scn, handler, bits, iterations, &r);
	if (r.skipped) {
		/* 77, as automake's and meson's test runners read a skip: a job
		 * must not mistake "could not run here" for "passed" */
		printf("%s: %s on hardware: skipped: %s\n", scn.name, handler, r.text);
		return 77;
	}
	if (r.violated) {
		printf("%s: %s on hardware: VIOLATION %s in iteration %llu: %s\n", scn.name, handler,
		       r.name, (unsigned long long)r.iterations + 1, r.text);
		return 1;
	}
	printf("%s: %s on hardware: no violation in %llu iterations (%llu operations, %.0f ms)\n",
	       scn.name, handler, (unsigned long long)r.iterations, (unsigned long long)r.ops, r.ms);
	return 0;
}

static int cmd_viz(int argc, char **argv)
{
	const char *trace = NULL;
	int png = 0;
	struct viz_opts o;
	viz_opts_init(&o);
	for (int i = 2; i < argc; i++) {
		const char *f = argv[i];
		uint64_t n;
		if (strcmp(f, "--png") == 0) {
			png = 1;
		} else if (strcmp(f, "--all") == 0) {
			o.head = VIZ_ALL;
			o.all = 1; /* scheduler noise too */
		} else if (strcmp(f, "--head") == 0 || strcmp(f, "--tail") == 0) {
			if (num_arg(f, i + 1 < argc ? argv[i + 1] : NULL, &n))
				return 2;
			if (n > 1000000)
				return usage_error("%s: at most 1000000 steps", f);
			if (f[2] == 'h')
				o.head = n;
			else
				o.tail = n;
			i++;
		} else if (positional(f, &trace)) {
			return 2;
		}
	}
	if (!trace)
		return usage_error("%s", "viz needs a TRACE file");
	char err[700];
	if (viz_trace_to(trace, &o, png ? "png" : "svg", err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	return 0;
}

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct command commands[] = {
	{"explore",
	 "SCENARIO [--handler NAME] [--variant NAME[,NAME]] [--strategy STRATEGY] [--seed N]\n"
	 "        [--runs N | --time SECONDS] [--depth D] [--pct-k K] (pct)\n"
	 "        [--bound B] [--preemptions P] [--reduce | --no-reduce] [--no-retry-cut] (dfs)\n"
	 "        [--jobs N] [--shard I/N] (random, pct: seeds; dfs: prefixes, --jobs default\n"
	 "        the cores; --jobs 0 the unsplit search)\n"
	 "        [--max-steps N] [--no-shrink] [--proof-runs N] [--proof-steps N] [--all]\n"
	 "        [--json] [--out DIR]\n"
	 "        [--kernel 6.1|6.12|6.18]",
	 "explore schedules of a scenario; write the trace and picture of the first violation,\n"
	 "        and beside them its minimal failure (X.min.trace, X.min.scn)",
	 cmd_explore},
	{"merge", "SHARD.json...",
	 "merge the --json outputs of explore --shard i/N (i = 0..N-1): the totals and the first\n"
	 "        violation (lowest seed; dfs: lowest prefix) of one run over all, for any N",
	 cmd_merge},
	{"shrink", "TRACE [-o OUT] [--proof-runs N] [--proof-steps N] [--json]",
	 "shrink a failure to its minimal one: fewest preemptions, then steps; threads, operations\n"
	 "        and pages dropped; the preemption count proved minimal by a bounded search",
	 cmd_shrink},
	{"replay", "TRACE [--out FILE] [--json]\n"
	 "        | --real TRACE [--repeat R] [--page-size 4k|2m] [--json]",
	 "replay a trace on the simulator (byte for byte, or where it differs), or with --real on\n"
	 "        hardware in the trace's order: confirmed (exit 1), not reproduced (0), diverged (5)",
	 cmd_replay},
	{"viz", "TRACE [--png] [--all | --head N --tail N]",
	 "draw a trace (DOT and SVG or PNG beside it)", cmd_viz},
	{"real", "SCENARIO [--handler NAME] [--variant NAME[,NAME]] [--iterations N]",
	 "run a scenario's threads on the real kernel with the same oracle", cmd_real},
	{"swarm",
	 "[--handler NAME] [--variant NAME[,NAME]] [--time SECONDS | --scenarios N] [--seed N]\n"
	 "        [--jobs N] [--budget N] [--events] [--no-shrink] [--out DIR]",
	 "explore generated scenarios (swarm testing); shrink, draw and print each violation's repro",
	 cmd_swarm},
	{"list", "[DIR]", "handlers, invariants, strategies, variants and scenarios", cmd_list},
	{"run", "[--runs N] [--jobs N] [--bound K] [--no-shrink|--shrink] [--sim-only] [--kernel 6.1|6.12|6.18]",
	 "the main job: the library on every handler, the zoo, the real kernel; exit 1 if anything\n"
	 "        came out otherwise than the scenarios' expect lines and the variant table say",
	 cmd_run},
	{"help", "[COMMAND]", "this text, or one command's", cmd_help},
	{"version", "", "the tool, trace format and semantics versions (also --version)",
	 cmd_version},
	{NULL, NULL, NULL, NULL},
};

static const struct command *command_find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void print_command(FILE *f, const struct command *c, const char *lead)
{
	fprintf(f, "%suffdlab %s%s%s\n", lead, c->name, c->synopsis[0] ? " " : "", c->synopsis);
	fprintf(f, "        %s\n", c->what);
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c = argc > 2 ? command_find(argv[2]) : NULL;
	if (argc > 2 && !c)
		return usage_error("help: unknown command '%s'", argv[2]);
	if (c)
		print_command(stdout, c, "usage: ");
	for (const struct command *k = commands; !c && k->name; k++)
		print_command(stdout, k, k == commands ? "usage: " : "       ");
	if (!c || strcmp(c->name, "explore") == 0)
		print_strategies("STRATEGY is one of:\n");
	fputs(exit_text, stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("uffdlab %s\ntrace format %d, semantics %d\nmodel kernel: Linux 6.18 rules (docs/KERNEL.md)\n",
	       UFFDLAB_VERSION, TRACE_VERSION, UFFDLAB_SEMANTICS);
	return 0;
}

static int asks_help(int argc, char **argv)
{
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

int uffdlab_main(int argc, char **argv)
{
	if (argc < 2)
		return usage_error("%s", "no command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		return cmd_help(1, argv);
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(argc, argv);
	const struct command *c = command_find(argv[1]);
	if (!c)
		return usage_error("unknown command '%s'", argv[1]);
	if (asks_help(argc, argv)) {
		char *help[] = {argv[0], "help", (char *)c->name, NULL};
		return cmd_help(3, help);
	}
	return c->run(argc, argv);
}

#ifdef UFFDLAB_MAIN /* the uffdlab binary; the library has only uffdlab_main */
int main(int argc, char **argv)
{
	return uffdlab_main(argc, argv);
}
#endif
