/* Reproducible pseudo-random inputs for tests: xorshift64* from a fixed seed, so every run feeds the same ones. */
#ifndef TEST_RNG_H
#define TEST_RNG_H

#include <stdint.h>

struct test_rng {
	uint64_t state; /* the seed; never 0 (xorshift would stay at 0) */
};

/* The next 64 pseudo-random bits. */
uint64_t test_rng_next(struct test_rng *r);

#endif
