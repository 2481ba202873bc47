/*
 * A token bucket's arithmetic, with the time passed in (microseconds of a
 * monotonic clock), so that tests drive it without sleeping.
 *
 * Rates are per minute (API quotas are, and a customer's may be below one a
 * second). A token is TOKEN_BUCKET_UNIT parts: a rate of r tokens a minute
 * refills exactly r parts a microsecond, so the refill is one multiplication
 * with no rounding drift. A request costs one whole token.
 */
#ifndef TOKEN_BUCKET_H
#define TOKEN_BUCKET_H

#include <stdint.h>

#define TOKEN_BUCKET_UNIT 60000000u    /* parts of a token: microseconds in a minute */
#define TOKEN_BUCKET_MAX_RATE 60000000u /* tokens a minute (a million a second) */
#define TOKEN_BUCKET_MAX_BURST 1000000u

struct token_bucket {
	uint64_t parts;   /* what is left, at most burst * TOKEN_BUCKET_UNIT */
	uint64_t last_us; /* when it was last refilled */
};

/* A full bucket (a caller not seen before may spend its whole burst at once). */
static inline void token_bucket_fill(struct token_bucket *b, uint32_t burst, uint64_t now_us)
{
	b->parts = (uint64_t)burst * TOKEN_BUCKET_UNIT;
	b->last_us = now_us;
}

/*
 * Refills for the time since the last call, then takes one token: 0 when it
 * was there, else the whole seconds (at least 1) until one will be, for
 * Retry-After; a refused call takes nothing. per_minute must be 1..
 * TOKEN_BUCKET_MAX_RATE, burst 1..TOKEN_BUCKET_MAX_BURST. A clock that went
 * back refills nothing.
 */
static inline uint32_t token_bucket_take(struct token_bucket *b, uint32_t per_minute, uint32_t burst,
					 uint64_t now_us)
{
	uint64_t capacity = (uint64_t)burst * TOKEN_BUCKET_UNIT;
	if (now_us > b->last_us) {
		uint64_t elapsed = now_us - b->last_us;
		/* Past the time to refill from empty the bucket is full; below it the product
		 * stays under capacity + per_minute (no overflow: both are below 10^14). */
		if (elapsed >= (capacity + per_minute - 1) / per_minute)
			b->parts = capacity;
		else
			b->parts += elapsed * per_minute;
		if (b->parts > capacity)
			b->parts = capacity;
		b->last_us = now_us;
	}
	if (b->parts >= TOKEN_BUCKET_UNIT) {
		b->parts -= TOKEN_BUCKET_UNIT;
		return 0;
	}
	uint64_t wait_us = (TOKEN_BUCKET_UNIT - b->parts + per_minute - 1) / per_minute;
	uint64_t wait_s = (wait_us + 999999u) / 1000000u;
	return wait_s ? (uint32_t)wait_s : 1u;
}

#endif
