#include "test_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct body_buffer {
	char *data;
	size_t length;
};

static size_t collect(char *ptr, size_t size, size_t n, void *user)
{
	struct body_buffer *b = user;
	size_t add = size * n;
	char *grown = realloc(b->data, b->length + add + 1);
	if (!grown)
		return 0; /* curl reports a write error: the exchange fails rather than truncates */
	memcpy(grown + b->length, ptr, add);
	b->data = grown;
	b->length += add;
	b->data[b->length] = '\0';
	return add;
}

static char http_ca[600];
static char http_token[128];
static char http_cert[600], http_key[600];

void test_http_client_certificate(const char *cert_file, const char *key_file)
{
	snprintf(http_cert, sizeof(http_cert), "%s", cert_file ? cert_file : "");
	snprintf(http_key, sizeof(http_key), "%s", key_file ? key_file : "");
}

void test_http_configure(const char *ca_file, const char *token)
{
	snprintf(http_ca, sizeof(http_ca), "%s", ca_file ? ca_file : "");
	snprintf(http_token, sizeof(http_token), "%s", token ? token : "");
}

/*
 * One exchange as the holder of token (NULL: none); *text (when text is not
 * NULL) gets the body as received, for the caller to free.
 */
static long exchange(const char *token, uint16_t port, const char *method, const char *path, const char *body,
		     char **text)
{
	if (text)
		*text = NULL;
	CURL *curl = curl_easy_init();
	if (!curl)
		return 0;
	char url[512];
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u%s", http_ca[0] ? "https" : "http", port, path);
	struct body_buffer b = {NULL, 0};
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	if (token) {
		char auth[200];
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, auth);
	}
	if (http_ca[0])
		curl_easy_setopt(curl, CURLOPT_CAINFO, http_ca);
	if (http_cert[0]) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, http_cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, http_key);
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
	/* No SIGALRM for timeouts: tests run threads (webhook listeners) beside the client. */
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	long status = 0;
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (text)
		*text = b.data;
	else
		free(b.data);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return status;
}

static const char *default_token(void)
{
	return http_token[0] ? http_token : NULL;
}

long test_http(uint16_t port, const char *method, const char *path, const char *body, json_t **out)
{
	return test_http_as(default_token(), port, method, path, body, out);
}

long test_http_as(const char *token, uint16_t port, const char *method, const char *path, const char *body,
		  json_t **out)
{
	if (out)
		*out = NULL;
	char *text = NULL;
	long status = exchange(token, port, method, path, body, out ? &text : NULL);
	if (out && text)
		*out = json_loads(text, 0, NULL);
	free(text);
	return status;
}

char *test_http_get_text(uint16_t port, const char *path)
{
	char *text = NULL;
	if (exchange(default_token(), port, "GET", path, NULL, &text) != 200) {
		free(text);
		return NULL;
	}
	return text;
}

json_t *test_http_get_json(uint16_t port, const char *path)
{
	json_t *body = NULL;
	if (test_http(port, "GET", path, NULL, &body) != 200) {
		json_decref(body);
		return NULL;
	}
	return body;
}

long long test_http_int(uint16_t port, const char *path, const char *key)
{
	json_t *body = test_http_get_json(port, path);
	json_t *v = json_object_get(body, key);
	long long value = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
	json_decref(body);
	return value;
}
