/* pan_store.h's handle, shared by its files (open, usage, reseal); storage/ only. */
#ifndef STORAGE_PAN_STORE_PRIVATE_H
#define STORAGE_PAN_STORE_PRIVATE_H

#include <lmdb.h>

#include "pan_store.h"
#include "sealed_layout.h"

#define PAN_STORE_MAX_DBS 3

struct pan_store_db {
	const char *name;
	enum sealed_layout layout;
	MDB_dbi dbi;
};

struct pan_store {
	MDB_env *env;
	const struct pan_vault *vault;
	enum pan_store_access access;
	const char *kind;
	size_t db_count;
	struct pan_store_db dbs[PAN_STORE_MAX_DBS];
	int exclusive_fd; /* lmdb_exclusive.h; -1 when read-only */
	char dir[1024];
};

/*
 * Opens the seal of a record, checks it (cards: the lookup hash of the
 * PAN is the record's key) and hands back the plain text in text (text_size
 * at least place->len). NULL when it opens and checks, else why not.
 */
const char *pan_store_open_seal(const struct pan_store *s, const MDB_val *key, const uint8_t *value,
				const struct seal_place *place, uint8_t *text);

#endif
