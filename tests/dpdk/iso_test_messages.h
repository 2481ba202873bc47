/*
 * ISO 8583 messages built by the DPDK tests and the switch benchmark
 * (bench/switch): fields set from text that outlives the message, the bank's
 * approving 1110 to a 1100, and the 2-byte-header framing of the UDP links.
 */
#ifndef ISO_TEST_MESSAGES_H
#define ISO_TEST_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"

/* iso_set_str keeps a pointer to the value: the text lives beside the message. */
struct iso_text_msg {
	struct iso_msg m;
	char text[ISO_MAX_FIELD + 1][40];
};

/* Copies value (cut at 39 characters) into t's own text and sets the field to it. */
void iso_text_msg_put(struct iso_text_msg *t, int field, const char *value);

/* What differs between the cardholder 1100s the tests and the benchmark send. */
struct iso_cardholder_1100 {
	const char *pan, *expiry;
	const char *amount;              /* field 4, 12 digits */
	const char *stan, *rrn, *terminal; /* fields 11, 37, 41: the switch's key for the answer */
};

/* t becomes a cardholder 1100 (purchase, merchant and acquirer fixed) with c's fields. */
void iso_text_msg_cardholder_1100(struct iso_text_msg *t, const struct iso_cardholder_1100 *c);

/*
 * The bank's approval of request into answer: a 1110 echoing the fields the
 * switch matches an answer by (2, 3, 4, 7, 11, 12, 32, 37, 41, 49), with
 * approval_code in field 38 and action code 000. answer points into request's
 * data, so request must outlive it.
 */
void iso_approval_of(const struct iso_msg *request, struct iso_msg *answer, const char *approval_code);

/* m encoded (ASCII profile) behind a 2-byte binary length header; the framed length, 0 when it does not fit or fails. */
size_t iso_encode_framed(const struct iso_msg *m, uint8_t *out, size_t capacity);

struct iso_cmac;
/* The same with m's MAC element (DE 64) computed under mac (iso_mac.h); mac NULL: as iso_encode_framed. */
size_t iso_encode_framed_signed(struct iso_msg *m, struct iso_cmac *mac, uint8_t *out, size_t capacity);

#endif
