/*
 * Mutual TLS between the agents (docs/security.md, "Mutual TLS"), against the
 * real bank-node and switch: the card-order flow (the bank's POST /order-card
 * calls the network, the network's outbox calls the bank's POST
 * /card-produced) runs with each agent presenting its client certificate; a
 * bank or network key without its agent's certificate (none, another agent's,
 * one from another CA, the servers' own) gets 401 and a count in mtls_refused,
 * and nothing changes (ledger, balance, customers, cards); customer and
 * operator keys need no certificate.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_keys.h"
#include "lifecycle_env.h"
#include "test_http.h"
#include "test_security.h"

#define ALICE "0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d"

static struct lc_env env;
static bool finished;
static char alice_key[HTTP_TOKEN_MAX], bank_key[HTTP_TOKEN_MAX], network_key[HTTP_TOKEN_MAX];
static char other_ca_dir[400];

static void setup(void)
{
	cr_assert(lc_env_prepare(&env, 19500, 200));
	cr_assert(lc_env_start_bank(&env), "bank-node did not start");
	cr_assert(lc_env_start_switch(&env), "switch did not start");
	cr_assert(lc_create_account(&env, ALICE, 50000));
	char id[HTTP_KEY_ID_LEN + 1];
	cr_assert(test_security_key(HTTP_SCOPE_CUSTOMER, ALICE, LC_BANK, 0, alice_key, id));
	cr_assert(test_security_key(HTTP_SCOPE_BANK, LC_BANK, "*", 0, bank_key, id));
	cr_assert(test_security_key(HTTP_SCOPE_NETWORK, "mastercard", "*", 0, network_key, id));
	/* Another CA, with a certificate for the bank's very name. */
	snprintf(other_ca_dir, sizeof(other_ca_dir), "%s/other-ca", env.dir);
	const char *src = getenv("ISO_SOURCE_DIR");
	char command[1000];
	snprintf(command, sizeof(command), "bash '%s/scripts/http-certs.sh' '%s' --client " LC_BANK, src ? src : ".",
		 other_ca_dir);
	cr_assert_eq(system(command), 0, "%s", command);
}

static void teardown(void)
{
	test_http_client_certificate(NULL, NULL);
	lc_env_cleanup(&env, !finished);
}

/* From now on present DIR/<name>.pem and .key (NULL: no certificate). */
static void present(const char *dir, const char *name)
{
	char cert[700], key[700];
	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, name ? name : "");
	snprintf(key, sizeof(key), "%s/%s.key", dir, name ? name : "");
	test_http_client_certificate(name ? cert : NULL, name ? key : NULL);
}

/* What must not move: the ledger, alice's balance, the network's customers and cards, the bank's cards. */
static char *snapshot(const char *pan)
{
	test_http_client_certificate(NULL, NULL); /* the operator needs none */
	json_t *s = json_object();
	json_object_set_new(s, "ledger", test_http_get_json(env.bank_http, "/ledger"));
	json_object_set_new(s, "alice", test_http_get_json(env.bank_http, "/get-balance/uuid/" ALICE));
	json_t *stats = test_http_get_json(env.mc_http, "/lifecycle/stats");
	json_object_set_new(s, "customers", json_incref(json_object_get(stats, "customers_created")));
	json_object_set_new(s, "cards", json_incref(json_object_get(stats, "cards_created")));
	json_decref(stats);
	char path[80];
	snprintf(path, sizeof(path), "/card/pan/%s", pan);
	json_object_set_new(s, "bank_card", test_http_get_json(env.bank_http, path));
	cr_assert(json_is_object(json_object_get(s, "ledger")) && json_is_object(json_object_get(s, "bank_card")));
	char *text = json_dumps(s, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(s);
	return text;
}

/* A refused call: 401 with a JSON error naming the client certificate. */
static void expect_401(const char *what, const char *token, uint16_t port, const char *path, const char *body)
{
	json_t *j = NULL;
	long status = test_http_as(token, port, "POST", path, body, &j);
	const char *error = json_string_value(json_object_get(j, "error"));
	cr_expect_eq(status, 401, "%s: POST %s answered %ld (%s)", what, path, status, error ? error : "");
	cr_expect(error && strstr(error, "client certificate"), "%s: %s", what, error ? error : "no JSON error");
	json_decref(j);
}

static long long mtls_refused(uint16_t port)
{
	test_http_client_certificate(NULL, NULL);
	json_t *stats = test_http_get_json(port, "/stats");
	json_t *n = json_object_get(json_object_get(stats, "http_limits"), "mtls_refused");
	long long v = json_is_integer(n) ? json_integer_value(n) : -1;
	json_decref(stats);
	return v;
}

/* The value of the first sample of a Prometheus family in GET /metrics, -1 when absent. */
static long long metric(uint16_t port, const char *family)
{
	char *text = test_http_get_text(port, "/metrics");
	const char *at = text;
	long long v = -1;
	while (at && (at = strstr(at, family)) != NULL) {
		const char *after = at + strlen(family);
		if ((at == text || at[-1] == '\n') && (*after == '{' || *after == ' ')) {
			const char *space = strchr(after, ' ');
			if (space)
				v = strtoll(space + 1, NULL, 10);
			break;
		}
		at = after;
	}
	free(text);
	return v;
}

Test(http_mtls, agents_call_each_other_with_certificates_and_a_stolen_key_alone_gets_nowhere, .init = setup,
     .fini = teardown, .timeout = 180)
{
	/* A customer key needs no certificate; the bank orders at the network and the network announces the
	 * produced card at the bank, each with its own key and client certificate. */
	json_t *j = NULL;
	cr_assert_eq(test_http_as(alice_key, env.bank_http, "POST", "/order-card", "{\"uuid\":\"" ALICE "\"}", &j), 201);
	char pan[32];
	snprintf(pan, sizeof(pan), "%s", json_string_value(json_object_get(j, "pan")));
	json_decref(j);
	cr_assert(lc_wait_bank_card_state(&env, pan, "produced", 10000),
		  "the card never came back produced: the agents' mutual TLS failed");
	cr_expect_eq(mtls_refused(env.bank_http), 0);
	cr_expect_eq(mtls_refused(env.mc_http), 0);

	char *before = snapshot(pan);
	const char *dir = test_security_client_dir();
	char customer[200], create_card[200], produced[220];
	snprintf(customer, sizeof(customer), "{\"customer\":\"%s\",\"bank\":\"" LC_BANK "\",\"name\":\"m\"}", ALICE);
	snprintf(create_card, sizeof(create_card), "{\"customer\":\"%s\",\"bank\":\"" LC_BANK "\"}", ALICE);
	snprintf(produced, sizeof(produced),
		 "{\"pan\":\"%.6s9999999999\",\"network\":\"mastercard\",\"customer\":\"%s\",\"bank\":\"" LC_BANK
		 "\",\"expiry\":\"3012\"}",
		 pan, ALICE);

	/* The bank's key at the network: no certificate, another agent's, another CA's, the servers'. */
	present(dir, NULL);
	expect_401("bank key, no certificate", bank_key, env.mc_http, "/create-customer-account", customer);
	expect_401("bank key, no certificate", bank_key, env.mc_http, "/create-card", create_card);
	present(dir, "mastercard");
	expect_401("bank key, the network's certificate", bank_key, env.mc_http, "/create-card", create_card);
	present(other_ca_dir, "agents/" LC_BANK);
	expect_401("bank key, its name from another CA", bank_key, env.mc_http, "/create-card", create_card);
	char server_cert[700], server_key[700];
	snprintf(server_cert, sizeof(server_cert), "%s/../http_cert.pem", dir);
	snprintf(server_key, sizeof(server_key), "%s/../http_key.pem", dir);
	test_http_client_certificate(server_cert, server_key);
	expect_401("bank key, the servers' certificate (not for clients)", bank_key, env.mc_http, "/create-card",
		   create_card);
	/* The network's key at the bank: a card attached to alice's account, without the network's certificate. */
	present(dir, NULL);
	expect_401("network key, no certificate", network_key, env.bank_http, "/card-produced", produced);
	present(dir, LC_BANK);
	expect_401("network key, the bank's certificate", network_key, env.bank_http, "/card-produced", produced);

	char *after = snapshot(pan);
	cr_expect_str_eq(after, before, "a refused call changed something");
	free(before);
	free(after);
	cr_expect_eq(mtls_refused(env.mc_http), 5);
	cr_expect_eq(mtls_refused(env.bank_http), 2);
	cr_expect_eq(metric(env.mc_http, "iso_switch_http_mtls_refused_total"), 5);
	cr_expect_eq(metric(env.bank_http, "iso_bank_http_mtls_refused_total"), 2);

	/* With its own certificate the bank's key works again, and the customer's and operator's never needed one. */
	present(dir, LC_BANK);
	char path[80];
	snprintf(path, sizeof(path), "/card/pan/%s", pan);
	cr_expect_eq(test_http_as(bank_key, env.mc_http, "GET", path, NULL, NULL), 200);
	present(dir, NULL);
	cr_expect_eq(test_http_as(alice_key, env.bank_http, "GET", "/get-balance/uuid/" ALICE, NULL, NULL), 200);
	cr_expect_eq(test_http(env.mc_http, "GET", "/routes", NULL, NULL), 200);
	cr_assert(lc_env_stop_switch(&env));
	cr_assert(lc_env_stop_bank(&env));
	finished = true;
}
