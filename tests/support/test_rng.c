#include "test_rng.h"

uint64_t test_rng_next(struct test_rng *r)
{
	r->state ^= r->state >> 12;
	r->state ^= r->state << 25;
	r->state ^= r->state >> 27;
	return r->state * 2685821657736338717ull;
}
