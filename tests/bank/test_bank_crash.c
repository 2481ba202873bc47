/*
 * Crash safety in sync mode with a real process: stream 1100s (and some
 * reversals) at a bank node, record every answer, SIGKILL the node in the
 * middle of the stream, restart it on the same LMDB directory and check
 *  - every approval the client received is in the journal: replaying the
 *    1100 returns the same approval code, and the replays debit nothing;
 *  - balances match the journal: created - balances = sum of approved debits
 *    (no change the bank did not approve), and every received approval's
 *    debit is in its account's balance;
 *  - every acknowledged reversal stayed reversed.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "bank_process.h"

#define CARDS 50
#define INITIAL_BALANCE 1000000
#define REQUESTS_MAX 40000
#define WINDOW 128
#define KILL_AFTER_APPROVALS 4000
#define REVERSAL_STAN_BASE 500000

struct payment_record {
	bool sent;
	bool approved;		/* a 1110/000 came back */
	bool reversal_sent;
	bool reversal_acked;	/* a 1430/400 came back */
	char approval[7];
};

static struct bank_process bank;
static struct payment_record records[REQUESTS_MAX];
static struct population_card cards[CARDS];

static uint64_t amount_of(unsigned i)
{
	return 1 + i % 97;
}

static struct test_payment payment_of(unsigned i)
{
	return test_payment_default(cards[i % CARDS].pan, i + 1, amount_of(i));
}

struct tally {
	unsigned approvals, declines, reversal_acks, answers;
};

static void record_answer(const struct test_answer *a, struct tally *t, struct test_udp_peer *c)
{
	unsigned stan = (unsigned)atoi(a->stan);
	t->answers++;
	if (a->mti == 1110 && stan >= 1 && stan <= REQUESTS_MAX) {
		struct payment_record *r = &records[stan - 1];
		if (strcmp(a->action, "000") != 0) {
			t->declines++;
			return;
		}
		r->approved = true;
		memcpy(r->approval, a->approval, sizeof(r->approval));
		t->approvals++;
		/* Reverse every 10th approval at once, as a cardholder that timed out would. */
		if ((stan - 1) % 10 == 0 && !r->reversal_sent) {
			uint8_t frame[512];
			struct test_payment p = payment_of(stan - 1);
			size_t len = test_build_reversal(&p, 1420, REVERSAL_STAN_BASE + stan, frame, sizeof(frame));
			r->reversal_sent = test_udp_peer_send(c, bank.iso_port, frame, len);
		}
	} else if (a->mti == 1430 && stan > REVERSAL_STAN_BASE && strcmp(a->action, "400") == 0) {
		records[stan - REVERSAL_STAN_BASE - 1].reversal_acked = true;
		t->reversal_acks++;
	}
}

static void setup(void)
{
	struct bank_process_config c = {.http_port = 12200, .iso_port = 12201, .durability = "sync",
					 .cards_per_bank = CARDS, .initial_balance = INITIAL_BALANCE,
					 .batch_max = 64, .port_count = 4 /* the restart moves to http + 2 */};
	bank_process_prepare(&bank, &c);
	for (size_t k = 0; k < CARDS; k++)
		bank_process_card(&bank, k, &cards[k]);
}

static void teardown(void)
{
	bank_process_cleanup(&bank);
}

static json_t *ledger(void)
{
	json_t *j;
	cr_assert_eq(test_http(bank.http_port, "GET", "/ledger", NULL, &j), 200);
	return j;
}

static long long field(json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

Test(crash, sigkill_mid_stream_loses_no_approval_and_invents_no_debit, .init = setup, .fini = teardown,
     .timeout = 180)
{
	cr_assert(bank_process_start(&bank, NULL), "bank-node did not start");
	struct test_udp_peer c;
	cr_assert(test_udp_peer_open(&c, 0));

	struct tally t = {0};
	unsigned next = 0, outstanding = 0;
	bool killed = false;
	int64_t last_answer = test_now_ms(), deadline = test_now_ms() + 60000;
	while (!killed && next < REQUESTS_MAX && test_now_ms() < deadline) {
		while (outstanding < WINDOW && next < REQUESTS_MAX) {
			uint8_t frame[512];
			struct test_payment p = payment_of(next);
			size_t len = test_build_1100(&p, frame, sizeof(frame));
			records[next].sent = test_udp_peer_send(&c, bank.iso_port, frame, len);
			next++;
			outstanding++;
		}
		struct test_answer a[64];
		int n = bank_process_receive_answers(&c, a, 64, 200);
		cr_assert_geq(n, 0, "an answer that does not decode");
		if (n == 0 && test_now_ms() - last_answer > 1000)
			outstanding = 0; /* lost on the way: stop waiting for them */
		for (int i = 0; i < n; i++) {
			record_answer(&a[i], &t, &c);
			if (a[i].mti == 1110 && outstanding > 0)
				outstanding--;
		}
		if (n > 0)
			last_answer = test_now_ms();
		if (t.approvals >= KILL_AFTER_APPROVALS) {
			int status = bank_process_kill(&bank, SIGKILL);
			cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
			killed = true;
		}
	}
	cr_assert(killed, "only %u approvals before the deadline", t.approvals);
	/* Answers already on their way when the node died still count. */
	for (;;) {
		struct test_answer a[64];
		int n = bank_process_receive_answers(&c, a, 64, 200);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			record_answer(&a[i], &t, &c);
	}
	cr_log_info("killed after %u requests sent, %u approvals and %u reversal acks received, %u in flight",
		    next, t.approvals, t.reversal_acks, next - (t.approvals + t.declines));
	cr_assert_eq(t.declines, 0, "balances were ample: nothing should be refused");

	/* Restart on the same LMDB; a fresh HTTP port in case the old one lingers. */
	bank.http_port += 2;
	cr_assert(bank_process_start(&bank, NULL), "bank-node did not restart");
	json_t *before = ledger();
	long long created = field(before, "created_total"), balances = field(before, "total_balance");
	long long approved_amount = field(before, "approved_amount");
	long long approved_count = field(before, "approved_count"), reversed_count = field(before, "reversed_count");
	cr_assert_eq(created, (long long)CARDS * INITIAL_BALANCE);
	cr_assert_eq(created - balances, approved_amount, "balances and journal disagree: created %lld, balances %lld, approved %lld",
		     created, balances, approved_amount);
	cr_assert_geq(approved_count + reversed_count, t.approvals, "approvals lost: journal %lld + %lld < received %u",
		      approved_count, reversed_count, t.approvals);
	cr_assert_leq(approved_count + reversed_count, next, "more debits than requests");
	cr_assert_geq(reversed_count, t.reversal_acks, "acknowledged reversals lost");

	/* Every received approval's debit is in its account (reversed ones excepted). */
	long long debited[CARDS] = {0};
	for (unsigned i = 0; i < next; i++)
		if (records[i].approved && !records[i].reversal_sent)
			debited[i % CARDS] += (long long)amount_of(i);
	for (size_t k = 0; k < CARDS; k++) {
		char path[128];
		snprintf(path, sizeof(path), "/get-balance/uuid/%s", cards[k].account);
		long long balance = test_http_int(bank.http_port, path, "balance");
		cr_assert_geq(INITIAL_BALANCE - balance, debited[k], "account %s lost debits", cards[k].account);
	}

	/* Replay every approved 1100: the journal answers with the same approval code, and debits nothing. */
	unsigned replayed = 0, confirmed = 0;
	for (unsigned i = 0; i < next;) {
		unsigned in_window = 0;
		for (; i < next && in_window < WINDOW; i++) {
			if (!records[i].approved)
				continue;
			uint8_t frame[512];
			struct test_payment p = payment_of(i);
			size_t len = test_build_1100(&p, frame, sizeof(frame));
			cr_assert(test_udp_peer_send(&c, bank.iso_port, frame, len));
			in_window++;
			replayed++;
		}
		for (unsigned got = 0; got < in_window;) {
			struct test_answer a[64];
			int n = bank_process_receive_answers(&c, a, 64, 3000);
			cr_assert_gt(n, 0, "replay answers stopped after %u of %u", confirmed, replayed);
			for (int k = 0; k < n; k++) {
				if (a[k].mti != 1110)
					continue; /* a late 1430 */
				unsigned stan = (unsigned)atoi(a[k].stan);
				cr_assert(stan >= 1 && stan <= next);
				struct payment_record *r = &records[stan - 1];
				if (r->reversal_sent && strcmp(a[k].action, "913") == 0) {
					/* reversed: a duplicate of it is not approved again */
				} else {
					cr_assert_str_eq(a[k].action, "000", "stan %u: approval lost", stan);
					cr_assert_str_eq(a[k].approval, r->approval, "stan %u: another approval code", stan);
				}
				got++;
				confirmed++;
			}
		}
	}
	cr_assert_eq(confirmed, replayed);
	json_t *after = ledger();
	cr_assert_eq(field(after, "total_balance"), balances, "replays moved money");
	cr_assert_eq(field(after, "approved_count"), approved_count);
	json_decref(before);
	json_decref(after);
	test_udp_peer_close(&c);
	int status = bank_process_kill(&bank, SIGTERM);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "restarted node did not stop cleanly");
}
