/*
 * The network's lifecycle endpoints, served on the switch's HTTP port:
 *
 *   POST /create-customer-account  (also /create-card-contract)
 *        {"customer", "bank", "name"?, "webhook"?}  customer account and card contract
 *   POST /create-card  {"customer", "bank", "order_id"?}  assigns a PAN, starts production
 *   GET  /card/pan/{pan}              the network's view of a card
 *   GET  /notifications?customer=ID   and GET /notifications/{ID}: what the customer was told
 *   GET  /lifecycle/stats             counters
 *
 * Every body is validated; errors are {"error": ...} with 400, 404, 409, 422, 500 or 507.
 */
#ifndef LIFECYCLE_HTTP_H
#define LIFECYCLE_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "http_api.h"
#include "lifecycle_context.h"

struct http_response lifecycle_create_customer(const struct http_request *r);
struct http_response lifecycle_create_card(const struct http_request *r);
struct http_response lifecycle_get_card(const struct http_request *r);
struct http_response lifecycle_notifications(const struct http_request *r);
struct http_response lifecycle_stats(const struct http_request *r);

/* The PAN for index i under a BIN (low of a range): BIN, i zero-padded to 15 digits, Luhn digit.
 * False when i does not fit. */
bool lifecycle_make_pan(const char *bin, uint64_t index, char pan[NET_PAN_MAX]);
/* Expiry YYMM years after the month of unix_seconds (UTC). */
void lifecycle_expiry(int64_t unix_seconds, int years, char out[5]);

#endif
