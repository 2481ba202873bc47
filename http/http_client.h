/*
 * A JSON POST with libcurl, bounded in time: what the bank uses to order
 * cards at a network and what the network's outbox uses to deliver
 * notifications. Off the fast path; one call blocks its thread for at most
 * timeout_ms.
 */
#ifndef STORAGE_HTTP_CLIENT_H
#define STORAGE_HTTP_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#include "webhook_policy.h"

enum http_post_outcome {
	HTTP_POST_ANSWERED = 0,  /* an HTTP status came back (any status) */
	HTTP_POST_TIMEOUT = 1,   /* no complete answer within the time limit */
	HTTP_POST_UNREACHABLE = 2, /* connection refused, DNS, reset, ... */
	HTTP_POST_FAILED = 3,    /* out of memory, bad URL */
};

struct http_post_result {
	enum http_post_outcome outcome;
	long status;   /* HTTP status when answered */
	json_t *reply; /* parsed JSON answer or NULL; the caller decrefs it */
	char error[160]; /* the transport's reason when not answered */
	long new_connections; /* connections this call opened (0: it reused one, and its TLS session) */
};

/* Call once per process before threads start (curl_global_init is not thread-safe). */
void http_client_global_init(void);
/*
 * The agent's identity for its calls to the other agents, set once at start
 * before threads: the CA file every server certificate is checked against
 * (NULL: the system's) and the agent's own API key sent as a Bearer token
 * (NULL: none). Certificates are always verified; there is no switch to stop it.
 */
void http_client_configure(const char *ca_file, const char *token);
/*
 * The agent's client certificate and its key (PEM files; NULL, NULL: none),
 * presented on the calls to the other agents (mutual TLS, docs/security.md),
 * never to a customer's webhook. Set once at start, before threads.
 */
void http_client_configure_certificate(const char *cert_file, const char *key_file);

/* POSTs body (serialized compactly) to url; connect bounded by min(timeout_ms, 1000). */
void http_post_json(const char *url, const json_t *body, long timeout_ms, struct http_post_result *out);
/* Same with a body already serialized. */
void http_post_text(const char *url, const char *body, size_t length, long timeout_ms,
		    struct http_post_result *out);

/*
 * POSTs a notification to a customer's webhook: never with the agent's own key,
 * only where the policy allows (checked on the URL and on every address the
 * connection opens), no redirect, the answer capped. A refusal by the policy is
 * HTTP_POST_FAILED with the reason in out->error.
 */
void http_post_webhook(const char *url, const char *body, size_t length, long timeout_ms,
		       const struct webhook_policy *policy, struct http_post_result *out);

/* The "error" string of a JSON answer, or "" when it has none. */
const char *http_reply_error(const struct http_post_result *r);

#endif
