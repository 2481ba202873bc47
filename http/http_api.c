/*
 * JSON-over-HTTP control-plane server on libmicrohttpd and jansson.
 *
 * One internal thread (epoll) serves every connection, so handlers run one at
 * a time and never concurrently with each other. The server owns everything
 * generic: body accumulation with a size cap (413), JSON parsing (400), route
 * lookup (404 / 405 with Allow), serialisation of the handler's answer.
 */
#include "http_api.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udp_port.h" /* endpoint_to_sockaddr */

struct http_api {
	struct MHD_Daemon *daemon;
	size_t route_count;
	struct http_route *routes;
	atomic_bool started;   /* after start, MHD's log lines go to stderr */
	char start_error[256]; /* MHD's last log line while starting */
};

/* Per-request state, from the first call of the access handler to completion. */
struct pending_request {
	char *body;
	size_t length;
	size_t capacity;
	bool too_large;
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

/* Queues `body` (reference taken; NULL = empty body) as JSON with `status`. */
static enum MHD_Result send_json(struct MHD_Connection *connection, unsigned status, json_t *body,
				 const char *allow)
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
	if (allow)
		MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result queued = MHD_queue_response(connection, status, response);
	MHD_destroy_response(response);
	return queued;
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

static enum MHD_Result dispatch(struct http_api *api, struct MHD_Connection *connection, const char *path,
				const char *method, const struct pending_request *pending)
{
	const struct http_route *route = NULL;
	const char *rest = "";
	char allow[128] = "";
	size_t allow_len = 0;
	for (size_t i = 0; i < api->route_count && route == NULL; i++) {
		const char *candidate_rest;
		if (!route_matches(&api->routes[i], path, &candidate_rest))
			continue;
		if (strcmp(api->routes[i].method, method) == 0) {
			route = &api->routes[i];
			rest = candidate_rest;
		} else if (strstr(allow, api->routes[i].method) == NULL && allow_len < sizeof allow) {
			allow_len += (size_t)snprintf(allow + allow_len, sizeof allow - allow_len, "%s%s",
						      allow_len ? ", " : "", api->routes[i].method);
		}
	}
	if (route == NULL) {
		if (allow_len)
			return send_error(connection, MHD_HTTP_METHOD_NOT_ALLOWED, allow, "method %s not allowed on %s",
					  method, path);
		return send_error(connection, MHD_HTTP_NOT_FOUND, NULL, "no such resource: %s", path);
	}

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
		.path_rest = rest,
		.body = body,
		.context = route->context,
		.query = query_value,
		.connection = connection,
	};
	struct http_response response = route->handler(&request);
	json_decref(body);
	if (response.text)
		return send_text(connection, &response);
	return send_json(connection, response.status, response.body, NULL);
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
		pending = calloc(1, sizeof *pending);
		if (pending == NULL)
			return MHD_NO;
		*request_state = pending;
		/* Refuse a declared oversize body before it is sent (no 100 Continue). */
		const char *declared =
			MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (declared && strtoull(declared, NULL, 10) > HTTP_API_MAX_BODY) {
			pending->too_large = true;
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

	if (pending->too_large)
		return send_error(connection, MHD_HTTP_CONTENT_TOO_LARGE, NULL, "request body larger than %u bytes",
				  HTTP_API_MAX_BODY);
	return dispatch(api, connection, url, method, pending);
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
	free(api);
}

struct http_api *http_api_start(const char *host, uint16_t port, const struct http_route *routes,
				size_t route_count, char *err, size_t err_size)
{
	return http_api_start_pool(host, port, routes, route_count, 1, err, err_size);
}

struct http_api *http_api_start_pool(const char *host, uint16_t port, const struct http_route *routes,
				     size_t route_count, unsigned threads, char *err, size_t err_size)
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
	struct http_api *api = calloc(1, sizeof *api);
	if (api == NULL || (route_count && (api->routes = calloc(route_count, sizeof *api->routes)) == NULL)) {
		free(api);
		snprintf(err, err_size, "http: out of memory");
		return NULL;
	}
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

	errno = 0;
	/* A pool of one is the plain internal thread (MHD wants a size of 2 or more). */
	api->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, port, NULL, NULL,
				       on_request, api, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				       MHD_OPTION_NOTIFY_COMPLETED, on_completed, api, MHD_OPTION_CONNECTION_TIMEOUT,
				       (unsigned)30, MHD_OPTION_EXTERNAL_LOGGER, on_log, api,
				       MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0u, MHD_OPTION_END);
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
