/*
 * The card lifecycle end to end with the real bank-node and switch: order,
 * customer account and card at the network, production, notification to the
 * customer's webhook and to the bank, activation by the first payment; and
 * the ways it must not go wrong (payment before production, duplicate
 * orders, bad input, a network restart before production or delivery).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "lifecycle_env.h"
#include "luhn.h"
#include "webhook_listener.h"

#define ALICE "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
#define BOB "1b2c3d4e-5f6a-4b7c-9d8e-9f0a1b2c3d4e"

static struct lc_env env;
static struct webhook_listener *hook;
static bool finished; /* the test reached its end: no logs to show */

static void start_all(uint16_t base, uint32_t production_ms)
{
	cr_assert(lc_env_prepare(&env, base, production_ms));
	cr_assert(lc_env_start_bank(&env), "bank-node did not start");
	cr_assert(lc_env_start_switch(&env), "switch did not start");
	hook = webhook_listener_start(env.webhook);
	cr_assert_not_null(hook, "webhook listener on port %u", env.webhook);
}

/* The end of a test: both programs stop cleanly (exit status 0: no sanitizer report, no leak). */
static void stop_all(void)
{
	cr_assert(lc_env_stop_switch(&env), "the switch did not exit cleanly");
	cr_assert(lc_env_stop_bank(&env), "bank-node did not exit cleanly");
	finished = true;
}

static void teardown(void)
{
	/* Logs of both programs when the test stopped before its end. */
	webhook_listener_stop(hook);
	hook = NULL;
	lc_env_cleanup(&env, !finished);
}

/* A card.ready webhook names the card masked (first 6, last 4) and never carries its expiry. */
static void expect_masked_event(json_t *event, const char *pan)
{
	char masked[24];
	snprintf(masked, sizeof(masked), "%.6s%.*s%s", pan, (int)strlen(pan) - 10, "*********", pan + strlen(pan) - 4);
	cr_assert_str_eq(json_string_value(json_object_get(event, "pan")), masked);
	cr_assert_null(json_object_get(event, "expiry"), "a webhook shows no expiry");
}

/* Orders a card; returns the status, the card's PAN and expiry when there is one. */
static long order(const char *uuid, const char *extra_json, char pan[20], char expiry[5], json_t **out)
{
	char body[512];
	snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"webhook\":\"http://127.0.0.1:%u/hook\"%s%s}", uuid, env.webhook,
		 extra_json ? "," : "", extra_json ? extra_json : "");
	json_t *j = NULL;
	long status = test_http(env.bank_http, "POST", "/order-card", body, &j);
	const char *p = json_string_value(json_object_get(j, "pan"));
	const char *x = json_string_value(json_object_get(j, "expiry"));
	if (pan)
		snprintf(pan, 20, "%s", p ? p : "");
	if (expiry)
		snprintf(expiry, 5, "%s", x ? x : "");
	if (out)
		*out = j;
	else
		json_decref(j);
	return status;
}

static long long stat_of(uint16_t port, const char *path, const char *object, const char *key)
{
	json_t *j = NULL;
	long long v = -1;
	if (test_http(port, "GET", path, NULL, &j) == 200) {
		json_t *o = object ? json_object_get(j, object) : j;
		if (json_is_integer(json_object_get(o, key)))
			v = json_integer_value(json_object_get(o, key));
	}
	json_decref(j);
	return v;
}

static const char *first_delivery(const char *uuid, char *out, size_t size)
{
	char path[128];
	snprintf(path, sizeof(path), "/notifications?customer=%s", uuid);
	json_t *j = NULL;
	out[0] = '\0';
	if (test_http(env.mc_http, "GET", path, NULL, &j) == 200) {
		json_t *n = json_array_get(json_object_get(j, "notifications"), 0);
		const char *d = json_string_value(json_object_get(n, "delivery"));
		snprintf(out, size, "%s", d ? d : "");
	}
	json_decref(j);
	return out;
}

/*
 * The first notification's delivery state, polled (bounded) until it is want:
 * the switch records a delivery once the webhook has answered, so a moment
 * after the listener has seen the request.
 */
static const char *wait_first_delivery(const char *uuid, const char *want, char *out, size_t size, int timeout_ms)
{
	for (int64_t deadline = test_now_ms() + timeout_ms;; test_sleep_ms(20))
		if (strcmp(first_delivery(uuid, out, size), want) == 0 || test_now_ms() >= deadline)
			return out;
}

Test(lifecycle, order_produce_notify_pay_activate, .fini = teardown, .timeout = 90)
{
	start_all(17000, 300);
	cr_assert(lc_create_account(&env, ALICE, 5000));
	char pan[20], expiry[5];
	json_t *card = NULL;
	cr_assert_eq(order(ALICE, "\"request_id\":\"alice-1\"", pan, expiry, &card), 201);
	cr_assert_str_eq(json_string_value(json_object_get(card, "state")), "ordered");
	cr_assert_str_eq(json_string_value(json_object_get(card, "network")), "mastercard");
	cr_assert_str_eq(json_string_value(json_object_get(card, "card_id")), pan);
	json_decref(card);
	cr_assert_eq(strlen(pan), 16, "pan %s", pan);
	cr_assert_eq(strncmp(pan, LC_BIN, strlen(LC_BIN)), 0, "pan %s outside the bank's BIN", pan);
	cr_assert(luhn_valid(pan, 16), "pan %s fails Luhn", pan);
	/* Index above loadgen.cards_per_bank (10): never one of the generated population. */
	cr_assert_geq(strtoull(pan + 8, NULL, 10) / 10, 10u, "pan %s inside the generated population", pan);
	cr_assert_eq(strlen(expiry), 4);

	cr_assert_eq(webhook_listener_wait_delivered(hook, 1, 10000), 1, "no card.ready webhook within 10 s");
	json_t *event = webhook_listener_body(hook, 0);
	cr_assert_str_eq(json_string_value(json_object_get(event, "event")), "card.ready");
	expect_masked_event(event, pan);
	cr_assert_str_eq(json_string_value(json_object_get(event, "customer")), ALICE);
	cr_assert_str_eq(json_string_value(json_object_get(event, "network")), "mastercard");
	json_decref(event);
	cr_assert(lc_wait_bank_card_state(&env, pan, "produced", 5000), "the bank never learnt the card is produced");

	char action[4];
	cr_assert(lc_pay(&env, pan, expiry, 1234, action), "no answer to the 1100");
	cr_assert_str_eq(action, "000");
	cr_assert_eq(lc_balance(&env, ALICE), 5000 - 1234);
	char state[32];
	cr_assert(lc_bank_card_state(&env, pan, state, sizeof(state)));
	cr_assert_str_eq(state, "active");

	char delivery[32];
	cr_assert_str_eq(wait_first_delivery(ALICE, "delivered", delivery, sizeof(delivery), 5000), "delivered");
	char path[128];
	snprintf(path, sizeof(path), "/notifications/%s", ALICE);
	json_t *list = NULL;
	cr_assert_eq(test_http(env.mc_http, "GET", path, NULL, &list), 200);
	cr_assert_eq(json_array_size(json_object_get(list, "notifications")), 1);
	json_decref(list);
	/* Exactly one delivery to the customer, one card at the network. */
	cr_assert_eq(webhook_listener_requests(hook), 1);
	cr_assert_eq(stat_of(env.mc_http, "/lifecycle/stats", NULL, "cards_created"), 1);

	/* SIGHUP rebuilds the registry from the config; the network's own cards come back with it. */
	long long version = stat_of(env.mc_http, "/stats", "gauges", "route_version");
	cr_assert_eq(kill(env.switch_pid, SIGHUP), 0);
	int64_t deadline = test_now_ms() + 5000;
	while (stat_of(env.mc_http, "/stats", "gauges", "route_version") <= version && test_now_ms() < deadline)
		usleep(20000);
	cr_assert_gt(stat_of(env.mc_http, "/stats", "gauges", "route_version"), version, "SIGHUP not taken");
	deadline = test_now_ms() + 5000;
	while (stat_of(env.mc_http, "/stats", "gauges", "cards") != 11 && test_now_ms() < deadline)
		usleep(20000);
	cr_assert_eq(stat_of(env.mc_http, "/stats", "gauges", "cards"), 11, "10 generated cards and the new one");
	cr_assert(lc_pay(&env, pan, expiry, 66, action));
	cr_assert_str_eq(action, "000");
	cr_assert_eq(lc_balance(&env, ALICE), 5000 - 1234 - 66);
	stop_all();
}

Test(lifecycle, payment_before_production_is_refused, .fini = teardown, .timeout = 90)
{
	start_all(17020, 3000);
	cr_assert(lc_create_account(&env, ALICE, 5000));
	char pan[20], expiry[5];
	cr_assert_eq(order(ALICE, NULL, pan, expiry, NULL), 201);
	char action[4];
	cr_assert(lc_pay(&env, pan, expiry, 100, action));
	cr_assert_str_eq(action, "119", "a card in production must be refused (not permitted), got %s", action);
	/* Refused by the switch's checks: the bank never saw it. */
	cr_assert_eq(stat_of(env.mc_http, "/stats", "totals", "refused_by_checks"), 1);
	cr_assert_eq(stat_of(env.mc_http, "/stats", "totals", "forwarded"), 0);
	cr_assert_eq(stat_of(env.bank_http, "/stats", NULL, "authorizations"), 0);
	cr_assert_eq(lc_balance(&env, ALICE), 5000);
	char state[32];
	cr_assert(lc_bank_card_state(&env, pan, state, sizeof(state)));
	cr_assert_str_eq(state, "ordered");
	char path[64];
	snprintf(path, sizeof(path), "/card/pan/%s", pan);
	json_t *j = NULL;
	cr_assert_eq(test_http(env.mc_http, "GET", path, NULL, &j), 200);
	cr_assert_str_eq(json_string_value(json_object_get(j, "state")), "in_production");
	json_decref(j);

	cr_assert(lc_wait_bank_card_state(&env, pan, "produced", 15000));
	cr_assert(lc_pay(&env, pan, expiry, 100, action));
	cr_assert_str_eq(action, "000");
	cr_assert_eq(lc_balance(&env, ALICE), 4900);
	stop_all();
}

Test(lifecycle, duplicate_orders_make_one_card, .fini = teardown, .timeout = 90)
{
	start_all(17040, 20000); /* production far away: orders stay pending */
	cr_assert(lc_create_account(&env, ALICE, 5000));
	cr_assert(lc_create_account(&env, BOB, 5000));
	char first[20], again[20], pending[20], pending_again[20], other[20];
	json_t *j = NULL;
	cr_assert_eq(order(ALICE, "\"request_id\":\"order-1\"", first, NULL, NULL), 201);
	cr_assert_eq(order(ALICE, "\"request_id\":\"order-1\"", again, NULL, &j), 200);
	cr_assert_str_eq(again, first);
	cr_assert(json_is_true(json_object_get(j, "duplicate")));
	json_decref(j);
	/* The same request_id from another account is a conflict, not a card. */
	cr_assert_eq(order(BOB, "\"request_id\":\"order-1\"", NULL, NULL, NULL), 409);
	/* Without request_id: one pending order per account and network. */
	cr_assert_eq(order(BOB, NULL, pending, NULL, NULL), 201);
	cr_assert_eq(order(BOB, NULL, pending_again, NULL, NULL), 200);
	cr_assert_str_eq(pending_again, pending);
	cr_assert_eq(order(ALICE, "\"request_id\":\"order-2\"", other, NULL, NULL), 201);
	cr_assert_str_neq(other, first);
	cr_assert_eq(stat_of(env.mc_http, "/lifecycle/stats", NULL, "cards_created"), 3);
	cr_assert_eq(stat_of(env.bank_http, "/stats", "card_orders", "cards_ordered"), 3);

	/* The network itself is idempotent on the bank's order id. */
	const char *body = "{\"customer\":\"" BOB "\",\"bank\":\"" LC_BANK "\",\"order_id\":\"direct-1\"}";
	json_t *a = NULL, *b = NULL;
	cr_assert_eq(test_http(env.mc_http, "POST", "/create-card", body, &a), 201);
	cr_assert_eq(test_http(env.mc_http, "POST", "/create-card", body, &b), 200);
	cr_assert_str_eq(json_string_value(json_object_get(a, "pan")), json_string_value(json_object_get(b, "pan")));
	json_decref(a);
	json_decref(b);
	cr_assert_eq(stat_of(env.mc_http, "/lifecycle/stats", NULL, "cards_created"), 4);
	stop_all();
}

static void expect(uint16_t port, const char *method, const char *path, const char *body, long status,
		   const char *error_part)
{
	json_t *j = NULL;
	long got = test_http(port, method, path, body, &j);
	cr_expect_eq(got, status, "%s %s %s: %ld, expected %ld", method, path, body ? body : "", got, status);
	const char *e = json_string_value(json_object_get(j, "error"));
	cr_expect(e != NULL, "%s %s: no JSON error", method, path);
	if (e && error_part)
		cr_expect(strstr(e, error_part) != NULL, "%s %s: error '%s' lacks '%s'", method, path, e, error_part);
	json_decref(j);
}

Test(lifecycle, bad_requests_get_json_errors, .fini = teardown, .timeout = 90)
{
	start_all(17060, 300);
	cr_assert(lc_create_account(&env, ALICE, 5000));
	uint16_t bank = env.bank_http, net = env.mc_http;
	expect(bank, "POST", "/order-card", "{not json", 400, "JSON");
	expect(bank, "POST", "/order-card", "[1,2]", 400, NULL);
	expect(bank, "POST", "/order-card", "{}", 400, "uuid");
	expect(bank, "POST", "/order-card", "{\"uuid\":42}", 400, "uuid");
	expect(bank, "POST", "/order-card", "{\"uuid\":\"" BOB "\"}", 404, "account");
	expect(bank, "GET", "/order-card", NULL, 405, NULL);
	expect(bank, "POST", "/order-card", "{\"uuid\":\"" ALICE "\",\"webhook\":\"ftp://x\"}", 400, "webhook");
	expect(bank, "POST", "/order-card", "{\"uuid\":\"" ALICE "\",\"request_id\":\"\"}", 400, "request_id");
	expect(bank, "POST", "/order-card", "{\"uuid\":\"" ALICE "\",\"network\":\"amex\"}", 422, "amex");
	/* A member network whose switch does not run: the bank says so, and no card is stored. */
	expect(bank, "POST", "/order-card", "{\"uuid\":\"" ALICE "\",\"network\":\"visa\"}", 502, "visa");
	expect(bank, "POST", "/card-produced", "{\"pan\":\"5199910000000000000\"}", 404, "card");
	expect(bank, "POST", "/card-produced", "{\"pan\":\"12ab\"}", 400, "pan");

	expect(net, "POST", "/create-customer-account", "{bad", 400, "JSON");
	expect(net, "POST", "/create-customer-account", "{\"customer\":\"" ALICE "\"}", 400, "bank");
	expect(net, "POST", "/create-customer-account", "{\"customer\":\"" ALICE "\",\"bank\":\"nobank\"}", 422,
	       "nobank");
	expect(net, "POST", "/create-card-contract", "{\"customer\":\"a/b\",\"bank\":\"" LC_BANK "\"}", 400,
	       "customer");
	expect(net, "GET", "/create-card", NULL, 405, NULL);
	expect(net, "POST", "/create-card", "{\"customer\":\"" BOB "\",\"bank\":\"" LC_BANK "\"}", 404, "customer");
	expect(net, "GET", "/notifications", NULL, 400, "customer");
	expect(net, "GET", "/notifications?customer=" BOB, NULL, 404, NULL);
	expect(net, "GET", "/card/pan/5199910000000000000", NULL, 404, NULL);
	expect(net, "GET", "/no-such-thing", NULL, 404, NULL);

	cr_expect_geq(stat_of(bank, "/stats", "card_orders", "bad_requests"), 7);
	cr_expect_eq(stat_of(bank, "/stats", "card_orders", "network_errors"), 1);
	cr_expect_eq(stat_of(bank, "/stats", "card_orders", "cards_ordered"), 0);
	cr_expect_geq(stat_of(net, "/lifecycle/stats", NULL, "bad_requests"), 6);
	cr_expect_eq(stat_of(net, "/lifecycle/stats", NULL, "cards_created"), 0);

	/* The spelling of the seed's test: 201 for a new customer, 200 when repeated. */
	const char *contract = "{\"customer\":\"" ALICE "\",\"bank\":\"" LC_BANK "\",\"name\":\"alice\"}";
	json_t *j = NULL;
	cr_expect_eq(test_http(net, "POST", "/create-card-contract", contract, &j), 201);
	cr_expect_str_eq(json_string_value(json_object_get(j, "network")), "mastercard");
	json_decref(j);
	cr_expect_eq(test_http(net, "POST", "/create-customer-account", contract, NULL), 200);
	stop_all();
}

Test(lifecycle, restart_before_delivery_still_delivers, .fini = teardown, .timeout = 120)
{
	start_all(17080, 200);
	cr_assert(lc_create_account(&env, ALICE, 5000));
	webhook_listener_set_status(hook, 503);
	char pan[20], expiry[5];
	cr_assert_eq(order(ALICE, NULL, pan, expiry, NULL), 201);
	/* Produced, and the first delivery failed: the notification waits in the outbox. */
	cr_assert_geq(webhook_listener_wait_requests(hook, 1, 10000), 1, "the network never tried the webhook");
	char delivery[32];
	cr_assert_str_eq(first_delivery(ALICE, delivery, sizeof(delivery)), "pending");
	cr_assert(lc_env_stop_switch(&env), "the switch did not stop cleanly");
	cr_assert_eq(webhook_listener_delivered(hook), 0);
	webhook_listener_set_status(hook, 200);

	cr_assert(lc_env_start_switch(&env), "the switch did not restart");
	cr_assert_eq(webhook_listener_wait_delivered(hook, 1, 15000), 1, "no webhook after the restart");
	json_t *event = webhook_listener_body(hook, 0);
	expect_masked_event(event, pan);
	json_decref(event);
	cr_assert_str_eq(wait_first_delivery(ALICE, "delivered", delivery, sizeof(delivery), 5000), "delivered");
	/* The restarted switch reloaded the produced card into its registry. */
	cr_assert(lc_wait_bank_card_state(&env, pan, "produced", 5000));
	char action[4];
	cr_assert(lc_pay(&env, pan, expiry, 500, action));
	cr_assert_str_eq(action, "000");
	cr_assert_eq(lc_balance(&env, ALICE), 4500);
	stop_all();
}

Test(lifecycle, restart_during_production_resumes, .fini = teardown, .timeout = 120)
{
	start_all(17100, 6000);
	cr_assert(lc_create_account(&env, ALICE, 5000));
	char pan[20], expiry[5];
	int64_t ordered = test_now_ms();
	cr_assert_eq(order(ALICE, NULL, pan, expiry, NULL), 201);
	cr_assert(lc_env_stop_switch(&env), "the switch did not stop cleanly");
	cr_assert(lc_env_start_switch(&env), "the switch did not restart");
	char action[4];
	/* Still in production after the restart, and known (refused 119, not unknown 111). */
	cr_assert(lc_pay(&env, pan, expiry, 100, action));
	cr_assert_lt(test_now_ms() - ordered, 5000, "the restart took too long to see the card in production");
	cr_assert_str_eq(action, "119", "got %s", action);
	cr_assert_eq(webhook_listener_wait_delivered(hook, 1, 15000), 1, "production did not resume");
	cr_assert(lc_wait_bank_card_state(&env, pan, "produced", 5000));
	cr_assert(lc_pay(&env, pan, expiry, 100, action));
	cr_assert_str_eq(action, "000");
	stop_all();
}

Test(lifecycle, network_errors_surface_and_retries_reuse_the_order, .fini = teardown, .timeout = 90)
{
	start_all(17120, 300);
	cr_assert(lc_create_account(&env, ALICE, 5000));
	/* The visa network's HTTP port is played by the test. */
	struct webhook_listener *visa = webhook_listener_start(env.visa_http);
	cr_assert_not_null(visa);
	const char *body = "{\"uuid\":\"" ALICE "\",\"network\":\"visa\"}";

	webhook_listener_set_status(visa, 500);
	webhook_listener_set_reply(visa, "{\"error\":\"production line down\"}");
	json_t *j = NULL;
	cr_expect_eq(test_http(env.bank_http, "POST", "/order-card", body, &j), 502);
	const char *e = json_string_value(json_object_get(j, "error"));
	cr_expect(e && strstr(e, "production line down") && strstr(e, "visa"), "error: %s", e ? e : "(none)");
	json_decref(j);

	/* No answer within the bank's 3 s: 504. */
	webhook_listener_set_status(visa, 200);
	webhook_listener_set_reply(visa, "{}");
	webhook_listener_set_delay_ms(visa, 4500);
	int64_t start = test_now_ms();
	j = NULL;
	cr_expect_eq(test_http(env.bank_http, "POST", "/order-card", body, &j), 504);
	int64_t took = test_now_ms() - start;
	cr_expect(took >= 2900 && took < 4400, "the bank waited %lld ms", (long long)took);
	e = json_string_value(json_object_get(j, "error"));
	cr_expect(e && strstr(e, "did not answer"), "error: %s", e ? e : "(none)");
	json_decref(j);

	/* A network that answers without a card: 502; the bank's order id stays the same across retries,
	 * so that a network that did make the card would hand back the same one. */
	webhook_listener_set_delay_ms(visa, 0);
	int before = webhook_listener_delivered(visa);
	cr_expect_eq(test_http(env.bank_http, "POST", "/order-card", body, NULL), 502);
	cr_expect_eq(test_http(env.bank_http, "POST", "/order-card", body, NULL), 502);
	cr_assert_eq(webhook_listener_wait_delivered(visa, before + 4, 5000), before + 4);
	json_t *card1 = webhook_listener_body(visa, before + 1), *card2 = webhook_listener_body(visa, before + 3);
	const char *id1 = json_string_value(json_object_get(card1, "order_id"));
	const char *id2 = json_string_value(json_object_get(card2, "order_id"));
	cr_expect(id1 && id2 && strcmp(id1, id2) == 0, "order ids %s / %s", id1 ? id1 : "-", id2 ? id2 : "-");
	cr_expect_str_eq(json_string_value(json_object_get(card1, "bank")), LC_BANK);
	json_decref(card1);
	json_decref(card2);
	cr_expect_eq(stat_of(env.bank_http, "/stats", "card_orders", "cards_ordered"), 0);
	cr_expect_eq(stat_of(env.bank_http, "/stats", "card_orders", "network_errors"), 4);
	webhook_listener_stop(visa);
	stop_all();
}

Test(lifecycle, card_made_without_the_banks_knowledge_is_adopted, .fini = teardown, .timeout = 90)
{
	start_all(17140, 300);
	cr_assert(lc_create_account(&env, ALICE, 5000));
	/* The network made a card but the bank never heard the answer to /create-card. */
	cr_assert_eq(test_http(env.mc_http, "POST", "/create-customer-account",
			     "{\"customer\":\"" ALICE "\",\"bank\":\"" LC_BANK "\"}", NULL),
		     201);
	json_t *card = NULL;
	cr_assert_eq(test_http(env.mc_http, "POST", "/create-card",
			     "{\"customer\":\"" ALICE "\",\"bank\":\"" LC_BANK "\",\"order_id\":\"lost-1\"}", &card),
		     201);
	char pan[20], expiry[5];
	snprintf(pan, sizeof(pan), "%s", json_string_value(json_object_get(card, "pan")));
	snprintf(expiry, sizeof(expiry), "%s", json_string_value(json_object_get(card, "expiry")));
	json_decref(card);
	cr_assert(lc_wait_bank_card_state(&env, pan, "produced", 10000), "the bank did not adopt the card");
	char path[64];
	snprintf(path, sizeof(path), "/card/pan/%s", pan);
	json_t *j = NULL;
	cr_assert_eq(test_http(env.bank_http, "GET", path, NULL, &j), 200);
	cr_assert_str_eq(json_string_value(json_object_get(j, "account")), ALICE);
	json_decref(j);
	char action[4];
	cr_assert(lc_pay(&env, pan, expiry, 700, action));
	cr_assert_str_eq(action, "000");
	cr_assert_eq(lc_balance(&env, ALICE), 4300);

	/* Notices the bank cannot own stay unknown cards. */
	expect(env.bank_http, "POST", "/card-produced",
	       "{\"pan\":\"5199910000099990\",\"customer\":\"" ALICE "\",\"bank\":\"other\",\"network\":\"mastercard\","
	       "\"expiry\":\"3011\"}",
	       404, NULL);
	expect(env.bank_http, "POST", "/card-produced",
	       "{\"pan\":\"5105100000099990\",\"customer\":\"" ALICE "\",\"bank\":\"" LC_BANK "\",\"network\":\"mastercard\","
	       "\"expiry\":\"3011\"}",
	       404, NULL);
	expect(env.bank_http, "POST", "/card-produced",
	       "{\"pan\":\"5199910000099990\",\"customer\":\"" BOB "\",\"bank\":\"" LC_BANK "\",\"network\":\"mastercard\","
	       "\"expiry\":\"3011\"}",
	       404, NULL);
	stop_all();
}

Test(lifecycle, bank_down_at_production_learns_it_later, .fini = teardown, .timeout = 90)
{
	start_all(17160, 300);
	cr_assert(lc_create_account(&env, ALICE, 5000));
	char pan[20], expiry[5];
	cr_assert_eq(order(ALICE, NULL, pan, expiry, NULL), 201);
	cr_assert(lc_env_stop_bank(&env), "bank-node did not stop cleanly");
	/* The card is made and the notice to the bank fails a few times. */
	int64_t deadline = test_now_ms() + 10000;
	while (stat_of(env.mc_http, "/lifecycle/stats", NULL, "delivery_failures") < 2 && test_now_ms() < deadline)
		usleep(20000);
	cr_assert_geq(stat_of(env.mc_http, "/lifecycle/stats", NULL, "delivery_failures"), 2);
	cr_assert_eq(webhook_listener_wait_delivered(hook, 1, 5000), 1, "the customer hears regardless");

	cr_assert(lc_env_start_bank(&env), "bank-node did not restart");
	cr_assert(lc_wait_bank_card_state(&env, pan, "produced", 15000), "the bank never learnt the card is made");
	cr_assert_eq(stat_of(env.mc_http, "/lifecycle/stats", NULL, "deliveries_parked"), 0);
	char action[4];
	cr_assert(lc_pay(&env, pan, expiry, 250, action));
	cr_assert_str_eq(action, "000");
	cr_assert_eq(lc_balance(&env, ALICE), 4750);
	stop_all();
}

Test(lifecycle, killed_switch_loses_no_notification, .fini = teardown, .timeout = 120)
{
	start_all(17180, 200);
	cr_assert(lc_create_account(&env, ALICE, 5000));
	webhook_listener_set_status(hook, 500);
	char pan[20], expiry[5];
	cr_assert_eq(order(ALICE, NULL, pan, expiry, NULL), 201);
	cr_assert_geq(webhook_listener_wait_requests(hook, 1, 10000), 1, "the network never tried the webhook");
	lc_env_kill_switch(&env); /* SIGKILL: only what LMDB committed survives */
	webhook_listener_set_status(hook, 200);
	cr_assert(lc_env_start_switch(&env), "the switch did not restart");
	cr_assert_eq(webhook_listener_wait_delivered(hook, 1, 15000), 1, "no webhook after the crash");
	json_t *event = webhook_listener_body(hook, 0);
	expect_masked_event(event, pan);
	json_decref(event);
	cr_assert(lc_wait_bank_card_state(&env, pan, "produced", 5000));
	char action[4];
	cr_assert(lc_pay(&env, pan, expiry, 300, action));
	cr_assert_str_eq(action, "000");
	/* One card, produced once, whatever the crash. */
	cr_assert_eq(stat_of(env.mc_http, "/lifecycle/stats", NULL, "cards_produced"), 0, "produced before the crash, not again");
	json_t *list = NULL;
	cr_assert_eq(test_http(env.mc_http, "GET", "/notifications/" ALICE, NULL, &list), 200);
	cr_assert_eq(json_array_size(json_object_get(list, "notifications")), 1);
	json_decref(list);
	stop_all();
}
