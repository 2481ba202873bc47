/*
 * The format record every LMDB environment holding card data keeps (key
 * "pan_protection" in its meta database): written at the first open, checked
 * at every later one, so that a store written before PANs were protected, or
 * opened with a key file whose lookup key is not the one it was written with,
 * is refused with a clear reason instead of silently finding no card.
 */
#ifndef STORAGE_PAN_FORMAT_H
#define STORAGE_PAN_FORMAT_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "pan_vault.h"

#define STORE_PAN_FORMAT_KEY "pan_protection"
#define STORE_PAN_FORMAT_VERSION 1
struct pan_format_record {
	uint32_t version;
	uint8_t lookup_fingerprint[PAN_LOOKUP_BYTES];
};

/*
 * In any transaction: 0 when meta's format record is this build's and names
 * v's lookup key; MDB_NOTFOUND when there is none; -1 or an LMDB code
 * otherwise. The reason in err.
 */
int pan_format_check(MDB_txn *txn, MDB_dbi meta, const struct pan_vault *v, const char *dir, char *err,
		     size_t err_size);
/*
 * In a write transaction: checks meta's format record, or writes it when the
 * store holds nothing yet. data lists the databases whose entries would be
 * cleartext PANs in the old format. 0, or an LMDB/errno code or -1 with the
 * reason in err.
 */
int pan_format_check_or_write(MDB_txn *txn, MDB_dbi meta, const MDB_dbi *data, size_t data_count,
			      const struct pan_vault *v, const char *dir, char *err, size_t err_size);
/* The same in a write transaction of its own, committed when the store passes. */
int pan_format_check_or_write_env(MDB_env *env, MDB_dbi meta, const MDB_dbi *data, size_t data_count,
				  const struct pan_vault *v, const char *dir, char *err, size_t err_size);

#endif
