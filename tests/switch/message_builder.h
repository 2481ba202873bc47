/*
 * Builds the cardholder and bank messages the switch tests send, with every
 * element the protocol asks for, as text kept inside the builder so that the
 * iso_msg views stay valid until encoding.
 */
#ifndef SWITCH_TEST_MESSAGE_BUILDER_H
#define SWITCH_TEST_MESSAGE_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "framing.h"
#include "iso8583.h"

struct test_msg {
	struct iso_msg m;
	char text[ISO_MAX_FIELD + 1][64];
};

static inline void tm_set(struct test_msg *t, int field, const char *value)
{
	/* memmove: value may come from this builder's own texts. */
	size_t n = strnlen(value, sizeof(t->text[field]) - 1);
	memmove(t->text[field], value, n);
	t->text[field][n] = '\0';
	iso_set_str(&t->m, field, t->text[field]);
}

/* A 1100 purchase for pan with STAN stan, RRN and terminal derived from it. */
static inline void tm_authorization(struct test_msg *t, const char *pan, const char *expiry, const char *stan,
				    const char *amount)
{
	iso_msg_init(&t->m, 1100);
	char rrn[13], term[9];
	snprintf(rrn, sizeof(rrn), "RRN000%s", stan);
	snprintf(term, sizeof(term), "T%s_", stan);
	tm_set(t, 2, pan);
	tm_set(t, 3, "000000");
	tm_set(t, 4, amount);
	tm_set(t, 7, "1125120000");
	tm_set(t, 11, stan);
	tm_set(t, 12, "261125120000");
	tm_set(t, 14, expiry);
	tm_set(t, 22, "100000000000");
	tm_set(t, 24, "100");
	tm_set(t, 32, "30000000003");
	tm_set(t, 37, rrn);
	tm_set(t, 41, term);
	tm_set(t, 42, "MERCHANT0000001");
	tm_set(t, 49, "978");
}

/* The cardholder's 1420 reversing an authorization built by tm_authorization. */
static inline void tm_reversal_of(struct test_msg *t, const struct test_msg *auth, const char *stan)
{
	iso_msg_init(&t->m, 1420);
	static const int copied[] = {2, 3, 4, 7, 12, 32, 37, 41, 49};
	for (size_t i = 0; i < sizeof(copied) / sizeof(copied[0]); i++)
		tm_set(t, copied[i], auth->text[copied[i]]);
	tm_set(t, 11, stan);
	tm_set(t, 24, "400");
	char de56[64];
	snprintf(de56, sizeof(de56), "1100%.6s%.12s%02zu%.11s", auth->text[11], auth->text[12],
		 strlen(auth->text[32]), auth->text[32]);
	tm_set(t, 56, de56);
}

/* Encodes with the 2-byte header; returns the total length (0 on failure). */
static inline size_t tm_encode(const struct test_msg *t, uint8_t *buf, size_t capacity)
{
	size_t n = 0;
	if (iso_encode(&iso_profile_ascii, &t->m, buf + 2, capacity - 2, &n, NULL) != ISO_OK)
		return 0;
	frame_write_header(FRAME_HEADER_BINARY2, n, buf);
	return n + 2;
}

/* Decodes a framed single-message datagram into m (views into buf). */
static inline bool tm_decode_framed(const uint8_t *buf, size_t len, struct iso_msg *m)
{
	const uint8_t *msg;
	size_t msg_len, consumed;
	if (frame_next(FRAME_HEADER_BINARY2, buf, len, ISO_MAX_MESSAGE, &msg, &msg_len, &consumed) != FRAME_OK ||
	    consumed != len)
		return false;
	return iso_decode(&iso_profile_ascii, msg, msg_len, m, NULL) == ISO_OK;
}

/* A field's text, "" when absent (for assertions). */
static inline const char *tm_text(const struct iso_msg *m, int field, char *out, size_t size)
{
	if (iso_field_text(m, field, out, size) < 0)
		out[0] = '\0';
	return out;
}

#endif
