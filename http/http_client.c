#include "http_client.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLY_MAX (64u * 1024u) /* answers are small JSON objects; more is not ours */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_client_global_init(void)
{
	pthread_once(&curl_once, curl_init_once);
}

static char client_ca[512];
static char client_auth[160]; /* "Authorization: Bearer <token>", or "" */
static char client_cert[512], client_key[512]; /* the agent's client certificate and key, or "" */

void http_client_configure(const char *ca_file, const char *token)
{
	snprintf(client_ca, sizeof(client_ca), "%s", ca_file ? ca_file : "");
	if (token && token[0])
		snprintf(client_auth, sizeof(client_auth), "Authorization: Bearer %s", token);
	else
		client_auth[0] = '\0';
}

void http_client_configure_certificate(const char *cert_file, const char *key_file)
{
	bool both = cert_file && cert_file[0] && key_file && key_file[0];
	snprintf(client_cert, sizeof(client_cert), "%s", both ? cert_file : "");
	snprintf(client_key, sizeof(client_key), "%s", both ? key_file : "");
}

/*
 * Calls to the other agents reuse one libcurl handle per thread: its live
 * connections and TLS sessions stay, so a lifecycle call costs a request on
 * a kept-alive connection instead of a TCP and TLS handshake each time. The
 * handle goes when its thread ends. Webhooks (customers' URLs) get a fresh
 * handle each: nothing of one customer's connection serves another's.
 */
static pthread_key_t agent_handle_key;
static pthread_once_t agent_handle_once = PTHREAD_ONCE_INIT;

static void agent_handle_free(void *handle)
{
	curl_easy_cleanup(handle);
}

static void agent_handle_key_make(void)
{
	pthread_key_create(&agent_handle_key, agent_handle_free);
}

static CURL *agent_handle(void)
{
	pthread_once(&agent_handle_once, agent_handle_key_make);
	CURL *curl = pthread_getspecific(agent_handle_key);
	if (curl) {
		curl_easy_reset(curl); /* options back to defaults; connections and sessions kept */
		return curl;
	}
	curl = curl_easy_init();
	if (curl && pthread_setspecific(agent_handle_key, curl) != 0) {
		curl_easy_cleanup(curl);
		return NULL;
	}
	return curl;
}

static void handle_done(CURL *curl, bool webhook)
{
	if (curl && webhook)
		curl_easy_cleanup(curl);
}

struct webhook_check {
	const struct webhook_policy *policy;
	const char *host;
	char why[160];
	bool refused;
};

/* libcurl asks for each socket it opens: the address it resolved is checked here, not earlier. */
static curl_socket_t open_checked(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct webhook_check *c = ctx;
	(void)purpose;
	if (!webhook_address_allowed(c->policy, c->host, &a->addr, c->why, sizeof(c->why))) {
		c->refused = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

struct reply_buffer {
	char *data;
	size_t length;
	bool too_large;
};

static size_t collect(char *ptr, size_t size, size_t n, void *userdata)
{
	struct reply_buffer *b = userdata;
	size_t add = size * n;
	if (b->length + add > REPLY_MAX) {
		b->too_large = true;
		return add; /* keep reading, keep nothing more: the status still counts */
	}
	char *grown = realloc(b->data, b->length + add + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->length, ptr, add);
	b->length += add;
	grown[b->length] = '\0';
	b->data = grown;
	return add;
}

static void post(const char *url, const char *body, size_t length, long timeout_ms,
		 const struct webhook_policy *policy, struct http_post_result *out)
{
	memset(out, 0, sizeof(*out));
	http_client_global_init();
	struct webhook_check check = {.policy = policy};
	CURLU *parsed = NULL;
	char *host = NULL;
	if (policy) {
		if (!webhook_url_allowed(policy, url, out->error, sizeof(out->error))) {
			out->outcome = HTTP_POST_FAILED;
			return;
		}
		parsed = curl_url();
		if (parsed && curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK)
			curl_url_get(parsed, CURLUPART_HOST, &host, 0);
		check.host = host;
	}
	CURL *curl = policy ? curl_easy_init() : agent_handle();
	struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* The agent's own key goes to the agents only, never to a customer's webhook. */
	if (headers && !policy && client_auth[0]) {
		struct curl_slist *more = curl_slist_append(headers, client_auth);
		if (more)
			headers = more;
	}
	if (!curl || !headers) {
		out->outcome = HTTP_POST_FAILED;
		snprintf(out->error, sizeof(out->error), "out of memory");
		curl_slist_free_all(headers);
		handle_done(curl, policy != NULL);
		curl_free(host);
		curl_url_cleanup(parsed);
		return;
	}
	struct reply_buffer buf = {0};
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_POST, 1L);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)length);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 1000 ? timeout_ms : 1000L);
	/* Threads other than main: no SIGALRM-based DNS timeouts. */
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	/* Webhook URLs come from customers: http and https only, no redirects elsewhere. */
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	/* Certificates are always checked (the default, said again so that nobody turns it off). */
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (client_ca[0] && !policy)
		curl_easy_setopt(curl, CURLOPT_CAINFO, client_ca);
	/* Like the key: the agent's certificate proves who it is to the agents, never to a webhook. */
	if (client_cert[0] && !policy) {
		curl_easy_setopt(curl, CURLOPT_SSLCERT, client_cert);
		curl_easy_setopt(curl, CURLOPT_SSLKEY, client_key);
	}
	if (policy) {
		curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_checked);
		curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &check);
		curl_easy_setopt(curl, CURLOPT_MAXFILESIZE, (long)REPLY_MAX);
	}
	CURLcode rc = curl_easy_perform(curl);
	if (rc == CURLE_OK) {
		out->outcome = HTTP_POST_ANSWERED;
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
		curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &out->new_connections);
		if (buf.data && !buf.too_large)
			out->reply = json_loadb(buf.data, buf.length, 0, NULL);
	} else {
		switch (rc) {
		case CURLE_OPERATION_TIMEDOUT:
			out->outcome = HTTP_POST_TIMEOUT;
			break;
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
			out->outcome = HTTP_POST_UNREACHABLE;
			break;
		default:
			out->outcome = HTTP_POST_FAILED;
			break;
		}
		if (check.refused) {
			out->outcome = HTTP_POST_FAILED;
			snprintf(out->error, sizeof(out->error), "%s", check.why);
		} else {
			snprintf(out->error, sizeof(out->error), "%s", curl_easy_strerror(rc));
		}
	}
	free(buf.data);
	curl_slist_free_all(headers);
	handle_done(curl, policy != NULL);
	curl_free(host);
	curl_url_cleanup(parsed);
}

void http_post_text(const char *url, const char *body, size_t length, long timeout_ms,
		    struct http_post_result *out)
{
	post(url, body, length, timeout_ms, NULL, out);
}

void http_post_webhook(const char *url, const char *body, size_t length, long timeout_ms,
		       const struct webhook_policy *policy, struct http_post_result *out)
{
	static const struct webhook_policy strict; /* no exemptions */
	post(url, body, length, timeout_ms, policy ? policy : &strict, out);
}

void http_post_json(const char *url, const json_t *body, long timeout_ms, struct http_post_result *out)
{
	char *text = json_dumps(body, JSON_COMPACT);
	if (!text) {
		memset(out, 0, sizeof(*out));
		out->outcome = HTTP_POST_FAILED;
		snprintf(out->error, sizeof(out->error), "cannot serialize the request");
		return;
	}
	http_post_text(url, text, strlen(text), timeout_ms, out);
	free(text);
}

const char *http_reply_error(const struct http_post_result *r)
{
	const char *e = json_string_value(json_object_get(r->reply, "error"));
	return e ? e : "";
}
