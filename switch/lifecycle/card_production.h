/*
 * Card production: a thread that takes the production queue of the network's
 * store in due-time order and, when a card is due, marks it produced and
 * writes its notifications (to the issuing bank and to the customer) into the
 * outbox in the same transaction, then makes the card usable in the switch's
 * registry. The queue is in LMDB, so a restart resumes where it stopped.
 * It wakes the delivery thread through the context's outbox_waker.
 */
#ifndef CARD_PRODUCTION_H
#define CARD_PRODUCTION_H

#include <stddef.h>
#include <stdint.h>

#include "lifecycle_context.h"

struct card_production *card_production_start(struct network_lifecycle *lc, char *err, size_t err_size);
/* A card was queued: look at the queue again. */
void card_production_kick(struct card_production *p);
void card_production_stop(struct card_production *p);

/* Produces the card now if it is in production (one transaction). 0, or a store status
 * (STORE_NOT_FOUND: nothing to make), or ENOMEM (store_strerror() words it too). */
int card_production_complete(struct network_lifecycle *lc, const char *pan, int64_t due_ms, char *expiry_out);

#endif
