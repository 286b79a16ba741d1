/* sched/rng.h — the scheduler's deterministic pseudo-random numbers.
 *
 * Contract: header-only, no libc rand, no global state. A `struct rng` is
 * xoshiro256** (Blackman & Vigna), seeded through splitmix64 so that any
 * 64-bit seed, including 0, gives a well-mixed state. The same seed gives the
 * same stream on every machine. rng_below(r, n) is uniform in [0, n) with no
 * modulo bias (Lemire's multiply-and-reject); n must be > 0.
 */
#ifndef UFFDLAB_SCHED_RNG_H
#define UFFDLAB_SCHED_RNG_H

#include <stdint.h>

struct rng {
	uint64_t s[4];
};

/* splitmix64: one step of the seeding generator; advances *x. */
static inline uint64_t rng_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Seed from a splitmix64 sequence; callers needing several independent
 * streams from one seed keep drawing from the same *x. */
static inline void rng_seed_from(struct rng *r, uint64_t *x)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = rng_splitmix64(x);
}

static inline void rng_seed(struct rng *r, uint64_t seed)
{
	rng_seed_from(r, &seed);
}

static inline uint64_t rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return result;
}

static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
	uint64_t low = (uint64_t)m;

	if (low < n) {
		/* Reject the few values that would make some results more
		 * likely than others: threshold = 2^64 mod n. */
		uint64_t threshold = -n % n;

		while (low < threshold) {
			m = (unsigned __int128)rng_next(r) * n;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

#endif
