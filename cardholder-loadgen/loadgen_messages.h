/*
 * The cardholder's messages on the wire: the 1100 authorization request and
 * the 1420 reversal it sends when its answer does not come in time, laid out
 * per docs/protocol.md, and the reference numbers that let an answer find its
 * request again (RRN = generator thread + run-wide sequence number).
 */
#ifndef LOADGEN_MESSAGES_H
#define LOADGEN_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"

#define LOADGEN_TERMINAL_LEN 8
#define LOADGEN_RRN_LEN 12
#define LOADGEN_MAX_THREADS 64
#define LOADGEN_STAN_MAX 999999u
#define LOADGEN_MAX_REVERSAL_ATTEMPTS 8

/* What the cardholder remembers about a purchase to build it, and to reverse it later. */
struct purchase {
	const char *pan;
	const char *expiry;     /* YYMM */
	uint64_t amount;        /* minor units, at most 12 digits */
	uint32_t stan;          /* 1 .. 999999 */
	char rrn[LOADGEN_RRN_LEN + 1];
	char terminal[LOADGEN_TERMINAL_LEN + 1];
	char transmission[11];  /* DE 7 MMDDhhmmss (UTC) */
	char local_time[13];    /* DE 12 YYMMDDhhmmss */
};

/* Fields shared by every message of a run. */
struct purchase_context {
	const char *acquirer_id; /* DE 32 */
	const char *currency;    /* DE 49 */
	const char *merchant_id; /* DE 42, 15 characters */
};

/* Writes `width` decimal digits of value (zero-padded, most significant cut if too long). */
void write_digits(char *out, uint64_t value, int width);

/* RRN = 2 digits thread + 10 digits sequence: unique within a run. */
void loadgen_rrn(char out[LOADGEN_RRN_LEN + 1], unsigned thread, uint64_t sequence);
/* Inverse of loadgen_rrn; false if the text is not one of ours. */
bool loadgen_rrn_parse(const char *rrn, size_t len, unsigned *thread, uint64_t *sequence);
/* Terminal ids "L" + 2 digits thread + 5 digits terminal. */
void loadgen_terminal_id(char out[LOADGEN_TERMINAL_LEN + 1], unsigned thread, unsigned terminal);
/* Inverse of loadgen_terminal_id. */
bool loadgen_terminal_parse(const char *id, size_t len, unsigned *thread, unsigned *terminal);

/* DE 7 and DE 12 for a wall-clock second (DE 7 in UTC, DE 12 in local time). */
void loadgen_format_times(int64_t unix_second, char transmission[11], char local_time[13]);

/*
 * Encodes the 1100 for p into out (framed: 2-byte length header first).
 * Returns bytes written, or 0 with *err set when it does not fit or a field is bad.
 */
size_t loadgen_encode_authorization(const struct purchase_context *c, const struct purchase *p, uint8_t *out,
				    size_t capacity, enum iso_error_code *err);

/*
 * Encodes the 1420 that reverses p (1421 when it repeats an unanswered one):
 * STAN reversal_stan (new for the 1420, the same for its repeats), DE 12 of
 * when the 1420 was first sent (reversal_local_time), DE 24 400, DE 37/41 of
 * the original and DE 56 = 1100 + original STAN + original DE 12 + LL +
 * acquirer id. Framed like above.
 */
size_t loadgen_encode_reversal(const struct purchase_context *c, const struct purchase *p, uint32_t reversal_stan,
			       const char reversal_transmission[11], const char reversal_local_time[13], bool repeat,
			       uint8_t *out, size_t capacity, enum iso_error_code *err);

#endif
