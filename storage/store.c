#include "store.h"

#include <string.h>

#include <stdio.h>

#include "lmdb_bridge.h"
#include "lmdb_env.h"
#include "pan_format.h"
#include "pan_mask.h"

static unsigned env_flags(enum durability d)
{
	/* Readers run on HTTP threads that are not theirs to keep: no TLS slots. */
	unsigned flags = MDB_NOTLS;
	switch (d) {
	case DURABILITY_SYNC:
		break;
	case DURABILITY_NOMETASYNC:
		flags |= MDB_NOMETASYNC;
		break;
	case DURABILITY_ASYNC:
		/* Not MDB_WRITEMAP, though it saves a copy per page: the map file is sparse,
		 * and a write into a hole the full disk cannot back is SIGBUS, not an error
		 * (store.h). Without it, bench_bank_udp measured no cost (docs/benchmarks.md). */
		flags |= MDB_NOSYNC;
		break;
	}
	return flags;
}

int store_open(struct store *s, const char *dir, uint64_t map_size, enum durability d, const struct pan_vault *vault,
	       char *err, size_t err_size)
{
	memset(s, 0, sizeof(*s));
	s->durability = d;
	s->vault = vault;
	if (!vault) {
		snprintf(err, err_size, "%s: no PAN protection keys given", dir);
		return STORE_INVALID;
	}
	const struct lmdb_named_db dbs[] = {
		{"accounts", &s->accounts}, {"cards", &s->cards}, {"journal", &s->journal},
		{"meta", &s->meta},	    {"orders", &s->orders},
	};
	/* More reader slots than LMDB's default 126: HTTP threads come and go, each may hold one. */
	const struct lmdb_env_settings settings = {.map_size = map_size, .flags = env_flags(d), .max_readers = 256,
						   .dbs = dbs, .db_count = sizeof(dbs) / sizeof(dbs[0])};
	MDB_env *env;
	int rc = lmdb_env_open(&env, dir, &settings, err, err_size);
	s->env = as_store_env(env);
	if (rc)
		return store_status_of(rc);
	const MDB_dbi data[] = {s->cards, s->journal, s->orders};
	rc = pan_format_check_or_write_env(env, s->meta, data, 3, vault, dir, err, err_size);
	if (rc) {
		store_close(s);
		return rc == -1 ? STORE_INVALID : store_status_of(rc);
	}
	return STORE_OK;
}

void store_close(struct store *s)
{
	if (!s->env)
		return;
	if (s->durability != DURABILITY_SYNC)
		mdb_env_sync(as_lmdb_env(s->env), 1);
	mdb_env_close(as_lmdb_env(s->env));
	s->env = NULL;
}

int store_sync(struct store *s)
{
	return store_status_of(mdb_env_sync(as_lmdb_env(s->env), 1));
}

int store_read_begin(struct store *s, struct store_txn **txn)
{
	return lmdb_txn_begin_on(s->env, MDB_RDONLY, txn);
}

int store_write_begin(struct store *s, struct store_txn **txn)
{
	return lmdb_txn_begin_on(s->env, 0, txn);
}

/* inline: the authorization path runs through these (GCC stopped inlining them once statuses were translated). */
static inline int get_fixed(struct store_txn *txn, MDB_dbi dbi, const void *key, size_t key_len, void *out,
			    size_t out_size)
{
	return lmdb_get_fixed(txn, dbi, key, key_len, out, out_size);
}

static inline int put_fixed(struct store_txn *txn, MDB_dbi dbi, const void *key, size_t key_len, const void *rec,
		     size_t rec_size, enum store_put_mode mode)
{
	MDB_val k = {key_len, (void *)key};
	MDB_val v = {rec_size, (void *)rec};
	return store_status_of(mdb_put(as_lmdb_txn(txn), dbi, &k, &v, lmdb_put_flags(mode)));
}

static int check_key(const char *key, size_t max)
{
	size_t n = strlen(key);
	return (n == 0 || n > max) ? STORE_INVALID : STORE_OK;
}

int store_account_get(struct store_txn *txn, const struct store *s, const char *id, struct account_record *out)
{
	if (check_key(id, STORE_ID_MAX - 1))
		return STORE_NOT_FOUND;
	return get_fixed(txn, s->accounts, id, strlen(id), out, sizeof(*out));
}

int store_account_put(struct store_txn *txn, const struct store *s, const char *id,
		      const struct account_record *rec, enum store_put_mode mode)
{
	int rc = check_key(id, STORE_ID_MAX - 1);
	if (rc)
		return rc;
	if (rec->balance < 0)
		return STORE_INVALID; /* the last line of defence: never store a negative balance */
	return put_fixed(txn, s->accounts, id, strlen(id), rec, sizeof(*rec), mode);
}

/* A card is found by the keyed hash of its PAN: one get, no PAN on disk. */
int store_card_get(struct store_txn *txn, const struct store *s, const char *pan, struct card_record *out)
{
	uint8_t key[PAN_LOOKUP_BYTES];
	size_t n = strlen(pan);
	if (n == 0 || n > STORE_PAN_MAX)
		return STORE_NOT_FOUND;
	if (pan_vault_lookup(s->vault, pan, n, key))
		return STORE_INVALID;
	MDB_val k = {sizeof(key), key}, v;
	int rc = mdb_get(as_lmdb_txn(txn), s->cards, &k, &v);
	if (rc != 0)
		return store_status_of(rc);
	if (v.mv_size != sizeof(struct card_stored))
		return STORE_CORRUPTED;
	memcpy(out, v.mv_data, sizeof(*out)); /* rec comes first in card_stored */
	return STORE_OK;
}

int store_card_put(struct store_txn *txn, const struct store *s, const char *pan, const struct card_record *rec,
		   enum store_put_mode mode)
{
	uint8_t key[PAN_LOOKUP_BYTES];
	size_t n = strlen(pan);
	if (n == 0 || n > STORE_PAN_MAX)
		return STORE_INVALID;
	struct card_stored stored;
	memset(&stored, 0, sizeof(stored));
	stored.rec = *rec;
	if (pan_vault_lookup(s->vault, pan, n, key) || pan_vault_seal_pan(s->vault, pan, &stored.pan))
		return STORE_INVALID;
	return put_fixed(txn, s->cards, key, sizeof(key), &stored, sizeof(stored), mode);
}

/* The record as written: its pan masked, the PAN sealed beside it. */
static int seal_into(const struct store *s, char pan[STORE_PAN_MAX + 1], struct sealed_pan *sealed)
{
	memset(sealed, 0, sizeof(*sealed));
	if (pan[0] == '\0')
		return STORE_OK; /* no PAN (a tombstone) */
	char masked[PAN_MASK_SIZE];
	if (pan_vault_seal_pan(s->vault, pan, sealed))
		return STORE_INVALID;
	pan_mask(pan, masked, sizeof(masked));
	memset(pan, 0, STORE_PAN_MAX + 1);
	memcpy(pan, masked, strlen(masked));
	return STORE_OK;
}

/* Back to the caller's record: the PAN opened from its seal. */
static int open_into(const struct store *s, char pan[STORE_PAN_MAX + 1], const struct sealed_pan *sealed)
{
	memset(pan, 0, STORE_PAN_MAX + 1);
	if (pan_sealed_is_empty(sealed))
		return STORE_OK;
	char clear[PAN_SEALED_TEXT];
	if (pan_vault_open_pan(s->vault, sealed, clear))
		return STORE_CORRUPTED; /* damaged, or sealed under a key the key file no longer has */
	memcpy(pan, clear, strlen(clear));
	return STORE_OK;
}

int store_order_get(struct store_txn *txn, const struct store *s, const char *key, struct order_record *out)
{
	if (check_key(key, STORE_ORDER_KEY_MAX))
		return STORE_NOT_FOUND;
	struct order_stored stored;
	int rc = get_fixed(txn, s->orders, key, strlen(key), &stored, sizeof(stored));
	if (rc == STORE_OK)
		rc = open_into(s, stored.rec.pan, &stored.pan);
	if (rc == STORE_OK)
		*out = stored.rec;
	return rc;
}

int store_order_put(struct store_txn *txn, const struct store *s, const char *key, const struct order_record *rec)
{
	int rc = check_key(key, STORE_ORDER_KEY_MAX);
	if (rc)
		return rc;
	struct order_stored stored;
	memset(&stored, 0, sizeof(stored));
	stored.rec = *rec;
	rc = seal_into(s, stored.rec.pan, &stored.pan);
	if (rc)
		return rc;
	return put_fixed(txn, s->orders, key, strlen(key), &stored, sizeof(stored), STORE_REPLACE);
}

int store_journal_get(struct store_txn *txn, const struct store *s, const struct journal_key *key,
		      struct journal_record *out)
{
	return get_fixed(txn, s->journal, key->bytes, JOURNAL_KEY_LEN, out, sizeof(*out));
}

int store_journal_set_pan(const struct store *s, struct journal_record *j, const char *pan)
{
	memset(j->pan_masked, 0, sizeof(j->pan_masked));
	memset(j->pan_lookup, 0, sizeof(j->pan_lookup));
	size_t n = strlen(pan);
	if (n == 0)
		return STORE_OK;
	uint8_t h[PAN_LOOKUP_BYTES];
	if (n > STORE_PAN_MAX || pan_vault_lookup(s->vault, pan, n, h))
		return STORE_INVALID;
	memcpy(j->pan_lookup, h, sizeof(j->pan_lookup));
	char masked[PAN_MASK_SIZE];
	pan_mask(pan, masked, sizeof(masked));
	memcpy(j->pan_masked, masked, strnlen(masked, sizeof(j->pan_masked) - 1));
	return STORE_OK;
}

bool store_journal_pan_is(const struct store *s, const struct journal_record *j, const char *pan)
{
	uint8_t h[PAN_LOOKUP_BYTES];
	size_t n = strlen(pan);
	if (n == 0 || n > STORE_PAN_MAX || pan_vault_lookup(s->vault, pan, n, h))
		return false;
	return memcmp(h, j->pan_lookup, sizeof(j->pan_lookup)) == 0;
}

int store_journal_group(struct store_txn *txn, const struct store *s, const struct journal_key *key, const char *pan,
			uint64_t amount, struct journal_group *out)
{
	memset(out, 0, sizeof(*out));
	/* The exact key first, wherever it sits in a large group: then the walk is not needed. */
	int rc = store_journal_get(txn, s, key, &out->exact_record);
	if (rc == STORE_OK) {
		out->exact = true;
		return STORE_OK;
	}
	if (rc != STORE_NOT_FOUND)
		return rc;
	MDB_cursor *c;
	rc = mdb_cursor_open(as_lmdb_txn(txn), s->journal, &c);
	if (rc)
		return store_status_of(rc);
	/* The STAN is the key's last part: the group is one run of keys, from the prefix and the smallest STAN. */
	struct journal_key from = *key;
	memset(from.bytes + JOURNAL_KEY_WITHOUT_STAN, 0, JOURNAL_KEY_LEN - JOURNAL_KEY_WITHOUT_STAN);
	MDB_val k = {JOURNAL_KEY_LEN, from.bytes}, v;
	unsigned walked = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != JOURNAL_KEY_LEN || memcmp(k.mv_data, key->bytes, JOURNAL_KEY_WITHOUT_STAN) != 0)
			break;
		if (++walked > JOURNAL_GROUP_WALK_MAX) {
			out->truncated = true;
			break;
		}
		struct journal_record j;
		if (v.mv_size != sizeof(j))
			continue;
		memcpy(&j, v.mv_data, sizeof(j));
		if (j.state == JOURNAL_TOMBSTONE) {
			if (pan[0] && j.amount == amount && store_journal_pan_is(s, &j, pan))
				out->tombstone_for_card = true;
		} else if (out->others < 2 && out->others++ == 0) {
			memcpy(out->other_key.bytes, k.mv_data, JOURNAL_KEY_LEN);
			out->other = j;
		}
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_status_of(rc);
	return STORE_OK;
}

int store_journal_find_by_keys_but_stan(struct store_txn *txn, const struct store *s, const struct journal_key *key,
					struct journal_key *found_key, struct journal_record *found)
{
	struct journal_group g;
	int rc = store_journal_group(txn, s, key, "", 0, &g);
	if (rc)
		return rc;
	if (g.others != 1 || g.truncated)
		return STORE_NOT_FOUND;
	*found_key = g.other_key;
	*found = g.other;
	return STORE_OK;
}

int store_journal_put(struct store_txn *txn, const struct store *s, const struct journal_key *key,
		      const struct journal_record *rec)
{
	return put_fixed(txn, s->journal, key->bytes, JOURNAL_KEY_LEN, rec, sizeof(*rec), STORE_REPLACE);
}

int store_meta_get(struct store_txn *txn, const struct store *s, const char *name, int64_t *value)
{
	int rc = get_fixed(txn, s->meta, name, strlen(name), value, sizeof(*value));
	if (rc == STORE_NOT_FOUND) {
		*value = 0;
		return STORE_OK;
	}
	return rc;
}

int store_meta_add(struct store_txn *txn, const struct store *s, const char *name, int64_t delta)
{
	int64_t value;
	int rc = store_meta_get(txn, s, name, &value);
	if (rc)
		return rc;
	if (__builtin_add_overflow(value, delta, &value))
		return STORE_INVALID; /* a total beyond int64: refuse rather than wrap */
	return put_fixed(txn, s->meta, name, strlen(name), &value, sizeof(value), STORE_REPLACE);
}

typedef void scan_visit(const void *key, size_t key_len, const void *value, size_t value_len, void *ctx);

static int scan(struct store_txn *txn, MDB_dbi dbi, scan_visit *visit, void *ctx)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(as_lmdb_txn(txn), dbi, &c);
	if (rc)
		return store_status_of(rc);
	MDB_val k, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		visit(k.mv_data, k.mv_size, v.mv_data, v.mv_size, ctx);
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? STORE_OK : store_status_of(rc);
}

int store_scan(struct store_txn *txn, const struct store *s, enum store_table table, scan_visit *visit, void *ctx)
{
	switch (table) {
	case STORE_ACCOUNTS:
		return scan(txn, s->accounts, visit, ctx);
	case STORE_CARDS:
		return scan(txn, s->cards, visit, ctx);
	case STORE_JOURNAL:
		return scan(txn, s->journal, visit, ctx);
	case STORE_ORDERS:
		return scan(txn, s->orders, visit, ctx);
	}
	return STORE_INVALID;
}

static void add_account(const void *key, size_t key_len, const void *rec, size_t rec_size, void *ctx)
{
	(void)key;
	(void)key_len;
	struct ledger_totals *t = ctx;
	struct account_record a;
	if (rec_size != sizeof(a))
		return;
	memcpy(&a, rec, sizeof(a)); /* LMDB values carry no alignment promise */
	t->accounts++;
	if (__builtin_add_overflow(t->total_balance, a.balance, &t->total_balance))
		t->overflow = true;
}

static void add_journal(const void *key, size_t key_len, const void *rec, size_t rec_size, void *ctx)
{
	(void)key;
	(void)key_len;
	struct ledger_totals *t = ctx;
	struct journal_record j;
	if (rec_size != sizeof(j))
		return;
	memcpy(&j, rec, sizeof(j));
	switch (j.state) {
	case JOURNAL_APPROVED:
		t->approved_count++;
		if (__builtin_add_overflow(t->approved_amount, j.amount, &t->approved_amount))
			t->overflow = true;
		break;
	case JOURNAL_REVERSED:
		t->reversed_count++;
		if (__builtin_add_overflow(t->reversed_amount, j.amount, &t->reversed_amount))
			t->overflow = true;
		break;
	case JOURNAL_DECLINED:
		t->declined_count++;
		break;
	case JOURNAL_TOMBSTONE:
		t->tombstone_count++;
		break;
	}
}

int store_ledger_totals(struct store *s, struct ledger_totals *out)
{
	memset(out, 0, sizeof(*out));
	struct store_txn *txn;
	int rc = store_read_begin(s, &txn);
	if (rc)
		return rc;
	rc = scan(txn, s->accounts, add_account, out);
	if (rc == 0)
		rc = scan(txn, s->journal, add_journal, out);
	if (rc == 0)
		rc = store_meta_get(txn, s, STORE_META_CREATED_TOTAL, &out->created_total);
	store_abort(txn);
	if (rc == 0 && out->overflow)
		rc = STORE_INVALID;
	return rc;
}
