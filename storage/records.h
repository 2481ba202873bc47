/*
 * What the bank keeps in LMDB, as fixed-size records (host byte order: an LMDB
 * file never leaves the machine that wrote it).
 *
 * Money is always integer minor units; a balance is signed only so that an
 * underflow would be visible, and the code never lets one go below zero.
 */
#ifndef STORAGE_RECORDS_H
#define STORAGE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pan_vault.h" /* struct sealed_pan */

#define STORE_ID_MAX 48    /* account id: a UUID (36) or "<bank>-<index>" */
#define STORE_NAME_MAX 128 /* account owner, NUL included */
#define STORE_PAN_MAX 19

enum card_state {
	CARD_ORDERED = 1,
	CARD_PRODUCED = 2,
	CARD_ACTIVE = 3,
	CARD_BLOCKED = 4,
};

struct account_record {
	int64_t balance;
	char currency[4]; /* ISO 4217 numeric */
	char owner[STORE_NAME_MAX];
};

struct card_record {
	char account[STORE_ID_MAX];
	char expiry[5]; /* YYMM */
	uint8_t state;  /* enum card_state */
};

/*
 * A card order the bank passed to a network, under its idempotency key
 * ("r:<request_id>" or "p:<account>:<network>"). Written before the network
 * is called, so that a retry reuses order_id and the network (idempotent on
 * it) hands back the same card instead of producing a second one.
 */
#define STORE_ORDER_KEY_MAX 160
#define STORE_WEBHOOK_MAX 256

enum order_state {
	ORDER_REQUESTED = 1, /* passed to the network, no card known yet */
	ORDER_CARD_KNOWN = 2, /* the network assigned pan; the card is stored */
};

struct order_record {
	uint8_t state; /* enum order_state */
	char order_id[40];
	char account[STORE_ID_MAX];
	char network[32];
	char pan[STORE_PAN_MAX + 1];
	char expiry[5];
	char webhook[STORE_WEBHOOK_MAX];
	int64_t created_unix;
};

enum journal_state {
	JOURNAL_APPROVED = 1,  /* debited */
	JOURNAL_DECLINED = 2,  /* refused, no money moved */
	JOURNAL_REVERSED = 3,  /* was approved, credited back exactly once */
	JOURNAL_TOMBSTONE = 4, /* a reversal came before any original: the original must never debit */
};

/*
 * No PAN in the journal, only what identifies it: the masked PAN (first 6,
 * last 4, for listings) and its lookup hash, which is also the card's key in
 * `cards`, where the PAN is kept sealed. The authorization path computes that
 * hash once for the card lookup (store_journal_set_pan reuses it): no seal per
 * authorization.
 */
/* The lookup hash's first 128 bits: enough to tell cards apart, half the bytes per entry. */
#define STORE_JOURNAL_LOOKUP_BYTES 16
struct journal_record {
	uint8_t state;         /* enum journal_state */
	uint8_t reversal_seen; /* a reversal for this key was processed */
	char action[4];        /* DE 39 given to the original */
	char approval[7];      /* DE 38 when approved */
	char pan_masked[STORE_PAN_MAX + 1]; /* pan_mask() of the PAN; "" when the entry has none */
	char account[STORE_ID_MAX];
	uint64_t amount;
	int64_t created_unix;
	uint8_t pan_lookup[STORE_JOURNAL_LOOKUP_BYTES]; /* its first bytes; zero when none */
};

/*
 * What the LMDB files hold (docs/data-protection.md): callers hand and get
 * card and order records with the PAN in clear (RAM only); store.c writes
 * these instead.
 *   cards    key: HMAC-SHA-256 of the PAN (PAN_LOOKUP_BYTES), value: card_stored
 *   journal  value: journal_record as it is (masked PAN and lookup hash only)
 *   orders   value: order_stored, the record's pan masked, the PAN sealed
 * The meta database's format record (pan_format.h) refuses, at open, a store
 * of the cleartext format or a key file of another lookup key.
 */
struct card_stored {
	struct card_record rec;
	struct sealed_pan pan;
};
struct order_stored {
	struct order_record rec; /* rec.pan: masked */
	struct sealed_pan pan;
};

/*
 * Journal key: (acquirer DE 32, STAN DE 11, local date/time DE 12, RRN DE 37,
 * terminal DE 41), the same five a reversal carries in DE 56, 37 and 41.
 * Fixed layout: local date/time first (so that new entries sort together at
 * the end of the tree), then the 2-digit acquirer length, the acquirer padded
 * to 11, then RRN and terminal padded with spaces, and the STAN last, so that
 * every key is one byte string and the entries of one (DE 12, 32, 37, 41)
 * sit side by side: a reversal whose DE 56 names a STAN the bank never saw
 * (the cardholder's, forwarded by a network that restarted and forgot the
 * STAN it gave the original) still finds its original by those four.
 */
/* Where each part sits in the key (tools that list the journal read them back). */
#define JOURNAL_KEY_LOCAL_TIME_AT 0
#define JOURNAL_KEY_ACQUIRER_LENGTH_AT 12
#define JOURNAL_KEY_ACQUIRER_AT 14
#define JOURNAL_KEY_RRN_AT 25
#define JOURNAL_KEY_TERMINAL_AT 37
#define JOURNAL_KEY_STAN_AT 45
#define JOURNAL_KEY_LEN (12 + 2 + 11 + 12 + 8 + 6)
/* The key without its STAN: (DE 12, DE 32, DE 37, DE 41). */
#define JOURNAL_KEY_WITHOUT_STAN JOURNAL_KEY_STAN_AT

struct journal_key {
	char bytes[JOURNAL_KEY_LEN];
};

/* False when a part is empty or longer than its field allows. */
bool journal_key_build(struct journal_key *key, const char *acquirer, const char *stan,
		       const char *local_datetime, const char *rrn, const char *terminal);

const char *card_state_name(enum card_state s);
/* Parses "ordered", "produced", "active", "blocked"; 0 when unknown. */
enum card_state card_state_parse(const char *name);

#endif
