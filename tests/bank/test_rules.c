/* The authorization rules as a pure decision, one test per rule and their order. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "rules.h"

static struct card_record card;
static struct account_record account;
static struct bank_rules rules;
static struct rule_input in;

static void setup(void)
{
	memset(&card, 0, sizeof(card));
	snprintf(card.account, sizeof(card.account), "acc");
	memcpy(card.expiry, "2812", 5);
	card.state = CARD_ACTIVE;
	memset(&account, 0, sizeof(account));
	account.balance = 10000;
	memcpy(account.currency, "978", 4);
	memset(&rules, 0, sizeof(rules));
	memcpy(rules.currency, "978", 4);
	in = (struct rule_input){
		.card = &card,
		.account = &account,
		.request_expiry = "2812",
		.processing_code = "000000",
		.currency = "978",
		.amount = 2500,
		.today_yymm = 2611,
	};
}

TestSuite(rules, .init = setup);

Test(rules, approves_a_covered_payment)
{
	cr_assert_str_eq(rules_decide(&rules, &in), "000");
}

Test(rules, approves_exactly_the_balance)
{
	in.amount = 10000;
	cr_assert_str_eq(rules_decide(&rules, &in), "000");
}

Test(rules, an_amount_of_zero_is_110_even_with_no_money)
{
	in.amount = 0;
	cr_assert_str_eq(rules_decide(&rules, &in), "110");
	account.balance = 0;
	cr_assert_str_eq(rules_decide(&rules, &in), "110");
}

Test(rules, refuses_one_unit_more_than_the_balance)
{
	in.amount = 10001;
	cr_assert_str_eq(rules_decide(&rules, &in), "116");
}

Test(rules, unknown_card_is_111)
{
	in.card = NULL;
	cr_assert_str_eq(rules_decide(&rules, &in), "111");
}

Test(rules, blocked_and_ordered_cards_are_119_produced_is_allowed)
{
	card.state = CARD_BLOCKED;
	cr_assert_str_eq(rules_decide(&rules, &in), "119");
	card.state = CARD_ORDERED;
	cr_assert_str_eq(rules_decide(&rules, &in), "119");
	card.state = CARD_PRODUCED;
	cr_assert_str_eq(rules_decide(&rules, &in), "000");
}

Test(rules, expiry_is_valid_through_its_month)
{
	memcpy(card.expiry, "2611", 5);
	in.request_expiry = "2611";
	cr_assert_str_eq(rules_decide(&rules, &in), "000");
	in.today_yymm = 2612;
	cr_assert_str_eq(rules_decide(&rules, &in), "101");
}

Test(rules, an_expired_date_in_the_request_is_101_and_a_wrong_one_100)
{
	in.request_expiry = "2510";
	cr_assert_str_eq(rules_decide(&rules, &in), "101");
	in.request_expiry = "2901";
	cr_assert_str_eq(rules_decide(&rules, &in), "100");
	in.request_expiry = "2913"; /* month 13 */
	cr_assert_str_eq(rules_decide(&rules, &in), "101");
	in.request_expiry = "";
	cr_assert_str_eq(rules_decide(&rules, &in), "000");
}

Test(rules, max_amount_is_a_fraud_refusal)
{
	rules.max_amount = 2000;
	cr_assert_str_eq(rules_decide(&rules, &in), "119");
	in.amount = 2000;
	cr_assert_str_eq(rules_decide(&rules, &in), "000");
}

Test(rules, velocity_limit_per_minute)
{
	rules.max_approvals_per_minute = 3;
	in.approvals_last_minute = 2;
	cr_assert_str_eq(rules_decide(&rules, &in), "000");
	in.approvals_last_minute = 3;
	cr_assert_str_eq(rules_decide(&rules, &in), "119");
}

Test(rules, other_currency_and_non_purchase_are_not_permitted)
{
	in.currency = "840";
	cr_assert_str_eq(rules_decide(&rules, &in), "119");
	in.currency = "978";
	in.processing_code = "200000";
	cr_assert_str_eq(rules_decide(&rules, &in), "119");
}

Test(rules, missing_account_is_a_system_error)
{
	in.account = NULL;
	cr_assert_str_eq(rules_decide(&rules, &in), "909");
}

Test(rules, card_checks_come_before_funds)
{
	in.amount = 1000000;
	card.state = CARD_BLOCKED;
	cr_assert_str_eq(rules_decide(&rules, &in), "119");
	card.state = CARD_ACTIVE;
	memcpy(card.expiry, "2001", 5);
	in.request_expiry = "";
	cr_assert_str_eq(rules_decide(&rules, &in), "101");
}

Test(rules, yymm_of_a_date)
{
	cr_assert_eq(rules_yymm(1795608000), 2611); /* 2026-11-25 UTC */
	cr_assert_eq(rules_yymm(946684800), 1);	     /* 2000-01-01 */
}
