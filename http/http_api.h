/*
 * A small JSON-over-HTTP server for the agents' control planes (accounts,
 * cards, routes, stats), on libmicrohttpd with jansson. Never on the fast path.
 *
 * Handlers get the method, the path, the query string and the parsed JSON body
 * (NULL when there is none); the server answers 400 with a JSON error for a
 * body that is not valid JSON, 404 for an unknown path and 405 for a known path
 * with another method, so handlers only deal with well-formed requests.
 */
#ifndef HTTP_API_H
#define HTTP_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http_keys.h"
#include "rate_limit.h"

#define HTTP_API_MAX_BODY (1u << 20)
/* More query parameters than this is not a request of ours: 400 before any parsing. */
#define HTTP_API_MAX_QUERY_PARAMS 32
/* A route's scopes: enum http_scope bits; 0 means operator only (the safe default). */
#define HTTP_PUBLIC (1u << 8) /* readable without credentials, but only on a loopback listener */

struct http_request {
	const char *method;     /* "GET", "POST", "PUT", ... */
	const char *path;       /* without the query string */
	const char *path_rest;  /* what follows the route's prefix (for prefix routes) */
	json_t *body;           /* parsed JSON body or NULL; owned by the server */
	void *context;          /* the route's context */
	const char *(*query)(const struct http_request *r, const char *key); /* query parameter or NULL */
	void *connection;       /* opaque */
	/* Who called (key checked, scope allowed by the route); scope 0 on a public route
	 * called anonymously. A server started without keys (loopback only) says operator. */
	const struct http_principal *caller;
	/* The listener's rate limiter (counters for /stats and /metrics), NULL when none. */
	const struct rate_limiter *limits;
};

struct http_response {
	unsigned status;
	json_t *body; /* the handler's reference is taken by the server */
	/* Instead of a JSON body: text (malloc'd, taken and freed by the server) of text_type. */
	char *text;
	size_t text_length;
	const char *text_type;
};

typedef struct http_response (*http_handler)(const struct http_request *r);

struct http_route {
	const char *method;
	/* Exact, or a prefix route when its last two characters are '/' and '*': "/get-balance/uuid/"
	 * followed by '*' matches "/get-balance/uuid/abc" with path_rest "abc" (never an empty rest). */
	const char *path;
	http_handler handler;
	void *context;
	unsigned scopes; /* who may call it: enum http_scope bits | HTTP_PUBLIC; 0 = operator only */
};

/* How a listener protects itself (docs/security.md). */
struct http_api_security {
	const char *agent;         /* this agent's name: keys must be good for it (audience) */
	const char *tls_cert_file; /* PEM; NULL: plain HTTP, allowed on loopback only */
	const char *tls_key_file;
	/* PEM CA (with TLS): clients are asked for a certificate, and a bank or network key is
	 * accepted only from a client whose certificate verifies against it with the key's subject
	 * as CN (mutual TLS, docs/security.md); customer and operator keys need none. NULL: none asked. */
	const char *client_ca_file;
	struct http_keystore *keys; /* NULL: nobody is asked for credentials, allowed on loopback only */
	unsigned max_connections, per_ip_connections, connection_timeout_s; /* 0: 1000, 64, 10 */
	/* Per-key rates and per-address failed-authentication throttling (with keys only);
	 * NULL: none. Not owned; may be shared by several listeners. */
	struct rate_limiter *limits;
};

struct http_api;

/* Starts serving on host:port with its own thread; NULL and a reason in err on failure.
 * The routes are copied. Handlers run on that one thread, one request at a time. */
struct http_api *http_api_start(const char *host, uint16_t port, const struct http_route *routes,
				size_t route_count, char *err, size_t err_size);
/* The same with `threads` server threads (1..64): up to that many requests run at
 * once, so one slow handler (waiting on another service) does not hold up the
 * others. Every handler must then be safe to run concurrently with itself and
 * with the others. */
struct http_api *http_api_start_pool(const char *host, uint16_t port, const struct http_route *routes,
				     size_t route_count, unsigned threads, char *err, size_t err_size);
/*
 * The same behind TLS and API keys (sec NULL: neither). Refuses to start on a
 * non-loopback address (0.0.0.0 included) without both TLS and keys.
 */
struct http_api *http_api_start_secure(const char *host, uint16_t port, const struct http_route *routes,
				       size_t route_count, unsigned threads, const struct http_api_security *sec,
				       char *err, size_t err_size);
void http_api_stop(struct http_api *api);

/* True when the caller is the operator, or has `scope` and is `subject` (a customer's own account). */
bool http_caller_is(const struct http_request *r, unsigned scope, const char *subject);

/* Copies a component's route table (at most capacity entries) for http_api_start; returns the count. */
static inline size_t http_routes_copy(struct http_route *dst, size_t capacity, const struct http_route *src,
				      size_t count)
{
	size_t n = count < capacity ? count : capacity;
	for (size_t i = 0; i < n; i++)
		dst[i] = src[i];
	return n;
}

/* {"error": "<message>"} with the given status. */
struct http_response http_error(unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline struct http_response http_json(unsigned status, json_t *body)
{
	struct http_response r = {.status = status, .body = body};
	return r;
}
/* A non-JSON answer (e.g. Prometheus' text format); text NULL answers 500. */
static inline struct http_response http_text(unsigned status, char *text, size_t length, const char *content_type)
{
	if (!text)
		return http_error(500, "out of memory while building the answer");
	struct http_response r = {.status = status, .text = text, .text_length = length, .text_type = content_type};
	return r;
}

#endif
