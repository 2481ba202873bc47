/*
 * The messages of the store-and-forward queue: a queued advice as the 1420
 * (first send) or 1421 (repeat) the bank gets, and the advice record made
 * from what the switch knows of a transaction when it queues it.
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
 * The record of the switch's own reversal of a pending authorization (after
 * a bank timeout, or an approval the cardholder had cancelled): the
 * cardholder's elements, DE 11 the reversal STAN of its slot, DE 56 the
 * original as the bank saw it (the STAN the switch gave it).
 */
void saf_record_of_timeout(const struct pending_txn *p, uint8_t worker, uint32_t slot, const char *bank,
			   struct saf_record *out);

/*
 * The record of a cardholder's 1420 forwarded to its bank: its elements,
 * DE 11 the switch's STAN for it, DE 56 the original as the bank knows it.
 * False when an element is too long for the record.
 */
bool saf_record_of_cardholder_reversal(const struct iso_msg *m, const char *stan, const char *bank_de56,
				       const char *bank, uint32_t bank_ipv4, uint16_t bank_port,
				       struct saf_record *out);

#endif
