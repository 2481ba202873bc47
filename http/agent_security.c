#include "agent_security.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "http_client.h"

const char *agent_http_scheme(const struct ecosystem_config *c)
{
	return c->http_security.enabled ? "https" : "http";
}

static void add_internal(struct webhook_policy *p, const struct cfg_endpoint *e)
{
	if (p->internal_count >= WEBHOOK_INTERNAL_MAX)
		return;
	struct sockaddr_in *a = &p->internal[p->internal_count];
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons(e->port);
	if (inet_pton(AF_INET, e->host, &a->sin_addr) == 1)
		p->internal_count++;
}

void agent_webhook_policy(const struct ecosystem_config *c, struct webhook_policy *p)
{
	memset(p, 0, sizeof(*p));
	const struct cfg_http_security *h = &c->http_security;
	for (size_t i = 0; i < h->webhook_allow_host_count && i < WEBHOOK_ALLOW_MAX; i++)
		snprintf(p->allow[p->allow_count++], sizeof(p->allow[0]), "%s", h->webhook_allow_hosts[i]);
	for (size_t i = 0; i < c->bank_count; i++)
		add_internal(p, &c->banks[i].http);
	for (size_t i = 0; i < c->network_count; i++)
		add_internal(p, &c->networks[i].http);
}

bool agent_security_setup(struct agent_security *s, const struct ecosystem_config *c, const char *agent, char *err,
			  size_t err_size)
{
	memset(s, 0, sizeof(*s));
	const struct cfg_http_security *h = &c->http_security;
	snprintf(s->agent, sizeof(s->agent), "%s", agent);
	s->api.agent = s->agent;
	s->api.max_connections = h->max_connections;
	s->api.per_ip_connections = h->per_ip_connections;
	s->api.connection_timeout_s = h->connection_timeout_s;
	http_client_global_init();
	if (!h->enabled) {
		http_client_configure(NULL, NULL);
		http_client_configure_certificate(NULL, NULL);
		return true;
	}
	s->enabled = true;
	snprintf(s->tls_cert, sizeof(s->tls_cert), "%s", h->tls_cert);
	snprintf(s->tls_key, sizeof(s->tls_key), "%s", h->tls_key);
	snprintf(s->ca, sizeof(s->ca), "%s", h->ca);
	char why[384];
	if (!http_secret_file_private(h->tls_key, why, sizeof(why))) {
		snprintf(err, err_size, "http_security.tls_key: %s", why);
		return false;
	}
	/* Mutual TLS: this agent's client certificate for its calls to the others. Checked now (the key
	 * private, the certificate readable) rather than at the first call, hours into a run. */
	cfg_client_cert_path(h, agent, ".pem", s->client_cert);
	cfg_client_cert_path(h, agent, ".key", s->client_key);
	if (!http_secret_file_private(s->client_key, why, sizeof(why))) {
		snprintf(err, err_size, "http_security.client_certs: %s", why);
		return false;
	}
	FILE *cert = fopen(s->client_cert, "r");
	if (!cert) {
		snprintf(err, err_size, "http_security.client_certs: %s: %s", s->client_cert, strerror(errno));
		return false;
	}
	fclose(cert);
	s->keys = http_keystore_open(h->secrets_file, why, sizeof(why));
	if (!s->keys) {
		snprintf(err, err_size, "http_security.secrets_file: %s", why);
		return false;
	}
	if (!http_agent_token_load(h->agent_tokens_file, agent, s->token, why, sizeof(why))) {
		snprintf(err, err_size, "http_security.agent_tokens_file: %s", why);
		agent_security_teardown(s);
		return false;
	}
	http_client_configure(s->ca, s->token);
	http_client_configure_certificate(s->client_cert, s->client_key);
	struct rate_limit_config limits = {
		.auth_failure_limit = h->auth_failure_limit,
		.auth_failure_window_s = h->auth_failure_window_s,
	};
	for (int i = 0; i < RATE_LIMIT_SCOPES; i++)
		limits.by_scope[i] = (struct rate_limit_rule){h->rate_limits[i].per_minute, h->rate_limits[i].burst};
	s->limits = rate_limiter_new(&limits);
	if (!s->limits) {
		snprintf(err, err_size, "http_security: out of memory for the rate limiter's tables");
		agent_security_teardown(s);
		return false;
	}
	s->api.limits = s->limits;
	s->api.tls_cert_file = s->tls_cert;
	s->api.tls_key_file = s->tls_key;
	s->api.client_ca_file = s->ca; /* the agents' client certificates come from the same CA */
	s->api.keys = s->keys;
	return true;
}

void agent_security_teardown(struct agent_security *s)
{
	http_keystore_close(s->keys);
	s->keys = NULL;
	s->api.keys = NULL;
	rate_limiter_free(s->limits);
	s->limits = NULL;
	s->api.limits = NULL;
	OPENSSL_cleanse(s->token, sizeof(s->token));
}
