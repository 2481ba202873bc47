/*
 * The simulation's one source of randomness: splitmix64 from the run's seed.
 * Not cryptographic and not meant to be; every fault and every cardholder
 * decision of a run is drawn from it, in the one simulated thread, so that a
 * seed replays its run exactly.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stdbool.h>
#include <stdint.h>

#include "mix64.h"

struct sim_rng {
	uint64_t state;
};

static inline void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
	r->state = seed;
}

static inline uint64_t sim_rng_next(struct sim_rng *r)
{
	return mix64(r->state += MIX64_GOLDEN);
}

/* Uniform in [lo, hi] (hi >= lo). */
static inline uint64_t sim_rng_range(struct sim_rng *r, uint64_t lo, uint64_t hi)
{
	return lo + sim_rng_next(r) % (hi - lo + 1);
}

/* Uniform in [0, 1). */
static inline double sim_rng_unit(struct sim_rng *r)
{
	return (double)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline bool sim_rng_chance(struct sim_rng *r, double p)
{
	return p > 0 && sim_rng_unit(r) < p;
}

#endif
