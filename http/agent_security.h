/*
 * An agent's HTTP security from the config's http_security section: the
 * listener's TLS certificate and key, the API keys it checks, its own token
 * for its calls to the other agents (with the CA their certificates are
 * checked against), the rate limits, and the webhook rules. Without the section: plain HTTP,
 * no keys, loopback only (http_api refuses anything else).
 */
#ifndef AGENT_SECURITY_H
#define AGENT_SECURITY_H

#include <stdbool.h>

#include "ecosystem_config.h"
#include "http_api.h"
#include "http_keys.h"
#include "rate_limit.h"
#include "webhook_policy.h"

struct agent_security {
	bool enabled;
	char agent[CFG_NAME_MAX];
	char tls_cert[CFG_PATH_MAX], tls_key[CFG_PATH_MAX], ca[CFG_PATH_MAX];
	char client_cert[CFG_PATH_MAX], client_key[CFG_PATH_MAX]; /* this agent's, for mutual TLS */
	struct http_keystore *keys;
	char token[HTTP_TOKEN_MAX]; /* this agent's own API key */
	struct rate_limiter *limits; /* per key and per address (rate_limit.h); shared by the agent's listeners */
	struct http_api_security api; /* points into this struct: keep it where it is */
};

/*
 * Loads everything for agent `agent` and configures the process's HTTP client
 * (CA, own token, own client certificate). Refuses secret files (the TLS key,
 * the client key) that group or others can read, and a missing client
 * certificate. Call
 * before any thread starts.
 */
bool agent_security_setup(struct agent_security *s, const struct ecosystem_config *c, const char *agent, char *err,
			  size_t err_size);
void agent_security_teardown(struct agent_security *s);

/* "https" when the config has http_security, else "http": how agents call each other. */
const char *agent_http_scheme(const struct ecosystem_config *c);
/* The webhook rules of the config: its allow list, and every agent's HTTP endpoint as internal. */
void agent_webhook_policy(const struct ecosystem_config *c, struct webhook_policy *p);

#endif
