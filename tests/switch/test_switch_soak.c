/*
 * A short soak of the real switch (two workers) against a misbehaving fake
 * bank: it approves, declines, stays silent, answers twice, approves too late,
 * and drops some of its reversal answers; cardholders on several sockets reverse some of their
 * transactions. Afterwards the money invariants must hold:
 *   - every 1100 got exactly one 1110 (never two, never none);
 *   - an approval the cardholder did not see (911) or reversed itself was
 *     reversed at the bank; an approval the cardholder saw and kept was not;
 *   - every reversal the bank got names the STAN it saw for that transaction;
 *   - the switch's counters add up and nothing stays pending.
 * Bounded in count (400 authorizations) and time; randomness from a fixed seed.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "e2e_support.h"
#include "message_builder.h"
#include "test_rng.h"

#define HOLDERS 8
#define TXNS 400
#define TIMEOUT_MS 200

enum bank_choice { BANK_APPROVE, BANK_DECLINE, BANK_SILENT, BANK_TWICE, BANK_LATE };

struct txn {
	struct test_msg req;
	int holder;
	bool sent, answered, reversal_sent, reversal_answered;
	int64_t reversal_sent_at; /* a cardholder repeats its reversal (1421) until answered */
	struct test_msg reversal;
	int answers;
	char action[4];
	/* bank side */
	bool at_bank, bank_approved;
	char bank_stan[7];
	int reversals_at_bank;
	int64_t late_answer_at; /* BANK_LATE: when the bank finally approves (0: not due) */
	struct test_msg late_answer;
	bool reversal_stan_mismatch;
};

static struct e2e_env env;
static struct test_udp_peer bank, holders[HOLDERS];
static struct txn txns[TXNS];
static struct test_rng rng = {0x243F6A8885A308D3ull};

static void setup(void)
{
	struct e2e_settings s = {
		.base_port = 13140,
		.bank_timeout_ms = TIMEOUT_MS,
		.reversal_retry_ms = 100,
		.reversal_retry_max_ms = 800,
		.outcome_memory = 65536,
		.cards_per_bank = 20,
		.initial_balance = 100000,
		.big_max_amount = 500000,
	};
	cr_assert(e2e_prepare(&env, &s));
	cr_assert(test_udp_peer_open(&bank, env.big_iso));
	for (int i = 0; i < HOLDERS; i++)
		cr_assert(test_udp_peer_open(&holders[i], 0));
	cr_assert(e2e_start_switch(&env, 2));
}

static void teardown(void)
{
	test_udp_peer_close(&bank);
	for (int i = 0; i < HOLDERS; i++)
		test_udp_peer_close(&holders[i]);
	e2e_cleanup(&env, true);
}

TestSuite(switch_soak, .init = setup, .fini = teardown, .timeout = 120);

static void send_to_switch(struct test_udp_peer *from, const struct test_msg *t)
{
	uint8_t buf[ISO_MAX_MESSAGE + 2];
	size_t n = tm_encode(t, buf, sizeof(buf));
	cr_assert(n > 0 && test_udp_peer_send(from, env.switch_iso, buf, n));
}

static struct txn *by_rrn(const struct iso_msg *m)
{
	char rrn[13];
	if (iso_field_text(m, 37, rrn, sizeof(rrn)) != 12)
		return NULL;
	for (int i = 0; i < TXNS; i++)
		if (strcmp(txns[i].req.text[37], rrn) == 0)
			return &txns[i];
	return NULL;
}

static void build_reply(struct test_msg *out, const struct iso_msg *req, const char *action)
{
	struct test_msg *a = out;
	iso_msg_init(&a->m, (uint16_t)(req->mti - req->mti % 10 + 10));
	static const int echoed[] = {2, 3, 4, 7, 11, 12, 32, 37, 41, 49, 56};
	char text[64];
	for (size_t i = 0; i < sizeof(echoed) / sizeof(echoed[0]); i++)
		if (iso_has(req, echoed[i]))
			tm_set(a, echoed[i], tm_text(req, echoed[i], text, sizeof(text)));
	tm_set(a, 39, action);
}

static void bank_reply(const struct iso_msg *req, const char *action)
{
	struct test_msg a;
	build_reply(&a, req, action);
	send_to_switch(&bank, &a);
}

/* The bank may lose every answer to a forwarded reversal: cardholders repeat theirs. */
static void repeat_reversals(void)
{
	for (int i = 0; i < TXNS; i++) {
		struct txn *t = &txns[i];
		if (t->reversal_sent && !t->reversal_answered && test_now_ms() - t->reversal_sent_at > 1000) {
			t->reversal.m.mti = 1421;
			send_to_switch(&holders[t->holder], &t->reversal);
			t->reversal_sent_at = test_now_ms();
		}
	}
}

/* Approvals held back past the switch's timeout. */
static void send_late_answers(void)
{
	for (int i = 0; i < TXNS; i++) {
		if (txns[i].late_answer_at && test_now_ms() >= txns[i].late_answer_at) {
			send_to_switch(&bank, &txns[i].late_answer);
			txns[i].late_answer_at = 0;
		}
	}
}

static void serve_bank(void)
{
	uint8_t buf[ISO_MAX_MESSAGE + 2];
	size_t n;
	while ((n = e2e_receive_frame_from(&bank, buf, sizeof(buf), 0)) > 0) {
		struct iso_msg m;
		cr_assert(tm_decode_framed(buf, n, &m), "the bank got an undecodable message");
		struct txn *t = by_rrn(&m);
		cr_assert_not_null(t, "the bank got a message for no known RRN");
		char text[64];
		if (m.mti == 1100) {
			cr_assert_not(t->at_bank, "a 1100 reached the bank twice");
			t->at_bank = true;
			tm_text(&m, 11, t->bank_stan, sizeof(t->bank_stan));
			enum bank_choice c = (enum bank_choice)(test_rng_next(&rng) % 10 < 5 ? BANK_APPROVE : test_rng_next(&rng) % 4 + 1);
			t->bank_approved = c == BANK_APPROVE || c == BANK_TWICE || c == BANK_LATE;
			if (c == BANK_APPROVE)
				bank_reply(&m, "000");
			else if (c == BANK_DECLINE)
				bank_reply(&m, "116");
			else if (c == BANK_TWICE) {
				bank_reply(&m, "000");
				bank_reply(&m, "000");
			}
		} else if (m.mti == 1420 || m.mti == 1421) {
			t->reversals_at_bank++;
			const char *de56 = tm_text(&m, 56, text, sizeof(text));
			if (strncmp(de56 + 4, t->bank_stan, 6) != 0)
				t->reversal_stan_mismatch = true;
			if (test_rng_next(&rng) % 5 != 0)
				bank_reply(&m, "400");
		} else {
			cr_assert_fail("the bank got MTI %u", m.mti);
		}
	}
}

static void serve_holders(void)
{
	for (int h = 0; h < HOLDERS; h++) {
		uint8_t buf[ISO_MAX_MESSAGE + 2];
		size_t n;
		while ((n = e2e_receive_frame_from(&holders[h], buf, sizeof(buf), 0)) > 0) {
			struct iso_msg m;
			cr_assert(tm_decode_framed(buf, n, &m));
			struct txn *t = by_rrn(&m);
			cr_assert_not_null(t);
			cr_assert_eq(t->holder, h, "answer sent to another cardholder");
			char stan[7];
			if (m.mti == 1110) {
				t->answers++;
				t->answered = true;
				tm_text(&m, 39, t->action, sizeof(t->action));
				cr_assert_str_eq(tm_text(&m, 11, stan, sizeof(stan)), t->req.text[11]);
				if (test_rng_next(&rng) % 5 == 0) {
					char rev_stan[7];
					snprintf(rev_stan, sizeof(rev_stan), "9%05d", (int)(t - txns));
					tm_reversal_of(&t->reversal, &t->req, rev_stan);
					send_to_switch(&holders[h], &t->reversal);
					t->reversal_sent = true;
					t->reversal_sent_at = test_now_ms();
				}
			} else if (m.mti == 1430) {
				t->reversal_answered = true;
			} else {
				cr_assert_fail("a cardholder got MTI %u", m.mti);
			}
		}
	}
}

Test(switch_soak, money_invariants_hold_with_a_misbehaving_bank)
{
	for (int i = 0; i < TXNS; i++) {
		struct population_card c;
		e2e_card(&env, 0, (size_t)(i % 20), &c);
		char stan[7];
		snprintf(stan, sizeof(stan), "%06d", 200000 + i);
		tm_authorization(&txns[i].req, c.pan, c.expiry, stan, "000000000100");
		txns[i].holder = i % HOLDERS;
	}
	int next = 0;
	int64_t deadline = test_now_ms() + 60000;
	for (;;) {
		cr_assert_lt(test_now_ms(), deadline, "soak did not settle in time");
		/* About 200 authorizations a second, a few per turn. */
		for (int k = 0; k < 2 && next < TXNS; k++, next++) {
			send_to_switch(&holders[txns[next].holder], &txns[next].req);
			txns[next].sent = true;
		}
		serve_bank();
		send_late_answers();
		serve_holders();
		repeat_reversals();
		bool done = next == TXNS;
		for (int i = 0; i < TXNS && done; i++)
			done = txns[i].answered && (!txns[i].reversal_sent || txns[i].reversal_answered) &&
			       txns[i].late_answer_at == 0;
		if (done && e2e_switch_stat(&env, "forwarded") ==
				    e2e_switch_stat(&env, "approved") + e2e_switch_stat(&env, "declined") +
					    e2e_switch_stat(&env, "timed_out") +
					    e2e_switch_stat(&env, "cancelled_approvals")) {
			json_t *stats;
			cr_assert_eq(test_http(env.switch_http, "GET", "/stats", NULL, &stats), 200);
			long long pending = json_integer_value(json_object_get(json_object_get(stats, "gauges"), "pending"));
			json_decref(stats);
			if (pending == 0)
				break;
		}
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
	}
	/* Late duplicates and repeats may still be in flight: let them land. */
	for (int i = 0; i < 40; i++) {
		serve_bank();
		send_late_answers();
		serve_holders();
		struct timespec ts = {0, 10 * 1000000};
		nanosleep(&ts, NULL);
	}

	int approved_kept = 0, timed_out = 0, reversed_by_holder = 0;
	for (int i = 0; i < TXNS; i++) {
		struct txn *t = &txns[i];
		cr_assert_eq(t->answers, 1, "txn %d got %d answers", i, t->answers);
		cr_assert_not(t->reversal_stan_mismatch, "txn %d: a reversal named another STAN", i);
		bool holder_has_money_taken = strcmp(t->action, "000") == 0 && !t->reversal_sent;
		if (t->bank_approved && !holder_has_money_taken)
			cr_assert_gt(t->reversals_at_bank, 0, "txn %d: approved at the bank, cardholder saw %s%s, never reversed",
				     i, t->action, t->reversal_sent ? " and reversed" : "");
		if (holder_has_money_taken)
			cr_assert_eq(t->reversals_at_bank, 0, "txn %d: approval the cardholder kept was reversed", i);
		approved_kept += holder_has_money_taken;
		timed_out += strcmp(t->action, "911") == 0;
		reversed_by_holder += t->reversal_sent;
	}
	cr_assert_gt(approved_kept, 0);
	cr_assert_gt(timed_out, 0);
	cr_assert_gt(reversed_by_holder, 0);
	cr_assert_gt(e2e_switch_stat(&env, "handed_over"), 0);
	cr_assert_gt(e2e_switch_stat(&env, "late_responses"), 0);
	cr_assert_eq(e2e_switch_stat(&env, "authorizations"), TXNS);
}
