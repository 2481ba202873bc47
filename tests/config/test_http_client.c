/*
 * The agents' HTTP client (http/http_client.c) against a real TLS listener
 * (http_api with a throwaway CA from scripts/http-certs.sh, via
 * test_security): calls to the other agents from one thread reuse their
 * connection and its TLS session (one handshake, not one per call), another
 * thread opens its own, and a webhook never shares an agent's connection.
 * Ports 13240-13249.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "http_api.h"
#include "http_client.h"
#include "test_ports.h"
#include "test_security.h"
#include "test_temp_dir.h"

static char dir[256];
static struct http_api *api;
static int port;
static char url[128];

static struct http_response ok(const struct http_request *r)
{
	(void)r;
	return http_json(200, json_pack("{s:b}", "ok", 1));
}

static void start(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof dir, "http-client"));
	char config[320], cert[400], key[400];
	snprintf(config, sizeof config, "%s/ecosystem.yaml", dir);
	FILE *f = fopen(config, "w");
	cr_assert_not_null(f);
	fputs("banks:\n  - name: big_bank\n", f);
	fclose(f);
	cr_assert(test_security_append(config, NULL), "no certificates");
	snprintf(cert, sizeof cert, "%s/secrets/http_cert.pem", dir);
	snprintf(key, sizeof key, "%s/secrets/http_key.pem", dir);
	port = test_ports_claim(13240, 10, 1, 30);
	cr_assert_gt(port, 0);
	static const struct http_route routes[] = {{"POST", "/call", ok, NULL, HTTP_PUBLIC}};
	struct http_api_security sec = {.agent = "big_bank", .tls_cert_file = cert, .tls_key_file = key};
	char err[256];
	api = http_api_start_secure("127.0.0.1", (uint16_t)port, routes, 1, 2, &sec, err, sizeof err);
	cr_assert_not_null(api, "%s", err);
	http_client_global_init();
	http_client_configure(test_security_ca(), NULL);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/call", port);
}

static void stop(void)
{
	http_api_stop(api);
	test_ports_release(port);
	test_temp_dir_remove(dir);
}

TestSuite(http_client, .init = start, .fini = stop);

static long call(void)
{
	struct http_post_result r;
	http_post_text(url, "{}", 2, 5000, &r);
	cr_assert_eq(r.outcome, HTTP_POST_ANSWERED, "%s", r.error);
	cr_assert_eq(r.status, 200);
	json_decref(r.reply);
	return r.new_connections;
}

static void *call_from_another_thread(void *opened)
{
	*(long *)opened = call();
	return NULL;
}

Test(http_client, calls_from_one_thread_share_one_tls_connection)
{
	cr_assert_eq(call(), 1, "the first call opens the connection");
	for (int i = 0; i < 5; i++)
		cr_assert_eq(call(), 0, "call %d opened a new connection (a TLS handshake per call)", i + 2);
	long opened = -1;
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, call_from_another_thread, &opened), 0);
	pthread_join(t, NULL);
	cr_assert_eq(opened, 1, "another thread has its own handle and connection");
	cr_assert_eq(call(), 0, "this thread's connection is still there");
}

Test(http_client, a_webhook_never_rides_an_agents_connection)
{
	cr_assert_eq(call(), 1);
	/* A policy that lets a loopback URL through (a lab's exemption): the webhook still connects anew. */
	struct webhook_policy lab = {0};
	snprintf(lab.allow[0], sizeof lab.allow[0], "127.0.0.1");
	lab.allow_count = 1;
	struct http_post_result r;
	http_post_webhook(url, "{}", 2, 5000, &lab, &r);
	json_decref(r.reply);
	/* On the agent's verified connection it would have been answered; a fresh one checks the
	 * certificate against the system's CAs only, which do not know the run's throwaway CA. */
	cr_assert_eq(r.outcome, HTTP_POST_FAILED, "a webhook rode the agent's connection");
	cr_assert(strstr(r.error, "certificate") || strstr(r.error, "SSL"), "%s", r.error);
	cr_assert_eq(call(), 0, "the agent's connection is untouched");
}
