/*
 * The notification outbox: entries written by card production in the same
 * transaction that marks a card produced, delivered by one thread as HTTP
 * POSTs (the bank's /card-produced, the customer's webhook). At least once:
 * an entry leaves the outbox only after a 2xx answer; a failure is retried
 * with exponential backoff (backoff_first_ms doubling up to backoff_max_ms).
 * A customer's webhook is parked after max_attempts (kept, visible in
 * GET /notifications). The bank's notice is retried for as long as the bank
 * is down or failing (without it the card would never pay), and parked at
 * once when the bank answers that it cannot take it (4xx other than 408/429).
 * Everything lives in LMDB, so a restart resumes delivery. The thread sleeps
 * on the context's outbox_waker, which card production kicks after writing
 * entries (lifecycle_context.h): production need not know the outbox.
 */
#ifndef NOTIFICATION_OUTBOX_H
#define NOTIFICATION_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lifecycle_context.h"

struct notification_outbox *notification_outbox_start(struct network_lifecycle *lc, char *err, size_t err_size);
void notification_outbox_stop(struct notification_outbox *o);

enum delivery_next { DELIVERY_DONE, DELIVERY_RETRY, DELIVERY_PARK };
/* What follows an attempt: answered says whether an HTTP status came back, failed_attempts counts this one. */
enum delivery_next notification_next_step(const struct network_lifecycle *lc, enum outbox_kind kind, bool answered,
					  long status, uint32_t failed_attempts);

/* The wait before attempt n+1 after n failed attempts. */
uint32_t notification_backoff_ms(const struct network_lifecycle *lc, uint32_t failed_attempts);

#endif
