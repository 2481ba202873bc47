/*
 * The HTTP control planes as an attacker on the same host sees them: the real
 * bank-node and switch (card lifecycle on) over TLS with API keys. Every
 * endpoint is tried anonymously, with a made-up, an expired and a revoked
 * key, with each scope that may not call it and with another customer's key:
 * all refused (401 / 403, JSON), and nothing changed in LMDB (the ledger, the
 * balances and the routes compared before and after). Then the attacks of
 * issue #14: money from nothing, a card attached to another's account, PUT
 * /routes by a non-operator, a webhook into the agents' own API (SSRF), idle
 * connections locking an API out, 0.0.0.0 without TLS; and the input fixes
 * (%00, a thousand query parameters, UUID case, expiry month 99, created
 * money beyond 2^63).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "http_keys.h"
#include "bank_process.h"
#include "lifecycle_env.h"
#include "test_http.h"
#include "test_mac_keys.h"
#include "test_pan_keys.h"
#include "test_process.h"
#include "test_security.h"

#define ALICE "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"
#define BOB "1b2c3d4e-5f6a-4b7c-9d8e-9f0a1b2c3d4e"

static struct lc_env env;
static bool finished;

static struct {
	char alice[HTTP_TOKEN_MAX], bob[HTTP_TOKEN_MAX];
	char bank[HTTP_TOKEN_MAX], other_bank[HTTP_TOKEN_MAX];
	char network[HTTP_TOKEN_MAX], other_network[HTTP_TOKEN_MAX];
	char expired[HTTP_TOKEN_MAX], revoked[HTTP_TOKEN_MAX];
} key;

static void make_key(unsigned scope, const char *subject, const char *audience, int64_t expires, char *token,
		     char *id_out)
{
	char id[HTTP_KEY_ID_LEN + 1];
	cr_assert(test_security_key(scope, subject, audience, expires, token, id));
	if (id_out)
		memcpy(id_out, id, sizeof(id));
}

/*
 * A bank's or a network's key works only with that agent's client certificate
 * (mutual TLS): every exchange with one of those keys presents its agent's,
 * so the scope checks below are what refuses it (tests/security/test_http_mtls.c
 * shows the certificate checks themselves).
 */
static void present_certificate_for(const char *token)
{
	const char *agent = token == key.bank	     ? LC_BANK
			    : token == key.other_bank    ? "lil_bank"
			    : token == key.network	     ? "mastercard"
			    : token == key.other_network ? "visa"
							 : NULL;
	char cert[700], private_key[700];
	snprintf(cert, sizeof(cert), "%s/%s.pem", test_security_client_dir(), agent ? agent : "");
	snprintf(private_key, sizeof(private_key), "%s/%s.key", test_security_client_dir(), agent ? agent : "");
	test_http_client_certificate(agent ? cert : NULL, agent ? private_key : NULL);
}

static void setup(void)
{
	test_security_also_certify("lil_bank"); /* plays a bank the config does not run */
	cr_assert(lc_env_prepare(&env, 17300, 200));
	cr_assert(lc_env_start_bank(&env), "bank-node did not start");
	cr_assert(lc_env_start_switch(&env), "switch did not start");
	cr_assert(lc_create_account(&env, ALICE, 50000));
	cr_assert(lc_create_account(&env, BOB, 70000));
	make_key(HTTP_SCOPE_CUSTOMER, ALICE, LC_BANK, 0, key.alice, NULL);
	make_key(HTTP_SCOPE_CUSTOMER, BOB, LC_BANK, 0, key.bob, NULL);
	make_key(HTTP_SCOPE_BANK, LC_BANK, "*", 0, key.bank, NULL);
	make_key(HTTP_SCOPE_BANK, "lil_bank", "*", 0, key.other_bank, NULL);
	make_key(HTTP_SCOPE_NETWORK, "mastercard", "*", 0, key.network, NULL);
	make_key(HTTP_SCOPE_NETWORK, "visa", "*", 0, key.other_network, NULL);
	make_key(HTTP_SCOPE_OPERATOR, "gone", "*", (int64_t)time(NULL) - 10, key.expired, NULL);
	char id[HTTP_KEY_ID_LEN + 1];
	make_key(HTTP_SCOPE_OPERATOR, "fired", "*", 0, key.revoked, id);
	/* Good until revoked: the agents reload the file at the next request. */
	cr_assert_eq(test_http_as(key.revoked, env.bank_http, "GET", "/ledger", NULL, NULL), 200);
	cr_assert(test_security_revoke(id));
}

static void teardown(void)
{
	lc_env_cleanup(&env, !finished);
}

/* What must not move: the bank's ledger totals, both balances, the network's routes and cards. */
static json_t *snapshot(void)
{
	json_t *s = json_object();
	json_object_set_new(s, "ledger", test_http_get_json(env.bank_http, "/ledger"));
	json_object_set_new(s, "alice", test_http_get_json(env.bank_http, "/get-balance/uuid/" ALICE));
	json_object_set_new(s, "bob", test_http_get_json(env.bank_http, "/get-balance/uuid/" BOB));
	json_object_set_new(s, "routes", test_http_get_json(env.mc_http, "/routes"));
	json_t *stats = test_http_get_json(env.mc_http, "/lifecycle/stats");
	json_object_set_new(s, "customers", json_incref(json_object_get(stats, "customers_created")));
	json_object_set_new(s, "cards", json_incref(json_object_get(stats, "cards_created")));
	json_decref(stats);
	for (const char *k = "ledger"; k; k = NULL)
		cr_assert(json_is_object(json_object_get(s, k)), "no %s", k);
	return s;
}

struct endpoint {
	int agent; /* 0 bank, 1 network */
	const char *method, *path, *body;
	unsigned allowed; /* scopes that may call it (the operator always may) */
};

/* A refusal: status and a JSON body with an "error". */
static void expect_refused(const char *who, const char *token, const struct endpoint *e, long want)
{
	json_t *j = NULL;
	uint16_t port = e->agent == 0 ? env.bank_http : env.mc_http;
	present_certificate_for(token);
	long status = test_http_as(token, port, e->method, e->path, e->body, &j);
	present_certificate_for(NULL);
	if (want)
		cr_expect_eq(status, want, "%s %s %s: %ld, expected %ld", who, e->method, e->path, status, want);
	else
		cr_expect(status == 401 || status == 403, "%s %s %s: %ld, expected a refusal", who, e->method, e->path,
			  status);
	cr_expect(json_is_string(json_object_get(j, "error")), "%s %s %s: no JSON error", who, e->method, e->path);
	json_decref(j);
}

Test(http_security, every_endpoint_refuses_the_wrong_callers_and_nothing_changes, .init = setup,
     .fini = teardown, .timeout = 180)
{
	const char *pan = "5199910000000000";
	char produced[160], card[200], customer[200], create_card[200], notes[120], card_path[80];
	snprintf(produced, sizeof(produced), "{\"pan\":\"%s\",\"network\":\"mastercard\",\"customer\":\"%s\","
		 "\"bank\":\"" LC_BANK "\",\"expiry\":\"3012\"}", pan, BOB);
	snprintf(card, sizeof(card), "{\"pan\":\"%s\",\"expiry\":\"3012\"}", pan);
	snprintf(customer, sizeof(customer), "{\"customer\":\"%s\",\"bank\":\"" LC_BANK "\",\"name\":\"x\"}", ALICE);
	snprintf(create_card, sizeof(create_card), "{\"customer\":\"%s\",\"bank\":\"" LC_BANK "\"}", ALICE);
	snprintf(notes, sizeof(notes), "/notifications?customer=%s", ALICE);
	snprintf(card_path, sizeof(card_path), "/card/pan/%s", pan);
	const unsigned C = HTTP_SCOPE_CUSTOMER, B = HTTP_SCOPE_BANK, N = HTTP_SCOPE_NETWORK;
	const struct endpoint endpoints[] = {
		{0, "POST", "/create-account", "{\"name\":\"mallory\",\"balance\":999999999999999}", 0},
		{0, "GET", "/get-balance/uuid/" ALICE, NULL, C},
		{0, "GET", card_path, NULL, 0},
		{0, "POST", "/block-card", card, 0},
		{0, "GET", "/stats", NULL, 0},
		{0, "GET", "/ledger", NULL, 0},
		{0, "POST", "/order-card", "{\"uuid\":\"" ALICE "\"}", C},
		{0, "POST", "/card-produced", produced, N},
		{1, "GET", "/stats", NULL, 0},
		{1, "GET", "/routes", NULL, 0},
		{1, "PUT", "/routes", "[]", 0},
		{1, "POST", "/cards", card, 0},
		{1, "GET", "/saf", NULL, 0},
		{1, "GET", "/saf/exceptions", NULL, 0},
		{1, "GET", "/lifecycle/stats", NULL, 0},
		{1, "POST", "/create-customer-account", customer, B},
		{1, "POST", "/create-card-contract", customer, B},
		{1, "POST", "/create-card", create_card, B},
		{1, "GET", card_path, NULL, B},
		{1, "GET", notes, NULL, B},
	};
	const struct {
		const char *who;
		const char *token;
		unsigned scope;
	} scoped[] = {{"customer alice", key.alice, C}, {"bank " LC_BANK, key.bank, B}, {"network mastercard", key.network, N}};

	json_t *before = snapshot();
	for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++) {
		const struct endpoint *e = &endpoints[i];
		expect_refused("anonymous", NULL, e, 401);
		expect_refused("a made-up key", "isk_0123456789abcdef_00000000000000000000000000000000000000000000000000000000000000ff",
			       e, 401);
		expect_refused("garbage", "hunter2", e, 401);
		expect_refused("an expired key", key.expired, e, 401);
		expect_refused("a revoked key", key.revoked, e, 401);
		for (size_t k = 0; k < sizeof(scoped) / sizeof(scoped[0]); k++)
			if (!(e->allowed & scoped[k].scope))
				expect_refused(scoped[k].who, scoped[k].token, e, 0);
	}
	/* Right scope, wrong subject. */
	const struct endpoint bob_reads_alice = {0, "GET", "/get-balance/uuid/" ALICE, NULL, C};
	expect_refused("customer bob", key.bob, &bob_reads_alice, 403);
	/* The same account in capitals is the same account. */
	const struct endpoint bob_reads_alice_upper = {0, "GET", "/get-balance/uuid/0A1B2C3D-4E5F-4A6B-8C7D-8E9F0A1B2C3D",
						       NULL, C};
	expect_refused("customer bob", key.bob, &bob_reads_alice_upper, 403);
	const struct endpoint bob_orders_for_alice = {0, "POST", "/order-card", "{\"uuid\":\"" ALICE "\"}", C};
	expect_refused("customer bob", key.bob, &bob_orders_for_alice, 403);
	const struct endpoint other_bank_customer = {1, "POST", "/create-customer-account", customer, B};
	expect_refused("bank lil_bank", key.other_bank, &other_bank_customer, 403);
	const struct endpoint other_bank_card = {1, "POST", "/create-card", create_card, B};
	expect_refused("bank lil_bank", key.other_bank, &other_bank_card, 403);
	/* A card attached to another's account: only the network that makes it may announce it. */
	const struct endpoint visa_announces = {0, "POST", "/card-produced", produced, N};
	expect_refused("network visa", key.other_network, &visa_announces, 403);
	/* A customer key is good at its own bank only. */
	const struct endpoint alice_at_network = {1, "GET", "/routes", NULL, 0};
	expect_refused("customer alice", key.alice, &alice_at_network, 401);

	json_t *after = snapshot();
	char *b = json_dumps(before, JSON_SORT_KEYS | JSON_COMPACT), *a = json_dumps(after, JSON_SORT_KEYS | JSON_COMPACT);
	cr_expect_str_eq(a, b, "the refused calls changed something");
	free(a);
	free(b);
	json_decref(before);
	json_decref(after);

	/* And the right callers still get in. */
	json_t *j = NULL;
	cr_expect_eq(test_http_as(key.alice, env.bank_http, "GET", "/get-balance/uuid/" ALICE, NULL, &j), 200);
	cr_expect_eq(json_integer_value(json_object_get(j, "balance")), 50000);
	json_decref(j);
	cr_expect_eq(test_http_as(key.alice, env.bank_http, "GET", "/get-balance/uuid/0A1B2C3D-4E5F-4A6B-8C7D-8E9F0A1B2C3D",
				  NULL, NULL),
		     200);
	cr_expect_eq(test_http_as(NULL, env.bank_http, "GET", "/health", NULL, NULL), 200, "loopback health is public");
	cr_expect_eq(test_http_as(NULL, env.mc_http, "GET", "/health", NULL, NULL), 200);
	cr_expect_eq(test_http_as(NULL, env.bank_http, "GET", "/metrics", NULL, NULL), 200, "loopback metrics are public");
	cr_expect_eq(test_http_as(NULL, env.mc_http, "GET", "/metrics", NULL, NULL), 200);
	cr_expect_eq(test_http_as("isk_bad", env.mc_http, "GET", "/metrics", NULL, NULL), 401, "a bad key is still refused");
	/* The bank orders at the network with its own key, the network announces with its own. */
	j = NULL;
	cr_expect_eq(test_http_as(key.alice, env.bank_http, "POST", "/order-card", "{\"uuid\":\"" ALICE "\"}", &j), 201);
	const char *ordered = json_string_value(json_object_get(j, "pan"));
	cr_assert(ordered);
	cr_expect(lc_wait_bank_card_state(&env, ordered, "produced", 10000), "the network's card-produced never arrived");
	json_decref(j);
	cr_assert(lc_env_stop_switch(&env));
	cr_assert(lc_env_stop_bank(&env));
	finished = true;
}

static void post_webhook(const char *token, uint16_t port, const char *path, const char *uuid_or_customer,
			 const char *url, long want)
{
	char body[400];
	if (port == env.bank_http)
		snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"webhook\":\"%s\"}", uuid_or_customer, url);
	else
		snprintf(body, sizeof(body), "{\"customer\":\"%s\",\"bank\":\"" LC_BANK "\",\"webhook\":\"%s\"}",
			 uuid_or_customer, url);
	json_t *j = NULL;
	present_certificate_for(token);
	long status = test_http_as(token, port, "POST", path, body, &j);
	present_certificate_for(NULL);
	cr_expect_eq(status, want, "%s with webhook %s: %ld (%s)", path, url, status,
		     json_string_value(json_object_get(j, "error")) ? json_string_value(json_object_get(j, "error")) : "");
	json_decref(j);
}

Test(http_security, webhooks_never_reach_the_agents_or_private_addresses, .init = setup, .fini = teardown,
     .timeout = 120)
{
	char url[160];
	/* The SSRF: the network told to POST into the bank's /block-card. 127.0.0.1 is in
	 * the test's webhook_allow_hosts (its listener), yet an agent's own API never is a webhook. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/block-card", env.bank_http);
	post_webhook(key.bank, env.mc_http, "/create-customer-account", ALICE, url, 400);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u/routes", env.mc_http);
	post_webhook(key.alice, env.bank_http, "/order-card", ALICE, url, 400);
	post_webhook(key.bank, env.mc_http, "/create-customer-account", ALICE, "https://10.1.2.3/hook", 400);
	post_webhook(key.bank, env.mc_http, "/create-customer-account", ALICE, "https://169.254.169.254/latest", 400);
	post_webhook(key.bank, env.mc_http, "/create-customer-account", ALICE, "https://[::1]/hook", 400);
	post_webhook(key.bank, env.mc_http, "/create-customer-account", ALICE, "https://localhost/hook", 400);
	post_webhook(key.bank, env.mc_http, "/create-customer-account", ALICE, "http://example.com/hook", 400);
	post_webhook(key.bank, env.mc_http, "/create-customer-account", ALICE, "https://user:pw@example.com/", 400);
	/* Allowed: https to a public name; the allow-listed test listener host on another port. */
	post_webhook(key.bank, env.mc_http, "/create-customer-account", ALICE, "https://example.com/hook", 201);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", env.webhook);
	post_webhook(key.bank, env.mc_http, "/create-customer-account", ALICE, url, 200);

	/* A name is checked again when the delivery connects: this machine's own name, when it
	 * resolves to a loopback address, passes registration and is refused at connect time,
	 * the reason recorded in the outbox and shown by /notifications. */
	char host[64] = "";
	struct addrinfo *ai = NULL, hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
	bool loopback_name = gethostname(host, sizeof(host) - 1) == 0 && strcmp(host, "localhost") != 0 &&
			     strchr(host, '.') == NULL && getaddrinfo(host, NULL, &hints, &ai) == 0 && ai &&
			     (ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127;
	if (ai)
		freeaddrinfo(ai);
	if (!loopback_name) {
		cr_log_info("%s does not resolve to loopback here: connect-time check not exercised", host);
	} else {
		snprintf(url, sizeof(url), "https://%s:%u/hook", host, env.webhook);
		char body[300];
		snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"webhook\":\"%s\"}", BOB, url);
		cr_assert_eq(test_http_as(key.bob, env.bank_http, "POST", "/order-card", body, NULL), 201);
		const char *why = NULL;
		json_t *notes = NULL;
		for (int i = 0; i < 100 && !why; i++) {
			json_decref(notes);
			notes = test_http_get_json(env.mc_http, "/notifications?customer=" BOB);
			json_t *first = json_array_get(json_object_get(notes, "notifications"), 0);
			why = json_string_value(json_object_get(first, "last_error"));
			if (!why)
				usleep(100000);
		}
		cr_expect(why && strstr(why, "loopback"), "webhook to %s: %s", url, why ? why : "no attempt recorded in 10 s");
		json_decref(notes);
	}
	cr_assert(lc_env_stop_switch(&env));
	cr_assert(lc_env_stop_bank(&env));
	finished = true;
}

/* A GET as the operator from a chosen loopback source address; the status, 0 when nothing answered. */
static long get_from(const char *source, uint16_t port, const char *path)
{
	CURL *c = curl_easy_init();
	char url[160], auth[160];
	snprintf(url, sizeof(url), "https://127.0.0.1:%u%s", port, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", test_security_operator_token());
	struct curl_slist *h = curl_slist_append(NULL, auth);
	FILE *sink = fopen("/dev/null", "w");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CAINFO, test_security_ca());
	curl_easy_setopt(c, CURLOPT_INTERFACE, source);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	long status = 0;
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	fclose(sink);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return status;
}

Test(http_security, idle_connections_do_not_lock_the_api_out, .init = setup, .fini = teardown, .timeout = 120)
{
	/* 1,100 idle connections from one address (the issue locked an API with about 1,020). */
	enum { IDLE = 1100 };
	static int fds[IDLE];
	int open_count = 0;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(env.bank_http)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	for (int i = 0; i < IDLE; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0)
			open_count++;
	}
	cr_log_info("%d idle connections opened", open_count);
	/* Another source is served at once: the flood holds at most per_ip_connections slots. */
	cr_expect_eq(get_from("127.0.0.2", env.bank_http, "/ledger"), 200);
	cr_expect_eq(get_from("127.0.0.3", env.bank_http, "/stats"), 200);
	for (int i = 0; i < IDLE; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	cr_assert(lc_env_stop_switch(&env));
	cr_assert(lc_env_stop_bank(&env));
	finished = true;
}

Test(http_security, bad_input_gets_clear_json_errors, .init = setup, .fini = teardown, .timeout = 120)
{
	json_t *j = NULL;
	/* %00 would cut the id short: 400, never another account. */
	cr_expect_eq(test_http(env.bank_http, "GET", "/get-balance/uuid/" ALICE "%00junk", NULL, &j), 400);
	cr_expect(json_is_string(json_object_get(j, "error")));
	json_decref(j);
	/* A thousand query parameters: a 400, not a closed connection. */
	static char path[16384];
	int used = snprintf(path, sizeof(path), "/ledger?a0=0");
	for (int i = 1; i < 1200 && used < (int)sizeof(path) - 16; i++)
		used += snprintf(path + used, sizeof(path) - (size_t)used, "&a%d=%d", i, i);
	j = NULL;
	cr_expect_eq(test_http(env.bank_http, "GET", path, NULL, &j), 400);
	cr_expect(json_is_string(json_object_get(j, "error")));
	json_decref(j);
	/* The same UUID in capitals is the same account. */
	cr_expect_eq(test_http(env.bank_http, "POST", "/create-account",
			       "{\"uuid\":\"0A1B2C3D-4E5F-4A6B-8C7D-8E9F0A1B2C3D\",\"name\":\"a\",\"balance\":1}", NULL),
		     409);
	/* Expiry month 99. */
	cr_expect_eq(test_http(env.mc_http, "POST", "/cards", "{\"pan\":\"5199910000000018\",\"expiry\":\"3099\"}", NULL),
		     400);
	cr_expect_eq(test_http(env.mc_http, "POST", "/cards", "{\"pan\":\"5199910000000018\",\"expiry\":\"3000\"}", NULL),
		     400);
	j = NULL;
	cr_expect_eq(test_http(env.bank_http, "GET", "/nowhere", NULL, &j), 404);
	cr_expect(json_is_string(json_object_get(j, "error")));
	json_decref(j);
	cr_assert(lc_env_stop_switch(&env));
	cr_assert(lc_env_stop_bank(&env));
	finished = true;
}

Test(http_security, created_money_beyond_2_63_is_refused_in_words, .timeout = 120)
{
	/* 9,223 accounts of 999,999,999,999,999 at start: the next such deposit would pass 2^63 - 1. */
	struct bank_process b;
	const struct bank_process_config c = {.http_port = 17340, .iso_port = 17341, .durability = "async",
					      .cards_per_bank = 9223, .initial_balance = 999999999999999ull};
	bank_process_prepare(&b, &c);
	cr_assert(bank_process_start(&b, NULL), "bank-node did not start");
	json_t *j = NULL;
	cr_expect_eq(test_http(b.http_port, "POST", "/create-account", "{\"name\":\"rich\",\"balance\":999999999999999}",
			       &j),
		     422);
	const char *e = json_string_value(json_object_get(j, "error"));
	cr_expect(e && strstr(e, "created money") && !strstr(e, "MDB"), "error: %s", e ? e : "(none)");
	json_decref(j);
	cr_expect_eq(test_http(b.http_port, "POST", "/create-account", "{\"name\":\"modest\",\"balance\":100}", NULL), 201);
	cr_expect_eq(bank_process_kill(&b, SIGTERM), 0);
	bank_process_cleanup(&b);
}

Test(http_security, no_listener_on_a_public_address_without_tls_and_keys, .timeout = 60)
{
	char dir[] = "/tmp/iso-test-bind-XXXXXX";
	cr_assert(mkdtemp(dir));
	char config[256], log[256];
	snprintf(config, sizeof(config), "%s/ecosystem.yaml", dir);
	snprintf(log, sizeof(log), "%s/bank.log", dir);
	FILE *f = fopen(config, "w");
	cr_assert(f);
	fprintf(f, "banks:\n  - name: big_bank\n    institution_id: \"1\"\n    http: 0.0.0.0:17342\n    iso: 127.0.0.1:17343\n"
		   "    lmdb_path: %s/lmdb\n    lmdb_map_size: 16777216\n    networks:\n      - network: mastercard\n"
		   "        bins: [\"51051000\"]\nnetworks:\n  - name: mastercard\n    major_industry_id: 5\n"
		   "    http: 127.0.0.1:2\n    iso: 127.0.0.1:3\nloadgen:\n  cards_per_bank: 1\n",
		dir);
	cr_assert(test_pan_keys_config(f, dir), "no PAN key file"); /* the bank needs one before its HTTP */
	fputs(TEST_MAC_UNPROTECTED_YAML, f);                          /* and MAC keys, or leave to go without */
	fclose(f);
	char bank[512];
	test_build_path(bank, sizeof(bank), "bank-node/bank-node");
	const char *argv[] = {bank, "--config", config, "--bank", "big_bank", NULL};
	const struct test_spawn how = {.log_path = log, .truncate_log = true, .die_with_parent = true};
	pid_t pid = test_process_spawn(argv, &how);
	int status = 0;
	cr_assert(test_process_wait(&pid, 30000, &status), "bank-node kept running on 0.0.0.0 without TLS");
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) != 0);
	char text[2048] = "";
	f = fopen(log, "r");
	if (f) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	cr_expect(strstr(text, "refusing to serve on 0.0.0.0"), "log: %s", text);
	char command[600];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	cr_expect_eq(system(command), 0);
}
