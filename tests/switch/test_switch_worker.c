/*
 * Switch workers driven step by step over an in-memory port, with time given
 * by the test (the store-and-forward queue stepped in the same thread, on a
 * fresh LMDB directory): exact timeout and retry timing, a cardholder reversal that
 * overtakes the bank's approval, duplicates, hand-over between workers, and
 * forged or stale answers. No sockets, no threads, no sleeps.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switch_worker.h"
#include "test_rng.h"
#include "worker_harness.h"

static void start(uint16_t workers)
{
	worker_harness_start(workers, "switch-worker");
}

static void stop(void)
{
	worker_harness_stop();
}

static void inject(uint16_t q, const struct sockaddr_in *from, const struct test_msg *t)
{
	uint8_t buf[ISO_MAX_MESSAGE + 2];
	size_t n = tm_encode(t, buf, sizeof(buf));
	cr_assert(memory_port_inject(&mem, q, from, buf, n));
}

static void expect_sent(struct sent *s, uint16_t mti, const struct sockaddr_in *to)
{
	cr_assert(next_sent(s), "nothing sent, expected %u", mti);
	cr_assert_eq(s->m.mti, mti, "sent %u, expected %u", s->m.mti, mti);
	cr_assert_eq(s->d.peer.sin_port, to->sin_port, "to port %u", ntohs(s->d.peer.sin_port));
}

static const char *field(const struct sent *s, int f)
{
	static char buf[4][64];
	static int next;
	char *out = buf[next++ % 4];
	return tm_text(&s->m, f, out, 64);
}

static void answer_from_bank(uint16_t q, const struct sent *req, const char *action)
{
	struct test_msg a;
	iso_msg_init(&a.m, (uint16_t)(req->m.mti - req->m.mti % 10 + 10));
	static const int echoed[] = {2, 3, 4, 7, 11, 12, 32, 37, 41, 49, 56};
	for (size_t i = 0; i < sizeof(echoed) / sizeof(echoed[0]); i++)
		if (iso_has(&req->m, echoed[i]))
			tm_set(&a, echoed[i], field(req, echoed[i]));
	tm_set(&a, 39, action);
	inject(q, &bank_addr, &a);
}

Test(switch_worker, timeout_and_retries_fire_at_their_times)
{
	start(1);
	struct test_msg req;
	struct sent s;
	card_request(&req, 0, "000001");
	inject(0, &holder_addr, &req);
	poll_all(t0);
	expect_sent(&s, 1100, &bank_addr);
	cr_assert_not(next_sent(&s));

	poll_all(t0 + 99);
	cr_assert_not(next_sent(&s), "nothing before bank_timeout_ms");
	poll_all(t0 + 100);
	expect_sent(&s, 1110, &holder_addr);
	cr_assert_str_eq(field(&s, 39), "911");
	cr_assert_str_eq(field(&s, 11), "000001");
	uint64_t on_disk = 0, exceptions = 0;
	cr_assert_eq(saf_forwarder_counts(sw->saf, &on_disk, &exceptions), 0);
	cr_assert_eq(on_disk, 1, "the advice is on disk by the time the cardholder hears 911");
	expect_sent(&s, 1420, &bank_addr);
	cr_assert_eq(sw->workers[0]->pending.in_use, 0, "the slot is free once the advice is stored");
	/* Repeats back off from reversal_retry_ms, doubling up to reversal_retry_max_ms, and never stop. */
	uint64_t at = t0 + 100, gap = 50;
	for (int repeat = 0; repeat < 8; repeat++) {
		poll_all(at + gap - 1);
		cr_assert_not(next_sent(&s), "repeat %d came early", repeat + 1);
		at += gap;
		poll_all(at);
		expect_sent(&s, 1421, &bank_addr);
		gap = gap * 2 > 400 ? 400 : gap * 2;
	}
	/* The bank's 1430 ends it. */
	answer_from_bank(0, &s, "400");
	poll_all(at + 1);
	poll_all(at + 10000);
	cr_assert_not(next_sent(&s), "no repeat after the 1430");
	cr_assert_eq(saf_forwarder_counts(sw->saf, &on_disk, &exceptions), 0);
	cr_assert_eq(on_disk, 0, "acknowledged: off the disk");
	struct switch_counters c = totals();
	cr_assert_eq(c.timed_out, 1);
	cr_assert_eq(c.reversals, 1);
	cr_assert_eq(c.advice_answers, 1);
	stop();
}

Test(switch_worker, cardholder_reversal_while_at_the_bank_is_stored_for_the_bank_before_the_1430)
{
	start(1);
	struct test_msg req, rev;
	struct sent to_bank, a, b, s;
	card_request(&req, 1, "000010");
	inject(0, &holder_addr, &req);
	poll_all(t0);
	expect_sent(&to_bank, 1100, &bank_addr);

	/* The cardholder reverses while the bank holds the 1100: the reversal goes
	 * to the disk and to the bank, under the STAN the switch gave the
	 * original, and only then is the cardholder told. */
	tm_reversal_of(&rev, &req, "000011");
	inject(0, &holder_addr, &rev);
	poll_all(t0 + 10);
	cr_assert(next_sent(&a) && next_sent(&b), "an advice and a 1430");
	struct sent *advice = a.m.mti == 1420 ? &a : &b, *answer = a.m.mti == 1420 ? &b : &a;
	cr_assert_eq(advice->m.mti, 1420);
	cr_assert_eq(advice->d.peer.sin_port, bank_addr.sin_port);
	char want56[256];
	snprintf(want56, sizeof(want56), "1100%s%s11%s", field(&to_bank, 11), req.text[12], req.text[32]);
	cr_assert_str_eq(field(advice, 56), want56);
	cr_assert_eq(answer->m.mti, 1430);
	cr_assert_eq(answer->d.peer.sin_port, holder_addr.sin_port);
	cr_assert_str_eq(field(answer, 39), "400");
	cr_assert_str_eq(field(answer, 11), "000011");
	uint64_t on_disk, exceptions;
	cr_assert_eq(saf_forwarder_counts(sw->saf, &on_disk, &exceptions), 0);
	cr_assert_eq(on_disk, 1, "the advice is on disk");

	/* The bank approves after all: nothing reaches the cardholder, and the
	 * one advice already queued undoes it (no second one). */
	answer_from_bank(0, &to_bank, "000");
	poll_all(t0 + 20);
	cr_assert_not(next_sent(&s), "the approval does not reach the cardholder who reversed");
	answer_from_bank(0, advice, "400");
	poll_all(t0 + 30);
	cr_assert_not(next_sent(&s));
	poll_all(t0 + 5000);
	cr_assert_not(next_sent(&s), "acknowledged: never repeated");
	struct switch_counters c = totals();
	cr_assert_eq(c.cancelled_approvals, 1);
	cr_assert_eq(c.cardholder_reversals_forwarded, 1);
	cr_assert_eq(c.cardholder_reversals_answered, 0);
	cr_assert_eq(c.advice_answers, 1);
	struct saf_stats st;
	saf_forwarder_stats(sw->saf, &st);
	cr_assert_eq(st.acknowledged, 1);
	cr_assert_eq(st.queued, 0);
	cr_assert_eq(sw->workers[0]->pending.in_use, 0);

	/* A repeat of the reversal now is judged by the approval: queued again (idempotent at the bank). */
	rev.m.mti = 1421;
	inject(0, &holder_addr, &rev);
	poll_all(t0 + 5010);
	cr_assert(next_sent(&a) && next_sent(&b));
	cr_assert(a.m.mti == 1420 || b.m.mti == 1420, "queued for the bank again");
	stop();
}

Test(switch_worker, a_reversal_before_its_original_voids_the_original)
{
	start(1);
	struct test_msg req, rev;
	struct sent s;
	card_request(&req, 3, "000030");
	tm_reversal_of(&rev, &req, "000031");
	/* The reversal overtakes the 1100: the switch has never seen the original,
	 * so the bank decides (with the cardholder's STAN in DE 56) ... */
	inject(0, &holder_addr, &rev);
	poll_all(t0);
	/* ... once its advice is on disk the cardholder hears 400 from the network ... */
	expect_sent(&s, 1430, &holder_addr);
	cr_assert_str_eq(field(&s, 39), "400");
	cr_assert_str_eq(field(&s, 11), "000031");
	expect_sent(&s, 1420, &bank_addr);
	cr_assert_str_eq(field(&s, 56), rev.text[56]);
	/* ... and the original, arriving after it, never reaches the bank. */
	inject(0, &holder_addr, &req);
	poll_all(t0 + 1);
	expect_sent(&s, 1110, &holder_addr);
	cr_assert_str_eq(field(&s, 39), "100");
	cr_assert_str_eq(field(&s, 11), "000030");
	cr_assert_not(next_sent(&s), "the voided original is not forwarded");
	/* A retransmission of it is then a plain duplicate. */
	inject(0, &holder_addr, &req);
	poll_all(t0 + 2);
	expect_sent(&s, 1110, &holder_addr);
	cr_assert_str_eq(field(&s, 39), "913");
	struct switch_counters c = totals();
	cr_assert_eq(c.reversed_before_original, 1);
	cr_assert_eq(c.forwarded, 0);
	stop();
}

Test(switch_worker, duplicates_wait_for_the_original_then_get_913)
{
	start(1);
	struct test_msg req;
	struct sent to_bank, s;
	card_request(&req, 2, "000020");
	inject(0, &holder_addr, &req);
	inject(0, &holder_addr, &req);
	poll_all(t0);
	expect_sent(&to_bank, 1100, &bank_addr);
	cr_assert_not(next_sent(&s), "the duplicate is not forwarded");
	answer_from_bank(0, &to_bank, "000");
	poll_all(t0 + 1);
	expect_sent(&s, 1110, &holder_addr);
	cr_assert_str_eq(field(&s, 39), "000");
	inject(0, &holder_addr, &req);
	poll_all(t0 + 2);
	expect_sent(&s, 1110, &holder_addr);
	cr_assert_str_eq(field(&s, 39), "913");
	cr_assert_eq(totals().duplicates, 2);
	stop();
}

Test(switch_worker, messages_on_the_wrong_worker_are_handed_over)
{
	start(2);
	struct test_msg req;
	struct sent to_bank, s;
	card_request(&req, 3, "000030");
	struct txn_key key;
	cr_assert(txn_key_of_request(&req.m, &key));
	uint16_t owner = (uint16_t)(txn_key_hash(&key) % 2), other = (uint16_t)(1 - owner);
	inject(other, &holder_addr, &req);
	poll_all(t0);
	expect_sent(&to_bank, 1100, &bank_addr);
	cr_assert_eq(field(&to_bank, 11)[0], '0' + owner, "the STAN names the owner");
	answer_from_bank(other, &to_bank, "116");
	poll_all(t0 + 1);
	expect_sent(&s, 1110, &holder_addr);
	cr_assert_str_eq(field(&s, 39), "116");
	struct switch_counters c = totals();
	cr_assert_eq(c.handed_over, 2, "the request and the answer changed worker");
	cr_assert_eq(c.declined, 1);
	stop();
}

Test(switch_worker, forged_and_stale_answers_are_counted_not_forwarded)
{
	start(1);
	struct test_msg req;
	struct sent to_bank, s;
	card_request(&req, 4, "000040");
	inject(0, &holder_addr, &req);
	poll_all(t0);
	expect_sent(&to_bank, 1100, &bank_addr);

	struct test_msg forged;
	iso_msg_init(&forged.m, 1110);
	tm_set(&forged, 11, "700001"); /* worker 7 does not exist */
	tm_set(&forged, 37, req.text[37]);
	tm_set(&forged, 41, req.text[41]);
	tm_set(&forged, 39, "000");
	inject(0, &bank_addr, &forged);
	tm_set(&forged, 11, field(&to_bank, 11));
	tm_set(&forged, 37, "NOTTHEONE001");
	inject(0, &bank_addr, &forged);
	poll_all(t0 + 1);
	cr_assert_not(next_sent(&s));
	cr_assert_eq(totals().unmatched_responses, 2);

	answer_from_bank(0, &to_bank, "000");
	poll_all(t0 + 2);
	expect_sent(&s, 1110, &holder_addr);
	answer_from_bank(0, &to_bank, "000"); /* the bank repeats itself */
	poll_all(t0 + 3);
	cr_assert_not(next_sent(&s), "answered once");
	cr_assert_eq(totals().late_responses, 1);
	stop();
}

/* A fixed seed makes every run feed the same inputs. */
static struct test_rng rng = {0x9E3779B97F4A7C15ull};

Test(switch_worker, mutated_and_random_input_never_crashes_and_is_accounted, .timeout = 120)
{
	start(2);
	/* Valid messages of every kind the switch handles, as mutation seeds. */
	struct test_msg seeds[4];
	card_request(&seeds[0], 0, "000900");
	tm_reversal_of(&seeds[1], &seeds[0], "000901");
	seeds[2] = seeds[0];
	seeds[2].m.mti = 1110;
	tm_set(&seeds[2], 11, "000005");
	tm_set(&seeds[2], 39, "000");
	seeds[3] = seeds[1];
	seeds[3].m.mti = 1430;
	tm_set(&seeds[3], 39, "400");
	/* Re-point the copies' views at their own text. */
	for (int s = 2; s < 4; s++)
		for (int f = 2; f <= ISO_MAX_FIELD; f++)
			if (iso_has(&seeds[s].m, f))
				iso_set_str(&seeds[s].m, f, seeds[s].text[f]);

	uint8_t base[4][ISO_MAX_MESSAGE + 2];
	size_t base_len[4];
	for (int s = 0; s < 4; s++) {
		base_len[s] = tm_encode(&seeds[s], base[s], sizeof(base[s]));
		cr_assert_gt(base_len[s], 0);
	}
	uint64_t now = t0;
	unsigned injected = 0;
	for (int round = 0; round < 3000; round++) {
		for (int i = 0; i < 8; i++) {
			uint8_t buf[MEMORY_PORT_BYTES];
			size_t len;
			int kind = (int)(test_rng_next(&rng) % 5);
			if (kind == 4) {
				len = test_rng_next(&rng) % 200;
				for (size_t b = 0; b < len; b++)
					buf[b] = (uint8_t)test_rng_next(&rng);
			} else {
				len = base_len[kind];
				memcpy(buf, base[kind], len);
				int flips = 1 + (int)(test_rng_next(&rng) % 4);
				for (int f = 0; f < flips; f++) {
					size_t at = 2 + test_rng_next(&rng) % (len - 2); /* keep the frame header */
					buf[at] = (uint8_t)(test_rng_next(&rng) % 3 == 0 ? test_rng_next(&rng) : '0' + test_rng_next(&rng) % 10);
				}
				if (test_rng_next(&rng) % 8 == 0)
					len -= test_rng_next(&rng) % (len - 2); /* cut short: the header then lies */
			}
			uint16_t q = (uint16_t)(test_rng_next(&rng) % 2);
			if (memory_port_inject(&mem, q, test_rng_next(&rng) % 2 ? &holder_addr : &bank_addr, buf, len))
				injected++;
		}
		now += test_rng_next(&rng) % 20;
		poll_all(now);
		struct memory_datagram d;
		while (memory_port_take_sent(&mem, &d)) {
			struct iso_msg m;
			cr_assert(tm_decode_framed(d.data, d.length, &m), "the switch only sends what decodes");
		}
	}
	/* Let every timer run out: nothing stays pending for ever. */
	for (int i = 0; i < 200; i++) {
		now += 50;
		poll_all(now);
		struct memory_datagram d;
		while (memory_port_take_sent(&mem, &d))
			;
	}
	struct switch_counters c = totals();
	cr_assert_gt(injected, 20000);
	cr_assert_gt(c.malformed, 0);
	cr_assert_gt(c.forwarded, 0, "some mutations still pass the checks");
	cr_assert_eq(c.approved + c.declined + c.timed_out + c.cancelled_approvals, c.forwarded,
		     "every forwarded authorization ended exactly one way: %lu + %lu + %lu + %lu vs %lu",
		     (unsigned long)c.approved, (unsigned long)c.declined, (unsigned long)c.timed_out,
		     (unsigned long)c.cancelled_approvals, (unsigned long)c.forwarded);
	cr_assert_eq(sw->workers[0]->pending.in_use + sw->workers[1]->pending.in_use, 0, "every slot released");
	stop();
}

Test(switch_worker, stopping_settles_what_is_pending)
{
	start(1);
	struct test_msg req;
	struct sent s;
	card_request(&req, 0, "000050");
	inject(0, &holder_addr, &req);
	poll_all(t0);
	expect_sent(&s, 1100, &bank_addr);
	/* As at a real stop: the forwarder thread runs while the workers settle. */
	char err[256];
	cr_assert(saf_forwarder_start(sw->saf, err, sizeof(err)), "%s", err);
	switch_worker_settle_at_stop(sw->workers[0]);
	expect_sent(&s, 1110, &holder_addr);
	cr_assert_str_eq(field(&s, 39), "911");
	saf_forwarder_stop(sw->saf);
	uint64_t on_disk = 0, exceptions = 0;
	cr_assert_eq(saf_forwarder_counts(sw->saf, &on_disk, &exceptions), 0);
	cr_assert_eq(on_disk, 1, "its reversal advice waits on disk for the next start");
	cr_assert_eq(totals().timed_out, 1);
	stop();
}

/* The next datagram that is not the switch's own reversal advice (1420/1421 to the bank). */
static void expect_skipping_reversals(struct sent *s, uint16_t mti, const struct sockaddr_in *to)
{
	do
		cr_assert(next_sent(s), "nothing sent, expected %u", mti);
	while (s->m.mti / 10 == 142);
	cr_assert_eq(s->m.mti, mti, "sent %u, expected %u", s->m.mti, mti);
	cr_assert_eq(s->d.peer.sin_port, to->sin_port);
}

Test(switch_worker, a_bank_that_times_out_in_a_row_is_answered_912_for_a_while)
{
	start(1);
	struct test_msg req;
	struct sent s;
	uint64_t now = t0;
	/* SWITCH_BANK_DOWN_AFTER authorizations time out, the bank silent throughout. */
	for (int i = 0; i < SWITCH_BANK_DOWN_AFTER; i++) {
		char stan[7];
		snprintf(stan, sizeof(stan), "%06d", 300 + i);
		card_request(&req, (size_t)(i % 5), stan);
		inject(0, &holder_addr, &req);
		poll_all(now);
		expect_skipping_reversals(&s, 1100, &bank_addr);
		now += 100; /* bank_timeout_ms */
		poll_all(now);
		expect_skipping_reversals(&s, 1110, &holder_addr);
		cr_assert_str_eq(field(&s, 39), "911");
	}
	card_request(&req, 0, "000400");
	inject(0, &holder_addr, &req);
	poll_all(now);
	expect_skipping_reversals(&s, 1110, &holder_addr);
	cr_assert_str_eq(field(&s, 39), "912", "the bank is taken as unavailable");
	cr_assert_eq(totals().bank_unavailable, 1);

	/* A while later requests reach the bank again; an answer brings it back for good. */
	now += SWITCH_BANK_DOWN_MIN_MS;
	card_request(&req, 1, "000401");
	inject(0, &holder_addr, &req);
	poll_all(now);
	struct sent to_bank;
	expect_skipping_reversals(&to_bank, 1100, &bank_addr);
	answer_from_bank(0, &to_bank, "000");
	poll_all(now + 1);
	expect_skipping_reversals(&s, 1110, &holder_addr);
	cr_assert_str_eq(field(&s, 39), "000");
	card_request(&req, 2, "000402");
	inject(0, &holder_addr, &req);
	poll_all(now + 2);
	expect_skipping_reversals(&s, 1100, &bank_addr);
	stop();
}

Test(switch_worker, frames_for_one_peer_share_a_datagram_in_order)
{
	start(1);
	/* Three 1100s in one poll: the bank gets them in one datagram, in arrival order. */
	struct test_msg req[3];
	static const char *stans[3] = {"000011", "000012", "000013"};
	for (int i = 0; i < 3; i++) {
		card_request(&req[i], (size_t)i, stans[i]);
		inject(0, &holder_addr, &req[i]);
	}
	poll_all(t0);
	cr_assert_eq(mem.datagrams_sent, 1, "%zu datagrams for three frames to one bank", mem.datagrams_sent);
	struct sent s[3];
	for (int i = 0; i < 3; i++) {
		expect_sent(&s[i], 1100, &bank_addr);
		cr_assert_str_eq(field(&s[i], 37), req[i].text[37], "frame %d out of order", i);
	}
	cr_assert_not(next_sent(&s[0]));
	/* Their answers in one poll: the cardholder gets the three 1110s in one datagram too. */
	for (int i = 0; i < 3; i++)
		answer_from_bank(0, &s[i], "000");
	poll_all(t0 + 1);
	cr_assert_eq(mem.datagrams_sent, 2, "%zu datagrams in all", mem.datagrams_sent);
	for (int i = 0; i < 3; i++) {
		struct sent a;
		expect_sent(&a, 1110, &holder_addr);
		cr_assert_str_eq(field(&a, 11), stans[i]);
		cr_assert_str_eq(field(&a, 39), "000");
	}
	stop();
}
