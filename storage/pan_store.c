#include "pan_store_private.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lmdb_exclusive.h"
#include "pan_format.h"

/* The sealed databases of each kind of store; the kind is the one whose marker database exists. */
struct store_kind {
	const char *name;
	const char *marker;
	size_t db_count;
	struct {
		const char *name;
		enum sealed_layout layout;
	} dbs[PAN_STORE_MAX_DBS];
};
static const struct store_kind kinds[] = {
	{"bank", "journal", 2, {{"cards", SEALED_BANK_CARD}, {"orders", SEALED_BANK_ORDER}}},
	{"network", "outbox", 3,
	 {{"cards", SEALED_NET_CARD}, {"orders", SEALED_NET_ORDER}, {"outbox", SEALED_NET_OUTBOX}}},
	{"saf", "advices", 2, {{"advices", SEALED_SAF_ADVICE}, {"exceptions", SEALED_SAF_EXCEPTION}}},
};

const char *pan_store_kind(const struct pan_store *s)
{
	return s->kind;
}

/* In txn: the format record checked, the kind found, its databases opened. */
static int open_databases(struct pan_store *s, MDB_txn *txn, char *err, size_t err_size)
{
	MDB_dbi meta;
	int rc = mdb_dbi_open(txn, "meta", 0, &meta);
	if (rc) {
		snprintf(err, err_size, "%s: no meta database (%s): not a store of this project", s->dir,
			 mdb_strerror(rc));
		return -1;
	}
	if (pan_format_check(txn, meta, s->vault, s->dir, err, err_size))
		return -1;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		MDB_dbi marker;
		if (mdb_dbi_open(txn, kinds[k].marker, 0, &marker) != 0)
			continue;
		s->kind = kinds[k].name;
		s->db_count = kinds[k].db_count;
		for (size_t i = 0; i < s->db_count; i++) {
			s->dbs[i].name = kinds[k].dbs[i].name;
			s->dbs[i].layout = kinds[k].dbs[i].layout;
			rc = mdb_dbi_open(txn, s->dbs[i].name, 0, &s->dbs[i].dbi);
			if (rc) {
				snprintf(err, err_size, "%s: %s store without its %s database: %s", s->dir, s->kind,
					 s->dbs[i].name, mdb_strerror(rc));
				return -1;
			}
		}
		return 0;
	}
	snprintf(err, err_size, "%s: neither a bank, a network nor a SAF store (no journal, outbox or advices)",
		 s->dir);
	return -1;
}

struct pan_store *pan_store_open(const char *dir, const struct pan_vault *vault, enum pan_store_access mode,
				 char *err, size_t err_size)
{
	char data[1100];
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	if (strlen(dir) >= sizeof(((struct pan_store *)0)->dir) || access(data, F_OK) != 0) {
		snprintf(err, err_size, "%s: not an LMDB store (no data.mdb)", dir);
		return NULL;
	}
	struct pan_store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	s->vault = vault;
	s->access = mode;
	s->exclusive_fd = -1;
	/* No map size set: LMDB takes the one the file was written with. */
	unsigned flags = MDB_NOTLS | (mode == PAN_STORE_READ ? MDB_RDONLY : 0);
	MDB_txn *txn = NULL;
	int rc = mdb_env_create(&s->env);
	if (rc == 0)
		rc = mdb_env_set_maxdbs(s->env, 8);
	if (rc == 0)
		rc = mdb_env_open(s->env, dir, flags, 0600);
	if (rc) {
		snprintf(err, err_size, "LMDB at %s: %s", dir, mdb_strerror(rc));
		pan_store_close(s);
		return NULL;
	}
	if (mode == PAN_STORE_EXCLUSIVE) {
		s->exclusive_fd = lmdb_exclusive_take(dir, err, err_size);
		if (s->exclusive_fd < 0) {
			pan_store_close(s);
			return NULL;
		}
	}
	rc = mdb_txn_begin(s->env, NULL, mode == PAN_STORE_READ ? MDB_RDONLY : 0, &txn);
	if (rc) {
		snprintf(err, err_size, "LMDB at %s: %s", dir, mdb_strerror(rc));
		pan_store_close(s);
		return NULL;
	}
	if (open_databases(s, txn, err, err_size)) {
		mdb_txn_abort(txn);
		pan_store_close(s);
		return NULL;
	}
	rc = mdb_txn_commit(txn); /* keeps the database handles */
	if (rc) {
		snprintf(err, err_size, "LMDB at %s: %s", dir, mdb_strerror(rc));
		pan_store_close(s);
		return NULL;
	}
	return s;
}

void pan_store_close(struct pan_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	lmdb_exclusive_release(s->exclusive_fd); /* after the close: it drops LMDB's lock too */
	free(s);
}

const char *pan_store_open_seal(const struct pan_store *s, const MDB_val *key, const uint8_t *value,
				const struct seal_place *place, uint8_t *text)
{
	size_t text_len = place->len - PAN_SEAL_OVERHEAD;
	if (pan_vault_open(s->vault, value + place->at, place->len, text))
		return "its seal does not open (tampered with, or its data key is not in the key file)";
	if (place->pan && (text_len != PAN_SEALED_TEXT || text[PAN_SEALED_TEXT - 1] != '\0'))
		return "its seal opens to no PAN";
	if (place->keyed_by_pan) {
		uint8_t lookup[PAN_LOOKUP_BYTES];
		if (key->mv_size != PAN_LOOKUP_BYTES ||
		    pan_vault_lookup(s->vault, (const char *)text, strlen((const char *)text), lookup) ||
		    memcmp(lookup, key->mv_data, PAN_LOOKUP_BYTES) != 0) {
			OPENSSL_cleanse(text, text_len);
			return "its PAN's lookup hash is not its key";
		}
	}
	return NULL;
}
