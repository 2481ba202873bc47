/*
 * The bank's LMDB environment: accounts, cards, the authorization journal and
 * a few ledger totals, with the durability mode chosen at open.
 *
 *   sync        plain durable commit: the commit returns after data and meta
 *               pages are on disk, so whatever the caller answers afterwards
 *               survives a crash of the process or of the machine.
 *   nometasync  MDB_NOMETASYNC: data synced at commit, the meta page at the
 *               next commit; a machine crash may lose the last transaction.
 *   async       MDB_NOSYNC: nothing synced at commit; the caller runs
 *               store_sync() periodically. A killed process loses nothing
 *               (the page cache keeps it), a machine crash may.
 *
 * In every mode LMDB writes pages with pwrite, never through a writable map:
 * a full disk is then an error of the commit (ENOSPC, the batch answered
 * 909), where a page of the map the file system cannot back kills the whole
 * process with SIGBUS (tests/bank/test_disk_full.c).
 *
 * Every accessor works inside a caller's transaction (store_txn.h) and
 * returns STORE_OK, STORE_NOT_FOUND, or another store status
 * (store_strerror() names it).
 */
#ifndef STORAGE_STORE_H
#define STORAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecosystem_config.h" /* enum durability */
#include "records.h"
#include "store_txn.h"

/* Storage's own: callers only hand it to the functions below. */
struct store {
	struct store_env *env;
	unsigned accounts; /* LMDB database: account id -> struct account_record */
	unsigned cards;    /* LMDB database: PAN -> struct card_record */
	unsigned journal;  /* LMDB database: struct journal_key -> struct journal_record */
	unsigned meta;     /* LMDB database: name -> int64 ledger totals */
	unsigned orders;   /* LMDB database: idempotency key -> struct order_record */
	enum durability durability;
	const struct pan_vault *vault; /* PANs at rest: lookups and seals (records.h) */
};

/*
 * Creates the directory if needed. vault (the caller's, kept until close)
 * protects every PAN written (records.h); a store of the cleartext format or
 * of another lookup key is refused. Returns 0, or a store status with a
 * reason in err.
 */
int store_open(struct store *s, const char *dir, uint64_t map_size, enum durability d, const struct pan_vault *vault,
	       char *err, size_t err_size);
void store_close(struct store *s);
/* Forces data and meta pages to disk (the periodic sync of async mode). */
int store_sync(struct store *s);

int store_read_begin(struct store *s, struct store_txn **txn);
/* One write transaction at a time: LMDB makes a second writer wait. */
int store_write_begin(struct store *s, struct store_txn **txn);

int store_account_get(struct store_txn *txn, const struct store *s, const char *id, struct account_record *out);
/* STORE_REPLACE to overwrite, STORE_CREATE to create (STORE_EXISTS if present). */
int store_account_put(struct store_txn *txn, const struct store *s, const char *id,
		      const struct account_record *rec, enum store_put_mode mode);

int store_card_get(struct store_txn *txn, const struct store *s, const char *pan, struct card_record *out);
int store_card_put(struct store_txn *txn, const struct store *s, const char *pan, const struct card_record *rec,
		   enum store_put_mode mode);

int store_order_get(struct store_txn *txn, const struct store *s, const char *key, struct order_record *out);
int store_order_put(struct store_txn *txn, const struct store *s, const char *key, const struct order_record *rec);

int store_journal_get(struct store_txn *txn, const struct store *s, const struct journal_key *key,
		      struct journal_record *out);
/*
 * What the journal holds under one transaction's DE 12, 32, 37 and 41 whatever
 * the STAN: a network that restarted forwards a cardholder's repeat (1101) or
 * late original under a STAN of its own, and a reversal it could not match under
 * the cardholder's. The walk is bounded (an acquirer could flood one group), and
 * a truncated walk is reported so that the caller never guesses.
 */
#define JOURNAL_GROUP_WALK_MAX 16
struct journal_group {
	bool exact;                    /* an entry under the very key (record in exact_record); nothing else is read then */
	struct journal_record exact_record;
	unsigned others;               /* entries under another STAN, tombstones aside: 0, 1 or 2 (= more) */
	struct journal_key other_key;  /* the first of them */
	struct journal_record other;
	bool tombstone_for_card;       /* a tombstone under another STAN of the card and amount asked for */
	bool truncated;                /* the group is larger than the walk */
};
/* pan may be "" (no tombstone can then match). */
int store_journal_group(struct store_txn *txn, const struct store *s, const struct journal_key *key, const char *pan,
			uint64_t amount, struct journal_group *out);
/*
 * The one journal entry other than a tombstone whose key equals key but for
 * the STAN: the original of a reversal that names it under another STAN.
 * STORE_NOT_FOUND when there is none, or more than one (then no guess is made).
 */
int store_journal_find_by_keys_but_stan(struct store_txn *txn, const struct store *s, const struct journal_key *key,
					struct journal_key *found_key, struct journal_record *found);
int store_journal_put(struct store_txn *txn, const struct store *s, const struct journal_key *key,
		      const struct journal_record *rec);
/* Fills j's pan_masked and pan_lookup from pan ("" for none); STORE_INVALID when pan is too long. */
int store_journal_set_pan(const struct store *s, struct journal_record *j, const char *pan);
/* True when pan is the PAN j was written with (its lookup hash matches). */
bool store_journal_pan_is(const struct store *s, const struct journal_record *j, const char *pan);

/* Named signed totals kept next to the data (e.g. money ever put into accounts). */
#define STORE_META_CREATED_TOTAL "created_total"
int store_meta_get(struct store_txn *txn, const struct store *s, const char *name, int64_t *value);
int store_meta_add(struct store_txn *txn, const struct store *s, const char *name, int64_t delta);

enum store_table { STORE_ACCOUNTS, STORE_CARDS, STORE_JOURNAL, STORE_ORDERS };
/*
 * Calls visit with every entry of a table in key order, as the bytes stored
 * (no alignment promise, valid during the call): for tools that list or check
 * the store and report a record of an unexpected size rather than skip it.
 * Cards are keyed by lookup hash, orders values are order_stored
 * (records.h), journal entries hold only the masked PAN and its hash: no PAN
 * in clear comes out of a scan.
 */
int store_scan(struct store_txn *txn, const struct store *s, enum store_table table,
	       void (*visit)(const void *key, size_t key_len, const void *value, size_t value_len, void *ctx),
	       void *ctx);

/* Everything the ledger check of an ecosystem run needs, computed by scanning. */
struct ledger_totals {
	uint64_t accounts;
	int64_t total_balance;
	int64_t created_total; /* sum of balances accounts were created with */
	uint64_t approved_count, approved_amount; /* journal entries still debited */
	uint64_t reversed_count, reversed_amount;
	uint64_t declined_count, tombstone_count;
	bool overflow; /* a sum left int64/uint64: the totals are not usable */
};
int store_ledger_totals(struct store *s, struct ledger_totals *out);

#endif
