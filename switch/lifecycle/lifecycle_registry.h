/*
 * The network store's cards in the switch's card registry (RCU, read by the
 * workers without locks): a card in production is registered as not usable
 * (the registry's blocked state, so a payment gets 119 not permitted at the
 * switch), a produced card as active.
 */
#ifndef LIFECYCLE_REGISTRY_H
#define LIFECYCLE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "lifecycle_context.h"

/* Puts every card of the store into the registry again (after a SIGHUP rebuilt it from the config). */
bool network_lifecycle_republish(struct network_lifecycle *lc, char *err, size_t err_size);
/* Registers one card in the state the store has now: usable (produced) or not yet (in production). */
bool network_lifecycle_register(struct network_lifecycle *lc, const char *pan);

#endif
