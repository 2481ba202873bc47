/*
 * A token bucket's arithmetic, with the time passed in (microseconds of a
 * monotonic clock), so that tests drive it without sleeping.
 *
 * Tokens are counted in millionths ("micro-tokens"): a rate of r tokens a
 * second refills exactly r micro-tokens a microsecond, so the refill is one
 * multiplication with no rounding drift. A request costs one whole token.
 */
#ifndef TOKEN_BUCKET_H
#define TOKEN_BUCKET_H

#include <stdint.h>

#define TOKEN_BUCKET_UNIT 1000000u  /* micro-tokens in a token */
#define TOKEN_BUCKET_MAX_RATE 1000000u  /* tokens a second; burst has the same cap */

struct token_bucket {
	uint64_t micro_tokens; /* what is left, at most burst * TOKEN_BUCKET_UNIT */
	uint64_t last_us;      /* when it was last refilled */
};

/* A full bucket (a caller not seen before may spend its whole burst at once). */
static inline void token_bucket_fill(struct token_bucket *b, uint32_t burst, uint64_t now_us)
{
	b->micro_tokens = (uint64_t)burst * TOKEN_BUCKET_UNIT;
	b->last_us = now_us;
}

/*
 * Refills for the time since the last call, then takes one token: 0 when it
 * was there, else the whole seconds (at least 1) until one will be, for
 * Retry-After; a refused call takes nothing. per_s and burst must be 1..
 * TOKEN_BUCKET_MAX_RATE. A clock that went back refills nothing.
 */
static inline uint32_t token_bucket_take(struct token_bucket *b, uint32_t per_s, uint32_t burst, uint64_t now_us)
{
	uint64_t capacity = (uint64_t)burst * TOKEN_BUCKET_UNIT;
	if (now_us > b->last_us) {
		uint64_t elapsed = now_us - b->last_us;
		/* Past the time to refill from empty the bucket is full; below it the product
		 * stays under capacity + per_s (no overflow: both are at most 10^12). */
		if (elapsed >= (capacity + per_s - 1) / per_s)
			b->micro_tokens = capacity;
		else
			b->micro_tokens += elapsed * per_s;
		if (b->micro_tokens > capacity)
			b->micro_tokens = capacity;
		b->last_us = now_us;
	}
	if (b->micro_tokens >= TOKEN_BUCKET_UNIT) {
		b->micro_tokens -= TOKEN_BUCKET_UNIT;
		return 0;
	}
	uint64_t wait_us = (TOKEN_BUCKET_UNIT - b->micro_tokens + per_s - 1) / per_s;
	uint64_t wait_s = (wait_us + 999999u) / 1000000u;
	return wait_s ? (uint32_t)wait_s : 1u;
}

#endif
