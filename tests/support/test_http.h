/* A JSON HTTP client for the programs a test starts on 127.0.0.1 (libcurl). */
#ifndef TEST_HTTP_H
#define TEST_HTTP_H

#include <jansson.h>
#include <stdint.h>

/*
 * One exchange with http://127.0.0.1:port<path> (body sent as JSON when not
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
