/*
 * Opening an LMDB environment the way every store of the project does: the
 * directory made if missing (mkdir -p), the map size and limits set, the
 * environment opened with the caller's flags, and each named database
 * created or opened in one write transaction. Used by the bank's store and
 * the network's card store, which differ only in flags and databases.
 */
#ifndef STORAGE_LMDB_ENV_H
#define STORAGE_LMDB_ENV_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

struct lmdb_named_db {
	const char *name;
	MDB_dbi *dbi; /* set on success */
};

struct lmdb_env_settings {
	uint64_t map_size;
	unsigned flags;	       /* mdb_env_open flags (durability, MDB_NOTLS, ...) */
	unsigned max_readers;  /* 0: LMDB's default */
	const struct lmdb_named_db *dbs;
	size_t db_count;       /* at most 8 */
};

/*
 * Opens the environment at dir into *env. Returns 0, or an errno/LMDB code
 * with the failed step and the reason in err; on failure *env is NULL.
 */
int lmdb_env_open(MDB_env **env, const char *dir, const struct lmdb_env_settings *s, char *err, size_t err_size);

#endif
