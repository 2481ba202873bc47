#include "store_txn.h"

#include "lmdb_bridge.h"

int store_status_of_failure(int rc)
{
	switch (rc) {
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

int store_commit(struct store_txn *txn)
{
	return store_status_of(mdb_txn_commit(as_lmdb_txn(txn)));
}

void store_abort(struct store_txn *txn)
{
	mdb_txn_abort(as_lmdb_txn(txn));
}

/* The LMDB code a named status stands for; any other status is LMDB's or the system's code already. */
static int lmdb_code_of(int status)
{
	switch (status) {
	case STORE_NOT_FOUND:
		return MDB_NOTFOUND;
	case STORE_EXISTS:
		return MDB_KEYEXIST;
	case STORE_FULL:
		return MDB_MAP_FULL;
	case STORE_CORRUPTED:
		return MDB_CORRUPTED;
	case STORE_INVALID:
		return MDB_BAD_VALSIZE;
	default:
		return status;
	}
}

const char *store_strerror(int status)
{
	return mdb_strerror(lmdb_code_of(status));
}
