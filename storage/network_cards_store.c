#include "network_cards_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmdb_bridge.h"
#include "lmdb_env.h"
#include "pan_format.h"

int network_store_open(struct network_store *s, const char *dir, uint64_t map_size, const struct pan_vault *vault,
		       char *err, size_t err_size)
{
	memset(s, 0, sizeof(*s));
	s->vault = vault;
	if (!vault) {
		snprintf(err, err_size, "%s: no PAN protection keys given", dir);
		return STORE_INVALID;
	}
	const struct lmdb_named_db dbs[] = {
		{"customers", &s->customers}, {"cards", &s->cards},     {"orders", &s->orders},
		{"production", &s->production}, {"outbox", &s->outbox}, {"notifications", &s->notifications},
		{"meta", &s->meta},
	};
	/* Plain durable commits: a card, its production entry and its notifications are few and
	 * must survive a crash; MDB_NOTLS because HTTP and worker threads come and go. */
	const struct lmdb_env_settings settings = {.map_size = map_size, .flags = MDB_NOTLS, .dbs = dbs,
						   .db_count = sizeof(dbs) / sizeof(dbs[0])};
	MDB_env *env;
	int rc = lmdb_env_open(&env, dir, &settings, err, err_size);
	s->env = as_store_env(env);
	if (rc)
		return store_status_of(rc);
	const MDB_dbi data[] = {s->cards, s->orders, s->production, s->outbox, s->notifications};
	rc = pan_format_check_or_write_env(env, s->meta, data, 5, vault, dir, err, err_size);
	if (rc) {
		network_store_close(s);
		return rc == -1 ? STORE_INVALID : store_status_of(rc);
	}
	return STORE_OK;
}

/* The card's key: the lookup hash of its PAN. */
static int card_key(const struct network_store *s, const char *pan, uint8_t key[PAN_LOOKUP_BYTES])
{
	size_t n = strlen(pan);
	if (n == 0 || n >= NET_PAN_MAX)
		return STORE_INVALID;
	return pan_vault_lookup(s->vault, pan, n, key) ? STORE_INVALID : STORE_OK;
}

void network_store_close(struct network_store *s)
{
	if (s->env)
		mdb_env_close(as_lmdb_env(s->env));
	s->env = NULL;
}

int network_store_read_begin(struct network_store *s, struct store_txn **txn)
{
	return lmdb_txn_begin_on(s->env, MDB_RDONLY, txn);
}

int network_store_write_begin(struct network_store *s, struct store_txn **txn)
{
	return lmdb_txn_begin_on(s->env, 0, txn);
}

static int get_fixed(struct store_txn *t, MDB_dbi dbi, const void *key, size_t key_len, void *out, size_t size)
{
	if (key_len == 0 || key_len > 400)
		return STORE_NOT_FOUND;
	return lmdb_get_fixed(t, dbi, key, key_len, out, size);
}

static int put_raw(struct store_txn *t, MDB_dbi dbi, const void *key, size_t key_len, const void *val, size_t size,
		   unsigned flags)
{
	if (key_len == 0 || key_len > 400)
		return STORE_INVALID;
	MDB_val k = {key_len, (void *)key}, v = {size, (void *)val};
	return store_status_of(mdb_put(as_lmdb_txn(t), dbi, &k, &v, flags));
}

int net_customer_get(struct store_txn *t, const struct network_store *s, const char *id, struct net_customer *out)
{
	return get_fixed(t, s->customers, id, strlen(id), out, sizeof(*out));
}

int net_customer_put(struct store_txn *t, const struct network_store *s, const char *id, const struct net_customer *c)
{
	return put_raw(t, s->customers, id, strlen(id), c, sizeof(*c), 0);
}

int net_card_get(struct store_txn *t, const struct network_store *s, const char *pan, struct net_card *out)
{
	uint8_t key[PAN_LOOKUP_BYTES];
	if (card_key(s, pan, key))
		return STORE_NOT_FOUND;
	struct net_card_stored stored;
	int rc = get_fixed(t, s->cards, key, sizeof(key), &stored, sizeof(stored));
	if (rc == STORE_OK)
		*out = stored.card;
	return rc;
}

int net_card_put(struct store_txn *t, const struct network_store *s, const char *pan, const struct net_card *c,
		 enum store_put_mode mode)
{
	uint8_t key[PAN_LOOKUP_BYTES];
	struct net_card_stored stored;
	memset(&stored, 0, sizeof(stored));
	stored.card = *c;
	int rc = card_key(s, pan, key);
	if (rc == STORE_OK && pan_vault_seal_pan(s->vault, pan, &stored.pan))
		rc = STORE_INVALID;
	if (rc)
		return rc;
	return put_raw(t, s->cards, key, sizeof(key), &stored, sizeof(stored), lmdb_put_flags(mode));
}

int net_card_count(struct store_txn *t, const struct network_store *s, size_t *count)
{
	MDB_stat st;
	int rc = mdb_stat(as_lmdb_txn(t), s->cards, &st);
	*count = rc ? 0 : st.ms_entries;
	return store_status_of(rc);
}

static size_t order_key(char *key, size_t size, const char *bank, const char *order_id)
{
	int n = snprintf(key, size, "%s:%s", bank, order_id);
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

int net_order_get(struct store_txn *t, const struct network_store *s, const char *bank, const char *order_id,
		  char pan[NET_PAN_MAX])
{
	char key[128];
	size_t n = order_key(key, sizeof(key), bank, order_id);
	struct sealed_pan sealed;
	int rc = get_fixed(t, s->orders, key, n, &sealed, sizeof(sealed));
	if (rc == STORE_OK && pan_vault_open_pan(s->vault, &sealed, pan))
		rc = STORE_CORRUPTED; /* damaged, or sealed under a key the key file no longer has */
	return rc;
}

int net_order_put(struct store_txn *t, const struct network_store *s, const char *bank, const char *order_id,
		  const char *pan)
{
	char key[128];
	size_t n = order_key(key, sizeof(key), bank, order_id);
	struct sealed_pan sealed;
	if (pan_vault_seal_pan(s->vault, pan, &sealed))
		return STORE_INVALID;
	return put_raw(t, s->orders, key, n, &sealed, sizeof(sealed), MDB_NOOVERWRITE);
}

int net_counter_next(struct store_txn *t, const struct network_store *s, const char *name, uint64_t initial,
		     uint64_t *value)
{
	uint64_t v;
	int rc = get_fixed(t, s->meta, name, strlen(name), &v, sizeof(v));
	if (rc == STORE_NOT_FOUND)
		v = initial;
	else if (rc)
		return rc;
	*value = v;
	v++;
	return put_raw(t, s->meta, name, strlen(name), &v, sizeof(v), 0);
}

static void be64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

static uint64_t from_be64(const uint8_t *in)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

/* Due time first, big-endian, so that LMDB's byte order is time order; then the card's key. */
#define PRODUCTION_KEY_LEN (8 + PAN_LOOKUP_BYTES)
static int production_key(const struct network_store *s, uint8_t key[PRODUCTION_KEY_LEN], int64_t due_ms,
			  const char *pan)
{
	be64(key, (uint64_t)due_ms);
	return card_key(s, pan, key + 8);
}

int net_production_add(struct store_txn *t, const struct network_store *s, int64_t due_ms, const char *pan)
{
	uint8_t key[PRODUCTION_KEY_LEN];
	int rc = production_key(s, key, due_ms, pan);
	return rc ? rc : put_raw(t, s->production, key, sizeof(key), "", 0, 0);
}

int net_production_del(struct store_txn *t, const struct network_store *s, int64_t due_ms, const char *pan)
{
	uint8_t key[PRODUCTION_KEY_LEN];
	int rc = production_key(s, key, due_ms, pan);
	if (rc)
		return rc;
	MDB_val k = {sizeof(key), key};
	return store_status_of(mdb_del(as_lmdb_txn(t), s->production, &k, NULL));
}

int net_production_first(struct store_txn *t, const struct network_store *s, int64_t *due_ms, char pan[NET_PAN_MAX])
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(as_lmdb_txn(t), s->production, &c);
	if (rc)
		return store_status_of(rc);
	MDB_val k, v;
	rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	if (rc == 0 && k.mv_size != PRODUCTION_KEY_LEN)
		rc = MDB_CORRUPTED;
	if (rc == 0)
		*due_ms = (int64_t)from_be64(k.mv_data);
	/* The entry names the card by its hash: the PAN comes from the card's seal. Cards and their
	 * production entries are written in one transaction, so the card is there. */
	MDB_val card_k = {PAN_LOOKUP_BYTES, rc == 0 ? (uint8_t *)k.mv_data + 8 : NULL}, card_v;
	if (rc == 0) {
		rc = mdb_get(as_lmdb_txn(t), s->cards, &card_k, &card_v);
		if (rc == MDB_NOTFOUND || (rc == 0 && card_v.mv_size != sizeof(struct net_card_stored)))
			rc = MDB_CORRUPTED; /* not "queue empty": the entry is there, its card is not */
	}
	if (rc == 0) {
		struct net_card_stored stored;
		memcpy(&stored, card_v.mv_data, sizeof(stored));
		if (pan_vault_open_pan(s->vault, &stored.pan, pan))
			rc = MDB_CORRUPTED;
	}
	mdb_cursor_close(c);
	return store_status_of(rc);
}

int net_outbox_put(struct store_txn *t, const struct network_store *s, uint64_t seq, const struct outbox_header *h,
		   const char *body, size_t body_len)
{
	uint8_t key[8];
	be64(key, seq);
	MDB_val k = {8, key}, v = {sizeof(*h) + body_len + PAN_SEAL_OVERHEAD, NULL};
	int rc = mdb_put(as_lmdb_txn(t), s->outbox, &k, &v, MDB_RESERVE);
	if (rc)
		return store_status_of(rc);
	memcpy(v.mv_data, h, sizeof(*h));
	/* The body names the card (the bank's copy in full): sealed straight into the reserved space. */
	return pan_vault_seal(s->vault, body, body_len, (uint8_t *)v.mv_data + sizeof(*h)) ? STORE_INVALID : STORE_OK;
}

int net_outbox_get(struct store_txn *t, const struct network_store *s, uint64_t seq, struct outbox_header *h,
		   char **body, size_t *body_len)
{
	uint8_t key[8];
	be64(key, seq);
	MDB_val k = {8, key}, v;
	int rc = mdb_get(as_lmdb_txn(t), s->outbox, &k, &v);
	if (rc)
		return store_status_of(rc);
	if (v.mv_size < sizeof(*h) + PAN_SEAL_OVERHEAD)
		return STORE_CORRUPTED;
	memcpy(h, v.mv_data, sizeof(*h));
	if (body) {
		size_t len = v.mv_size - sizeof(*h) - PAN_SEAL_OVERHEAD;
		char *text = malloc(len + 1);
		if (!text)
			return STORE_INVALID;
		if (pan_vault_open(s->vault, (const uint8_t *)v.mv_data + sizeof(*h), v.mv_size - sizeof(*h), text)) {
			free(text);
			return STORE_CORRUPTED;
		}
		text[len] = '\0';
		*body = text;
		*body_len = len;
	}
	return STORE_OK;
}

int net_outbox_del(struct store_txn *t, const struct network_store *s, uint64_t seq)
{
	uint8_t key[8];
	be64(key, seq);
	MDB_val k = {8, key};
	return store_status_of(mdb_del(as_lmdb_txn(t), s->outbox, &k, NULL));
}

int net_outbox_next_due(struct store_txn *t, const struct network_store *s, uint64_t *seq, int64_t *due_ms)
{
	/* A scan: the outbox holds only undelivered entries, a handful in practice. */
	MDB_cursor *c;
	int rc = mdb_cursor_open(as_lmdb_txn(t), s->outbox, &c);
	if (rc)
		return store_status_of(rc);
	MDB_val k, v;
	bool found = false;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct outbox_header h;
		if (k.mv_size != 8 || v.mv_size < sizeof(h))
			continue;
		memcpy(&h, v.mv_data, sizeof(h));
		if (h.state != OUTBOX_PENDING)
			continue;
		if (!found || h.next_attempt_ms < *due_ms) {
			*due_ms = h.next_attempt_ms;
			*seq = from_be64(k.mv_data);
			found = true;
		}
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return store_status_of(rc);
	return found ? STORE_OK : STORE_NOT_FOUND;
}

int net_notification_put(struct store_txn *t, const struct network_store *s, const char *customer, uint64_t seq,
			 const char *json_text)
{
	char key[NET_ID_MAX + 20];
	int n = snprintf(key, sizeof(key), "%s/%016llx", customer, (unsigned long long)seq);
	if (n < 0 || (size_t)n >= sizeof(key))
		return STORE_INVALID;
	return put_raw(t, s->notifications, key, (size_t)n, json_text, strlen(json_text), 0);
}

int net_notification_list(struct store_txn *t, const struct network_store *s, const char *customer,
			  void (*visit)(const char *json_text, size_t len, void *ctx), void *ctx)
{
	char prefix[NET_ID_MAX + 2];
	int n = snprintf(prefix, sizeof(prefix), "%s/", customer);
	if (n < 0 || (size_t)n >= sizeof(prefix))
		return STORE_NOT_FOUND;
	MDB_cursor *c;
	int rc = mdb_cursor_open(as_lmdb_txn(t), s->notifications, &c);
	if (rc)
		return store_status_of(rc);
	MDB_val k = {(size_t)n, prefix}, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < (size_t)n || memcmp(k.mv_data, prefix, (size_t)n) != 0)
			break;
		visit(v.mv_data, v.mv_size, ctx);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND || rc == 0 ? STORE_OK : store_status_of(rc);
}

int net_card_scan(struct store_txn *t, const struct network_store *s,
		  void (*visit)(const char *pan, const struct net_card *c, void *ctx), void *ctx)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(as_lmdb_txn(t), s->cards, &c);
	if (rc)
		return store_status_of(rc);
	MDB_val k, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != PAN_LOOKUP_BYTES || v.mv_size != sizeof(struct net_card_stored))
			continue;
		struct net_card_stored stored;
		memcpy(&stored, v.mv_data, sizeof(stored));
		char pan[PAN_SEALED_TEXT];
		if (pan_vault_open_pan(s->vault, &stored.pan, pan))
			continue; /* a damaged seal: that card cannot be checked, the others still can */
		visit(pan, &stored.card, ctx);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? STORE_OK : store_status_of(rc);
}
