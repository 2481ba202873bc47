/*
 * API keys (http/http_keys.c), the webhook rules (http/webhook_policy.c) and
 * the config's http_security section, without any process: a key is good
 * until revoked or expired, for its audience only, never when the file lets
 * others read it; webhooks never go to the agents or to private addresses.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent_security.h"
#include "ecosystem_config.h"
#include "http_keys.h"
#include "webhook_policy.h"

static char dir[64], secrets[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/iso-test-keys-XXXXXX");
	cr_assert(mkdtemp(dir));
	snprintf(secrets, sizeof(secrets), "%s/keys", dir);
	char err[256];
	cr_assert(http_keys_init(secrets, err, sizeof(err)), "%s", err);
}

static void teardown(void)
{
	char command[160];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	cr_expect_eq(system(command), 0);
}

TestSuite(http_keys, .init = setup, .fini = teardown);

Test(http_keys, a_key_is_good_until_revoked_and_only_its_hash_is_stored)
{
	char token[HTTP_TOKEN_MAX], id[HTTP_KEY_ID_LEN + 1], err[256];
	cr_assert(http_keys_create(secrets, HTTP_SCOPE_CUSTOMER, "alice", "big_bank", 0, token, id, err, sizeof(err)),
		  "%s", err);
	cr_expect_eq(strlen(token), 4 + 16 + 1 + 64);
	FILE *f = fopen(secrets, "r");
	char text[4096] = "";
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	cr_expect_null(strstr(text, token + 21), "the secret is in the file");
	struct stat st;
	cr_assert_eq(stat(secrets, &st), 0);
	cr_expect_eq(st.st_mode & 077, 0u, "the file is readable by others");

	struct http_keystore *k = http_keystore_open(secrets, err, sizeof(err));
	cr_assert(k, "%s", err);
	struct http_principal who;
	cr_expect_eq(http_keystore_check(k, token, "big_bank", &who), HTTP_AUTH_OK);
	cr_expect_eq(who.scope, HTTP_SCOPE_CUSTOMER);
	cr_expect_str_eq(who.subject, "alice");
	cr_expect_eq(http_keystore_check(k, token, "lil_bank", &who), HTTP_AUTH_INVALID, "another agent's key");
	cr_expect_eq(http_keystore_check(k, NULL, "big_bank", &who), HTTP_AUTH_MISSING);
	char wrong[HTTP_TOKEN_MAX];
	memcpy(wrong, token, sizeof(wrong));
	wrong[30] = wrong[30] == 'a' ? 'b' : 'a';
	cr_expect_eq(http_keystore_check(k, wrong, "big_bank", &who), HTTP_AUTH_INVALID, "a wrong secret");
	cr_expect_eq(http_keystore_check(k, "isk_short", "big_bank", &who), HTTP_AUTH_INVALID);

	cr_assert(http_keys_revoke(secrets, id, err, sizeof(err)), "%s", err);
	cr_expect_eq(http_keystore_check(k, token, "big_bank", &who), HTTP_AUTH_REVOKED, "revocation not seen");
	cr_expect_not(http_keys_revoke(secrets, "0000000000000000", err, sizeof(err)));
	http_keystore_close(k);
}

Test(http_keys, expired_keys_and_readable_files_are_refused)
{
	char token[HTTP_TOKEN_MAX], id[HTTP_KEY_ID_LEN + 1], err[256];
	cr_assert(http_keys_create(secrets, HTTP_SCOPE_OPERATOR, "ops", "*", (int64_t)time(NULL) - 1, token, id, err,
				   sizeof(err)));
	struct http_keystore *k = http_keystore_open(secrets, err, sizeof(err));
	cr_assert(k);
	struct http_principal who;
	cr_expect_eq(http_keystore_check(k, token, "anyone", &who), HTTP_AUTH_EXPIRED);
	cr_assert(http_keys_create(secrets, HTTP_SCOPE_OPERATOR, "ops", "*", 0, token, id, err, sizeof(err)));
	cr_expect_eq(http_keystore_check(k, token, "anyone", &who), HTTP_AUTH_OK);
	/* A file others can read: no key is good any more (fail closed), and it does not open. */
	cr_assert_eq(chmod(secrets, 0644), 0);
	cr_expect_eq(http_keystore_check(k, token, "anyone", &who), HTTP_AUTH_UNAVAILABLE);
	cr_expect_null(http_keystore_open(secrets, err, sizeof(err)));
	cr_expect(strstr(err, "chmod 600"), "%s", err);
	http_keystore_close(k);
}

Test(http_keys, agent_tokens_are_kept_per_agent)
{
	char path[160], token[HTTP_TOKEN_MAX], err[256];
	snprintf(path, sizeof(path), "%s/agents", dir);
	cr_assert(http_agent_token_store(path, "big_bank", "isk_a", err, sizeof(err)));
	cr_assert(http_agent_token_store(path, "visa", "isk_b", err, sizeof(err)));
	cr_assert(http_agent_token_store(path, "big_bank", "isk_c", err, sizeof(err)));
	cr_assert(http_agent_token_load(path, "big_bank", token, err, sizeof(err)));
	cr_expect_str_eq(token, "isk_c");
	cr_expect_not(http_agent_token_load(path, "lil_bank", token, err, sizeof(err)));
}

Test(webhook_policy, only_public_https_and_never_the_agents)
{
	struct webhook_policy p = {0};
	struct sockaddr_in *bank = &p.internal[p.internal_count++];
	bank->sin_family = AF_INET;
	bank->sin_port = htons(8102);
	bank->sin_addr.s_addr = htonl(0x7f000001);
	char why[160];
	const char *refused[] = {"http://93.184.216.34/hook", "https://127.0.0.1:8102/block-card", "https://10.0.0.1/",
				 "https://192.168.1.1/", "https://172.16.0.1/", "https://169.254.169.254/",
				 "https://0.0.0.0/", "https://[::1]/", "https://[fe80::1]/", "https://localhost/",
				 "https://[::ffff:127.0.0.1]/", "ftp://example.com/", "https://u:p@example.com/",
				 "https://198.18.0.1/", "not a url"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		cr_expect_not(webhook_url_allowed(&p, refused[i], why, sizeof(why)), "%s allowed", refused[i]);
	cr_expect(webhook_url_allowed(&p, "https://93.184.216.34/hook", why, sizeof(why)), "%s", why);
	cr_expect(webhook_url_allowed(&p, "https://hooks.example.com/x", why, sizeof(why)), "%s", why);
	/* An allowed host may be http and private, but an agent's API stays out of reach. */
	snprintf(p.allow[p.allow_count++], sizeof(p.allow[0]), "127.0.0.1");
	cr_expect(webhook_url_allowed(&p, "http://127.0.0.1:9999/hook", why, sizeof(why)), "%s", why);
	cr_expect_not(webhook_url_allowed(&p, "http://127.0.0.1:8102/block-card", why, sizeof(why)));
}

Test(http_security_config, the_section_and_its_defaults)
{
	const char *base = "banks:\n  - name: b\n    institution_id: \"1\"\n    http: 127.0.0.1:8101\n"
			   "    iso: 127.0.0.1:9101\n    networks:\n      - network: n\n        bins: [\"51051000\"]\n"
			   "networks:\n  - name: n\n    major_industry_id: 5\n    http: 127.0.0.1:8201\n"
			   "    iso: 127.0.0.1:9201\n";
	struct ecosystem_config *c = calloc(1, sizeof(*c));
	char err[512], yaml[2048];
	cr_assert(ecosystem_config_parse(base, strlen(base), "t", c, err, sizeof(err)), "%s", err);
	cr_expect_not(c->http_security.enabled);
	cr_expect_eq(c->http_security.per_ip_connections, 64);
	cr_expect_str_eq(agent_http_scheme(c), "http");
	snprintf(yaml, sizeof(yaml),
		 "%shttp_security:\n  tls_cert: c.pem\n  tls_key: k.pem\n  ca: ca.pem\n  secrets_file: s\n"
		 "  agent_tokens_file: t\n  client_certs: agents\n  webhook_allow_hosts: [\"hooks.test\"]\n  connection_timeout_s: 3\n",
		 base);
	cr_assert(ecosystem_config_parse(yaml, strlen(yaml), "t", c, err, sizeof(err)), "%s", err);
	cr_expect(c->http_security.enabled);
	cr_expect_str_eq(c->http_security.webhook_allow_hosts[0], "hooks.test");
	cr_expect_eq(c->http_security.connection_timeout_s, 3);
	cr_expect_str_eq(agent_http_scheme(c), "https");
	struct webhook_policy p;
	agent_webhook_policy(c, &p);
	cr_expect_eq(p.internal_count, 2, "both agents' HTTP endpoints are internal");
	char path[CFG_PATH_MAX];
	cfg_client_cert_path(&c->http_security, "mastercard", ".key", path);
	cr_expect_str_eq(path, "agents/mastercard.key");
	snprintf(yaml, sizeof(yaml), "%shttp_security:\n  tls_cert: c.pem\n", base);
	cr_expect_not(ecosystem_config_parse(yaml, strlen(yaml), "t", c, err, sizeof(err)));
	cr_expect(strstr(err, "http_security.tls_key"), "%s", err);
	/* Mutual TLS: every agent's client certificate and key, from one directory, or no start. */
	snprintf(yaml, sizeof(yaml),
		 "%shttp_security:\n  tls_cert: c.pem\n  tls_key: k.pem\n  ca: ca.pem\n  secrets_file: s\n"
		 "  agent_tokens_file: t\n",
		 base);
	cr_expect_not(ecosystem_config_parse(yaml, strlen(yaml), "t", c, err, sizeof(err)));
	cr_expect(strstr(err, "http_security.client_certs"), "%s", err);
	free(c);
}

Test(http_security_config, rate_limits_and_auth_failures_with_defaults_and_checks)
{
	const char *base = "banks:\n  - name: b\n    institution_id: \"1\"\n    http: 127.0.0.1:8101\n"
			   "    iso: 127.0.0.1:9101\n    networks:\n      - network: n\n        bins: [\"51051000\"]\n"
			   "networks:\n  - name: n\n    major_industry_id: 5\n    http: 127.0.0.1:8201\n"
			   "    iso: 127.0.0.1:9201\n"
			   "http_security:\n  tls_cert: c.pem\n  tls_key: k.pem\n  ca: ca.pem\n  secrets_file: s\n"
			   "  agent_tokens_file: t\n  client_certs: agents\n";
	struct ecosystem_config *c = calloc(1, sizeof(*c));
	char err[512], yaml[2048];
	cr_assert(ecosystem_config_parse(base, strlen(base), "t", c, err, sizeof(err)), "%s", err);
	const struct cfg_http_security *h = &c->http_security;
	cr_expect_eq(h->rate_limits[0].per_minute, 60, "customer");
	cr_expect_eq(h->rate_limits[0].burst, 20);
	cr_expect_eq(h->rate_limits[1].per_minute, 12000, "bank");
	cr_expect_eq(h->rate_limits[2].per_minute, 12000, "network");
	cr_expect_eq(h->rate_limits[3].per_minute, 0, "the operator is not limited");
	cr_expect_eq(h->auth_failure_limit, 20);
	cr_expect_eq(h->auth_failure_window_s, 60);
	snprintf(yaml, sizeof(yaml),
		 "%s  rate_limits:\n    customer: {per_minute: 6, burst: 2}\n    operator: {per_minute: 600}\n"
		 "  auth_failures: {limit: 0, window_s: 5}\n",
		 base);
	cr_assert(ecosystem_config_parse(yaml, strlen(yaml), "t", c, err, sizeof(err)), "%s", err);
	cr_expect_eq(h->rate_limits[0].per_minute, 6);
	cr_expect_eq(h->rate_limits[0].burst, 2);
	cr_expect_eq(h->rate_limits[1].per_minute, 12000, "an unnamed scope keeps its default");
	cr_expect_eq(h->rate_limits[3].per_minute, 600);
	cr_expect_eq(h->rate_limits[3].burst, 1);
	cr_expect_eq(h->auth_failure_limit, 0, "0 turns throttling off");
	const char *bad[][2] = {
		{"  rate_limits:\n    admin: {per_minute: 1}\n", "admin"},
		{"  rate_limits:\n    customer: {per_minute: 1, burst: 0}\n", "burst"},
		{"  rate_limits:\n    customer: {per_second: 1}\n", "per_second"},
		{"  rate_limits:\n    customer: 5\n", "customer"},
		{"  auth_failures: {limit: 3, window_s: 0}\n", "window_s"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "%s%s", base, bad[i][0]);
		cr_expect_not(ecosystem_config_parse(yaml, strlen(yaml), "t", c, err, sizeof(err)), "%s accepted",
			      bad[i][0]);
		cr_expect(strstr(err, bad[i][1]), "%s: %s", bad[i][1], err);
	}
	free(c);
}
