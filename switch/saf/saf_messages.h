/*
 * The messages of the store-and-forward queue: a queued advice as the 1420
 * (first send) or 1421 (repeat) the bank gets, and the advice record made
 * from a pending slot when the switch queues it.
 */
#ifndef SAF_MESSAGES_H
#define SAF_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"
#include "pending_table.h"
#include "saf_store.h"

/* 1420/1421 with the record's elements, DE 24 "400"; framed like every switch message. 0 on failure. */
size_t saf_build_advice(const struct saf_record *r, bool repeat, uint8_t *buf, size_t capacity);

/*
 * The advice record of a pending slot: the cardholder's elements, DE 11 the
 * slot's reversal STAN, and DE 56 the original as the bank knows it: the
 * slot's bank_original for a cardholder's reversal, else (the switch's own
 * reversal after a bank timeout or a cancelled approval) 1100 with the STAN
 * the switch gave the original.
 */
void saf_record_of_pending(const struct pending_txn *p, uint8_t worker, uint32_t slot, const char *bank,
			   struct saf_record *out);

#endif
