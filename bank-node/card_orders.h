/*
 * Card orders at the bank (HTTP control plane):
 *
 *   POST /order-card     passes the order to a network the bank is a member of
 *                        (POST /create-customer-account, then POST /create-card
 *                        there) and stores the card as `ordered`;
 *   POST /card-produced  the network's notice that a card is made: `ordered`
 *                        becomes `produced`, and the first approved payment
 *                        makes it `active` (bank-node/rules).
 *
 * Idempotency: an order carries a key, "r:<request_id>" when the customer
 * gives one, else "p:<account>:<network>" (one pending order per account and
 * network). The order record is stored with its order_id before the network
 * is called; the network is idempotent on (bank, order_id), so a retry after a
 * timeout or a crash gets the same card, never a second one.
 */
#ifndef BANK_CARD_ORDERS_H
#define BANK_CARD_ORDERS_H

#include <stdatomic.h>
#include <stdint.h>

#include "http_api.h"

/* How long the bank waits for each network call of an order. */
#define BANK_NETWORK_TIMEOUT_MS 3000

struct card_order_stats {
	_Atomic uint64_t orders;            /* POST /order-card requests */
	_Atomic uint64_t cards_ordered;     /* new cards stored as ordered */
	_Atomic uint64_t duplicate_orders;  /* answered with the card of an earlier order */
	_Atomic uint64_t network_errors;    /* answered 502/504 */
	_Atomic uint64_t bad_requests;      /* answered 4xx */
	_Atomic uint64_t cards_produced;    /* POST /card-produced that moved ordered -> produced */
	_Atomic uint64_t produced_notices;  /* POST /card-produced received */
};

/* Handlers; their context is the bank's struct bank_http. */
struct http_response bank_http_order_card(const struct http_request *r);
struct http_response bank_http_card_produced(const struct http_request *r);

#endif
