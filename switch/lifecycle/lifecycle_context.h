/*
 * What every part of the network's card lifecycle shares: the store, the
 * config, the counters, the delivery policy and the outbox's waker. The parts
 * (card production, the notification outbox, the HTTP endpoints, the registry
 * publication) include this header, never network_lifecycle.h, so that the
 * owner that starts and stops them (network_lifecycle.c) depends on them and
 * not the other way round.
 */
#ifndef LIFECYCLE_CONTEXT_H
#define LIFECYCLE_CONTEXT_H

#include <stdatomic.h>
#include <stdint.h>

#include "ecosystem_config.h"
#include "lifecycle_waker.h"
#include "network_cards_store.h"

struct switch_core;
struct card_production;
struct notification_outbox;

#define LIFECYCLE_COUNTERS(X)                                                                                 \
	X(customers_created)                                                                                  \
	X(customers_updated)                                                                                  \
	X(cards_created)                                                                                      \
	X(duplicate_orders)                                                                                   \
	X(cards_produced)                                                                                     \
	X(deliveries)                                                                                         \
	X(delivery_failures)                                                                                  \
	X(deliveries_parked)                                                                                  \
	X(bad_requests)                                                                                       \
	X(storage_errors)                                                                                     \
	X(registry_errors)

struct lifecycle_stats {
#define LIFECYCLE_FIELD(name) _Atomic uint64_t name;
	LIFECYCLE_COUNTERS(LIFECYCLE_FIELD)
#undef LIFECYCLE_FIELD
};

static inline void lifecycle_count(_Atomic uint64_t *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

struct network_lifecycle {
	struct ecosystem_config *config; /* own copy */
	const struct cfg_network *net;
	struct switch_core *core;
	struct network_store store;
	struct pan_vault *vault; /* the store's PAN lookups and seals (the network's pan_protection.key_file) */
	struct card_production *production;
	struct notification_outbox *outbox;
	/* The delivery thread sleeps on it (notification_outbox.c sets it up and tears it down);
	 * card production kicks it after writing notifications, without knowing the outbox. */
	struct lifecycle_waker outbox_waker;
	struct lifecycle_stats stats;
	/* Delivery policy (tests may shorten it before start). */
	uint32_t delivery_timeout_ms;
	uint32_t backoff_first_ms, backoff_max_ms, max_attempts;
};

#endif
