/* Network-side pieces of the card lifecycle without processes: PANs, expiry, the store's queues, backoff. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle_http.h"
#include "luhn.h"
#include "network_cards_store.h"
#include "notification_outbox.h"
#include "test_pan_keys.h"

Test(lifecycle_units, pan_has_bin_index_and_luhn)
{
	char pan[NET_PAN_MAX];
	cr_assert(lifecycle_make_pan("51999100", 1000, pan));
	cr_assert_eq(strlen(pan), 16);
	cr_assert_eq(strncmp(pan, "519991000001000", 15), 0, "%s", pan);
	cr_assert(luhn_valid(pan, 16));
	/* Every index gives a valid, distinct number. */
	char prev[NET_PAN_MAX] = "";
	for (uint64_t i = 0; i < 50; i++) {
		cr_assert(lifecycle_make_pan("51051000", i, pan));
		cr_assert(luhn_valid(pan, 16), "%s", pan);
		cr_assert_str_neq(pan, prev);
		memcpy(prev, pan, sizeof(prev));
	}
	/* 8-digit BIN: 7 index digits, so 10^7 does not fit. */
	cr_assert(lifecycle_make_pan("51051000", 9999999, pan));
	cr_assert_not(lifecycle_make_pan("51051000", 10000000, pan));
	cr_assert_not(lifecycle_make_pan("519991001234567", 0, pan));
}

Test(lifecycle_units, expiry_is_years_ahead_in_utc)
{
	char e[5];
	lifecycle_expiry(1795600000, 4, e); /* 2026-11-25 UTC */
	cr_assert_str_eq(e, "3011");
	lifecycle_expiry(1767225599, 4, e); /* 2025-12-31 23:59:59 UTC */
	cr_assert_str_eq(e, "2912");
}

Test(lifecycle_units, backoff_doubles_up_to_its_cap)
{
	struct network_lifecycle lc;
	memset(&lc, 0, sizeof(lc));
	lc.backoff_first_ms = 200;
	lc.backoff_max_ms = 1000;
	cr_assert_eq(notification_backoff_ms(&lc, 1), 200);
	cr_assert_eq(notification_backoff_ms(&lc, 2), 400);
	cr_assert_eq(notification_backoff_ms(&lc, 3), 800);
	cr_assert_eq(notification_backoff_ms(&lc, 4), 1000);
	cr_assert_eq(notification_backoff_ms(&lc, 40), 1000);
}

static struct network_store store;
static char dir[64];

static void open_store(void)
{
	snprintf(dir, sizeof(dir), "/tmp/iso-netstore-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	char err[256];
	cr_assert_eq(network_store_open(&store, dir, 16 << 20, test_shared_vault(), err, sizeof(err)), 0, "%s", err);
}

static void close_store(void)
{
	network_store_close(&store);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_expect_eq(system(cmd), 0);
}

static struct store_txn *begin(void)
{
	struct store_txn *t;
	cr_assert_eq(network_store_write_begin(&store, &t), 0);
	return t;
}

Test(lifecycle_units, production_queue_is_in_due_order, .init = open_store, .fini = close_store)
{
	struct store_txn *t = begin();
	/* The queue names cards by their lookup hash: the PAN comes back from the card's seal. */
	struct net_card card = {.state = NET_CARD_IN_PRODUCTION};
	cr_assert_eq(net_card_put(t, &store, "5105100000000001", &card, STORE_CREATE), 0);
	cr_assert_eq(net_card_put(t, &store, "5105100000000002", &card, STORE_CREATE), 0);
	cr_assert_eq(net_card_put(t, &store, "5105100000000003", &card, STORE_CREATE), 0);
	cr_assert_eq(net_production_add(t, &store, 3000, "5105100000000001"), 0);
	cr_assert_eq(net_production_add(t, &store, 1000, "5105100000000002"), 0);
	cr_assert_eq(net_production_add(t, &store, 70000000000, "5105100000000003"), 0);
	cr_assert_eq(store_commit(t), 0);
	int64_t due;
	char pan[NET_PAN_MAX];
	t = begin();
	cr_assert_eq(net_production_first(t, &store, &due, pan), 0);
	cr_assert_eq(due, 1000);
	cr_assert_str_eq(pan, "5105100000000002");
	cr_assert_eq(net_production_del(t, &store, due, pan), 0);
	cr_assert_eq(net_production_first(t, &store, &due, pan), 0);
	cr_assert_eq(due, 3000);
	cr_assert_eq(net_production_del(t, &store, due, pan), 0);
	cr_assert_eq(net_production_first(t, &store, &due, pan), 0);
	cr_assert_eq(due, 70000000000);
	cr_assert_eq(net_production_del(t, &store, due, pan), 0);
	cr_assert_eq(net_production_first(t, &store, &due, pan), STORE_NOT_FOUND);
	store_abort(t);
}

Test(lifecycle_units, outbox_skips_parked_and_picks_earliest, .init = open_store, .fini = close_store)
{
	struct store_txn *t = begin();
	struct outbox_header h;
	memset(&h, 0, sizeof(h));
	h.state = OUTBOX_PARKED;
	h.next_attempt_ms = 10;
	cr_assert_eq(net_outbox_put(t, &store, 1, &h, "{}", 2), 0);
	h.state = OUTBOX_PENDING;
	h.next_attempt_ms = 500;
	cr_assert_eq(net_outbox_put(t, &store, 2, &h, "{\"a\":1}", 7), 0);
	h.next_attempt_ms = 300;
	cr_assert_eq(net_outbox_put(t, &store, 3, &h, "{\"b\":2}", 7), 0);
	uint64_t seq;
	int64_t due;
	cr_assert_eq(net_outbox_next_due(t, &store, &seq, &due), 0);
	cr_assert_eq(seq, 3);
	cr_assert_eq(due, 300);
	char *body;
	size_t len;
	cr_assert_eq(net_outbox_get(t, &store, 3, &h, &body, &len), 0);
	cr_assert_eq(len, 7);
	cr_assert_eq(memcmp(body, "{\"b\":2}", 7), 0);
	free(body);
	cr_assert_eq(net_outbox_del(t, &store, 3), 0);
	cr_assert_eq(net_outbox_del(t, &store, 2), 0);
	cr_assert_eq(net_outbox_next_due(t, &store, &seq, &due), STORE_NOT_FOUND);
	store_abort(t);
}

static void collect(const char *text, size_t len, void *ctx)
{
	char *out = ctx;
	strncat(out, text, len);
	strcat(out, "|");
}

Test(lifecycle_units, notifications_are_per_customer_in_order, .init = open_store, .fini = close_store)
{
	struct store_txn *t = begin();
	cr_assert_eq(net_notification_put(t, &store, "alice", 2, "a2"), 0);
	cr_assert_eq(net_notification_put(t, &store, "alice", 17, "a17"), 0);
	cr_assert_eq(net_notification_put(t, &store, "alicex", 1, "x1"), 0);
	cr_assert_eq(net_notification_put(t, &store, "bob", 1, "b1"), 0);
	char out[128] = "";
	cr_assert_eq(net_notification_list(t, &store, "alice", collect, out), 0);
	cr_assert_str_eq(out, "a2|a17|");
	out[0] = '\0';
	cr_assert_eq(net_notification_list(t, &store, "carol", collect, out), 0);
	cr_assert_str_eq(out, "");
	uint64_t v;
	cr_assert_eq(net_counter_next(t, &store, "c", 10, &v), 0);
	cr_assert_eq(v, 10);
	cr_assert_eq(net_counter_next(t, &store, "c", 10, &v), 0);
	cr_assert_eq(v, 11);
	store_abort(t);
}

Test(lifecycle_units, customer_webhooks_park_and_bank_notices_persist)
{
	struct network_lifecycle lc;
	memset(&lc, 0, sizeof(lc));
	lc.max_attempts = 3;
	cr_assert_eq(notification_next_step(&lc, OUTBOX_TO_CUSTOMER, true, 204, 0), DELIVERY_DONE);
	cr_assert_eq(notification_next_step(&lc, OUTBOX_TO_CUSTOMER, true, 503, 1), DELIVERY_RETRY);
	cr_assert_eq(notification_next_step(&lc, OUTBOX_TO_CUSTOMER, false, 0, 2), DELIVERY_RETRY);
	cr_assert_eq(notification_next_step(&lc, OUTBOX_TO_CUSTOMER, true, 404, 3), DELIVERY_PARK);
	cr_assert_eq(notification_next_step(&lc, OUTBOX_TO_CUSTOMER, false, 0, 3), DELIVERY_PARK);
	/* The bank: down or failing is retried for ever, a refusal parks at once. */
	cr_assert_eq(notification_next_step(&lc, OUTBOX_TO_BANK, true, 200, 0), DELIVERY_DONE);
	cr_assert_eq(notification_next_step(&lc, OUTBOX_TO_BANK, false, 0, 1000), DELIVERY_RETRY);
	cr_assert_eq(notification_next_step(&lc, OUTBOX_TO_BANK, true, 503, 1000), DELIVERY_RETRY);
	cr_assert_eq(notification_next_step(&lc, OUTBOX_TO_BANK, true, 429, 5), DELIVERY_RETRY);
	cr_assert_eq(notification_next_step(&lc, OUTBOX_TO_BANK, true, 404, 1), DELIVERY_PARK);
}
