/*
 * The key a cardholder's transaction is known by, as the bank's journal keys
 * it (docs/protocol.md): acquirer DE 32, STAN DE 11, local date/time DE 12,
 * RRN DE 37, terminal DE 41. A 1420 names its original through DE 56 (MTI,
 * STAN, DE 12, acquirer) plus its own DE 37 and DE 41.
 */
#ifndef TXN_KEY_H
#define TXN_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iso8583.h"

/* length digit pair + acquirer (11) + STAN (6) + DE 12 (12) + RRN (12) + terminal (8) = 51,
 * zero-padded to 56 so that hashing and comparing go by whole 8-byte words */
#define TXN_KEY_LEN 56
#define TXN_KEY_STAN_AT 13

struct txn_key {
	uint8_t bytes[TXN_KEY_LEN];
};

/* DE 56 of the 1993 reversal: original MTI, STAN, local date/time and acquirer. */
struct original_data {
	char mti[5];
	char stan[7];
	char local_time[13];
	char acquirer[12];
};

bool txn_key_of_request(const struct iso_msg *m, struct txn_key *key);
bool txn_key_of_reversal(const struct iso_msg *m, struct txn_key *key);
bool txn_key_make(const char *acquirer, const char *stan, const char *local_time, const char *rrn,
		  const char *terminal, struct txn_key *key);

/*
 * The key with its STAN blanked: what a transaction keeps across a network
 * restart, when the STAN towards the bank changed (docs/protocol.md, "Repeats").
 */
static inline void txn_key_without_stan(const struct txn_key *k, struct txn_key *out)
{
	*out = *k;
	memset(out->bytes + TXN_KEY_STAN_AT, '0', 6);
}

/* Parses DE 56 text ("1100" + STAN + DE 12 + LL + acquirer); false when malformed. */
bool original_data_parse(const char *text, size_t len, struct original_data *out);
/* Writes DE 56 text into out (at least 36 bytes); returns its length. */
size_t original_data_format(const struct original_data *d, char *out, size_t capacity);

static inline bool txn_key_equal(const struct txn_key *a, const struct txn_key *b)
{
	return memcmp(a->bytes, b->bytes, TXN_KEY_LEN) == 0;
}

static inline uint64_t txn_key_hash(const struct txn_key *k)
{
	/* Word at a time (the per-byte FNV chain cost ~200 cycles a key), then a final mix. */
	uint64_t h = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i < TXN_KEY_LEN; i += 8) {
		uint64_t word;
		memcpy(&word, k->bytes + i, 8);
		h = (h ^ word) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	h ^= h >> 29;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 32);
}

#endif
