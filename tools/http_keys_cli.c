/*
 * http-keys: makes and revokes the API keys of the agents' HTTP control planes
 * (docs/security.md). Only the SHA-256 of a key is stored; the key itself is
 * printed once, on stdout, when it is made.
 *
 *   http-keys (--config FILE | --secrets FILE) init
 *   http-keys (--config FILE | --secrets FILE) create --scope customer|bank|network|operator
 *             --subject WHO [--audience AGENT|*] [--expires-in SECONDS]
 *   http-keys (--config FILE | --secrets FILE) revoke KEY_ID
 *   http-keys (--config FILE | --secrets FILE) list
 *   http-keys --config FILE agent-tokens     a key for every bank (scope bank) and network
 *                                            (scope network), into http_security.agent_tokens_file
 *   http-keys --config FILE agents           the name of every bank and network, one a line
 *                                            (scripts/http-security.sh makes their client certificates)
 */
#include <ctype.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ecosystem_config.h"
#include "http_keys.h"

static int usage_to(FILE *out, int status)
{
	fprintf(out, "usage: http-keys (--config FILE | --secrets FILE) init | list | revoke KEY_ID |\n"
			"         create --scope customer|bank|network|operator --subject WHO [--audience AGENT] "
			"[--expires-in SECONDS] |\n"
			"         agent-tokens | agents (with --config)\n");
	return status;
}

static int usage(void)
{
	return usage_to(stderr, 2);
}

static void print_line(void *ctx, const char *text)
{
	(void)ctx;
	printf("%s\n", text);
}

/* A UUID-form customer id in lower case, as the banks store it. */
static void normalise_subject(char *s)
{
	if (strlen(s) != 36)
		return;
	for (char *c = s; *c; c++)
		*c = (char)tolower((unsigned char)*c);
}

static int agent_tokens(const struct ecosystem_config *c)
{
	const struct cfg_http_security *h = &c->http_security;
	if (!h->enabled) {
		fprintf(stderr, "http-keys: %s has no http_security section\n", c->source);
		return 1;
	}
	char err[512];
	if (!http_keys_init(h->secrets_file, err, sizeof(err))) {
		fprintf(stderr, "http-keys: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < c->bank_count + c->network_count; i++) {
		bool bank = i < c->bank_count;
		const char *name = bank ? c->banks[i].name : c->networks[i - c->bank_count].name;
		char token[HTTP_TOKEN_MAX], id[HTTP_KEY_ID_LEN + 1];
		if (!http_keys_create(h->secrets_file, bank ? HTTP_SCOPE_BANK : HTTP_SCOPE_NETWORK, name, "*", 0, token,
				      id, err, sizeof(err)) ||
		    !http_agent_token_store(h->agent_tokens_file, name, token, err, sizeof(err))) {
			fprintf(stderr, "http-keys: %s\n", err);
			return 1;
		}
		OPENSSL_cleanse(token, sizeof(token));
		fprintf(stderr, "http-keys: %s key %s for %s in %s\n", bank ? "bank" : "network", id, name,
			h->agent_tokens_file);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *secrets = NULL, *config_path = NULL;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return usage_to(stdout, 0);
	int i = 1;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--secrets") == 0)
			secrets = argv[i + 1];
		else if (strcmp(argv[i], "--config") == 0)
			config_path = argv[i + 1];
		else
			return usage();
	}
	if (i >= argc || (!secrets && !config_path))
		return usage();
	const char *command = argv[i++];
	char err[512];
	struct ecosystem_config *config = NULL;
	if (config_path) {
		config = calloc(1, sizeof(*config));
		if (!config || !ecosystem_config_load(config_path, config, err, sizeof(err))) {
			fprintf(stderr, "http-keys: %s\n", config ? err : "out of memory");
			return 1;
		}
		if (!secrets && !config->http_security.enabled) {
			fprintf(stderr, "http-keys: %s has no http_security section\n", config_path);
			return 1;
		}
		if (!secrets)
			secrets = config->http_security.secrets_file;
	}
	int status = 0;
	if (strcmp(command, "agents") == 0) {
		if (!config)
			return usage();
		for (size_t a = 0; a < config->bank_count; a++)
			printf("%s\n", config->banks[a].name);
		for (size_t a = 0; a < config->network_count; a++)
			printf("%s\n", config->networks[a].name);
	} else if (strcmp(command, "agent-tokens") == 0) {
		if (!config)
			return usage();
		status = agent_tokens(config);
	} else if (strcmp(command, "init") == 0) {
		if (!http_keys_init(secrets, err, sizeof(err))) {
			fprintf(stderr, "http-keys: %s\n", err);
			status = 1;
		}
	} else if (strcmp(command, "list") == 0) {
		if (!http_keys_list(secrets, print_line, NULL, err, sizeof(err))) {
			fprintf(stderr, "http-keys: %s\n", err);
			status = 1;
		}
	} else if (strcmp(command, "revoke") == 0) {
		if (i >= argc)
			return usage();
		if (!http_keys_revoke(secrets, argv[i], err, sizeof(err))) {
			fprintf(stderr, "http-keys: %s\n", err);
			status = 1;
		} else {
			fprintf(stderr, "http-keys: key %s revoked\n", argv[i]);
		}
	} else if (strcmp(command, "create") == 0) {
		const char *scope = NULL, *audience = "*";
		char subject[HTTP_SUBJECT_MAX] = "";
		long long expires_in = 0;
		for (; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "--scope") == 0)
				scope = argv[i + 1];
			else if (strcmp(argv[i], "--subject") == 0)
				snprintf(subject, sizeof(subject), "%s", argv[i + 1]);
			else if (strcmp(argv[i], "--audience") == 0)
				audience = argv[i + 1];
			else if (strcmp(argv[i], "--expires-in") == 0)
				expires_in = strtoll(argv[i + 1], NULL, 10);
			else
				return usage();
		}
		unsigned s = scope ? http_scope_parse(scope) : 0;
		if (i != argc || !s || !subject[0] || expires_in < 0)
			return usage();
		if (s == HTTP_SCOPE_CUSTOMER)
			normalise_subject(subject);
		char token[HTTP_TOKEN_MAX], id[HTTP_KEY_ID_LEN + 1];
		int64_t expires = expires_in ? (int64_t)time(NULL) + expires_in : 0;
		if (!http_keys_create(secrets, s, subject, audience, expires, token, id, err, sizeof(err))) {
			fprintf(stderr, "http-keys: %s\n", err);
			status = 1;
		} else {
			fprintf(stderr, "http-keys: key %s (%s %s, audience %s%s): shown once, keep it secret\n", id, scope,
				subject, audience, expires ? ", expires" : "");
			printf("%s\n", token);
			OPENSSL_cleanse(token, sizeof(token));
		}
	} else {
		status = usage();
	}
	free(config);
	return status;
}
