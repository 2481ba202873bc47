/* Builds the 1100 and 1420 frames a test sends, and reads the answers it gets. */
#ifndef TEST_ISO_MESSAGES_H
#define TEST_ISO_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"

struct test_payment {
	const char *pan;
	uint64_t amount;
	unsigned stan;
	const char *local_time; /* DE 12 YYMMDDhhmmss */
	const char *rrn;	/* DE 37, 12 characters */
	const char *terminal;	/* DE 41, 8 characters */
	const char *expiry;	/* DE 14 or NULL */
	const char *acquirer;	/* DE 32 */
	const char *currency;	/* DE 49 or NULL */
};

/* A payment with sensible defaults for the given PAN, STAN and amount. */
struct test_payment test_payment_default(const char *pan, unsigned stan, uint64_t amount);

/* Framed (2-byte header) 1100; returns its size. */
size_t test_build_1100(const struct test_payment *p, uint8_t *buf, size_t capacity);
/* Framed reversal (mti 1420 or 1421) of p, with its own STAN. */
size_t test_build_reversal(const struct test_payment *p, uint16_t mti, unsigned reversal_stan, uint8_t *buf,
			   size_t capacity);

struct test_answer {
	uint16_t mti;
	char stan[7];
	char rrn[13];
	char action[4];
	char approval[7];
	char pan[20];
	char amount[13];
	char original_data[36];
	bool has_approval;
};

/* Decodes every frame of a datagram into answers; returns how many, -1 if one fails. */
int test_parse_answers(const uint8_t *data, size_t length, struct test_answer *out, int capacity);

#endif
