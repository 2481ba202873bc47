#include "test_security.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_http.h"

static char dir[512], ca[600], secrets[600], operator_token[HTTP_TOKEN_MAX];

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

bool test_security_append(const char *config_path, const char *extra_yaml)
{
	char copy[512];
	snprintf(copy, sizeof(copy), "%s", config_path);
	snprintf(dir, sizeof(dir), "%s/secrets", dirname(copy));
	const char *src = getenv("ISO_SOURCE_DIR");
	char command[1400];
	snprintf(command, sizeof(command), "bash '%s/scripts/http-certs.sh' '%s'", src ? src : ".", dir);
	if (system(command) != 0) {
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
	/* A token for every agent the config names: "  - name: X" under banks: or networks:. */
	FILE *in = fopen(config_path, "r");
	if (!in)
		return false;
	char line[256];
	unsigned scope = 0;
	bool ok = true;
	while (ok && fgets(line, sizeof(line), in)) {
		if (strncmp(line, "banks:", 6) == 0)
			scope = HTTP_SCOPE_BANK;
		else if (strncmp(line, "networks:", 9) == 0)
			scope = HTTP_SCOPE_NETWORK;
		else if (line[0] != ' ' && line[0] != '\n')
			scope = 0;
		char name[64];
		if (scope && sscanf(line, "  - name: %63s", name) == 1) {
			char token[HTTP_TOKEN_MAX], id[HTTP_KEY_ID_LEN + 1];
			ok = test_security_key(scope, name, "*", 0, token, id) &&
			     http_agent_token_store(tokens, name, token, err, sizeof(err));
		}
	}
	fclose(in);
	if (!ok)
		return false;
	char id[HTTP_KEY_ID_LEN + 1];
	if (!test_security_key(HTTP_SCOPE_OPERATOR, "test", "*", 0, operator_token, id))
		return false;
	FILE *f = fopen(config_path, "a");
	if (!f)
		return false;
	fprintf(f,
		"http_security:\n  tls_cert: %s/http_cert.pem\n  tls_key: %s/http_key.pem\n  ca: %s\n"
		"  secrets_file: %s\n  agent_tokens_file: %s\n%s",
		dir, dir, ca, secrets, tokens, extra_yaml ? extra_yaml : "");
	if (fclose(f) != 0)
		return false;
	test_http_configure(ca, operator_token);
	return true;
}
