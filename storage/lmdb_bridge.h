/*
 * Storage's own bridge between LMDB and store_txn.h: the handles converted
 * both ways, put modes as LMDB flags, LMDB's codes as store statuses. Only
 * storage/ includes it. The conversions are inline and free; a status costs
 * a compare or two, and a call only for a failure other than "not found".
 */
#ifndef STORAGE_LMDB_BRIDGE_H
#define STORAGE_LMDB_BRIDGE_H

#include <lmdb.h>

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

#endif
