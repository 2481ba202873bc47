/*
 * splitmix64's finaliser: every input bit moves every output bit. One place for
 * what the hashes of ids and addresses (the HTTP rate limiter's sets) and the
 * small generators (the TCP port's jitter, the load generator's seeds, the
 * bank's fault dice, the simulation) each carried a copy of; fed a Weyl
 * sequence (state += MIX64_GOLDEN) it is the splitmix64 generator itself.
 */
#ifndef MIX64_H
#define MIX64_H

#include <stdint.h>

#define MIX64_GOLDEN 0x9e3779b97f4a7c15ull

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

#endif
