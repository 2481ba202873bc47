/*
 * What the LMDB stores (the bank's store.h, the network's
 * network_cards_store.h) give their callers instead of LMDB's own types, so
 * that no agent includes lmdb.h: a transaction handle, put modes and status
 * codes.
 *
 * Neither struct below is ever defined: a struct store_txn pointer is LMDB's
 * transaction itself and a struct store_env pointer LMDB's environment
 * (storage/lmdb_bridge.h converts them), so the handles cost no allocation
 * and no indirection on the authorization path.
 */
#ifndef STORAGE_STORE_TXN_H
#define STORAGE_STORE_TXN_H

struct store_txn;
struct store_env;

/*
 * Every storage call returns STORE_OK, one of the named outcomes below that
 * callers act on, or another non-zero code for any other failure (an I/O
 * error, a full reader table, out of memory, ...). Callers treat such a code
 * as a failure and hand it to store_strerror() only: it is LMDB's or the
 * system's own number, kept so that the operator still reads the real cause.
 * The named outcomes keep apart from those (errno values are positive,
 * LMDB's lie near -30800) and from -1, which callers use as their own
 * "answered already" (bank-node/card_orders.c).
 */
enum store_status {
	STORE_OK = 0,
	STORE_NOT_FOUND = -20001, /* no record under the key (or an empty queue) */
	STORE_EXISTS = -20002,    /* a STORE_CREATE put found the key taken */
	STORE_FULL = -20003,      /* the map is full: the map size must grow */
	STORE_CORRUPTED = -20004, /* a record of another layout (never read as ours), or a damaged file */
	STORE_INVALID = -20005,   /* a key or value the store refuses: empty or too long, a negative
				     balance, a total beyond int64 */
};

/* How a put treats a record already under its key. */
enum store_put_mode {
	STORE_REPLACE, /* overwrites it */
	STORE_CREATE,  /* leaves it and returns STORE_EXISTS */
};

/* Ends a write transaction (durable as the store's mode says); the handle is gone either way. */
int store_commit(struct store_txn *txn);
/* Ends a read, or rolls a write back. */
void store_abort(struct store_txn *txn);
/* The status in LMDB's words, as operators have always read them (e.g. "MDB_MAP_FULL: ..."). */
const char *store_strerror(int status);

#endif
