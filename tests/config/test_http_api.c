/* The HTTP control-plane server, driven by libcurl on loopback. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "http_api.h"

/* Ports of this engineer's test range (15000-15099). */
#define PORT 15020
#define BASE_URL "http://127.0.0.1:15020"

static int echo_context = 42;

/* Echoes what the server handed over, so that the test sees the request as the handler did. */
static struct http_response echo(const struct http_request *r)
{
	json_t *out = json_object();
	json_object_set_new(out, "method", json_string(r->method));
	json_object_set_new(out, "path", json_string(r->path));
	json_object_set_new(out, "rest", json_string(r->path_rest));
	const char *q = r->query(r, "q");
	json_object_set_new(out, "q", q ? json_string(q) : json_null());
	json_object_set_new(out, "body", r->body ? json_incref(r->body) : json_null());
	json_object_set_new(out, "context", json_integer(r->context ? *(int *)r->context : -1));
	return http_json(201, out);
}

static struct http_response refuse(const struct http_request *r)
{
	return http_error(409, "cannot %s %s", r->method, r->path_rest);
}

static const struct http_route routes[] = {
	{"GET", "/echo", echo, &echo_context, 0},
	{"POST", "/echo", echo, &echo_context, 0},
	{"GET", "/get-balance/uuid/*", echo, NULL, 0},
	{"DELETE", "/things/*", refuse, NULL, 0},
};

static struct http_api *api;

static void start(void)
{
	char err[256];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	api = http_api_start("127.0.0.1", PORT, routes, sizeof routes / sizeof routes[0], err, sizeof err);
	cr_assert_not_null(api, "%s", err);
}

static void stop(void)
{
	http_api_stop(api);
	curl_global_cleanup();
}

struct reply {
	long status;
	char *body;
	size_t length;
	char content_type[64];
	char allow[64];
	json_t *json;
};

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
	struct reply *r = user;
	r->body = realloc(r->body, r->length + size * n + 1);
	memcpy(r->body + r->length, data, size * n);
	r->length += size * n;
	r->body[r->length] = '\0';
	return size * n;
}

static void header_value(const char *line, size_t len, const char *name, char *out, size_t out_size)
{
	size_t name_len = strlen(name);
	if (len <= name_len || strncasecmp(line, name, name_len) != 0)
		return;
	line += name_len;
	len -= name_len;
	while (len && *line == ' ')
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	if (len >= out_size)
		len = out_size - 1;
	memcpy(out, line, len);
	out[len] = '\0';
}

static size_t on_header(char *line, size_t size, size_t n, void *user)
{
	struct reply *r = user;
	header_value(line, size * n, "Content-Type:", r->content_type, sizeof r->content_type);
	header_value(line, size * n, "Allow:", r->allow, sizeof r->allow);
	return size * n;
}

/* One request; the body (if any) is sent as is, `chunked` without a Content-Length. */
static struct reply request(const char *method, const char *path, const char *body, size_t body_len, bool chunked)
{
	struct reply r = {0};
	CURL *curl = curl_easy_init();
	char url[512];
	snprintf(url, sizeof url, "%s%s", BASE_URL, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	struct curl_slist *headers = NULL;
	if (body) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		headers = curl_slist_append(headers, "Content-Type: application/json");
		if (chunked)
			headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	}
	CURLcode rc = curl_easy_perform(curl);
	cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	if (r.body)
		r.json = json_loads(r.body, 0, NULL);
	return r;
}

static void reply_free(struct reply *r)
{
	free(r->body);
	json_decref(r->json);
}

static const char *json_text(const json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

TestSuite(http_api, .init = start, .fini = stop);

Test(http_api, get_answers_the_handlers_json)
{
	struct reply r = request("GET", "/echo?q=hello%20world", NULL, 0, false);
	cr_assert_eq(r.status, 201);
	cr_assert_str_eq(r.content_type, "application/json");
	cr_assert_not_null(r.json, "not JSON: %s", r.body);
	cr_assert_str_eq(json_text(r.json, "method"), "GET");
	cr_assert_str_eq(json_text(r.json, "path"), "/echo");
	cr_assert_str_eq(json_text(r.json, "q"), "hello world");
	cr_assert(json_is_null(json_object_get(r.json, "body")));
	cr_assert_eq(json_integer_value(json_object_get(r.json, "context")), 42);
	cr_assert(strstr(r.body, "\", ") == NULL && strstr(r.body, "\": ") == NULL, "compact JSON expected: %s", r.body);
	reply_free(&r);
}

Test(http_api, post_body_reaches_the_handler_parsed)
{
	const char *body = "{\"name\": \"Ada\", \"balance\": 100}";
	struct reply r = request("POST", "/echo", body, strlen(body), false);
	cr_assert_eq(r.status, 201);
	json_t *seen = json_object_get(r.json, "body");
	cr_assert_str_eq(json_text(seen, "name"), "Ada");
	cr_assert_eq(json_integer_value(json_object_get(seen, "balance")), 100);
	reply_free(&r);
}

Test(http_api, invalid_json_is_400_with_position)
{
	const char *body = "{\"name\": \n  \"Ada\",, }";
	struct reply r = request("POST", "/echo", body, strlen(body), false);
	cr_assert_eq(r.status, 400);
	cr_assert_str_eq(r.content_type, "application/json");
	const char *e = json_text(r.json, "error");
	cr_assert_not_null(e, "%s", r.body);
	cr_assert_eq(strncmp(e, "invalid JSON at line 2 column ", 30), 0, "%s", e);
	reply_free(&r);
	r = request("POST", "/echo", "{\"a\":1,\"a\":2}", 13, false);
	cr_assert_eq(r.status, 400, "duplicate keys are refused");
	reply_free(&r);
}

Test(http_api, unknown_path_is_404)
{
	struct reply r = request("GET", "/nothing-here", NULL, 0, false);
	cr_assert_eq(r.status, 404);
	cr_assert_not_null(json_text(r.json, "error"), "%s", r.body);
	reply_free(&r);
	r = request("GET", "/echo/more", NULL, 0, false);
	cr_assert_eq(r.status, 404, "an exact route is not a prefix");
	reply_free(&r);
}

Test(http_api, other_method_is_405_with_allow)
{
	struct reply r = request("DELETE", "/echo", NULL, 0, false);
	cr_assert_eq(r.status, 405);
	cr_assert_str_eq(r.allow, "GET, POST");
	cr_assert_not_null(json_text(r.json, "error"), "%s", r.body);
	reply_free(&r);
	r = request("PUT", "/get-balance/uuid/abc", NULL, 0, false);
	cr_assert_eq(r.status, 405);
	cr_assert_str_eq(r.allow, "GET");
	reply_free(&r);
}

Test(http_api, prefix_route_hands_over_the_rest)
{
	struct reply r = request("GET", "/get-balance/uuid/3f2a-77", NULL, 0, false);
	cr_assert_eq(r.status, 201);
	cr_assert_str_eq(json_text(r.json, "rest"), "3f2a-77");
	cr_assert_eq(json_integer_value(json_object_get(r.json, "context")), -1);
	reply_free(&r);
	r = request("GET", "/get-balance/uuid/", NULL, 0, false);
	cr_assert_eq(r.status, 404, "an empty rest does not match");
	reply_free(&r);
	r = request("DELETE", "/things/x1", NULL, 0, false);
	cr_assert_eq(r.status, 409);
	cr_assert_str_eq(r.body, "{\"error\":\"cannot DELETE x1\"}");
	reply_free(&r);
}

/* A JSON array of exactly `size` bytes: ["aaa...a"]. */
static char *json_of_size(size_t size)
{
	char *body = malloc(size + 1);
	memset(body, 'a', size);
	memcpy(body, "[\"", 2);
	memcpy(body + size - 2, "\"]", 2);
	body[size] = '\0';
	return body;
}

Test(http_api, body_cap_is_413, .timeout = 60)
{
	char *body = json_of_size(HTTP_API_MAX_BODY);
	struct reply r = request("POST", "/echo", body, HTTP_API_MAX_BODY, false);
	cr_assert_eq(r.status, 201, "a body of exactly the cap is accepted");
	reply_free(&r);
	free(body);

	body = json_of_size(HTTP_API_MAX_BODY + 1);
	r = request("POST", "/echo", body, HTTP_API_MAX_BODY + 1, false);
	cr_assert_eq(r.status, 413);
	cr_assert_not_null(json_text(r.json, "error"), "%s", r.body);
	reply_free(&r);
	/* Without a Content-Length the server only learns the size as it reads. */
	r = request("POST", "/echo", body, HTTP_API_MAX_BODY + 1, true);
	cr_assert_eq(r.status, 413);
	reply_free(&r);
	free(body);
}

Test(http_api, second_server_on_the_same_port_fails_cleanly)
{
	char err[256] = "";
	struct http_api *other = http_api_start("127.0.0.1", PORT, routes, 1, err, sizeof err);
	cr_assert_null(other);
	cr_assert_not_null(strstr(err, "15020"), "%s", err);
	cr_assert_null(http_api_start("localhost", PORT + 1, routes, 1, err, sizeof err));
	cr_assert_not_null(strstr(err, "IPv4"), "%s", err);
}

Test(http_api, a_public_address_needs_tls_and_keys)
{
	char err[256] = "";
	cr_assert_null(http_api_start("0.0.0.0", PORT + 2, routes, 1, err, sizeof err));
	cr_assert_not_null(strstr(err, "refusing to serve on 0.0.0.0"), "%s", err);
	const struct http_api_security tls_only = {.tls_cert_file = "c.pem", .tls_key_file = "k.pem"};
	cr_assert_null(http_api_start_secure("192.0.2.1", PORT + 2, routes, 1, 1, &tls_only, err, sizeof err));
	cr_assert_not_null(strstr(err, "without TLS and API keys"), "%s", err);
}

Test(http_api, http_error_formats_a_json_error)
{
	struct http_response r = http_error(418, "teapot %d", 7);
	cr_assert_eq(r.status, 418);
	cr_assert_str_eq(json_string_value(json_object_get(r.body, "error")), "teapot 7");
	json_decref(r.body);
}

/* ---- a pool of server threads ---- */

#define POOL_PORT 15021
static pthread_mutex_t slow_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slow_cond = PTHREAD_COND_INITIALIZER;
static bool slow_entered, slow_released, slow_done;

/* Holds its thread until the test releases it (10 s at most, so a failing test cannot hang). */
static struct http_response slow(const struct http_request *r)
{
	(void)r;
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&slow_lock);
	slow_entered = true;
	pthread_cond_broadcast(&slow_cond);
	while (!slow_released && pthread_cond_timedwait(&slow_cond, &slow_lock, &deadline) == 0)
		;
	slow_done = true;
	pthread_mutex_unlock(&slow_lock);
	return http_json(200, json_pack("{s:b}", "released", 1));
}

static void *get_slow(void *arg)
{
	long *status = arg;
	CURL *curl = curl_easy_init();
	curl_easy_setopt(curl, CURLOPT_URL, "http://127.0.0.1:15021/slow");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	struct reply r = {0};
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(curl);
	free(r.body);
	return NULL;
}

/* With two server threads, a request held up in its handler does not hold up the next one. */
Test(http_api_pool, a_slow_handler_does_not_block_other_requests, .timeout = 30)
{
	static const struct http_route pool_routes[] = {
		{"GET", "/slow", slow, NULL, 0},
		{"GET", "/echo", echo, &echo_context, 0},
	};
	char err[256];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct http_api *pool = http_api_start_pool("127.0.0.1", POOL_PORT, pool_routes, 2, 2, err, sizeof err);
	cr_assert_not_null(pool, "%s", err);

	long slow_status = 0;
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, get_slow, &slow_status), 0);
	pthread_mutex_lock(&slow_lock);
	while (!slow_entered)
		pthread_cond_wait(&slow_cond, &slow_lock);
	pthread_mutex_unlock(&slow_lock);

	CURL *curl = curl_easy_init();
	struct reply r = {0};
	curl_easy_setopt(curl, CURLOPT_URL, "http://127.0.0.1:15021/echo");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 20L);
	cr_assert_eq(curl_easy_perform(curl), CURLE_OK);
	long echo_status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &echo_status);
	curl_easy_cleanup(curl);
	free(r.body);
	pthread_mutex_lock(&slow_lock);
	bool done_before_echo = slow_done;
	slow_released = true;
	pthread_cond_broadcast(&slow_cond);
	pthread_mutex_unlock(&slow_lock);

	cr_expect_eq(echo_status, 201);
	cr_expect_not(done_before_echo, "the echo waited for the slow request to finish");
	pthread_join(t, NULL);
	cr_expect_eq(slow_status, 200);
	http_api_stop(pool);
	curl_global_cleanup();

	cr_assert_null(http_api_start_pool("127.0.0.1", POOL_PORT, pool_routes, 2, 0, err, sizeof err));
	cr_assert(strstr(err, "server threads"), "%s", err);
}
