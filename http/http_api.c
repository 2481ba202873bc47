/*
 * JSON-over-HTTP control-plane server on libmicrohttpd and jansson.
 *
 * One internal thread (epoll) serves every connection, or a pool of them
 * (http_api_start_pool). The server owns everything generic: body
 * accumulation with a size cap (413), JSON parsing (400), route lookup
 * (404 / 405 with Allow), keys and scopes (401 / 403), rate limits (429,
 * rate_limit.h), serialisation of the handler's answer.
 */
#include "http_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <strings.h>
#include <sys/resource.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_cert.h"
#include "clock_source.h"
#include "udp_port.h" /* endpoint_to_sockaddr */

struct http_api {
	struct MHD_Daemon *daemon;
	size_t route_count;
	struct http_route *routes;
	atomic_bool started;   /* after start, MHD's log lines go to stderr */
	char start_error[256]; /* MHD's last log line while starting */
	bool loopback;         /* bound to 127.0.0.0/8: public routes need no credentials */
	struct http_keystore *keys; /* NULL: no credentials asked (loopback only) */
	struct rate_limiter *limits; /* NULL: no rate limits */
	char agent[64];
	char *tls_cert, *tls_key; /* PEM in memory for MHD, alive as long as the daemon */
	size_t tls_key_length;
	char *client_ca; /* PEM: bank and network keys need a client certificate from this CA; NULL: not asked */
};

/* Per-request state, from the URI (before the headers) to completion. */
struct pending_request {
	char *body;
	size_t length;
	size_t capacity;
	bool too_large;
	bool started;         /* the access handler has seen the headers */
	bool nul_in_uri;      /* "%00" somewhere: C strings would cut the id short */
	bool too_many_params; /* more than HTTP_API_MAX_QUERY_PARAMS in the query string */
	const struct http_route *route; /* found and allowed at the first call */
	const char *rest;
	struct http_principal caller;
};

/* ---- responses ----------------------------------------------------------------- */

static json_t *error_body(const char *message)
{
	json_t *text = json_string(message);
	if (text == NULL) {
		/* Not UTF-8 (a path echoed back, say): keep the ASCII and mark the rest. */
		char ascii[512];
		size_t i = 0;
		for (; message[i] && i + 1 < sizeof ascii; i++)
			ascii[i] = (unsigned char)message[i] < 0x80 ? message[i] : '?';
		ascii[i] = '\0';
		text = json_string(ascii);
	}
	json_t *body = json_object();
	if (body && text)
		json_object_set_new(body, "error", text);
	else
		json_decref(text);
	return body;
}

struct http_response http_error(unsigned status, const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	return http_json(status, error_body(message));
}

/* Queues `body` (reference taken; NULL = empty body) as JSON with `status`, and one more
 * header when `header` is not NULL (Allow, WWW-Authenticate, Retry-After). */
static enum MHD_Result send_json_with(struct MHD_Connection *connection, unsigned status, json_t *body,
				      const char *header, const char *value)
{
	char *text = NULL;
	if (body) {
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(body);
		if (text == NULL) {
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			text = strdup("{\"error\":\"the response could not be serialised\"}");
		}
	}
	if (status < 100 || status > 599)
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	struct MHD_Response *response =
		text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
		     : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (response == NULL) {
		free(text);
		return MHD_NO;
	}
	if (text)
		MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	if (header && value)
		MHD_add_response_header(response, header, value);
	enum MHD_Result queued = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return queued;
}

/* The same with an Allow header when `allow` is not NULL (405). */
static enum MHD_Result send_json(struct MHD_Connection *connection, unsigned status, json_t *body,
				 const char *allow)
{
	return send_json_with(connection, status, body, MHD_HTTP_HEADER_ALLOW, allow);
}

/* Queues a handler's text answer (the server frees the text). */
static enum MHD_Result send_text(struct MHD_Connection *connection, const struct http_response *r)
{
	struct MHD_Response *response = MHD_create_response_from_buffer(r->text_length, r->text, MHD_RESPMEM_MUST_FREE);
	if (response == NULL) {
		free(r->text);
		return MHD_NO;
	}
	MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, r->text_type);
	enum MHD_Result queued = MHD_queue_response(connection, r->status, response);
	MHD_destroy_response(response);
	return queued;
}

static enum MHD_Result send_error(struct MHD_Connection *connection, unsigned status, const char *allow,
				  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct MHD_Connection *connection, unsigned status, const char *allow,
				  const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof message, fmt, ap);
	va_end(ap);
	return send_json(connection, status, error_body(message), allow);
}

/* ---- routing ---------------------------------------------------------------------- */

/* Exact path, or a prefix route ("/a/b/" then "*") matching "/a/b/<something non-empty>". */
static bool route_matches(const struct http_route *route, const char *path, const char **rest)
{
	size_t len = strlen(route->path);
	if (len >= 2 && route->path[len - 1] == '*' && route->path[len - 2] == '/') {
		size_t prefix = len - 1;
		if (strncmp(path, route->path, prefix) != 0 || path[prefix] == '\0')
			return false;
		*rest = path + prefix;
		return true;
	}
	if (strcmp(path, route->path) != 0)
		return false;
	*rest = "";
	return true;
}

static const char *query_value(const struct http_request *r, const char *key)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)r->connection, MHD_GET_ARGUMENT_KIND, key);
}

/* The route for method and path, or an answer (404, 405) already queued in *refused. */
static const struct http_route *find_route(struct http_api *api, struct MHD_Connection *connection, const char *path,
					   const char *method, const char **rest, enum MHD_Result *refused)
{
	const struct http_route *route = NULL;
	char allow[128] = "";
	size_t allow_len = 0;
	*rest = "";
	for (size_t i = 0; i < api->route_count && route == NULL; i++) {
		const char *candidate_rest;
		if (!route_matches(&api->routes[i], path, &candidate_rest))
			continue;
		if (strcmp(api->routes[i].method, method) == 0) {
			route = &api->routes[i];
			*rest = candidate_rest;
		} else if (strstr(allow, api->routes[i].method) == NULL && allow_len < sizeof allow) {
			allow_len += (size_t)snprintf(allow + allow_len, sizeof allow - allow_len, "%s%s",
						      allow_len ? ", " : "", api->routes[i].method);
		}
	}
	if (route == NULL) {
		if (allow_len)
			*refused = send_error(connection, MHD_HTTP_METHOD_NOT_ALLOWED, allow, "method %s not allowed on %s",
					      method, path);
		else
			*refused = send_error(connection, MHD_HTTP_NOT_FOUND, NULL, "no such resource: %s", path);
	}
	return route;
}

/* 401 with the Bearer challenge, as JSON. */
static enum MHD_Result send_unauthorized(struct MHD_Connection *connection, const char *why)
{
	return send_json_with(connection, MHD_HTTP_UNAUTHORIZED, error_body(why), MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			      "Bearer realm=\"iso8583-switch\"");
}

/* 429 with Retry-After (whole seconds), as JSON. */
static enum MHD_Result send_too_many(struct MHD_Connection *connection, uint32_t retry_after_s, const char *why)
{
	json_t *body = error_body(why);
	if (body)
		json_object_set_new(body, "retry_after_s", json_integer(retry_after_s));
	char seconds[16];
	snprintf(seconds, sizeof seconds, "%u", (unsigned)retry_after_s);
	return send_json_with(connection, MHD_HTTP_TOO_MANY_REQUESTS, body, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
}

static const struct sockaddr *client_address(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	return info ? info->client_addr : NULL;
}

static void *tls_session(struct MHD_Connection *connection)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	return info ? info->tls_session : NULL;
}

/* What a failed authentication counts against its address: a key presented and refused, not a missing
 * one (nothing guessed) nor an unreadable secrets file (the server's fault). */
static bool is_guess(enum http_auth_result a)
{
	return a == HTTP_AUTH_INVALID || a == HTTP_AUTH_REVOKED || a == HTTP_AUTH_EXPIRED;
}

/* The token of "Authorization: Bearer <token>", NULL when there is none. */
static const char *bearer_token(struct MHD_Connection *connection)
{
	const char *h = MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

/* Who may call the route: true with *caller filled, or false with 401 / 403 / 429 queued in *refused. */
static bool authorize(struct http_api *api, struct MHD_Connection *connection, const struct http_route *route,
		      struct http_principal *caller, enum MHD_Result *refused)
{
	memset(caller, 0, sizeof(*caller));
	if (api->keys == NULL) {
		/* Loopback without keys (checked at start): everyone is the operator, as before keys existed. */
		caller->scope = HTTP_SCOPE_OPERATOR;
		snprintf(caller->subject, sizeof(caller->subject), "loopback");
		return true;
	}
	const char *token = bearer_token(connection);
	if ((route->scopes & HTTP_PUBLIC) && api->loopback && token == NULL)
		return true;
	const struct sockaddr *from = client_address(connection);
	uint64_t now_us = clock_monotonic_ns() / 1000u;
	/* An address that guessed too often is refused before its key is even looked at: until its
	 * window ends it learns nothing, not even whether a key it now presents is good. */
	uint32_t wait_s = rate_limiter_address_blocked(api->limits, from, now_us);
	if (wait_s) {
		*refused = send_too_many(connection, wait_s, "too many failed authentications from this address");
		return false;
	}
	enum http_auth_result a = http_keystore_check(api->keys, token, api->agent, caller);
	if (a != HTTP_AUTH_OK) {
		if (is_guess(a))
			rate_limiter_auth_failed(api->limits, from, now_us);
		/* Never the token itself in a log. */
		*refused = send_unauthorized(connection, http_auth_result_text(a));
		return false;
	}
	/* A bank's or a network's key alone is not enough: the agent proves who it is with its client
	 * certificate too, so a stolen key is useless without the agent's private key. */
	char mtls_why[160];
	if (api->client_ca && (caller->scope & (HTTP_SCOPE_BANK | HTTP_SCOPE_NETWORK)) &&
	    !client_cert_matches(tls_session(connection), caller->subject, mtls_why, sizeof mtls_why)) {
		rate_limiter_mtls_refused(api->limits);
		*refused = send_unauthorized(connection, mtls_why);
		return false;
	}
	/* Every authenticated request spends a token, a forbidden one too: spamming 403s is abuse as well. */
	wait_s = rate_limiter_take(api->limits, caller->key_id, caller->scope, now_us);
	if (wait_s) {
		char why[96];
		snprintf(why, sizeof why, "this %s key is over its rate limit", http_scope_name(caller->scope));
		*refused = send_too_many(connection, wait_s, why);
		return false;
	}
	unsigned allowed = route->scopes & ~HTTP_PUBLIC;
	if (allowed == 0)
		allowed = HTTP_SCOPE_OPERATOR;
	if ((route->scopes & HTTP_PUBLIC) || (caller->scope & allowed))
		return true;
	*refused = send_error(connection, MHD_HTTP_FORBIDDEN, NULL, "a %s key may not call %s %s",
			      http_scope_name(caller->scope), route->method, route->path);
	return false;
}

bool http_caller_is(const struct http_request *r, unsigned scope, const char *subject)
{
	const struct http_principal *c = r->caller;
	if (c == NULL)
		return false;
	if (c->scope == HTTP_SCOPE_OPERATOR)
		return true;
	return c->scope == scope && subject != NULL && strcmp(c->subject, subject) == 0;
}

static enum MHD_Result run_handler(const struct http_api *api, struct MHD_Connection *connection, const char *path,
				   const char *method, const struct pending_request *pending)
{
	const struct http_route *route = pending->route;
	json_t *body = NULL;
	if (pending->length > 0) {
		json_error_t e;
		body = json_loadb(pending->body, pending->length, JSON_REJECT_DUPLICATES, &e);
		if (body == NULL)
			return send_error(connection, MHD_HTTP_BAD_REQUEST, NULL, "invalid JSON at line %d column %d: %s",
					  e.line, e.column, e.text);
	}
	struct http_request request = {
		.method = method,
		.path = path,
		.path_rest = pending->rest,
		.body = body,
		.context = route->context,
		.query = query_value,
		.connection = connection,
		.caller = &pending->caller,
		.limits = api->limits,
	};
	struct http_response response = route->handler(&request);
	json_decref(body);
	if (response.text)
		return send_text(connection, &response);
	return send_json(connection, response.status, response.body, NULL);
}

/* Before MHD parses anything: the raw URI, to refuse what parsing would hide or choke on. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
	(void)cls;
	(void)connection;
	struct pending_request *pending = calloc(1, sizeof *pending);
	if (pending == NULL || uri == NULL)
		return pending;
	pending->nul_in_uri = strstr(uri, "%00") != NULL;
	const char *query = strchr(uri, '?');
	size_t params = 0;
	for (const char *q = query; q && *q; q++)
		if (*q == '&' || *q == ';' || *q == '?')
			params++;
	pending->too_many_params = params > HTTP_API_MAX_QUERY_PARAMS;
	if (pending->too_many_params) {
		/* MHD would now store every parameter in the connection's memory pool, run out
		 * and close without an answer. The URI lies in MHD's own (writable) read buffer and
		 * the query is split off after this call: end it right after the '?' so that MHD
		 * parses no parameter, and the access handler answers 400. */
		((char *)query)[1] = '\0';
	}
	return pending;
}

/* Decodes %XX except the ones a caller must never get: those stay encoded, and on_uri refused them. */
static size_t unescape(void *cls, struct MHD_Connection *connection, char *text)
{
	(void)cls;
	(void)connection;
	char *out = text;
	for (const char *in = text; *in;) {
		if (in[0] == '%' && in[1] && in[2] && strchr("0123456789abcdefABCDEF", in[1]) &&
		    strchr("0123456789abcdefABCDEF", in[2])) {
			char hex[3] = {in[1], in[2], '\0'};
			unsigned long v = strtoul(hex, NULL, 16);
			if (v != 0) {
				*out++ = (char)v;
				in += 3;
				continue;
			}
		}
		*out++ = *in++;
	}
	*out = '\0';
	return (size_t)(out - text);
}

/* ---- libmicrohttpd callbacks ------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **request_state)
{
	(void)version;
	struct http_api *api = cls;
	struct pending_request *pending = *request_state;

	if (pending == NULL) {
		pending = calloc(1, sizeof *pending); /* on_uri failed to allocate; try once more */
		if (pending == NULL)
			return MHD_NO;
		*request_state = pending;
	}
	if (!pending->started) {
		pending->started = true;
		/* Whatever the answer, it is decided before the body is read: nobody unauthorised uploads. */
		pending->too_large = true; /* until accepted below: a refused request's body is drained unread */
		if (pending->nul_in_uri)
			return send_error(connection, MHD_HTTP_BAD_REQUEST, NULL, "the URI contains a NUL byte (%%00)");
		if (pending->too_many_params)
			return send_error(connection, MHD_HTTP_BAD_REQUEST, NULL, "more than %d query parameters",
					  HTTP_API_MAX_QUERY_PARAMS);
		enum MHD_Result refused = MHD_NO;
		pending->route = find_route(api, connection, url, method, &pending->rest, &refused);
		if (pending->route == NULL)
			return refused;
		if (!authorize(api, connection, pending->route, &pending->caller, &refused)) {
			pending->route = NULL;
			return refused;
		}
		pending->too_large = false;
		/* Refuse a declared oversize body before it is sent (no 100 Continue). */
		const char *declared =
			MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (declared && strtoull(declared, NULL, 10) > HTTP_API_MAX_BODY) {
			pending->too_large = true;
			pending->route = NULL; /* answered: later calls only drain */
			return send_error(connection, MHD_HTTP_CONTENT_TOO_LARGE, NULL,
					  "request body larger than %u bytes", HTTP_API_MAX_BODY);
		}
		return MHD_YES;
	}

	if (*upload_data_size > 0) {
		size_t chunk = *upload_data_size;
		*upload_data_size = 0;
		if (pending->too_large)
			return MHD_YES; /* drain a chunked upload that outgrew the cap, answer at the end */
		if (chunk > HTTP_API_MAX_BODY - pending->length) {
			pending->too_large = true;
			free(pending->body);
			pending->body = NULL;
			pending->length = pending->capacity = 0;
			return MHD_YES;
		}
		if (pending->length + chunk > pending->capacity) {
			size_t capacity = pending->capacity ? pending->capacity : 1024;
			while (capacity < pending->length + chunk)
				capacity *= 2;
			if (capacity > HTTP_API_MAX_BODY)
				capacity = HTTP_API_MAX_BODY;
			char *grown = realloc(pending->body, capacity);
			if (grown == NULL)
				return MHD_NO;
			pending->body = grown;
			pending->capacity = capacity;
		}
		memcpy(pending->body + pending->length, upload_data, chunk);
		pending->length += chunk;
		return MHD_YES;
	}

	if (pending->route == NULL)
		return MHD_YES; /* refused at the first call, the answer is queued */
	if (pending->too_large)
		return send_error(connection, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "request body larger than %u bytes",
				  HTTP_API_MAX_BODY);
	return run_handler(api, connection, url, method, pending);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **request_state,
			 enum MHD_RequestTerminationCode why)
{
	(void)cls;
	(void)connection;
	(void)why;
	struct pending_request *pending = *request_state;
	if (pending) {
		free(pending->body);
		free(pending);
		*request_state = NULL;
	}
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
	struct http_api *api = cls;
	if (!atomic_load(&api->started)) {
		vsnprintf(api->start_error, sizeof api->start_error, fmt, ap);
		size_t len = strlen(api->start_error);
		while (len && (api->start_error[len - 1] == '\n' || api->start_error[len - 1] == '\r'))
			api->start_error[--len] = '\0';
		return;
	}
	fputs("http_api: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* ---- start / stop ------------------------------------------------------------------ */

static void free_api(struct http_api *api)
{
	if (api == NULL)
		return;
	for (size_t i = 0; i < api->route_count; i++) {
		free((char *)api->routes[i].method);
		free((char *)api->routes[i].path);
	}
	free(api->routes);
	free(api->tls_cert);
	free(api->client_ca);
	if (api->tls_key) {
		memset(api->tls_key, 0, api->tls_key_length); /* the private key leaves no copy behind */
		free(api->tls_key);
	}
	free(api);
}

struct http_api *http_api_start(const char *host, uint16_t port, const struct http_route *routes,
				size_t route_count, char *err, size_t err_size)
{
	return http_api_start_secure(host, port, routes, route_count, 1, NULL, err, err_size);
}

struct http_api *http_api_start_pool(const char *host, uint16_t port, const struct http_route *routes,
				     size_t route_count, unsigned threads, char *err, size_t err_size)
{
	return http_api_start_secure(host, port, routes, route_count, threads, NULL, err, err_size);
}

/* A whole (small) file in memory, NUL-terminated. */
static char *read_pem(const char *path, size_t *length, char *err, size_t err_size)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, err_size, "http: %s: %s", path, strerror(errno));
		return NULL;
	}
	char *data = malloc(65537);
	size_t n = data ? fread(data, 1, 65536, f) : 0;
	bool whole = data && feof(f) && !ferror(f);
	fclose(f);
	if (!whole || n == 0) {
		snprintf(err, err_size, "http: %s: %s", path, data ? "empty, unreadable or larger than 64 KiB" : "out of memory");
		free(data);
		return NULL;
	}
	data[n] = '\0';
	*length = n;
	return data;
}

/* Every listener may hold max_connections sockets: lift the soft descriptor limit toward the hard one. */
static void raise_descriptor_limit(unsigned wanted)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rlim_t want = (rlim_t)wanted * 4 + 1024;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

struct http_api *http_api_start_secure(const char *host, uint16_t port, const struct http_route *routes,
				       size_t route_count, unsigned threads, const struct http_api_security *sec,
				       char *err, size_t err_size)
{
	if (threads < 1 || threads > 64) {
		snprintf(err, err_size, "http: %u server threads (1..64)", threads);
		return NULL;
	}
	struct sockaddr_in addr;
	if (endpoint_to_sockaddr(host, port, &addr) != 0) {
		snprintf(err, err_size, "http: '%s' is not an IPv4 address", host ? host : "(null)");
		return NULL;
	}
	bool loopback = (ntohl(addr.sin_addr.s_addr) >> 24) == 127;
	bool tls = sec && sec->tls_cert_file && sec->tls_key_file;
	bool keys = sec && sec->keys;
	if (!loopback && !(tls && keys)) {
		snprintf(err, err_size,
			 "http: refusing to serve on %s, not a loopback address, without TLS and API keys "
			 "(configure http_security: docs/security.md)",
			 host);
		return NULL;
	}
	if (tls && !MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		snprintf(err, err_size, "http: this libmicrohttpd has no TLS support");
		return NULL;
	}
	struct http_api *api = calloc(1, sizeof *api);
	if (api == NULL || (route_count && (api->routes = calloc(route_count, sizeof *api->routes)) == NULL)) {
		free(api);
		snprintf(err, err_size, "http: out of memory");
		return NULL;
	}
	api->loopback = loopback;
	api->keys = keys ? sec->keys : NULL;
	api->limits = keys ? sec->limits : NULL; /* who is limited is known from the key */
	snprintf(api->agent, sizeof api->agent, "%s", sec && sec->agent ? sec->agent : "");
	/* Own copies: callers may build route tables on the stack. */
	for (size_t i = 0; i < route_count; i++) {
		const struct http_route *r = &routes[i];
		if (r->method == NULL || r->path == NULL || r->path[0] != '/' || r->handler == NULL) {
			snprintf(err, err_size, "http: route %zu needs a method, a path starting with '/' and a handler",
				 i);
			free_api(api);
			return NULL;
		}
		api->routes[i] = *r;
		api->routes[i].method = strdup(r->method);
		api->routes[i].path = strdup(r->path);
		api->route_count = i + 1;
		if (api->routes[i].method == NULL || api->routes[i].path == NULL) {
			snprintf(err, err_size, "http: out of memory");
			free_api(api);
			return NULL;
		}
	}
	size_t cert_length = 0;
	if (tls && ((api->tls_cert = read_pem(sec->tls_cert_file, &cert_length, err, err_size)) == NULL ||
		    (api->tls_key = read_pem(sec->tls_key_file, &api->tls_key_length, err, err_size)) == NULL)) {
		free_api(api);
		return NULL;
	}
	size_t client_ca_length = 0;
	if (tls && sec->client_ca_file &&
	    (api->client_ca = read_pem(sec->client_ca_file, &client_ca_length, err, err_size)) == NULL) {
		free_api(api);
		return NULL;
	}
	unsigned max_connections = sec && sec->max_connections ? sec->max_connections : 1000;
	unsigned per_ip = sec && sec->per_ip_connections ? sec->per_ip_connections : 64;
	unsigned timeout_s = sec && sec->connection_timeout_s ? sec->connection_timeout_s : 10;
	if (max_connections < threads)
		max_connections = threads; /* MHD splits the limit among the pool's threads */
	raise_descriptor_limit(max_connections);

	errno = 0;
	/* A pool of one is the plain internal thread (MHD wants a size of 2 or more). Options
	 * that do not apply (TLS ones without TLS) are passed as MHD_OPTION_ARRAY entries. */
	struct MHD_OptionItem tls_options[] = {
		{MHD_OPTION_HTTPS_MEM_CERT, 0, api->tls_cert},
		{MHD_OPTION_HTTPS_MEM_KEY, 0, api->tls_key},
		{MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
		/* With a trusted CA, MHD asks every client for a certificate (GNUTLS_CERT_REQUEST: optional,
		 * browsers and curl without one still connect); authorize() checks it for bank and network keys. */
		{api->client_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, api->client_ca},
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_OptionItem no_options[] = {{MHD_OPTION_END, 0, NULL}};
	api->daemon = MHD_start_daemon(
		MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | (tls ? MHD_USE_TLS : 0), port, NULL, NULL, on_request,
		api, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, api, MHD_OPTION_UNESCAPE_CALLBACK, unescape, api,
		MHD_OPTION_CONNECTION_TIMEOUT, timeout_s, MHD_OPTION_CONNECTION_LIMIT, max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_ip, MHD_OPTION_EXTERNAL_LOGGER, on_log, api,
		MHD_OPTION_ARRAY, tls ? tls_options : no_options, MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u,
		MHD_OPTION_END);
	if (api->daemon == NULL) {
		int e = errno;
		snprintf(err, err_size, "http: cannot serve on %s:%u: %s", host, (unsigned)port,
			 api->start_error[0] ? api->start_error : e ? strerror(e) : "libmicrohttpd refused to start");
		free_api(api);
		return NULL;
	}
	atomic_store(&api->started, true);
	return api;
}

void http_api_stop(struct http_api *api)
{
	if (api == NULL)
		return;
	MHD_stop_daemon(api->daemon);
	free_api(api);
}
