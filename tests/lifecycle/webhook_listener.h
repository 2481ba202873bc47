/*
 * A tiny HTTP server for tests: it plays a customer's webhook endpoint on
 * 127.0.0.1, records every JSON body POSTed to it and answers with the status
 * the test sets (e.g. 503 to make the network retry). It also plays a
 * misbehaving network towards the bank (error answers, no answer in time).
 */
#ifndef TEST_WEBHOOK_LISTENER_H
#define TEST_WEBHOOK_LISTENER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct webhook_listener;

struct webhook_listener *webhook_listener_start(uint16_t port);
/* The same over TLS with this certificate and key (PEM): playing a network the bank calls over https. */
struct webhook_listener *webhook_listener_start_tls(uint16_t port, const char *cert_file, const char *key_file);
void webhook_listener_stop(struct webhook_listener *l);
/* The status of the next answers (200 at start). */
void webhook_listener_set_status(struct webhook_listener *l, int status);
/* The body of the next answers ("{}" at start; at most 255 bytes). */
void webhook_listener_set_reply(struct webhook_listener *l, const char *json);
/* Holds every answer back this long (to play a network that does not answer in time). */
void webhook_listener_set_delay_ms(struct webhook_listener *l, int delay_ms);
/* Requests received so far (answered with any status). */
int webhook_listener_requests(struct webhook_listener *l);
/* Bodies answered with 2xx so far. */
int webhook_listener_delivered(struct webhook_listener *l);
/* A new reference to the i-th body answered 2xx, or NULL. */
json_t *webhook_listener_body(struct webhook_listener *l, int i);
/* Polls until delivered() >= want or timeout_ms; returns delivered(). */
int webhook_listener_wait_delivered(struct webhook_listener *l, int want, int timeout_ms);
/* Polls until requests() >= want or timeout_ms; returns requests(). */
int webhook_listener_wait_requests(struct webhook_listener *l, int want, int timeout_ms);

/* Polls until `want` connections in all have been answered (a held-back answer included). */
bool webhook_listener_wait_answered(struct webhook_listener *l, int want, int timeout_ms);

#endif
