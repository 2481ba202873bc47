/*
 * A store's sealed records as a whole, for data-key rotation
 * (docs/data-protection.md, "Rotating a data key"): which data keys seal how
 * many records, and re-sealing those of older keys with the current one, so
 * that an old key can be retired once nothing needs it.
 *
 * A store is one LMDB directory of the three kinds, told apart by their
 * databases: a bank's lmdb_path (cards, orders), a network's lmdb_path
 * (cards, orders, outbox) or a switch's SAF queue, <network lmdb_path>/saf
 * (advices, exceptions). The other databases hold no seal (the journal keeps
 * a masked PAN and a lookup hash; notifications a masked PAN). The key file
 * must be the store's: its lookup key is checked against the format record.
 */
#ifndef STORAGE_PAN_STORE_H
#define STORAGE_PAN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pan_vault.h"

struct pan_store;

enum pan_store_access {
	PAN_STORE_READ,	     /* read-only; agents may be running (usage is one read transaction: a snapshot) */
	PAN_STORE_EXCLUSIVE, /* read-write, refused while any other process has it open (lmdb_exclusive.h) */
};

/* Opens an existing store. NULL with the reason in err. vault is the caller's, kept until close. */
struct pan_store *pan_store_open(const char *dir, const struct pan_vault *vault, enum pan_store_access access,
				 char *err, size_t err_size);
void pan_store_close(struct pan_store *s);
/* "bank", "network" or "saf". */
const char *pan_store_kind(const struct pan_store *s);

/* Counts of one database under one data key id. */
#define PAN_USAGE_NO_KEY 0 /* no seal (an order without its card yet), or none readable (malformed) */
struct pan_usage_row {
	const char *db;	  /* the database's name */
	uint32_t key_id;  /* the id the seals name, or PAN_USAGE_NO_KEY */
	uint64_t records; /* that open under the key file (and whose lookup hash matches, for cards) */
	uint64_t damaged; /* that do not: tampered with, cut short, or sealed with a key the file lacks */
};
#define PAN_USAGE_MAX_ROWS 128 /* beyond: more distinct ids than a key file can hold, counted under id 0 */
struct pan_usage {
	size_t row_count;
	struct pan_usage_row rows[PAN_USAGE_MAX_ROWS];
};

/* Every sealed record of the store, in one read transaction, each seal opened. 0, or -1 with the reason. */
int pan_store_usage(struct pan_store *s, struct pan_usage *out, char *err, size_t err_size);

/* A record the re-seal cannot re-seal: where it is (the LMDB key, no PAN) and why. */
typedef void (*pan_damaged_fn)(void *ctx, const char *db, const uint8_t *key, size_t key_len, uint32_t key_id,
			       const char *why);
struct pan_reseal_result {
	uint64_t resealed;     /* were sealed under an older key, now under the current one */
	uint64_t current;      /* already under the current key */
	uint64_t unsealed;     /* hold no seal */
	uint64_t damaged;      /* reported through on_damaged, left as they are */
	uint64_t transactions; /* write transactions committed */
};
/*
 * Re-seals every record sealed under a data key other than the current one
 * (PAN_STORE_EXCLUSIVE only): at most batch records visited per write
 * transaction, each rewritten in place with only its seal changed (and what
 * covers it: a SAF record's checksum). Every record stays valid under one key
 * or the other whenever the run stops. 0, or -1 with the reason (what was
 * committed stays committed: a second run goes on).
 */
int pan_store_reseal(struct pan_store *s, size_t batch, pan_damaged_fn on_damaged, void *ctx,
		     struct pan_reseal_result *out, char *err, size_t err_size);

#endif
