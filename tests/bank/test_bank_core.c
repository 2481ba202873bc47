/*
 * The bank's decisions on a real LMDB store: rules applied with debits and
 * activation, duplicates answered from the journal without a second debit,
 * reversals crediting exactly once, tombstones for reversals that come first.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "bank_core.h"
#include "test_pan_keys.h"
#include "test_temp_dir.h"

#define NOW 1795608000 /* 2026-11-25 12:00 UTC */
#define PAN_ACTIVE "5105100000000018"
#define PAN_PRODUCED "5105100000000026"
#define PAN_BLOCKED "5105100000000034"
#define PAN_EXPIRED "5105100000000042"
#define PAN_OTHER "5105100000000059"

static char dir[256];
static struct store store;
static struct bank_core core;

static void put_card(struct store_txn *txn, const char *pan, const char *account, const char *expiry, enum card_state s)
{
	struct card_record c;
	memset(&c, 0, sizeof(c));
	snprintf(c.account, sizeof(c.account), "%s", account);
	memcpy(c.expiry, expiry, 5);
	c.state = (uint8_t)s;
	cr_assert_eq(store_card_put(txn, &store, pan, &c, STORE_REPLACE), 0);
}

static void put_account(struct store_txn *txn, const char *id, int64_t balance)
{
	struct account_record a;
	memset(&a, 0, sizeof(a));
	a.balance = balance;
	memcpy(a.currency, "978", 4);
	snprintf(a.owner, sizeof(a.owner), "%s", id);
	cr_assert_eq(store_account_put(txn, &store, id, &a, STORE_REPLACE), 0);
	cr_assert_eq(store_meta_add(txn, &store, STORE_META_CREATED_TOTAL, balance), 0);
}

static void setup_with(uint32_t max_per_minute)
{
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "bank"));
	char err[256];
	cr_assert_eq(store_open(&store, dir, 16u << 20, DURABILITY_SYNC, test_shared_vault(), err, sizeof(err)), 0, "%s", err);
	struct store_txn *txn;
	cr_assert_eq(store_write_begin(&store, &txn), 0);
	put_account(txn, "acc-1", 10000);
	put_account(txn, "acc-2", 500);
	put_card(txn, PAN_ACTIVE, "acc-1", "3012", CARD_ACTIVE);
	put_card(txn, PAN_PRODUCED, "acc-1", "3012", CARD_PRODUCED);
	put_card(txn, PAN_BLOCKED, "acc-1", "3012", CARD_BLOCKED);
	put_card(txn, PAN_EXPIRED, "acc-1", "2001", CARD_ACTIVE);
	put_card(txn, PAN_OTHER, "acc-2", "3012", CARD_ACTIVE);
	cr_assert_eq(store_commit(txn), 0);
	struct bank_rules rules = {.max_amount = 50000, .max_approvals_per_minute = max_per_minute,
				   .currency = "978"};
	cr_assert(bank_core_init(&core, &store, &rules, 16));
	bank_core_set_time(&core, NOW);
}

static void setup(void)
{
	setup_with(0);
}

static void teardown(void)
{
	bank_core_free(&core);
	store_close(&store);
	test_temp_dir_remove(dir);
}

TestSuite(core, .init = setup, .fini = teardown);

static struct bank_request request(uint16_t mti, const char *pan, unsigned stan, uint64_t amount)
{
	struct bank_request r;
	memset(&r, 0, sizeof(r));
	r.mti = mti;
	r.kind = mti / 100 == 11 ? BANK_AUTHORIZATION : BANK_REVERSAL;
	r.amount = amount;
	snprintf(r.pan, sizeof(r.pan), "%s", pan);
	snprintf(r.stan, sizeof(r.stan), "%06u", stan);
	snprintf(r.amount_text, sizeof(r.amount_text), "%012llu", (unsigned long long)amount);
	memcpy(r.local_time, "261125120000", 13);
	memcpy(r.acquirer, "30000000003", 12);
	memcpy(r.rrn, "RRN000000001", 13);
	memcpy(r.terminal, "TERM0001", 9);
	memcpy(r.expiry, "3012", 5);
	memcpy(r.currency, "978", 4);
	memcpy(r.processing_code, "000000", 7);
	cr_assert(journal_key_build(&r.key, r.acquirer, r.stan, r.local_time, r.rrn, r.terminal));
	return r;
}

static struct bank_request authorization(const char *pan, unsigned stan, uint64_t amount)
{
	return request(1100, pan, stan, amount);
}

/* A reversal finds its original by the same five key parts (taken from DE 56 on the wire). */
static struct bank_request reversal(const char *pan, unsigned original_stan, uint64_t amount)
{
	return request(1420, pan, original_stan, amount);
}

static void decide(struct bank_request *r)
{
	struct store_txn *txn;
	cr_assert_eq(store_write_begin(&store, &txn), 0);
	cr_assert_eq(bank_core_apply(&core, txn, r), 0);
	cr_assert_eq(store_commit(txn), 0);
}

static int64_t balance_of(const char *id)
{
	struct store_txn *txn;
	struct account_record a;
	cr_assert_eq(store_read_begin(&store, &txn), 0);
	cr_assert_eq(store_account_get(txn, &store, id, &a), 0);
	store_abort(txn);
	return a.balance;
}

static uint8_t card_state_of(const char *pan)
{
	struct store_txn *txn;
	struct card_record c;
	cr_assert_eq(store_read_begin(&store, &txn), 0);
	cr_assert_eq(store_card_get(txn, &store, pan, &c), 0);
	store_abort(txn);
	return c.state;
}

static void assert_ledger_consistent(void)
{
	struct ledger_totals t;
	cr_assert_eq(store_ledger_totals(&store, &t), 0);
	cr_assert_eq(t.created_total - t.total_balance, (int64_t)t.approved_amount,
		     "created %lld - balances %lld != approved %llu", (long long)t.created_total,
		     (long long)t.total_balance, (unsigned long long)t.approved_amount);
}

Test(core, approval_debits_and_gives_an_approval_code)
{
	struct bank_request r = authorization(PAN_ACTIVE, 1, 2500);
	decide(&r);
	cr_assert_str_eq(r.action, "000");
	cr_assert_eq(strlen(r.approval), 6);
	cr_assert_eq(strspn(r.approval, "0123456789"), 6, "approval code '%s' is six digits", r.approval);
	cr_assert_eq(balance_of("acc-1"), 7500);
	struct bank_request next = authorization(PAN_ACTIVE, 2, 100);
	core.approval_seq = 999999; /* the next code wraps to 000000 */
	decide(&next);
	cr_assert_str_eq(next.approval, "000000");
	assert_ledger_consistent();
}

Test(core, refusals_move_no_money)
{
	struct bank_request r = authorization(PAN_ACTIVE, 1, 10001);
	decide(&r);
	cr_assert_str_eq(r.action, "116");
	r = authorization("5105100000009999", 2, 100);
	decide(&r);
	cr_assert_str_eq(r.action, "111");
	r = authorization(PAN_BLOCKED, 3, 100);
	decide(&r);
	cr_assert_str_eq(r.action, "119");
	r = authorization(PAN_EXPIRED, 4, 100);
	r.expiry[0] = '\0';
	decide(&r);
	cr_assert_str_eq(r.action, "101");
	r = authorization(PAN_ACTIVE, 5, 50001); /* above max_amount */
	decide(&r);
	cr_assert_str_eq(r.action, "119");
	cr_assert_eq(balance_of("acc-1"), 10000);
	assert_ledger_consistent();
}

Test(core, first_approved_payment_activates_a_produced_card)
{
	struct bank_request r = authorization(PAN_PRODUCED, 1, 20000); /* refused: stays produced */
	decide(&r);
	cr_assert_str_eq(r.action, "116");
	cr_assert_eq(card_state_of(PAN_PRODUCED), CARD_PRODUCED);
	r = authorization(PAN_PRODUCED, 2, 100);
	decide(&r);
	cr_assert_str_eq(r.action, "000");
	cr_assert_eq(card_state_of(PAN_PRODUCED), CARD_ACTIVE);
}

Test(core, duplicate_gets_the_same_answer_without_a_second_debit)
{
	struct bank_request first = authorization(PAN_ACTIVE, 7, 1000);
	decide(&first);
	struct bank_request again = authorization(PAN_ACTIVE, 7, 1000);
	decide(&again);
	cr_assert_str_eq(again.action, "000");
	cr_assert_str_eq(again.approval, first.approval);
	cr_assert_eq(again.outcome, OUTCOME_DUPLICATE);
	cr_assert_eq(balance_of("acc-1"), 9000);
	assert_ledger_consistent();
}

Test(core, duplicate_of_a_refusal_is_refused_the_same_way)
{
	struct bank_request first = authorization(PAN_OTHER, 8, 600);
	decide(&first);
	cr_assert_str_eq(first.action, "116");
	struct bank_request again = authorization(PAN_OTHER, 8, 600);
	decide(&again);
	cr_assert_str_eq(again.action, "116");
	cr_assert_eq(again.outcome, OUTCOME_DUPLICATE);
}

Test(core, same_key_with_another_amount_or_card_is_913)
{
	struct bank_request first = authorization(PAN_ACTIVE, 9, 1000);
	decide(&first);
	struct bank_request other_amount = authorization(PAN_ACTIVE, 9, 1001);
	decide(&other_amount);
	cr_assert_str_eq(other_amount.action, "913");
	struct bank_request other_card = authorization(PAN_OTHER, 9, 1000);
	decide(&other_card);
	cr_assert_str_eq(other_card.action, "913");
	cr_assert_eq(balance_of("acc-1"), 9000);
	cr_assert_eq(balance_of("acc-2"), 500);
}

Test(core, duplicates_in_one_transaction_debit_once)
{
	struct bank_request a = authorization(PAN_ACTIVE, 10, 3000), b = a;
	struct store_txn *txn;
	cr_assert_eq(store_write_begin(&store, &txn), 0);
	cr_assert_eq(bank_core_apply(&core, txn, &a), 0);
	cr_assert_eq(bank_core_apply(&core, txn, &b), 0);
	cr_assert_eq(store_commit(txn), 0);
	cr_assert_str_eq(b.action, "000");
	cr_assert_eq(b.outcome, OUTCOME_DUPLICATE);
	cr_assert_eq(balance_of("acc-1"), 7000);
}

Test(core, reversal_credits_exactly_once)
{
	struct bank_request pay = authorization(PAN_ACTIVE, 11, 4000);
	decide(&pay);
	cr_assert_eq(balance_of("acc-1"), 6000);
	struct bank_request rev = reversal(PAN_ACTIVE, 11, 4000);
	decide(&rev);
	cr_assert_str_eq(rev.action, "400");
	cr_assert_eq(rev.outcome, OUTCOME_REVERSAL_CREDITED);
	cr_assert_eq(balance_of("acc-1"), 10000);
	for (int i = 0; i < 3; i++) {
		struct bank_request replay = request(i == 0 ? 1420 : 1421, PAN_ACTIVE, 11, 4000);
		decide(&replay);
		cr_assert_str_eq(replay.action, "400");
		cr_assert_eq(replay.outcome, OUTCOME_REVERSAL_REPLAY);
	}
	cr_assert_eq(balance_of("acc-1"), 10000);
	struct ledger_totals t;
	cr_assert_eq(store_ledger_totals(&store, &t), 0);
	cr_assert_eq(t.reversed_count, 1);
	cr_assert_eq(t.reversed_amount, 4000);
	cr_assert_eq(t.approved_count, 0);
	assert_ledger_consistent();
	/* The 1100 again after its reversal must not look approved. */
	struct bank_request again = authorization(PAN_ACTIVE, 11, 4000);
	decide(&again);
	cr_assert_str_eq(again.action, "913");
	cr_assert_eq(balance_of("acc-1"), 10000);
}

/* The same transaction as a network restarted: its DE 11 and DE 56 name the cardholder's STAN. */
static struct bank_request with_rrn(struct bank_request r, const char *rrn)
{
	snprintf(r.rrn, sizeof(r.rrn), "%s", rrn);
	cr_assert(journal_key_build(&r.key, r.acquirer, r.stan, r.local_time, r.rrn, r.terminal));
	return r;
}

Test(core, a_reversal_under_another_stan_finds_its_original_by_de_12_32_37_41)
{
	/* The network gave the 1100 its STAN 500011; after its restart the cardholder's
	 * reversal reaches the bank naming the cardholder's STAN 000011. */
	struct bank_request pay = with_rrn(authorization(PAN_ACTIVE, 500011, 4000), "RRN000000777");
	decide(&pay);
	cr_assert_eq(balance_of("acc-1"), 6000);
	struct bank_request rev = with_rrn(reversal(PAN_ACTIVE, 11, 4000), "RRN000000777");
	decide(&rev);
	cr_assert_str_eq(rev.action, "400");
	cr_assert_eq(rev.outcome, OUTCOME_REVERSAL_CREDITED);
	cr_assert(rev.found_by_keys_but_stan);
	cr_assert_eq(balance_of("acc-1"), 10000);
	/* The network's own advice (under its STAN) afterwards is a replay, not a second credit. */
	struct bank_request advice = with_rrn(reversal(PAN_ACTIVE, 500011, 4000), "RRN000000777");
	decide(&advice);
	cr_assert_eq(advice.outcome, OUTCOME_REVERSAL_REPLAY);
	cr_assert_eq(balance_of("acc-1"), 10000);
	assert_ledger_consistent();
}

Test(core, two_originals_with_the_same_keys_but_stan_are_not_guessed_between)
{
	struct bank_request a = with_rrn(authorization(PAN_ACTIVE, 500021, 1000), "RRN000000888");
	struct bank_request b = with_rrn(authorization(PAN_ACTIVE, 500022, 2000), "RRN000000888");
	decide(&a);
	decide(&b);
	cr_assert_eq(balance_of("acc-1"), 7000);
	struct bank_request rev = with_rrn(reversal(PAN_ACTIVE, 21, 1000), "RRN000000888");
	decide(&rev);
	cr_assert_str_eq(rev.action, "914", "ambiguous: the bank must not pick one");
	cr_assert_eq(balance_of("acc-1"), 7000);
	assert_ledger_consistent();
}

/* The acquirer's repeat (1101) of an 1100 it had no answer to. */
static struct bank_request repeat(const char *pan, unsigned stan, uint64_t amount)
{
	return request(1101, pan, stan, amount);
}

Test(core, a_repeat_under_another_stan_gets_the_original_answer_without_a_second_debit)
{
	/* The network forwarded the 1100 as 500031, restarted, and forwards the repeat as 500032. */
	struct bank_request pay = with_rrn(authorization(PAN_ACTIVE, 500031, 2500), "RRN000000931");
	decide(&pay);
	cr_assert_str_eq(pay.action, "000");
	struct bank_request again = with_rrn(repeat(PAN_ACTIVE, 500032, 2500), "RRN000000931");
	decide(&again);
	cr_assert_str_eq(again.action, "000");
	cr_assert_str_eq(again.approval, pay.approval, "the original's approval code, not a new one");
	cr_assert_eq(again.outcome, OUTCOME_DUPLICATE);
	cr_assert(again.found_by_keys_but_stan);
	cr_assert_eq(balance_of("acc-1"), 7500);
	/* The network's advice for the repeat (its answer lost) reverses the original, once. */
	struct bank_request advice = with_rrn(reversal(PAN_ACTIVE, 500032, 2500), "RRN000000931");
	decide(&advice);
	cr_assert_eq(advice.outcome, OUTCOME_REVERSAL_CREDITED);
	struct bank_request old_advice = with_rrn(reversal(PAN_ACTIVE, 500031, 2500), "RRN000000931");
	decide(&old_advice);
	cr_assert_eq(old_advice.outcome, OUTCOME_REVERSAL_REPLAY);
	cr_assert_eq(balance_of("acc-1"), 10000);
	/* A repeat of a reversed original is not reported approved again. */
	struct bank_request late = with_rrn(repeat(PAN_ACTIVE, 500033, 2500), "RRN000000931");
	decide(&late);
	cr_assert_str_eq(late.action, "913");
	cr_assert_eq(balance_of("acc-1"), 10000);
	assert_ledger_consistent();
}

Test(core, a_repeat_of_a_refusal_is_refused_the_same_way_and_another_amount_is_913)
{
	struct bank_request pay = with_rrn(authorization(PAN_OTHER, 500034, 600), "RRN000000934");
	decide(&pay);
	cr_assert_str_eq(pay.action, "116");
	struct bank_request again = with_rrn(repeat(PAN_OTHER, 500035, 600), "RRN000000934");
	decide(&again);
	cr_assert_str_eq(again.action, "116");
	struct bank_request other = with_rrn(repeat(PAN_OTHER, 500036, 400), "RRN000000934");
	decide(&other);
	cr_assert_str_eq(other.action, "913", "not the transaction it claims to repeat");
	cr_assert_eq(balance_of("acc-2"), 500);
}

Test(core, a_repeat_of_an_original_that_never_arrived_is_decided)
{
	struct bank_request first = with_rrn(repeat(PAN_ACTIVE, 500037, 1200), "RRN000000937");
	decide(&first);
	cr_assert_str_eq(first.action, "000");
	cr_assert_eq(first.outcome, OUTCOME_NEW);
	cr_assert_eq(balance_of("acc-1"), 8800);
	assert_ledger_consistent();
}

Test(core, a_repeat_between_two_originals_is_not_guessed_and_moves_no_money)
{
	struct bank_request a = with_rrn(authorization(PAN_ACTIVE, 500038, 1000), "RRN000000938");
	struct bank_request b = with_rrn(authorization(PAN_ACTIVE, 500039, 1000), "RRN000000938");
	decide(&a);
	decide(&b);
	cr_assert_eq(balance_of("acc-1"), 8000);
	struct bank_request again = with_rrn(repeat(PAN_ACTIVE, 500040, 1000), "RRN000000938");
	decide(&again);
	cr_assert_str_eq(again.action, "913");
	cr_assert_eq(balance_of("acc-1"), 8000);
	assert_ledger_consistent();
}

Test(core, a_late_original_under_the_networks_stan_after_its_reversal_under_the_cardholders_never_debits)
{
	/* The cardholder's reversal came first (forwarded with the cardholder's STAN 41 by a
	 * network that never saw the original); the network restarted; the original then
	 * comes under the network's STAN 500041. */
	struct bank_request rev = with_rrn(reversal(PAN_ACTIVE, 41, 700), "RRN000000941");
	decide(&rev);
	cr_assert_str_eq(rev.action, "914");
	struct bank_request late = with_rrn(authorization(PAN_ACTIVE, 500041, 700), "RRN000000941");
	decide(&late);
	cr_assert_str_eq(late.action, "100");
	cr_assert_eq(late.outcome, OUTCOME_TOMBSTONE_DECLINE);
	struct bank_request late_repeat = with_rrn(repeat(PAN_ACTIVE, 500042, 700), "RRN000000941");
	decide(&late_repeat);
	cr_assert_str_eq(late_repeat.action, "100");
	cr_assert_eq(balance_of("acc-1"), 10000);
	/* Another card or amount under those keys is another transaction: decided. */
	struct bank_request other = with_rrn(authorization(PAN_ACTIVE, 500043, 800), "RRN000000941");
	decide(&other);
	cr_assert_str_eq(other.action, "000");
	cr_assert_eq(balance_of("acc-1"), 9200);
	assert_ledger_consistent();
}

Test(core, reversal_of_a_refused_original_moves_no_money)
{
	struct bank_request pay = authorization(PAN_ACTIVE, 12, 20000);
	decide(&pay);
	cr_assert_str_eq(pay.action, "116");
	struct bank_request rev = reversal(PAN_ACTIVE, 12, 20000);
	decide(&rev);
	cr_assert_str_eq(rev.action, "400");
	cr_assert_eq(rev.outcome, OUTCOME_REVERSAL_NO_MONEY);
	cr_assert_eq(balance_of("acc-1"), 10000);
	assert_ledger_consistent();
}

Test(core, unknown_original_is_914_and_the_late_original_never_debits)
{
	struct bank_request rev = reversal(PAN_ACTIVE, 13, 700);
	decide(&rev);
	cr_assert_str_eq(rev.action, "914");
	struct bank_request replay = reversal(PAN_ACTIVE, 13, 700);
	decide(&replay);
	cr_assert_str_eq(replay.action, "914");
	struct bank_request late = authorization(PAN_ACTIVE, 13, 700);
	decide(&late);
	cr_assert_str_eq(late.action, "100");
	cr_assert_eq(late.outcome, OUTCOME_TOMBSTONE_DECLINE);
	cr_assert_eq(balance_of("acc-1"), 10000);
	/* and its replay stays declined */
	struct bank_request late_again = authorization(PAN_ACTIVE, 13, 700);
	decide(&late_again);
	cr_assert_str_eq(late_again.action, "100");
	cr_assert_eq(balance_of("acc-1"), 10000);
	assert_ledger_consistent();
}

Test(core, reversal_naming_another_card_credits_nothing)
{
	struct bank_request pay = authorization(PAN_ACTIVE, 14, 900);
	decide(&pay);
	struct bank_request rev = reversal(PAN_OTHER, 14, 900);
	decide(&rev);
	cr_assert_str_eq(rev.action, "914");
	cr_assert_eq(balance_of("acc-1"), 9100);
	cr_assert_eq(balance_of("acc-2"), 500);
}

Test(core, many_payments_never_overdraw)
{
	int approved = 0;
	for (unsigned i = 0; i < 30; i++) {
		struct bank_request r = authorization(PAN_OTHER, 100 + i, 70);
		decide(&r);
		approved += strcmp(r.action, "000") == 0;
	}
	cr_assert_eq(approved, 7); /* 500 / 70 */
	cr_assert_eq(balance_of("acc-2"), 10);
	assert_ledger_consistent();
}

/* Load shedding: a 1100 that waited past the budget gets 912 and leaves no trace;
 * within the budget, or with no arrival time, it is decided as usual. */
Test(core, authorization_past_the_answer_budget_is_shed_untouched)
{
	const uint64_t ms = 1000000;
	bank_core_set_answer_budget(&core, 100);
	bank_core_set_monotonic(&core, 10000 * ms);

	struct bank_request late = authorization(PAN_ACTIVE, 1, 2500);
	late.received_ns = 10000 * ms - 101 * ms;
	decide(&late);
	cr_assert_str_eq(late.action, "912");
	cr_assert_eq(late.outcome, OUTCOME_SHED);
	cr_assert_eq(late.approval[0], '\0');
	cr_assert_eq(balance_of("acc-1"), 10000, "no debit");

	/* Nothing was journaled: the same 1100 again, in time, is a first decision, not a duplicate. */
	struct bank_request again = authorization(PAN_ACTIVE, 1, 2500);
	again.received_ns = 10000 * ms - 99 * ms;
	decide(&again);
	cr_assert_str_eq(again.action, "000");
	cr_assert_eq(again.outcome, OUTCOME_NEW);
	cr_assert_eq(balance_of("acc-1"), 7500);

	struct bank_request unknown_arrival = authorization(PAN_ACTIVE, 2, 500);
	decide(&unknown_arrival);
	cr_assert_str_eq(unknown_arrival.action, "000");

	bank_core_set_answer_budget(&core, 0); /* 0: never shed */
	struct bank_request very_late = authorization(PAN_ACTIVE, 3, 500);
	very_late.received_ns = 1;
	decide(&very_late);
	cr_assert_str_eq(very_late.action, "000");
	cr_assert_eq(balance_of("acc-1"), 6500);
	assert_ledger_consistent();
}

/* The simulator's finding (docs/simulation.md): a repeat shed with 912 over its standing debit. */
Test(core, past_the_budget_a_duplicate_or_repeat_still_gets_the_journals_answer)
{
	const uint64_t ms = 1000000;
	struct bank_request pay = with_rrn(authorization(PAN_ACTIVE, 500051, 2500), "RRN000000951");
	decide(&pay);
	cr_assert_str_eq(pay.action, "000");
	bank_core_set_answer_budget(&core, 100);
	bank_core_set_monotonic(&core, 10000 * ms);
	struct bank_request copy = with_rrn(authorization(PAN_ACTIVE, 500051, 2500), "RRN000000951");
	copy.received_ns = 10000 * ms - 500 * ms;
	decide(&copy);
	cr_assert_str_eq(copy.action, "000", "a duplicate reads the journal, it is not shed");
	cr_assert_str_eq(copy.approval, pay.approval);
	struct bank_request again = with_rrn(repeat(PAN_ACTIVE, 500052, 2500), "RRN000000951");
	again.received_ns = 10000 * ms - 500 * ms;
	decide(&again);
	cr_assert_str_eq(again.action, "000", "a repeat after a network restart reads the journal, it is not shed");
	cr_assert_str_eq(again.approval, pay.approval);
	/* A repeat with nothing before it would be a new decision: shed like an 1100. */
	struct bank_request fresh = with_rrn(repeat(PAN_ACTIVE, 500053, 700), "RRN000000953");
	fresh.received_ns = 10000 * ms - 500 * ms;
	decide(&fresh);
	cr_assert_str_eq(fresh.action, "912");
	cr_assert_eq(balance_of("acc-1"), 7500);
	assert_ledger_consistent();
}

/* Reversals are never shed, however long they waited: they give money back. */
Test(core, reversal_past_the_answer_budget_still_credits)
{
	struct bank_request original = authorization(PAN_ACTIVE, 1, 2500);
	decide(&original);
	cr_assert_eq(balance_of("acc-1"), 7500);
	bank_core_set_answer_budget(&core, 100);
	bank_core_set_monotonic(&core, 5000000000ull);
	struct bank_request r = reversal(PAN_ACTIVE, 1, 2500);
	r.received_ns = 1;
	decide(&r);
	cr_assert_str_eq(r.action, "400");
	cr_assert_eq(r.outcome, OUTCOME_REVERSAL_CREDITED);
	cr_assert_eq(balance_of("acc-1"), 10000);
	assert_ledger_consistent();
}

Test(core_velocity, approvals_per_card_per_minute, .init = NULL)
{
	setup_with(2);
	const char *actions[4];
	struct bank_request r[4];
	for (unsigned i = 0; i < 3; i++) {
		r[i] = authorization(PAN_ACTIVE, 200 + i, 10);
		decide(&r[i]);
		actions[i] = r[i].action;
	}
	cr_assert_str_eq(actions[0], "000");
	cr_assert_str_eq(actions[1], "000");
	cr_assert_str_eq(actions[2], "119");
	/* another card is not limited by this one */
	struct bank_request other = authorization(PAN_OTHER, 210, 10);
	decide(&other);
	cr_assert_str_eq(other.action, "000");
	/* a minute later the card may pay again */
	bank_core_set_time(&core, NOW + 60);
	r[3] = authorization(PAN_ACTIVE, 203, 10);
	decide(&r[3]);
	cr_assert_str_eq(r[3].action, "000");
	teardown();
}
