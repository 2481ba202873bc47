#include <criterion/criterion.h>
#include <string.h>

#include "luhn.h"
#include "message_builder.h"
#include "network_checks.h"

/* big_bank 51051000 -> bank "big"; cards: one active, one blocked. */
static struct route_table *routes;
static struct card_registry *cards;
static char active_pan[17], blocked_pan[17], unknown_pan[17], foreign_pan[17];

static void make_pan(const char *prefix15, char out[17])
{
	memcpy(out, prefix15, 15);
	out[15] = luhn_check_digit(prefix15, 15);
	out[16] = '\0';
}

static void setup(void)
{
	struct route_spec s;
	memset(&s, 0, sizeof(s));
	strcpy(s.low, "51051000");
	strcpy(s.high, "51051000");
	strcpy(s.bank, "big");
	strcpy(s.iso.host, "127.0.0.1");
	s.iso.port = 9101;
	char err[128];
	routes = route_table_build(&s, 1, 1, err, sizeof(err));
	cr_assert_not_null(routes, "%s", err);
	make_pan("510510000000001", active_pan);
	make_pan("510510000000002", blocked_pan);
	make_pan("510510000000003", unknown_pan);
	make_pan("520000000000001", foreign_pan);
	cards = card_registry_create(4);
	cr_assert(card_registry_put(cards, active_pan, 16, "3012", CARD_ACTIVE));
	cr_assert(card_registry_put(cards, blocked_pan, 16, "3012", CARD_BLOCKED));
}

static void teardown(void)
{
	route_table_free(routes);
	card_registry_free(cards);
}

TestSuite(network_checks, .init = setup, .fini = teardown);

static struct check_verdict check(const struct test_msg *t)
{
	struct network_check_context ctx = {.routes = routes, .cards = cards, .today_yymm = 2611, .major_industry_id = 5};
	return network_check_authorization(&t->m, &ctx);
}

Test(network_checks, a_good_request_passes_with_its_route)
{
	struct test_msg t;
	tm_authorization(&t, active_pan, "3012", "000001", "000000001000");
	struct check_verdict v = check(&t);
	cr_assert_eq(v.action, ACTION_APPROVED, "%s", check_failure_name(v.failure));
	cr_assert_str_eq(v.route.bank->name, "big");
}

Test(network_checks, each_missing_element_is_a_format_error)
{
	for (int i = 0; i < network_required_1100_count; i++) {
		struct test_msg t;
		tm_authorization(&t, active_pan, "3012", "000001", "000000001000");
		iso_clear(&t.m, network_required_1100[i]);
		struct check_verdict v = check(&t);
		cr_assert_eq(v.action, ACTION_FORMAT_ERROR, "without DE %d", network_required_1100[i]);
		cr_assert_eq(v.field, network_required_1100[i]);
	}
}

Test(network_checks, an_amount_of_zero_is_invalid_amount)
{
	struct test_msg t;
	tm_authorization(&t, active_pan, "3012", "000001", "000000000000");
	struct check_verdict v = check(&t);
	cr_assert_eq(v.action, ACTION_INVALID_AMOUNT);
	cr_assert_eq(v.failure, CHECK_ZERO_AMOUNT);
	cr_assert_eq(v.field, 4);
	cr_assert_str_eq(check_failure_name(v.failure), "amount of zero");
	tm_authorization(&t, active_pan, "3012", "000001", "000000000001");
	cr_assert_eq(check(&t).action, ACTION_APPROVED, "one minor unit is a payment");
}

Test(network_checks, luhn_failure_is_invalid_card)
{
	char bad[17];
	strcpy(bad, active_pan);
	bad[15] = bad[15] == '9' ? '0' : (char)(bad[15] + 1);
	struct test_msg t;
	tm_authorization(&t, bad, "3012", "000001", "000000001000");
	struct check_verdict v = check(&t);
	cr_assert_eq(v.action, ACTION_INVALID_CARD);
	cr_assert_eq(v.failure, CHECK_LUHN);
}

Test(network_checks, short_pan_is_a_format_error)
{
	struct test_msg t;
	tm_authorization(&t, "51051000001", "3012", "000001", "000000001000");
	cr_assert_eq(check(&t).action, ACTION_FORMAT_ERROR);
}

Test(network_checks, expiry_before_this_month_is_expired)
{
	struct test_msg t;
	tm_authorization(&t, active_pan, "2610", "000001", "000000001000");
	struct check_verdict v = check(&t);
	cr_assert_eq(v.action, ACTION_EXPIRED);
	cr_assert_eq(v.field, 14);
	tm_authorization(&t, active_pan, "2611", "000001", "000000001000");
	cr_assert_eq(check(&t).action, ACTION_APPROVED, "valid through the end of its month");
	tm_authorization(&t, active_pan, "2613", "000001", "000000001000");
	cr_assert_eq(check(&t).action, ACTION_FORMAT_ERROR, "month 13");
}

Test(network_checks, other_network_or_unrouted_bin_is_invalid_card)
{
	struct test_msg t;
	tm_authorization(&t, "4111111111111111", "3012", "000001", "000000001000");
	cr_assert_eq(check(&t).failure, CHECK_WRONG_NETWORK);
	cr_assert_eq(check(&t).action, ACTION_INVALID_CARD);
	tm_authorization(&t, foreign_pan, "3012", "000001", "000000001000");
	cr_assert_eq(check(&t).failure, CHECK_NO_ROUTE);
	cr_assert_eq(check(&t).action, ACTION_INVALID_CARD);
}

Test(network_checks, unknown_card_is_invalid_and_blocked_card_not_permitted)
{
	struct test_msg t;
	tm_authorization(&t, unknown_pan, "3012", "000001", "000000001000");
	cr_assert_eq(check(&t).failure, CHECK_UNKNOWN_CARD);
	cr_assert_eq(check(&t).action, ACTION_INVALID_CARD);
	tm_authorization(&t, blocked_pan, "3012", "000001", "000000001000");
	cr_assert_eq(check(&t).failure, CHECK_BLOCKED_CARD);
	cr_assert_eq(check(&t).action, ACTION_NOT_PERMITTED);
}

Test(network_checks, yymm_of_a_known_date)
{
	cr_assert_eq(yymm_of_time(1764072000), 2511); /* 2025-11-25 12:00 UTC */
	cr_assert_eq(yymm_of_time(946684800), 1);     /* 2000-01-01: YY 00, MM 01 */
}

Test(card_registry, put_find_update_clone)
{
	struct card_registry *r = card_registry_create(2);
	cr_assert(card_registry_put(r, "5105100000000001", 16, "3012", CARD_ACTIVE));
	cr_assert(card_registry_put(r, "5105100000000001", 16, "3101", CARD_BLOCKED), "update in place");
	cr_assert_eq(r->count, 1);
	const struct card_entry *e = card_registry_find(r, "5105100000000001", 16);
	cr_assert_not_null(e);
	cr_assert_eq(e->state, CARD_BLOCKED);
	cr_assert_null(card_registry_find(r, "510510000000001", 15), "a shorter PAN is another card");
	cr_assert_not(card_registry_put(r, "51051x0000000001", 16, "3012", CARD_ACTIVE));
	cr_assert_not(card_registry_put(r, "5105100000000002", 16, "30", CARD_ACTIVE));
	struct card_registry *c = card_registry_clone(r, 100);
	for (int i = 0; i < 100; i++) {
		char pan[17];
		snprintf(pan, sizeof(pan), "52%014d", i);
		cr_assert(card_registry_put(c, pan, 16, "3012", CARD_ACTIVE));
	}
	cr_assert_eq(c->count, 101);
	cr_assert_not_null(card_registry_find(c, "5105100000000001", 16));
	cr_assert_null(card_registry_find(r, "5200000000000050", 16), "the original is untouched");
	card_registry_free(r);
	card_registry_free(c);
}
