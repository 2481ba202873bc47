/*
 * pan_store_reseal: every record sealed under an older data key re-sealed
 * with the current one, in bounded write transactions. Each transaction walks
 * at most `batch` records from where the last one stopped (a copy of its last
 * key: LMDB cursors do not outlive their transaction) and rewrites each record
 * in place (MDB_CURRENT, same key, same size): a crash leaves every record as
 * a committed transaction left it, sealed under one key or the other.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pan_store_private.h"

struct reseal_walk {
	struct pan_store *s;
	const struct pan_store_db *db;
	pan_damaged_fn on_damaged;
	void *ctx;
	struct pan_reseal_result *out;
	uint8_t *text, *value; /* the opened seal; the record being rewritten */
	size_t text_size, value_size;
};

static int grow(uint8_t **buf, size_t *size, size_t want)
{
	if (want <= *size)
		return 0;
	uint8_t *bigger = realloc(*buf, want);
	if (!bigger)
		return ENOMEM;
	*buf = bigger;
	*size = want;
	return 0;
}

static void damaged(struct reseal_walk *w, const MDB_val *k, uint32_t key_id, const char *why)
{
	w->out->damaged++;
	if (w->on_damaged)
		w->on_damaged(w->ctx, w->db->name, k->mv_data, k->mv_size, key_id, why);
}

/* The record under the cursor: left alone, or rewritten with its seal under the current key. */
static int reseal_one(struct reseal_walk *w, MDB_cursor *c, const MDB_val *k, const MDB_val *v)
{
	struct seal_place place;
	enum seal_found found = sealed_layout_find(w->db->layout, v->mv_data, v->mv_size, &place);
	if (found == SEAL_NONE) {
		w->out->unsealed++;
		return 0;
	}
	uint32_t id = place.len >= 4 ? sealed_key_id((const uint8_t *)v->mv_data + place.at) : PAN_USAGE_NO_KEY;
	if (found == SEAL_MALFORMED) {
		damaged(w, k, id, "its size or checksum is not its database's record");
		return 0;
	}
	/* Opened even under the current key: a damaged record is reported whichever key it names. */
	int rc = grow(&w->text, &w->text_size, place.len);
	if (rc)
		return rc;
	const char *why = pan_store_open_seal(w->s, k, v->mv_data, &place, w->text);
	if (why) {
		damaged(w, k, id, why);
		return 0;
	}
	size_t text_len = place.len - PAN_SEAL_OVERHEAD;
	if (id == pan_vault_current_key_id(w->s->vault)) {
		w->out->current++;
		OPENSSL_cleanse(w->text, text_len);
		return 0;
	}
	rc = grow(&w->value, &w->value_size, v->mv_size);
	if (rc == 0) {
		memcpy(w->value, v->mv_data, v->mv_size);
		rc = pan_vault_seal(w->s->vault, w->text, text_len, w->value + place.at) ? EIO : 0;
	}
	OPENSSL_cleanse(w->text, text_len);
	if (rc)
		return rc;
	sealed_layout_after_reseal(w->db->layout, w->value, v->mv_size);
	MDB_val key = *k, nv = {v->mv_size, w->value};
	rc = mdb_cursor_put(c, &key, &nv, MDB_CURRENT);
	if (rc == 0)
		w->out->resealed++;
	return rc;
}

/*
 * One write transaction: at most batch records from the one after `resume`
 * (the first when resume_len is 0). *done when the database's end was reached.
 */
static int one_batch(struct reseal_walk *w, size_t batch, uint8_t *resume, size_t *resume_len, bool *done)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(w->s->env, NULL, 0, &txn);
	if (rc)
		return rc;
	MDB_cursor *c;
	rc = mdb_cursor_open(txn, w->db->dbi, &c);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	MDB_val k = {*resume_len, resume}, v;
	int got = mdb_cursor_get(c, &k, &v, *resume_len ? MDB_SET_RANGE : MDB_FIRST);
	if (got == 0 && *resume_len && k.mv_size == *resume_len && memcmp(k.mv_data, resume, *resume_len) == 0)
		got = mdb_cursor_get(c, &k, &v, MDB_NEXT); /* done in the last batch */
	size_t visited = 0;
	for (; got == 0 && visited < batch; visited++) {
		if (k.mv_size > 511) { /* LMDB's own key limit: never, but the copy below must fit */
			got = MDB_BAD_VALSIZE;
			break;
		}
		memcpy(resume, k.mv_data, k.mv_size); /* before the put: the key may live on a page it moves */
		*resume_len = k.mv_size;
		got = reseal_one(w, c, &k, &v);
		if (got == 0)
			got = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	*done = got == MDB_NOTFOUND;
	rc = got == MDB_NOTFOUND || got == 0 ? 0 : got;
	mdb_cursor_close(c);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc == 0)
		w->out->transactions++;
	return rc;
}

int pan_store_reseal(struct pan_store *s, size_t batch, pan_damaged_fn on_damaged, void *ctx,
		     struct pan_reseal_result *out, char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (s->access != PAN_STORE_EXCLUSIVE) {
		snprintf(err, err_size, "%s: re-sealing needs the store opened exclusively", s->dir);
		return -1;
	}
	struct reseal_walk w = {.s = s, .on_damaged = on_damaged, .ctx = ctx, .out = out};
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < s->db_count; i++) {
		w.db = &s->dbs[i];
		uint8_t resume[512];
		size_t resume_len = 0;
		bool done = false;
		while (rc == 0 && !done)
			rc = one_batch(&w, batch ? batch : 1, resume, &resume_len, &done);
		if (rc)
			snprintf(err, err_size, "%s: re-sealing %s: %s (what was committed stays: run it again)",
				 s->dir, w.db->name, mdb_strerror(rc));
	}
	free(w.text);
	if (w.value)
		OPENSSL_cleanse(w.value, w.value_size);
	free(w.value);
	return rc ? -1 : 0;
}
