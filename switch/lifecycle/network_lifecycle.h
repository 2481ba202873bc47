/*
 * The card lifecycle at the network, wired next to the switch's fast path:
 * customer accounts and cards in the network's LMDB store
 * (network_cards_store.h), a production thread that makes ordered cards after
 * card_production_ms (card_production.h), a notification outbox delivered at
 * least once (notification_outbox.h), and the HTTP endpoints
 * (lifecycle_http.h) served on the switch's control-plane port.
 *
 * The switch's card registry learns every card: a card in production is
 * registered as not usable (the registry's blocked state, so a payment gets
 * 119 not permitted at the switch), a produced card as active.
 */
#ifndef NETWORK_LIFECYCLE_H
#define NETWORK_LIFECYCLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecosystem_config.h"
#include "http_api.h"
#include "network_cards_store.h"

struct switch_core;
struct card_production;
struct notification_outbox;

#define LIFECYCLE_MAP_SIZE (64ull << 20)

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

/* Sleep/wake of the two background threads: a kick or stop ends a wait early. */
struct lifecycle_waker {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool kicked, stop;
};
void lifecycle_waker_init(struct lifecycle_waker *w);
void lifecycle_waker_destroy(struct lifecycle_waker *w);
void lifecycle_waker_kick(struct lifecycle_waker *w);
void lifecycle_waker_stop(struct lifecycle_waker *w);
/* Waits until the wall-clock deadline (at most 1 s), a kick or stop; false once stopped. */
bool lifecycle_waker_wait(struct lifecycle_waker *w, int64_t deadline_wall_ms);

/* Wall-clock milliseconds (due times survive restarts). */
int64_t lifecycle_wall_ms(void);

struct network_lifecycle {
	struct ecosystem_config *config; /* own copy */
	const struct cfg_network *net;
	struct switch_core *core;
	struct network_store store;
	struct card_production *production;
	struct notification_outbox *outbox;
	struct lifecycle_stats stats;
	/* Delivery policy (tests may shorten it before start). */
	uint32_t delivery_timeout_ms;
	uint32_t backoff_first_ms, backoff_max_ms, max_attempts;
};

/*
 * Opens the network's store, puts its cards into the switch's registry and
 * starts production and delivery. NULL with a reason in err.
 */
struct network_lifecycle *network_lifecycle_start(const struct ecosystem_config *config, const char *network,
						  struct switch_core *core, char *err, size_t err_size);
void network_lifecycle_stop(struct network_lifecycle *lc);
/* The HTTP routes (lifecycle_http.c); returns how many were written. */
size_t network_lifecycle_routes(struct network_lifecycle *lc, struct http_route *routes, size_t capacity);
/* Puts every card of the store into the registry again (after a SIGHUP rebuilt it from the config). */
bool network_lifecycle_republish(struct network_lifecycle *lc, char *err, size_t err_size);
/* Registers one card in the state the store has now: usable (produced) or not yet (in production). */
bool network_lifecycle_register(struct network_lifecycle *lc, const char *pan);

#endif
