/*
 * A small, fast, seedable generator (splitmix64 seeding a xorshift64*) for
 * card picks, amounts and exponential gaps. Deterministic for a given seed so
 * that schedule tests and runs are reproducible; not for anything secret.
 */
#ifndef LOADGEN_RANDOM_H
#define LOADGEN_RANDOM_H

#include <math.h>
#include <stdint.h>

#include "mix64.h"

struct loadgen_random {
	uint64_t state;
};

static inline void loadgen_random_seed(struct loadgen_random *r, uint64_t seed)
{
	/* splitmix64 scrambles small or similar seeds into a well-mixed non-zero state. */
	uint64_t z = mix64(seed + MIX64_GOLDEN);
	r->state = z ? z : 0x2545f4914f6cdd1dull;
}

static inline uint64_t loadgen_random_next(struct loadgen_random *r)
{
	uint64_t x = r->state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double loadgen_random_unit(struct loadgen_random *r)
{
	return (double)(loadgen_random_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [low, high] (inclusive); the modulo bias is below 2^-40 for our ranges. */
static inline uint64_t loadgen_random_between(struct loadgen_random *r, uint64_t low, uint64_t high)
{
	if (high <= low)
		return low;
	uint64_t span = high - low + 1;
	return span == 0 ? loadgen_random_next(r) : low + loadgen_random_next(r) % span;
}

#endif
