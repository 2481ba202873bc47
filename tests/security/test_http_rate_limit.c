/*
 * Rate limits of the HTTP control planes against the real bank-node and
 * switch over TLS (docs/security.md, "Rate limits"):
 *
 * - a customer key over its limit gets 429, Retry-After and a JSON error on
 *   reads and on POST /order-card, the handler never runs (the ledger, the
 *   balances, the bank's card orders and the network's cards are the same
 *   before and after), while another customer's key is still served;
 * - an address that presents bad keys is refused after the limit, with a good
 *   key too, until its window passes; other addresses are served meanwhile.
 *
 * The test speaks from chosen loopback source addresses (127.0.0.2, ...: the
 * whole of 127/8 is this machine) with its own libcurl calls, to read
 * Retry-After.
 */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http_keys.h"
#include "lifecycle_env.h"
#include "test_http.h"
#include "test_security.h"

#define ALICE "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
#define BOB "1b2c3d4e-5f6a-4b7c-9d8e-9f0a1b2c3d4e"
#define MADE_UP "isk_0123456789abcdef_00000000000000000000000000000000000000000000000000000000000000ff"
#define GUESS_LIMIT 5
#define WINDOW_S 5

static struct lc_env env;
static bool finished;
static char alice[HTTP_TOKEN_MAX], bob[HTTP_TOKEN_MAX];

struct answer {
	long status;
	long retry_after; /* -1: no Retry-After header */
	json_t *body;
};

static size_t collect(char *ptr, size_t size, size_t n, void *user)
{
	char **text = user;
	size_t old = *text ? strlen(*text) : 0, add = size * n;
	char *grown = realloc(*text, old + add + 1);
	if (!grown)
		return 0;
	memcpy(grown + old, ptr, add);
	grown[old + add] = '\0';
	*text = grown;
	return add;
}

static size_t header(char *line, size_t size, size_t n, void *user)
{
	long *retry_after = user;
	size_t len = size * n;
	if (len > 12 && strncasecmp(line, "Retry-After:", 12) == 0)
		*retry_after = strtol(line + 12, NULL, 10);
	return len;
}

/* One exchange from source address `from` (127.x.y.z) with `token` (NULL: none). */
static struct answer call(const char *from, const char *token, uint16_t port, const char *method, const char *path,
			  const char *body)
{
	struct answer a = {0, -1, NULL};
	CURL *curl = curl_easy_init();
	cr_assert(curl);
	char url[256], auth[200];
	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", port, path);
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, auth);
	}
	char *text = NULL;
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_INTERFACE, from);
	curl_easy_setopt(curl, CURLOPT_CAINFO, test_security_ca());
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	if (body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &text);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a.retry_after);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	a.body = text ? json_loads(text, 0, NULL) : NULL;
	free(text);
	return a;
}

/* A 429 as the API promises it: Retry-After in 1..max seconds, a JSON error with the same figure. */
static void expect_too_many(struct answer a, long max_wait, const char *what)
{
	cr_expect_eq(a.status, 429, "%s: %ld, expected 429", what, a.status);
	cr_expect(a.retry_after >= 1 && a.retry_after <= max_wait, "%s: Retry-After %ld, expected 1..%ld", what,
		  a.retry_after, max_wait);
	cr_expect(json_is_string(json_object_get(a.body, "error")), "%s: no JSON error", what);
	cr_expect_eq(json_integer_value(json_object_get(a.body, "retry_after_s")), a.retry_after, "%s", what);
	json_decref(a.body);
}

static long status_of(struct answer a)
{
	json_decref(a.body);
	return a.status;
}

static void setup_with(uint16_t base)
{
	/* Customers: one request a minute after a burst of 3, so nothing refills during the test. */
	cr_assert(lc_env_prepare_with(&env, base, 200,
				      "  rate_limits:\n    customer: {per_minute: 1, burst: 3}\n"
				      "  auth_failures: {limit: 5, window_s: 5}\n"));
	cr_assert(lc_env_start_bank(&env), "bank-node did not start");
	cr_assert(lc_env_start_switch(&env), "switch did not start");
	cr_assert(lc_create_account(&env, ALICE, 50000));
	cr_assert(lc_create_account(&env, BOB, 70000));
	char id[HTTP_KEY_ID_LEN + 1];
	cr_assert(test_security_key(HTTP_SCOPE_CUSTOMER, ALICE, LC_BANK, 0, alice, id));
	cr_assert(test_security_key(HTTP_SCOPE_CUSTOMER, BOB, LC_BANK, 0, bob, id));
}

static void setup_keys(void)
{
	setup_with(19200);
}

static void setup_guessing(void)
{
	setup_with(19210);
}

static void teardown(void)
{
	lc_env_cleanup(&env, !finished);
}

/* What a served call would have moved: the bank's ledger, both balances, its card orders, the network's cards. */
static char *snapshot(void)
{
	json_t *s = json_object();
	json_object_set_new(s, "ledger", test_http_get_json(env.bank_http, "/ledger"));
	json_object_set_new(s, "alice", test_http_get_json(env.bank_http, "/get-balance/uuid/" ALICE));
	json_object_set_new(s, "bob", test_http_get_json(env.bank_http, "/get-balance/uuid/" BOB));
	json_t *stats = test_http_get_json(env.bank_http, "/stats");
	json_object_set_new(s, "orders", json_incref(json_object_get(stats, "card_orders")));
	json_decref(stats);
	stats = test_http_get_json(env.mc_http, "/lifecycle/stats");
	json_object_set_new(s, "cards", json_incref(json_object_get(stats, "cards_created")));
	json_decref(stats);
	cr_assert(json_is_object(json_object_get(s, "ledger")) && json_is_object(json_object_get(s, "orders")));
	char *text = json_dumps(s, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(s);
	return text;
}

static json_t *bank_limits(void)
{
	json_t *stats = test_http_get_json(env.bank_http, "/stats");
	json_t *limits = json_incref(json_object_get(stats, "http_limits"));
	json_decref(stats);
	cr_assert(json_is_object(limits), "no http_limits in the bank's /stats");
	return limits;
}

Test(http_rate_limit, a_customer_over_its_limit_gets_429_and_nothing_changes, .init = setup_keys,
     .fini = teardown, .timeout = 180)
{
	const char *me = "127.0.0.1", *path = "/get-balance/uuid/" ALICE;
	for (int i = 0; i < 3; i++)
		cr_expect_eq(status_of(call(me, alice, env.bank_http, "GET", path, NULL)), 200, "call %d of the burst", i);
	char *before = snapshot();
	/* Over the limit: a card order would have called the network and recorded an order. */
	for (int i = 0; i < 3; i++)
		expect_too_many(call(me, alice, env.bank_http, "POST", "/order-card", "{\"uuid\":\"" ALICE "\"}"), 60,
				"alice's order-card over her limit");
	expect_too_many(call(me, alice, env.bank_http, "GET", path, NULL), 60, "alice's balance over her limit");
	/* The limit is the key's, not the address's: bob from the same address is served. */
	cr_expect_eq(status_of(call(me, bob, env.bank_http, "GET", "/get-balance/uuid/" BOB, NULL)), 200);
	char *after = snapshot();
	cr_expect_str_eq(after, before, "the refused calls changed something");
	free(before);
	free(after);

	json_t *limits = bank_limits();
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(limits, "rate_limited"), "customer")), 4);
	cr_expect_eq(json_integer_value(json_object_get(json_object_get(limits, "rate_limited"), "operator")), 0);
	json_decref(limits);
	char *metrics = test_http_get_text(env.bank_http, "/metrics");
	cr_assert(metrics);
	cr_expect(strstr(metrics, "iso_bank_http_rate_limited_total{bank=\"" LC_BANK "\",scope=\"customer\"} 4"),
		  "metrics lack the customer's 429s");
	free(metrics);
	metrics = test_http_get_text(env.mc_http, "/metrics");
	cr_assert(metrics);
	cr_expect(strstr(metrics, "iso_switch_http_auth_throttled_total{network=\"mastercard\"} 0"));
	free(metrics);
	cr_assert(lc_env_stop_switch(&env));
	cr_assert(lc_env_stop_bank(&env));
	finished = true;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

Test(http_rate_limit, an_address_guessing_keys_is_refused_until_its_window_passes, .init = setup_guessing,
     .fini = teardown, .timeout = 180)
{
	const char *guesser = "127.0.0.2", *other = "127.0.0.3", *path = "/get-balance/uuid/" BOB;
	const char *op = test_security_operator_token();
	struct timespec first;
	clock_gettime(CLOCK_MONOTONIC, &first);
	/* A missing key is no guess: it never counts. */
	for (int i = 0; i < 2 * GUESS_LIMIT; i++)
		cr_expect_eq(status_of(call(guesser, NULL, env.bank_http, "GET", path, NULL)), 401);
	for (int i = 0; i < GUESS_LIMIT; i++)
		cr_expect_eq(status_of(call(guesser, i % 2 ? MADE_UP : "isk_garbage", env.bank_http, "GET", path, NULL)),
			     401, "guess %d is still answered 401", i);
	cr_assert_lt(seconds_since(&first), WINDOW_S - 1, "the machine is too slow for a %d s window", WINDOW_S);
	expect_too_many(call(guesser, MADE_UP, env.bank_http, "GET", path, NULL), WINDOW_S, "a guess past the limit");
	/* A good key from that address is refused as well: until the window passes the address learns nothing. */
	expect_too_many(call(guesser, bob, env.bank_http, "GET", path, NULL), WINDOW_S, "bob's good key from the guesser");
	expect_too_many(call(guesser, op, env.bank_http, "GET", "/ledger", NULL), WINDOW_S, "the operator from the guesser");
	/* Other addresses are served meanwhile, and the network (another agent) never saw a guess. */
	cr_expect_eq(status_of(call(other, bob, env.bank_http, "GET", path, NULL)), 200);
	cr_expect_eq(status_of(call("127.0.0.1", op, env.bank_http, "GET", "/ledger", NULL)), 200);
	cr_expect_eq(status_of(call(guesser, op, env.mc_http, "GET", "/routes", NULL)), 200);
	/* Then the window passes (bounded wait, polling): the good key is served again. */
	long status = 0;
	while (seconds_since(&first) < WINDOW_S + 10) {
		struct answer a = call(guesser, bob, env.bank_http, "GET", path, NULL);
		status = a.status;
		if (status != 429) {
			json_decref(a.body);
			break;
		}
		cr_expect(a.retry_after >= 1 && a.retry_after <= WINDOW_S);
		json_decref(a.body);
		struct timespec pause = {0, 100 * 1000 * 1000};
		nanosleep(&pause, NULL);
	}
	cr_expect_eq(status, 200, "the guesser's window never ended");
	cr_expect_geq(seconds_since(&first), WINDOW_S - 0.5, "served again before its window could end");

	json_t *limits = bank_limits();
	cr_expect_eq(json_integer_value(json_object_get(limits, "auth_failures")), GUESS_LIMIT);
	cr_expect_geq(json_integer_value(json_object_get(limits, "auth_throttled")), 3);
	json_decref(limits);
	cr_assert(lc_env_stop_switch(&env));
	cr_assert(lc_env_stop_bank(&env));
	finished = true;
}
