#include "test_security.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_http.h"

static char dir[512], ca[600], secrets[600], clients[600], operator_token[HTTP_TOKEN_MAX];
static char extra[8][64]; /* names to certify at the next test_security_append, beside the config's */
static size_t extra_count;

const char *test_security_ca(void)
{
	return ca;
}

const char *test_security_secrets(void)
{
	return secrets;
}

const char *test_security_operator_token(void)
{
	return operator_token;
}

bool test_security_key(unsigned scope, const char *subject, const char *audience, int64_t expires_unix,
		       char token[HTTP_TOKEN_MAX], char id[HTTP_KEY_ID_LEN + 1])
{
	char err[256];
	if (!http_keys_create(secrets, scope, subject, audience ? audience : "*", expires_unix, token, id, err,
			      sizeof(err))) {
		fprintf(stderr, "test_security: %s\n", err);
		return false;
	}
	return true;
}

bool test_security_revoke(const char *id)
{
	char err[256];
	if (!http_keys_revoke(secrets, id, err, sizeof(err))) {
		fprintf(stderr, "test_security: %s\n", err);
		return false;
	}
	return true;
}

const char *test_security_client_dir(void)
{
	return clients;
}

void test_security_also_certify(const char *name)
{
	if (extra_count < sizeof(extra) / sizeof(extra[0]))
		snprintf(extra[extra_count++], sizeof(extra[0]), "%s", name);
}

/* Every bank and network the config names ("  - name: X" under banks: or networks:), with its scope. */
static size_t config_agents(const char *config_path, char names[][64], unsigned *scopes, size_t max)
{
	FILE *in = fopen(config_path, "r");
	if (!in)
		return 0;
	char line[256];
	unsigned scope = 0;
	size_t n = 0;
	while (n < max && fgets(line, sizeof(line), in)) {
		if (strncmp(line, "banks:", 6) == 0)
			scope = HTTP_SCOPE_BANK;
		else if (strncmp(line, "networks:", 9) == 0)
			scope = HTTP_SCOPE_NETWORK;
		else if (line[0] != ' ' && line[0] != '\n')
			scope = 0;
		if (scope && sscanf(line, "  - name: %63s", names[n]) == 1)
			scopes[n++] = scope;
	}
	fclose(in);
	return n;
}

bool test_security_append(const char *config_path, const char *extra_yaml)
{
	char copy[512];
	snprintf(copy, sizeof(copy), "%s", config_path);
	snprintf(dir, sizeof(dir), "%s/secrets", dirname(copy));
	snprintf(clients, sizeof(clients), "%s/agents", dir);
	char names[32][64];
	unsigned scopes[32];
	size_t count = config_agents(config_path, names, scopes, 32);
	const char *src = getenv("ISO_SOURCE_DIR");
	/* A client certificate for every agent (mutual TLS) and for the extra names a test asked for. */
	char command[4096];
	int len = snprintf(command, sizeof(command), "bash '%s/scripts/http-certs.sh' '%s'", src ? src : ".", dir);
	for (size_t i = 0; i < count + extra_count && len > 0 && (size_t)len < sizeof(command); i++)
		len += snprintf(command + len, sizeof(command) - (size_t)len, " --client '%s'",
				i < count ? names[i] : extra[i - count]);
	extra_count = 0;
	if (len <= 0 || (size_t)len >= sizeof(command) || system(command) != 0) {
		fprintf(stderr, "test_security: %s failed\n", command);
		return false;
	}
	snprintf(ca, sizeof(ca), "%s/http_ca.pem", dir);
	snprintf(secrets, sizeof(secrets), "%s/http_keys", dir);
	char tokens[600], err[256];
	snprintf(tokens, sizeof(tokens), "%s/http_agent_tokens", dir);
	if (!http_keys_init(secrets, err, sizeof(err))) {
		fprintf(stderr, "test_security: %s\n", err);
		return false;
	}
	/* A token for every agent the config names. */
	for (size_t i = 0; i < count; i++) {
		char token[HTTP_TOKEN_MAX], id[HTTP_KEY_ID_LEN + 1];
		if (!test_security_key(scopes[i], names[i], "*", 0, token, id) ||
		    !http_agent_token_store(tokens, names[i], token, err, sizeof(err)))
			return false;
	}
	char id[HTTP_KEY_ID_LEN + 1];
	if (!test_security_key(HTTP_SCOPE_OPERATOR, "test", "*", 0, operator_token, id))
		return false;
	FILE *f = fopen(config_path, "a");
	if (!f)
		return false;
	fprintf(f,
		"http_security:\n  tls_cert: %s/http_cert.pem\n  tls_key: %s/http_key.pem\n  ca: %s\n"
		"  secrets_file: %s\n  agent_tokens_file: %s\n  client_certs: %s\n%s",
		dir, dir, ca, secrets, tokens, clients, extra_yaml ? extra_yaml : "");
	if (fclose(f) != 0)
		return false;
	test_http_configure(ca, operator_token);
	return true;
}
