#include "pan_format.h"

#include <stdio.h>
#include <string.h>


static int expected_record(const struct pan_vault *v, struct pan_format_record *want, const char *dir, char *err,
			   size_t err_size)
{
	memset(want, 0, sizeof(*want));
	want->version = STORE_PAN_FORMAT_VERSION;
	if (pan_vault_fingerprint(v, want->lookup_fingerprint) != 0) {
		snprintf(err, err_size, "%s: OpenSSL failed computing the lookup key fingerprint", dir);
		return -1;
	}
	return 0;
}

int pan_format_check(MDB_txn *txn, MDB_dbi meta, const struct pan_vault *v, const char *dir, char *err,
		     size_t err_size)
{
	struct pan_format_record want;
	if (expected_record(v, &want, dir, err, err_size))
		return -1;
	MDB_val k = {sizeof(STORE_PAN_FORMAT_KEY) - 1, (void *)STORE_PAN_FORMAT_KEY}, val;
	int rc = mdb_get(txn, meta, &k, &val);
	if (rc == MDB_NOTFOUND) {
		snprintf(err, err_size, "%s has no PAN protection format record (never opened by an agent of this build)",
			 dir);
		return MDB_NOTFOUND;
	}
	if (rc != 0) {
		snprintf(err, err_size, "%s: reading the PAN protection format: %s", dir, mdb_strerror(rc));
		return rc;
	}
	struct pan_format_record have;
	if (val.mv_size != sizeof(have)) {
		snprintf(err, err_size, "%s: unknown PAN protection format record (%zu bytes)", dir, val.mv_size);
		return -1;
	}
	memcpy(&have, val.mv_data, sizeof(have));
	if (have.version != STORE_PAN_FORMAT_VERSION) {
		snprintf(err, err_size, "%s: PAN protection format %u, this build reads %u", dir, (unsigned)have.version,
			 STORE_PAN_FORMAT_VERSION);
		return -1;
	}
	if (memcmp(have.lookup_fingerprint, want.lookup_fingerprint, PAN_LOOKUP_BYTES) != 0) {
		snprintf(err, err_size,
			 "%s was written with another PAN lookup key: the key file given is not this store's "
			 "(pan_protection.key_file)",
			 dir);
		return -1;
	}
	return 0;
}

int pan_format_check_or_write(MDB_txn *txn, MDB_dbi meta, const MDB_dbi *data, size_t data_count,
			      const struct pan_vault *v, const char *dir, char *err, size_t err_size)
{
	int rc = pan_format_check(txn, meta, v, dir, err, err_size);
	if (rc != MDB_NOTFOUND)
		return rc;
	struct pan_format_record want;
	if (expected_record(v, &want, dir, err, err_size))
		return -1;
	MDB_val k = {sizeof(STORE_PAN_FORMAT_KEY) - 1, (void *)STORE_PAN_FORMAT_KEY}, val;
	for (size_t i = 0; i < data_count; i++) {
		MDB_stat st;
		rc = mdb_stat(txn, data[i], &st);
		if (rc != 0) {
			snprintf(err, err_size, "%s: %s", dir, mdb_strerror(rc));
			return rc;
		}
		if (st.ms_entries > 0) {
			snprintf(err, err_size,
				 "%s holds data of the format before PAN protection (cleartext PANs): this build "
				 "refuses it; drain and delete it, or start from an empty directory "
				 "(docs/data-protection.md)",
				 dir);
			return -1;
		}
	}
	val.mv_size = sizeof(want);
	val.mv_data = &want;
	rc = mdb_put(txn, meta, &k, &val, 0);
	if (rc != 0)
		snprintf(err, err_size, "%s: writing the PAN protection format: %s", dir, mdb_strerror(rc));
	return rc;
}

int pan_format_check_or_write_env(MDB_env *env, MDB_dbi meta, const MDB_dbi *data, size_t data_count,
				  const struct pan_vault *v, const char *dir, char *err, size_t err_size)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(env, NULL, 0, &txn);
	if (rc) {
		snprintf(err, err_size, "%s: %s", dir, mdb_strerror(rc));
		return rc;
	}
	rc = pan_format_check_or_write(txn, meta, data, data_count, v, dir, err, err_size);
	if (rc == 0)
		return mdb_txn_commit(txn);
	mdb_txn_abort(txn);
	return rc;
}
