/*
 * The messages the switch writes itself (as opposed to those it relays):
 * its answers to cardholders (1110 refusals and timeouts, 1430). Its reversal
 * advices to banks are the store-and-forward queue's (saf/saf_messages.h).
 * Built into a caller's buffer with the 2-byte length header, nothing allocated.
 */
#ifndef SWITCH_MESSAGES_H
#define SWITCH_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"
#include "pending_table.h"

/* The profile every switch link speaks. */
#define SWITCH_PROFILE (&iso_profile_ascii)

/*
 * Encodes m behind a 2-byte big-endian length, with its MAC element (DE 64 or
 * 128) reserved as the last 8 bytes; returns the total bytes, 0 on failure.
 * The worker writes the MAC when the frame leaves (switch_tx.h: tx_commit_sealed);
 * on a link without a key the element stays zeros.
 */
size_t switch_encode_framed(struct iso_msg *m, uint8_t *buf, size_t capacity);

/*
 * The response to a request (MTI + 10) echoing the request's 2, 3, 4, 7, 11,
 * 12, 32, 37, 41, 49 (and 56 for reversals) when present, with action code.
 */
size_t switch_build_answer(const struct iso_msg *request, int action, uint8_t *buf, size_t capacity);
/* The same with DE 38 (approval NULL or "": none): a remembered approval answered again. */
size_t switch_build_answer_with_approval(const struct iso_msg *request, int action, const char *approval,
					 uint8_t *buf, size_t capacity);

/* 1110 to the cardholder of a pending authorization (e.g. 911 on timeout). */
size_t switch_build_pending_answer(const struct pending_txn *p, int action, uint8_t *buf, size_t capacity);

/* 1430 to the cardholder of a reversal the switch queued for its bank (400 once on disk, 909 if not). */
size_t switch_build_pending_reversal_answer(const struct pending_txn *p, int action, uint8_t *buf,
					    size_t capacity);

/*
 * After a decode error at element err->field: decodes the elements before it
 * (a copy of the frame in scratch, its bitmap cut at the faulty element), so
 * that the sender's keys can still be echoed in a 904. False when nothing
 * usable precedes the error (or the message has a secondary bitmap).
 */
bool switch_decode_readable_prefix(const uint8_t *frame, size_t length, const struct iso_error *err,
				   uint8_t *scratch, size_t scratch_size, struct iso_msg *out);

/* Writes an action code as three digits into out[4]. */
void action_code_text(int action, char out[4]);

#endif
