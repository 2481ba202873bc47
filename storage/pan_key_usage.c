/* pan_store_usage: every sealed record of a store counted by data key, in one read transaction. */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>

#include "pan_store_private.h"

static struct pan_usage_row *row_of(struct pan_usage *u, const char *db, uint32_t key_id)
{
	for (size_t i = 0; i < u->row_count; i++)
		if (u->rows[i].db == db && u->rows[i].key_id == key_id)
			return &u->rows[i];
	if (u->row_count >= PAN_USAGE_MAX_ROWS - 1) { /* the last row takes whatever does not fit */
		struct pan_usage_row *more = &u->rows[PAN_USAGE_MAX_ROWS - 1];
		if (u->row_count == PAN_USAGE_MAX_ROWS - 1) {
			*more = (struct pan_usage_row){.db = "(more ids)", .key_id = PAN_USAGE_NO_KEY};
			u->row_count++;
		}
		return more;
	}
	struct pan_usage_row *r = &u->rows[u->row_count++];
	*r = (struct pan_usage_row){.db = db, .key_id = key_id};
	return r;
}

/* One record: counted under the key its seal names, as opening or damaged. */
static int count(const struct pan_store *s, const struct pan_store_db *db, const MDB_val *k, const MDB_val *v,
		 struct pan_usage *u, uint8_t **text, size_t *text_size)
{
	struct seal_place place;
	enum seal_found found = sealed_layout_find(db->layout, v->mv_data, v->mv_size, &place);
	if (found == SEAL_NONE) {
		row_of(u, db->name, PAN_USAGE_NO_KEY)->records++;
		return 0;
	}
	uint32_t id = place.len >= 4 ? sealed_key_id((const uint8_t *)v->mv_data + place.at) : PAN_USAGE_NO_KEY;
	if (found == SEAL_MALFORMED) {
		row_of(u, db->name, id)->damaged++;
		return 0;
	}
	if (place.len > *text_size) {
		uint8_t *bigger = realloc(*text, place.len);
		if (!bigger)
			return -1;
		*text = bigger;
		*text_size = place.len;
	}
	struct pan_usage_row *r = row_of(u, db->name, id);
	if (pan_store_open_seal(s, k, v->mv_data, &place, *text))
		r->damaged++;
	else
		r->records++;
	OPENSSL_cleanse(*text, place.len - PAN_SEAL_OVERHEAD);
	return 0;
}

int pan_store_usage(struct pan_store *s, struct pan_usage *out, char *err, size_t err_size)
{
	out->row_count = 0;
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc) {
		snprintf(err, err_size, "%s: %s", s->dir, mdb_strerror(rc));
		return -1;
	}
	uint8_t *text = NULL;
	size_t text_size = 0;
	for (size_t i = 0; rc == 0 && i < s->db_count; i++) {
		MDB_cursor *c;
		rc = mdb_cursor_open(txn, s->dbs[i].dbi, &c);
		MDB_val k, v;
		int got = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_FIRST);
		for (; got == 0; got = mdb_cursor_get(c, &k, &v, MDB_NEXT))
			if (count(s, &s->dbs[i], &k, &v, out, &text, &text_size)) {
				got = ENOMEM;
				break;
			}
		if (rc == 0) {
			mdb_cursor_close(c);
			rc = got == MDB_NOTFOUND ? 0 : got;
		}
	}
	free(text);
	mdb_txn_abort(txn);
	if (rc) {
		snprintf(err, err_size, "%s: reading: %s", s->dir, mdb_strerror(rc));
		return -1;
	}
	return 0;
}
