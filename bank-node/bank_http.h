/*
 * The bank's HTTP control plane (off the fast path): customers and balances,
 * card blocking, counters and the ledger totals an ecosystem run checks.
 * Its writes are their own short LMDB write transactions: LMDB serializes
 * them with the group-commit writer's.
 */
#ifndef BANK_HTTP_H
#define BANK_HTTP_H

#include <stddef.h>

#include "bank_mac.h"
#include "bank_stats.h"
#include "card_orders.h"
#include "ecosystem_config.h"
#include "group_commit.h"
#include "http_api.h"
#include "store.h"

/* Largest opening balance (15 digits, as loadgen.initial_balance): totals stay far from int64 limits. */
#define BANK_MAX_BALANCE 999999999999999ll

struct bank_http {
	struct store *store;
	struct bank_stats *stats;
	struct group_commit *writer; /* for its batch counters */
	char currency[4];	     /* of new accounts */
	const struct ecosystem_config *config; /* networks to order cards at */
	const struct cfg_bank *bank;           /* this bank: name and memberships */
	struct card_order_stats orders;
	long network_timeout_ms;               /* per network call of an order */
	struct bank_mac *mac;                  /* per link MAC counters for /stats; NULL: none */
};

/* The route table, every route with ctx as its context. */
size_t bank_http_routes(struct bank_http *ctx, struct http_route *routes, size_t capacity);

/* Handlers, exposed for unit tests. */
struct http_response bank_http_create_account(const struct http_request *r);
struct http_response bank_http_metrics(const struct http_request *r);
struct http_response bank_http_get_balance(const struct http_request *r);
struct http_response bank_http_get_card(const struct http_request *r);
struct http_response bank_http_block_card(const struct http_request *r);
struct http_response bank_http_stats(const struct http_request *r);
struct http_response bank_http_ledger(const struct http_request *r);

/* True for the canonical 8-4-4-4-12 hexadecimal UUID form. */
bool bank_uuid_valid(const char *s);
/* Lower-cases a UUID-form id in place (others are left as they are). */
void bank_id_normalise(char *id);
/* A random version 4 UUID (getrandom) into out[37]. */
bool bank_uuid_generate(char out[37]);

#endif
