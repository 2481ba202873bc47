/*
 * Storage's own bridge between LMDB and store_txn.h: the handles converted
 * both ways, put modes as LMDB flags, LMDB's codes as store statuses. Only
 * storage/ includes it. The conversions are inline and free; a status costs
 * a compare or two, and a call only for a failure other than "not found".
 */
#ifndef STORAGE_LMDB_BRIDGE_H
#define STORAGE_LMDB_BRIDGE_H

#include <lmdb.h>
#include <string.h>

#include "store_txn.h"

/* LMDB's codes (and errno values) pass through store_status_of() unchanged: none may be a named status. */
_Static_assert(MDB_KEYEXIST < STORE_INVALID && MDB_LAST_ERRCODE < STORE_INVALID,
	       "LMDB's codes must stay apart from the named store statuses");
/* The stores keep their database handles as unsigned int, so that their headers need no lmdb.h. */
_Static_assert(_Generic((MDB_dbi)0, unsigned int: 1, default: 0), "MDB_dbi is no longer unsigned int");

static inline MDB_txn *as_lmdb_txn(struct store_txn *t)
{
	return (MDB_txn *)t;
}

static inline struct store_txn *as_store_txn(MDB_txn *t)
{
	return (struct store_txn *)t;
}

static inline MDB_env *as_lmdb_env(struct store_env *e)
{
	return (MDB_env *)e;
}

static inline struct store_env *as_store_env(MDB_env *e)
{
	return (struct store_env *)e;
}

static inline unsigned lmdb_put_flags(enum store_put_mode mode)
{
	return mode == STORE_CREATE ? MDB_NOOVERWRITE : 0;
}

/* A failed LMDB call's code as a store status: the outcomes callers act on get their names, any
 * other cause is kept. */
int store_status_of_failure(int rc);

/*
 * LMDB's result as a store status. Success and "not found" (every new
 * authorization's journal lookup) are decided inline, the rest out of line:
 * a whole switch here kept store.c's accessors from being inlined (callgrind,
 * bench_storage async: +66 instructions per authorization against the raw
 * LMDB codes; with this and their inline mark, +11 of about 8,700).
 */
static inline int store_status_of(int rc)
{
	if (rc == MDB_SUCCESS)
		return STORE_OK;
	return rc == MDB_NOTFOUND ? STORE_NOT_FOUND : store_status_of_failure(rc);
}

/* A transaction on a store's environment (MDB_RDONLY or 0), as a store_txn. */
static inline int lmdb_txn_begin_on(struct store_env *env, unsigned flags, struct store_txn **txn)
{
	MDB_txn *t;
	int rc = mdb_txn_begin(as_lmdb_env(env), NULL, flags, &t);
	*txn = rc == 0 ? as_store_txn(t) : NULL;
	return store_status_of(rc);
}

/* A fixed-size record under key, copied out; a record of another size is never read as ours. */
static inline int lmdb_get_fixed(struct store_txn *txn, MDB_dbi dbi, const void *key, size_t key_len, void *out,
				 size_t out_size)
{
	MDB_val k = {key_len, (void *)key};
	MDB_val v;
	int rc = mdb_get(as_lmdb_txn(txn), dbi, &k, &v);
	if (rc != 0)
		return store_status_of(rc);
	if (v.mv_size != out_size)
		return STORE_CORRUPTED;
	memcpy(out, v.mv_data, out_size);
	return STORE_OK;
}

#endif
