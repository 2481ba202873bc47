/*
 * Storage's own bridge between LMDB and store_txn.h: the handles converted
 * both ways, put modes as LMDB flags, LMDB's codes as store statuses. Only
 * storage/ includes it; everything here is inline so that the authorization
 * path pays nothing for the translation but a compare on its error paths.
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

/* LMDB's result as a store status: the outcomes callers act on get their names, any other cause is kept. */
static inline int store_status_of(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return STORE_OK;
	case MDB_NOTFOUND:
		return STORE_NOT_FOUND;
	case MDB_KEYEXIST:
		return STORE_EXISTS;
	case MDB_MAP_FULL:
		return STORE_FULL;
	case MDB_CORRUPTED:
		return STORE_CORRUPTED;
	case MDB_BAD_VALSIZE:
		return STORE_INVALID;
	default:
		return rc;
	}
}

#endif
