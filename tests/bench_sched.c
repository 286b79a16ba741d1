/* Benchmarks of the scheduler and its coroutines. Prints one line per
 * figure, "bench: <name> <value> <unit>":
 *   sched_steps_per_s          two threads of sched_point(), random strategy
 *   sched_pingpong_steps_per_s two threads alternating (replay): every step
 *                              is a context switch
 *   sched_schedules_per_s      reset + 6 threads + ~100 steps, per schedule
 *   sched_switch_ns            one raw coroutine switch (coro_switch)
 *   sched_spawning_1m_steps_{pct,random}_s
 *                              seconds for a 1,000,000-step run in which a
 *                              spinning thread spawns a short-lived worker
 *                              every 20 steps (~50,000 threads, nearly all
 *                              exited) while another spins too: the shape
 *                              of a retrying handler (issue 7)
 * Exits non-zero if a run does not end as expected. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sched/coro.h"
#include "sched/sched.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_sched: %s\n", what);
	exit(1);
}

struct spinner {
	sched_t *s;
	uint64_t n;
};

static void spin_fn(void *arg)
{
	struct spinner *p = arg;

	for (uint64_t i = 0; i < p->n; i++)
		sched_point(p->s);
}

static double steps_per_s(const struct sched_opts *o, uint64_t per_thread)
{
	sched_t *s = sched_new(o);
	struct spinner sp[2];

	if (!s)
		die("sched_new");
	for (int i = 0; i < 2; i++) {
		sp[i] = (struct spinner){s, per_thread};
		if (sched_spawn(s, "spin", 0, spin_fn, &sp[i]) < 0)
			die("spawn");
	}
	double t0 = now();

	if (sched_run(s) != SCHED_DONE)
		die("steps run did not finish");
	double dt = now() - t0;
	double r = (double)sched_steps(s) / dt;

	sched_free(s);
	return r;
}

static double schedules_per_s(uint64_t nsched, uint64_t *steps)
{
	sched_t *s = sched_new(NULL);
	struct spinner sp[6];

	if (!s)
		die("sched_new");
	*steps = 0;
	double t0 = now();

	for (uint64_t k = 0; k < nsched; k++) {
		struct sched_opts o = {.strategy = SCHED_RANDOM, .seed = k};

		if (sched_reset(s, &o) != 0)
			die("reset");
		for (int i = 0; i < 6; i++) {
			sp[i] = (struct spinner){s, 15};
			if (sched_spawn(s, "w", 0, spin_fn, &sp[i]) < 0)
				die("spawn");
		}
		if (sched_run(s) != SCHED_DONE)
			die("schedule did not finish");
		*steps += sched_steps(s);
	}
	double dt = now() - t0;

	sched_free(s);
	return (double)nsched / dt;
}

static void worker_fn(void *arg)
{
	sched_t *s = arg;

	for (int i = 0; i < 10; i++)
		sched_point(s);
}

/* Spins with sched_yield (a retry loop), spawning a worker every 20. */
static void spawner_fn(void *arg)
{
	sched_t *s = arg;

	for (uint64_t i = 0;; i++) {
		if (i % 20 == 0 && sched_spawn(s, "worker", 0, worker_fn, s) < 0)
			die("spawn worker");
		sched_yield(s);
	}
}

static void yielder_fn(void *arg)
{
	for (;;)
		sched_yield(arg);
}

static double spawning_run_s(enum sched_strategy st, uint64_t steps)
{
	struct sched_opts o = {.strategy = st, .seed = 7, .max_steps = steps};
	sched_t *s = sched_new(&o);

	if (!s)
		die("sched_new");
	if (sched_spawn(s, "serve", 0, spawner_fn, s) < 0 ||
	    sched_spawn(s, "other", 0, yielder_fn, s) < 0)
		die("spawn");
	double t0 = now();

	if (sched_run(s) != SCHED_STEP_BOUND || sched_steps(s) != steps)
		die("spawning run did not reach its step bound");
	double dt = now() - t0;

	if (sched_nthreads(s) < (int)(steps / 100))
		die("spawning run spawned too few threads");
	sched_free(s);
	return dt;
}

/* Raw switches: main <-> one coroutine, back and forth. */
struct pingpong {
	struct coro main, co;
	uint64_t n;
};

static void pong(void *arg)
{
	struct pingpong *p = arg;

	coro_begin(&p->co);
	for (;;)
		coro_switch(&p->co, &p->main);
}

static double switch_ns(uint64_t rounds)
{
	struct coro_pool pool;
	struct coro_stack *st;
	struct pingpong p = {.n = rounds};

	coro_pool_init(&pool, 0);
	if (coro_pool_get(&pool, &st) != 0)
		die("stack");
	coro_make(&p.co, st, pong, &p);
	double t0 = now();

	for (uint64_t i = 0; i < rounds; i++)
		coro_switch(&p.main, &p.co);
	double dt = now() - t0;

	/* The coroutine is abandoned mid-loop; its stack is simply unmapped. */
	coro_pool_put(&pool, st);
	coro_pool_drain(&pool);
	return dt * 1e9 / (double)(2 * rounds);
}

int main(void)
{
	const uint64_t per_thread = 5000000;
	struct sched_opts rnd = {.strategy = SCHED_RANDOM, .seed = 1,
				 .max_steps = 4 * per_thread};
	uint64_t nalt = 2 * (per_thread + 1);
	uint32_t *alt = malloc(nalt * sizeof(*alt));

	if (!alt)
		die("malloc");
	for (uint64_t i = 0; i < nalt; i++)
		alt[i] = (uint32_t)(i & 1);
	struct sched_opts rep = {.strategy = SCHED_REPLAY, .replay = alt,
				 .replay_len = nalt,
				 .max_steps = 4 * per_thread};
	uint64_t steps;

	printf("bench: sched_steps_per_s %.0f steps/s\n",
	       steps_per_s(&rnd, per_thread));
	printf("bench: sched_pingpong_steps_per_s %.0f steps/s\n",
	       steps_per_s(&rep, per_thread));
	double sps = schedules_per_s(100000, &steps);

	printf("bench: sched_schedules_per_s %.0f schedules/s\n", sps);
	printf("bench: sched_schedule_steps %.0f steps\n",
	       (double)steps / 100000.0);
	printf("bench: sched_switch_ns %.2f ns\n", switch_ns(20000000));
	printf("bench: sched_spawning_1m_steps_pct_s %.3f s\n",
	       spawning_run_s(SCHED_PCT, 1000000));
	printf("bench: sched_spawning_1m_steps_random_s %.3f s\n",
	       spawning_run_s(SCHED_RANDOM, 1000000));
	free(alt);
	return 0;
}
