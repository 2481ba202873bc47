/*
 * The notification outbox: entries written by card production in the same
 * transaction that marks a card produced, delivered by one thread as HTTP
 * POSTs (the bank's /card-produced, the customer's webhook). At least once:
 * an entry leaves the outbox only after a 2xx answer; a failure is retried
 * with exponential backoff (backoff_first_ms doubling up to backoff_max_ms)
 * and parked after max_attempts (kept, visible in GET /notifications).
 * Everything lives in LMDB, so a restart resumes delivery.
 */
#ifndef NOTIFICATION_OUTBOX_H
#define NOTIFICATION_OUTBOX_H

#include <stddef.h>

#include "network_lifecycle.h"

struct notification_outbox *notification_outbox_start(struct network_lifecycle *lc, char *err, size_t err_size);
void notification_outbox_kick(struct notification_outbox *o);
void notification_outbox_stop(struct notification_outbox *o);

/* The wait before attempt n+1 after n failed attempts. */
uint32_t notification_backoff_ms(const struct network_lifecycle *lc, uint32_t failed_attempts);

#endif
