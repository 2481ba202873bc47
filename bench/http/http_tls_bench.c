/*
 * The cost of TLS on the HTTP control planes: the real server (http/http_api.c,
 * libmicrohttpd, API keys checked on every request) answering GET /ping, called
 * by libcurl in this process, in four ways, alternated back to back for
 * `rounds` rounds:
 *
 *   plain-keepalive   http, one connection reused      (the key check alone)
 *   tls-keepalive     https, one connection reused     (record encryption)
 *   plain-connect     http, a new connection each time
 *   tls-connect       https, a new connection and handshake each time
 *
 *   http_tls_bench [--requests N] [--rounds R] [--threads T]
 *
 * Bounded: N requests per way and round (default 2000), R rounds (default 3).
 * Prints requests/s per way and round and the median. Needs the openssl CLI
 * (scripts/http-certs.sh) and ISO_SOURCE_DIR or the source tree as cwd.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_api.h"
#include "http_keys.h"

static struct http_response ping(const struct http_request *r)
{
	(void)r;
	return http_json(200, json_pack("{s:s}", "status", "ok"));
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
	(void)p;
	(void)u;
	return s * n;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* requests/s of n GETs; reuse: one handle (keep-alive) or a fresh one per request. */
static double run(const char *url, const char *ca, const char *auth, int n, int reuse)
{
	struct curl_slist *h = curl_slist_append(NULL, auth);
	CURL *c = NULL;
	int failures = 0;
	double start = now_s();
	for (int i = 0; i < n; i++) {
		if (!c) {
			c = curl_easy_init();
			curl_easy_setopt(c, CURLOPT_URL, url);
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
			curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
			curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
			if (ca)
				curl_easy_setopt(c, CURLOPT_CAINFO, ca);
		}
		long status = 0;
		if (curl_easy_perform(c) != CURLE_OK ||
		    (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), status != 200))
			failures++;
		if (!reuse) {
			curl_easy_cleanup(c);
			c = NULL;
		}
	}
	double took = now_s() - start;
	if (c)
		curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (failures) {
		fprintf(stderr, "http_tls_bench: %d of %d requests failed on %s\n", failures, n, url);
		exit(1);
	}
	return n / took;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int requests = 2000, rounds = 3;
	unsigned threads = 1;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--requests") == 0)
			requests = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--rounds") == 0)
			rounds = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--threads") == 0)
			threads = (unsigned)atoi(argv[i + 1]);
	}
	if (requests < 1 || requests > 1000000 || rounds < 1 || rounds > 20 || threads < 1 || threads > 64) {
		fprintf(stderr, "usage: http_tls_bench [--requests 1..1000000] [--rounds 1..20] [--threads 1..64]\n");
		return 2;
	}
	char dir[] = "/tmp/http-tls-bench-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	const char *src = getenv("ISO_SOURCE_DIR");
	char command[512], secrets[128], ca[128], cert[128], key[128], err[256];
	snprintf(command, sizeof(command), "bash '%s/scripts/http-certs.sh' '%s/certs'", src ? src : ".", dir);
	if (system(command) != 0)
		return 1;
	snprintf(secrets, sizeof(secrets), "%s/keys", dir);
	snprintf(ca, sizeof(ca), "%s/certs/http_ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/certs/http_cert.pem", dir);
	snprintf(key, sizeof(key), "%s/certs/http_key.pem", dir);
	char token[HTTP_TOKEN_MAX], id[HTTP_KEY_ID_LEN + 1], auth[160];
	if (!http_keys_create(secrets, HTTP_SCOPE_OPERATOR, "bench", "*", 0, token, id, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
	struct http_keystore *keys = http_keystore_open(secrets, err, sizeof(err));
	const struct http_route routes[] = {{"GET", "/ping", ping, NULL, 0}};
	const struct http_api_security plain = {.agent = "bench", .keys = keys};
	const struct http_api_security tls = {.agent = "bench", .keys = keys, .tls_cert_file = cert, .tls_key_file = key};
	struct http_api *a = http_api_start_secure("127.0.0.1", 15097, routes, 1, threads, &plain, err, sizeof(err));
	struct http_api *b = a ? http_api_start_secure("127.0.0.1", 15098, routes, 1, threads, &tls, err, sizeof(err))
			       : NULL;
	if (!a || !b) {
		fprintf(stderr, "http_tls_bench: %s\n", err);
		return 1;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const char *names[4] = {"plain-keepalive", "tls-keepalive", "plain-connect", "tls-connect"};
	double results[4][20];
	for (int r = 0; r < rounds; r++) {
		results[0][r] = run("http://127.0.0.1:15097/ping", NULL, auth, requests, 1);
		results[1][r] = run("https://127.0.0.1:15098/ping", ca, auth, requests, 1);
		results[2][r] = run("http://127.0.0.1:15097/ping", NULL, auth, requests, 0);
		results[3][r] = run("https://127.0.0.1:15098/ping", ca, auth, requests, 0);
		printf("round %d:", r + 1);
		for (int w = 0; w < 4; w++)
			printf(" %s %.0f/s", names[w], results[w][r]);
		printf("\n");
	}
	printf("median of %d rounds of %d requests (server threads %u, API key checked on each):\n", rounds, requests,
	       threads);
	double median[4];
	for (int w = 0; w < 4; w++) {
		qsort(results[w], (size_t)rounds, sizeof(double), compare);
		median[w] = results[w][rounds / 2];
		printf("  %-16s %8.0f requests/s\n", names[w], median[w]);
	}
	printf("  tls/plain keep-alive %.2f, tls/plain new connection %.2f\n", median[1] / median[0],
	       median[3] / median[2]);
	http_api_stop(a);
	http_api_stop(b);
	http_keystore_close(keys);
	curl_global_cleanup();
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	return system(command) == 0 ? 0 : 1;
}
