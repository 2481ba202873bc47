/*
 * The card lifecycle at the network, wired next to the switch's fast path:
 * customer accounts and cards in the network's LMDB store
 * (network_cards_store.h), a production thread that makes ordered cards after
 * card_production_ms (card_production.h), a notification outbox delivered at
 * least once (notification_outbox.h), and the HTTP endpoints
 * (lifecycle_http.h) served on the switch's control-plane port. This file
 * is their owner: it starts and stops the threads and wires the routes; what
 * the parts share is in lifecycle_context.h.
 *
 * The switch's card registry learns every card (lifecycle_registry.h): a card
 * in production is registered as not usable (the registry's blocked state, so
 * a payment gets 119 not permitted at the switch), a produced card as active.
 */
#ifndef NETWORK_LIFECYCLE_H
#define NETWORK_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

#include "ecosystem_config.h"
#include "http_api.h"
#include "lifecycle_context.h"
#include "lifecycle_registry.h" /* network_lifecycle_republish, for the switch's SIGHUP */

struct switch_core;

#define LIFECYCLE_MAP_SIZE (64ull << 20)

/*
 * Opens the network's store, puts its cards into the switch's registry and
 * starts production and delivery. NULL with a reason in err.
 */
struct network_lifecycle *network_lifecycle_start(const struct ecosystem_config *config, const char *network,
						  struct switch_core *core, char *err, size_t err_size);
void network_lifecycle_stop(struct network_lifecycle *lc);
/* The HTTP routes (handlers in lifecycle_http.c); returns how many were written. */
size_t network_lifecycle_routes(struct network_lifecycle *lc, struct http_route *routes, size_t capacity);

#endif
