/*
 * The shedding decision (switch/stale_shedding.h) as a pure function, then in
 * a worker driven over the in-memory port: a stamped 1100 older than
 * shed_after_ms is answered 909 and never forwarded, on the worker that owns
 * it even when another received it; its reversal is answered 400 by the
 * switch and not propagated; a fresh or unstamped one, a 1101 and a reversal
 * are never shed.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock_source.h"
#include "stale_shedding.h"
#include "switch_worker.h"
#include "worker_harness.h"

#define MS 1000000ull

Test(stale_shedding, the_decision)
{
	uint64_t now = 1700000000000 * MS;
	cr_assert_not(stale_request(now - 10000 * MS, now, 0), "0 = never shed");
	cr_assert_not(stale_request(0, now, 500), "no stamp: never judged by age");
	cr_assert_not(stale_request(now - 499 * MS, now, 500));
	cr_assert(stale_request(now - 500 * MS, now, 500), "at the limit it is stale");
	cr_assert(stale_request(now - 3000 * MS, now, 500));
	cr_assert_not(stale_request(now + 5 * MS, now, 500), "a clock stepped back is no age");
	cr_assert(stale_request(1, 60000 * MS + 1, 60000), "the largest limit does not overflow");
	cr_assert(stale_shedding_applies(1100));
	cr_assert_not(stale_shedding_applies(1101), "a repeat may stand for a debit at the bank");
	cr_assert_not(stale_shedding_applies(1420));
	cr_assert_not(stale_shedding_applies(1421));
	cr_assert_not(stale_shedding_applies(1110), "bank answers settle what is owed");
	cr_assert_not(stale_shedding_applies(1430));
}

static void start(uint16_t workers, uint32_t shed_after_ms)
{
	worker_harness_start(workers, "stale-shedding");
	sw->settings.shed_after_ms = shed_after_ms; /* what a TCP edge's config gives */
}

static void stop(void)
{
	worker_harness_stop();
}

/* Queues t on q, stamped as arrived age_ms ago (-1: no stamp). */
static void inject_aged(uint16_t q, const struct test_msg *t, int age_ms)
{
	uint8_t buf[ISO_MAX_MESSAGE + 2];
	size_t n = tm_encode(t, buf, sizeof(buf));
	cr_assert(memory_port_inject(&mem, q, &holder_addr, buf, n));
	if (age_ms >= 0)
		memory_port_stamp_last(&mem, q, (uint64_t)clock_realtime_ns() - (uint64_t)age_ms * MS);
}

static void expect_sent(struct sent *s, uint16_t mti, const struct sockaddr_in *to, const char *action)
{
	cr_assert(next_sent(s), "nothing sent, expected %u", mti);
	cr_assert_eq(s->m.mti, mti, "sent %u, expected %u", s->m.mti, mti);
	cr_assert_eq(s->d.peer.sin_port, to->sin_port, "to port %u", ntohs(s->d.peer.sin_port));
	if (action) {
		char text[8];
		cr_assert_str_eq(tm_text(&s->m, 39, text, sizeof(text)), action);
	}
}

Test(stale_shedding, a_stale_1100_hears_909_and_its_reversal_stays_at_the_switch)
{
	start(1, 500);
	struct test_msg req, rev;
	struct sent s;
	card_request(&req, 1, "000010");
	inject_aged(0, &req, 2000);
	poll_all(t0);
	expect_sent(&s, 1110, &holder_addr, "909");
	cr_assert_not(next_sent(&s), "a shed request goes nowhere else");
	/* The acquirer timed it out and reverses it: nothing to undo at the bank. */
	tm_reversal_of(&rev, &req, "000011");
	inject_aged(0, &rev, 2000); /* reversals are never shed, however old */
	poll_all(t0 + 1);
	expect_sent(&s, 1430, &holder_addr, "400");
	cr_assert_not(next_sent(&s), "the reversal of a shed request is not propagated");
	struct switch_counters c = totals();
	cr_assert_eq(c.shed_stale, 1);
	cr_assert_eq(c.forwarded, 0);
	cr_assert_eq(c.cardholder_reversals_forwarded, 0);
	cr_assert_eq(c.cardholder_reversals_answered, 1);
	stop();
}

Test(stale_shedding, fresh_unstamped_and_repeated_requests_go_to_the_bank)
{
	start(1, 1000);
	struct test_msg fresh, unstamped, repeat;
	struct sent s;
	card_request(&fresh, 1, "000020");
	inject_aged(0, &fresh, 0);
	card_request(&unstamped, 2, "000021");
	inject_aged(0, &unstamped, -1);
	/* A 1101 the switch does not remember may stand for a debit at the bank: never shed. */
	card_request(&repeat, 3, "000022");
	repeat.m.mti = 1101;
	inject_aged(0, &repeat, 5000);
	poll_all(t0);
	for (int i = 0; i < 3; i++) {
		cr_assert(next_sent(&s), "request %d was not forwarded", i);
		cr_assert_eq(s.d.peer.sin_port, bank_addr.sin_port, "request %d went to port %u", i, ntohs(s.d.peer.sin_port));
	}
	cr_assert_eq(totals().shed_stale, 0);
	cr_assert_eq(totals().forwarded, 3);
	stop();
}

Test(stale_shedding, off_means_never)
{
	start(1, 0);
	struct test_msg req;
	struct sent s;
	card_request(&req, 1, "000030");
	inject_aged(0, &req, 60000);
	poll_all(t0);
	expect_sent(&s, 1100, &bank_addr, NULL);
	cr_assert_eq(totals().shed_stale, 0);
	stop();
}

Test(stale_shedding, the_stamp_travels_with_a_hand_over)
{
	start(2, 500);
	struct test_msg req;
	struct sent s;
	card_request(&req, 4, "000040");
	struct txn_key key;
	cr_assert(txn_key_of_request(&req.m, &key));
	uint16_t owner = (uint16_t)(txn_key_hash(&key) % 2), other = (uint16_t)(1 - owner);
	inject_aged(other, &req, 2000);
	poll_all(t0);
	expect_sent(&s, 1110, &holder_addr, "909");
	cr_assert_not(next_sent(&s));
	struct switch_counters c = totals();
	cr_assert_eq(c.handed_over, 1);
	cr_assert_eq(c.shed_stale, 1);
	stop();
}
