/*
 * The rate limiter without a server or a clock: time is passed in
 * (microseconds), so refills, Retry-After and windows are exact, and the
 * tables are filled past their size to show they stay within it.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "rate_limit.h"
#include "token_bucket.h"

#define S 1000000ull /* a second in microseconds */

Test(token_bucket, a_full_bucket_serves_its_burst_then_refuses_with_the_wait)
{
	struct token_bucket b;
	token_bucket_fill(&b, 3, 10 * S);
	for (int i = 0; i < 3; i++)
		cr_expect_eq(token_bucket_take(&b, 60, 3, 10 * S), 0, "call %d of the burst", i);
	cr_expect_eq(token_bucket_take(&b, 60, 3, 10 * S), 1, "empty at 60/min: a token in 1 s");
	cr_expect_eq(token_bucket_take(&b, 60, 3, 10 * S + S / 2), 1, "half a token: still under a second (rounded up)");
	cr_expect_eq(token_bucket_take(&b, 60, 3, 11 * S), 0, "one token after a second");
	cr_expect_eq(token_bucket_take(&b, 60, 3, 11 * S), 1);
}

Test(token_bucket, the_wait_is_whole_seconds_rounded_up_and_refusals_cost_nothing)
{
	struct token_bucket b;
	token_bucket_fill(&b, 1, 0);
	cr_expect_eq(token_bucket_take(&b, 300, 1, 0), 0);
	/* 300/min: a token every 200 ms, Retry-After 1 (never 0). */
	cr_expect_eq(token_bucket_take(&b, 300, 1, 0), 1);
	for (int i = 0; i < 100; i++)
		cr_expect_eq(token_bucket_take(&b, 300, 1, 199999), 1, "refused calls must not drain the refill");
	cr_expect_eq(token_bucket_take(&b, 300, 1, 200000), 0, "exactly 200 ms later");
	/* A rate below one a second: the wait is several seconds. */
	struct token_bucket slow;
	token_bucket_fill(&slow, 1, 0);
	cr_expect_eq(token_bucket_take(&slow, 1, 1, 0), 0);
	cr_expect_eq(token_bucket_take(&slow, 1, 1, 1), 60, "one a minute: a minute, less a microsecond, rounded up");
	cr_expect_eq(token_bucket_take(&slow, 1, 1, 30 * S), 30);
	cr_expect_eq(token_bucket_take(&slow, 1, 1, 60 * S), 0);
}

Test(token_bucket, a_long_pause_refills_to_the_burst_and_no_more)
{
	struct token_bucket b;
	token_bucket_fill(&b, 4, 0);
	for (int i = 0; i < 4; i++)
		token_bucket_take(&b, 120, 4, 0);
	cr_expect_eq(token_bucket_take(&b, TOKEN_BUCKET_MAX_RATE, 4, 0), 1);
	/* A year later: 4 tokens, not millions (and no overflow at the highest rate). */
	uint64_t later = 365ull * 86400 * S;
	for (int i = 0; i < 4; i++)
		cr_expect_eq(token_bucket_take(&b, TOKEN_BUCKET_MAX_RATE, 4, later), 0);
	cr_expect_eq(token_bucket_take(&b, TOKEN_BUCKET_MAX_RATE, 4, later), 1);
	cr_expect_eq(b.parts, 0);
}

Test(token_bucket, a_clock_that_goes_back_refills_nothing)
{
	struct token_bucket b;
	token_bucket_fill(&b, 1, 100 * S);
	cr_expect_eq(token_bucket_take(&b, 60, 1, 100 * S), 0);
	cr_expect_eq(token_bucket_take(&b, 60, 1, 50 * S), 1);
	cr_expect_eq(token_bucket_take(&b, 60, 1, 101 * S), 0);
}

static struct rate_limiter *limiter(uint32_t customer_per_minute, uint32_t customer_burst, uint32_t failures,
				    uint32_t window_s, uint32_t slots)
{
	struct rate_limit_config c = {
		.by_scope = {{customer_per_minute, customer_burst}, {6000, 200}, {6000, 200}, {0, 0}},
		.auth_failure_limit = failures,
		.auth_failure_window_s = window_s,
		.key_slots = slots,
		.address_slots = slots,
	};
	struct rate_limiter *l = rate_limiter_new(&c);
	cr_assert(l);
	return l;
}

static struct sockaddr_in v4(uint32_t host_order)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(host_order);
	return a;
}

#define CUSTOMER 1u
#define OPERATOR 8u

Test(rate_limiter, keys_have_their_own_buckets_and_the_operator_none)
{
	struct rate_limiter *l = limiter(60, 2, 0, 60, 0);
	const char *alice = "00000000000000a1", *bob = "00000000000000b0";
	cr_expect_eq(rate_limiter_take(l, alice, CUSTOMER, 0), 0);
	cr_expect_eq(rate_limiter_take(l, alice, CUSTOMER, 0), 0);
	cr_expect_eq(rate_limiter_take(l, alice, CUSTOMER, 0), 1);
	cr_expect_eq(rate_limiter_take(l, bob, CUSTOMER, 0), 0, "another key is not held up");
	for (int i = 0; i < 10000; i++)
		cr_assert_eq(rate_limiter_take(l, "00000000000000ff", OPERATOR, 0), 0);
	struct rate_limit_stats s;
	rate_limiter_stats(l, &s);
	cr_expect_eq(s.limited[0], 1);
	cr_expect_eq(s.limited[3], 0);
	uint32_t keys, addresses;
	rate_limiter_occupancy(l, &keys, &addresses);
	cr_expect_eq(keys, 2, "the unlimited operator takes no slot");
	rate_limiter_free(l);
}

Test(rate_limiter, an_address_is_blocked_after_the_limit_until_its_window_ends)
{
	struct rate_limiter *l = limiter(60, 1, 3, 60, 0);
	struct sockaddr_in guesser = v4(0x0a000001), other = v4(0x0a000002);
	const struct sockaddr *g = (const struct sockaddr *)&guesser, *o = (const struct sockaddr *)&other;
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(rate_limiter_address_blocked(l, g, (uint64_t)i * S), 0, "failure %d not yet blocked", i);
		rate_limiter_auth_failed(l, g, (uint64_t)i * S);
	}
	cr_expect_eq(rate_limiter_address_blocked(l, g, 3 * S), 57, "the window began at the first failure");
	cr_expect_eq(rate_limiter_address_blocked(l, o, 3 * S), 0, "another address is not blocked");
	cr_expect_eq(rate_limiter_address_blocked(l, g, 60 * S - 1), 1);
	cr_expect_eq(rate_limiter_address_blocked(l, g, 60 * S), 0, "the window is over");
	rate_limiter_auth_failed(l, g, 60 * S);
	cr_expect_eq(rate_limiter_address_blocked(l, g, 61 * S), 0, "a new window counts from zero");
	struct rate_limit_stats s;
	rate_limiter_stats(l, &s);
	cr_expect_eq(s.auth_failures, 4);
	cr_expect_eq(s.auth_throttled, 2);
	rate_limiter_free(l);
}

Test(rate_limiter, throttling_off_blocks_nobody)
{
	struct rate_limiter *l = limiter(60, 1, 0, 60, 0);
	struct sockaddr_in a = v4(0x0a000001);
	for (int i = 0; i < 1000; i++)
		rate_limiter_auth_failed(l, (const struct sockaddr *)&a, 0);
	cr_expect_eq(rate_limiter_address_blocked(l, (const struct sockaddr *)&a, 0), 0);
	rate_limiter_free(l);
}

Test(rate_limiter, the_tables_stay_within_their_size_under_cycled_ids_and_addresses)
{
	struct rate_limiter *l = limiter(60, 1, 2, 60, 64);
	char id[17];
	for (uint32_t i = 0; i < 100000; i++) {
		snprintf(id, sizeof id, "%016x", i);
		rate_limiter_take(l, id, CUSTOMER, i);
		struct sockaddr_in a = v4(0x0b000000u + i);
		rate_limiter_auth_failed(l, (const struct sockaddr *)&a, i);
	}
	uint32_t keys, addresses;
	rate_limiter_occupancy(l, &keys, &addresses);
	cr_expect_leq(keys, 64);
	cr_expect_leq(addresses, 64);
	struct rate_limit_stats s;
	rate_limiter_stats(l, &s);
	cr_expect_geq(s.key_evictions, 100000 - 64);
	cr_expect_geq(s.address_evictions, 100000 - 64);
	rate_limiter_free(l);
}

Test(rate_limiter, a_blocked_address_is_not_pushed_out_by_addresses_with_fewer_failures)
{
	/* 8 slots: one set. The guesser is blocked; thousands of one-failure addresses come after it. */
	struct rate_limiter *l = limiter(60, 1, 3, 60, 8);
	struct sockaddr_in guesser = v4(0x0a000001);
	const struct sockaddr *g = (const struct sockaddr *)&guesser;
	for (int i = 0; i < 3; i++)
		rate_limiter_auth_failed(l, g, 0);
	for (uint32_t i = 0; i < 5000; i++) {
		struct sockaddr_in a = v4(0x0c000000u + i);
		rate_limiter_auth_failed(l, (const struct sockaddr *)&a, S);
	}
	cr_expect_gt(rate_limiter_address_blocked(l, g, 2 * S), 0, "still blocked");
	rate_limiter_free(l);
}

Test(rate_limiter, a_full_key_table_evicts_the_least_recently_used)
{
	struct rate_limiter *l = limiter(60, 1, 0, 60, 8); /* one set of 8 */
	char id[17];
	for (uint32_t i = 0; i < 8; i++) {
		snprintf(id, sizeof id, "%016x", i);
		cr_expect_eq(rate_limiter_take(l, id, CUSTOMER, 10 * S + i), 0);
	}
	/* Key 0 is the oldest; key 7 used last is over its rate. A ninth key pushes key 0 out. */
	cr_expect_eq(rate_limiter_take(l, "0000000000000007", CUSTOMER, 10 * S + 7), 1);
	cr_expect_eq(rate_limiter_take(l, "0000000000000009", CUSTOMER, 10 * S + 8), 0);
	cr_expect_eq(rate_limiter_take(l, "0000000000000007", CUSTOMER, 10 * S + 9), 1, "key 7 kept its state");
	struct rate_limit_stats s;
	rate_limiter_stats(l, &s);
	cr_expect_eq(s.key_evictions, 1);
	rate_limiter_free(l);
}
