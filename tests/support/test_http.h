/* A JSON HTTP client for the programs a test starts on 127.0.0.1 (libcurl). */
#ifndef TEST_HTTP_H
#define TEST_HTTP_H

#include <jansson.h>
#include <stdint.h>

/*
 * From now on: https with this CA file and this API key as the caller's
 * (test_security.h sets both); NULL, NULL: plain http without a key.
 */
void test_http_configure(const char *ca_file, const char *token);
/*
 * From now on: present this client certificate and key (PEM files) on every
 * exchange, as an agent does (mutual TLS); NULL, NULL: none (the default).
 */
void test_http_client_certificate(const char *cert_file, const char *key_file);
/* One exchange as the holder of token (NULL: no credentials at all). */
long test_http_as(const char *token, uint16_t port, const char *method, const char *path, const char *body,
		  json_t **out);

/*
 * One exchange with http(s)://127.0.0.1:port<path> (body sent as JSON when not
 * NULL, 5 s timeout). Returns the HTTP status, 0 when nothing answered; *out
 * (when out is not NULL) gets the parsed body or NULL, for the caller to decref.
 */
long test_http(uint16_t port, const char *method, const char *path, const char *body, json_t **out);
/* GET path; the body as text (malloc'd) when the status is 200, else NULL. */
char *test_http_get_text(uint16_t port, const char *path);
/* GET path; the body when the status is 200 and it parses, else NULL. */
json_t *test_http_get_json(uint16_t port, const char *path);
/* GET path; the integer at key of a 200 answer, -1 when absent or on any other status. */
long long test_http_int(uint16_t port, const char *path, const char *key);

#endif
