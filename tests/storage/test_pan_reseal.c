/*
 * Data-key rotation that finishes (docs/data-protection.md, "Rotating a data
 * key"): stores holding records sealed under data keys 1 and 2 in every
 * sealed database (bank cards and orders, network cards, orders and outbox,
 * SAF advices and exceptions); pan_store_usage counts them by key, the
 * re-seal moves every one to the current key in bounded transactions and
 * changes nothing but the seals, every PAN still opens and every card is
 * still found by its lookup after key 1 left the key file; a re-seal killed
 * mid-transaction leaves every record under one key or the other; a tampered
 * record is reported, not skipped; a store another process has open is refused; and
 * the pan-keys program's usage, reseal and retire do the same from the shell.
 */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "network_cards_store.h"
#include "pan_keys.h"
#include "pan_store.h"
#include "saf_store.h"
#include "sealed_layout.h"
#include "store.h"
#include "test_log_file.h"
#include "test_process.h"
#include "test_temp_dir.h"

#define MAP (32u << 20)
/* Per store and key: how many records each sealed database gets. */
#define CARDS 23
#define ORDERS 11 /* plus 2 orders without a card yet (no seal) */
#define OUTBOX 5
#define ADVICES 9
#define EXCEPTIONS 4

static char dir[256], keys[320], bank_dir[320], net_dir[320], saf_dir[330], log_path[320];

static void setup(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "pan-reseal"));
	snprintf(keys, sizeof(keys), "%s/pan.keys", dir);
	snprintf(bank_dir, sizeof(bank_dir), "%s/big_bank", dir);
	snprintf(net_dir, sizeof(net_dir), "%s/mastercard", dir);
	snprintf(saf_dir, sizeof(saf_dir), "%s/saf", net_dir);
	snprintf(log_path, sizeof(log_path), "%s/tool.log", dir);
}

static void teardown(void)
{
	test_temp_dir_remove(dir);
}

TestSuite(pan_reseal, .init = setup, .fini = teardown, .timeout = 120);

static struct pan_vault *vault(void)
{
	char err[512];
	struct pan_vault *v = pan_vault_load(keys, err, sizeof(err));
	cr_assert(v, "%s", err);
	return v;
}

/* The k-th PAN written while data key `key` was current. */
static void pan_of(char out[20], int key, int k)
{
	snprintf(out, 20, "51051%02d000%06d", key, k);
}

static void fill_bank(const struct pan_vault *v, int key)
{
	struct store s;
	char err[512], pan[20], name[40];
	cr_assert_eq(store_open(&s, bank_dir, MAP, DURABILITY_SYNC, v, err, sizeof(err)), 0, "%s", err);
	struct store_txn *t;
	cr_assert_eq(store_write_begin(&s, &t), 0);
	for (int k = 0; k < CARDS; k++) {
		pan_of(pan, key, k);
		struct card_record c = {.expiry = "3012", .state = CARD_ACTIVE};
		snprintf(c.account, sizeof(c.account), "big_bank-%d-%d", key, k);
		cr_assert_eq(store_card_put(t, &s, pan, &c, STORE_CREATE), 0);
		struct journal_key jk;
		char stan[8];
		snprintf(stan, sizeof(stan), "%06d", key * 100 + k);
		cr_assert(journal_key_build(&jk, "30000000003", stan, "251203101010", "RRN000000001", "TERM0001"));
		struct journal_record j = {.state = JOURNAL_APPROVED, .amount = 100};
		cr_assert_eq(store_journal_set_pan(&s, &j, pan), 0);
		cr_assert_eq(store_journal_put(t, &s, &jk, &j), 0);
	}
	for (int k = 0; k < ORDERS + 2; k++) {
		struct order_record o = {.state = k < ORDERS ? ORDER_CARD_KNOWN : ORDER_REQUESTED};
		if (k < ORDERS)
			pan_of(o.pan, key, k);
		snprintf(name, sizeof(name), "r:order-%d-%d", key, k);
		cr_assert_eq(store_order_put(t, &s, name, &o), 0);
	}
	cr_assert_eq(store_commit(t), 0);
	store_close(&s);
}

static void fill_network(const struct pan_vault *v, int key)
{
	struct network_store s;
	char err[512], pan[20], id[40];
	cr_assert_eq(network_store_open(&s, net_dir, MAP, v, err, sizeof(err)), 0, "%s", err);
	struct store_txn *t;
	cr_assert_eq(network_store_write_begin(&s, &t), 0);
	for (int k = 0; k < CARDS; k++) {
		pan_of(pan, key, k);
		struct net_card c = {.bank = "big_bank", .expiry = "3012", .state = NET_CARD_PRODUCED};
		cr_assert_eq(net_card_put(t, &s, pan, &c, STORE_CREATE), 0);
		if (k < ORDERS) {
			snprintf(id, sizeof(id), "order-%d-%d", key, k);
			cr_assert_eq(net_order_put(t, &s, "big_bank", id, pan), 0);
		}
		if (k < OUTBOX) {
			struct outbox_header h = {
				.state = OUTBOX_PENDING, .kind = OUTBOX_TO_BANK, .url = "http://bank/x"};
			char body[128];
			int n = snprintf(body, sizeof(body), "{\"event\":\"card.ready\",\"pan\":\"%s\"}", pan);
			cr_assert_eq(net_outbox_put(t, &s, (uint64_t)(key * 1000 + k), &h, body, (size_t)n), 0);
		}
	}
	cr_assert_eq(store_commit(t), 0);
	network_store_close(&s);
}

static struct saf_record advice(int key, int k)
{
	struct saf_record r;
	memset(&r, 0, sizeof(r));
	r.kind = SAF_SWITCH_REVERSAL;
	r.seq = (uint64_t)(key * 1000 + k + 1);
	snprintf(r.bank, sizeof(r.bank), "big_bank");
	pan_of(r.f.pan, key, k);
	snprintf(r.f.amount, sizeof(r.f.amount), "%012d", 100 + k);
	return r;
}

static void fill_saf(const struct pan_vault *v, int key)
{
	char err[512];
	struct saf_store *s = saf_store_open(saf_dir, MAP, v, err, sizeof(err));
	cr_assert(s, "%s", err);
	struct saf_record adds[ADVICES], expired[EXCEPTIONS];
	for (int k = 0; k < ADVICES; k++)
		adds[k] = advice(key, k);
	for (int k = 0; k < EXCEPTIONS; k++)
		expired[k] = advice(key, 500 + k);
	struct saf_batch b = {.adds = adds, .add_count = ADVICES, .now_unix_ms = 1};
	cr_assert_eq(saf_store_commit(s, &b, NULL, err, sizeof(err)), 0, "%s", err);
	/* Expired advices go to the exceptions (written sealed, as the switch does when retention passes). */
	struct saf_batch e = {.adds = expired, .add_count = EXCEPTIONS, .now_unix_ms = 2};
	cr_assert_eq(saf_store_commit(s, &e, NULL, err, sizeof(err)), 0, "%s", err);
	struct saf_batch x = {.expired = expired, .expired_count = EXCEPTIONS, .now_unix_ms = 3};
	cr_assert_eq(saf_store_commit(s, &x, NULL, err, sizeof(err)), 0, "%s", err);
	saf_store_close(s);
}

/* Every store with key 1's records, then (rotated) key 2's. */
static void populate(void)
{
	char err[512];
	cr_assert_eq(pan_keys_create(keys, err, sizeof(err)), 0, "%s", err);
	struct pan_vault *v1 = vault();
	fill_bank(v1, 1);
	fill_network(v1, 1);
	fill_saf(v1, 1);
	pan_vault_free(v1);
	uint32_t id;
	cr_assert_eq(pan_keys_rotate(keys, &id, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(id, 2);
	struct pan_vault *v2 = vault();
	fill_bank(v2, 2);
	fill_network(v2, 2);
	fill_saf(v2, 2);
	pan_vault_free(v2);
}

static uint64_t count_of(const struct pan_usage *u, const char *db, uint32_t key, bool damaged)
{
	uint64_t n = 0;
	for (size_t i = 0; i < u->row_count; i++)
		if (strcmp(u->rows[i].db, db) == 0 && u->rows[i].key_id == key)
			n += damaged ? u->rows[i].damaged : u->rows[i].records;
	return n;
}

static void usage_of(const char *store_dir, const struct pan_vault *v, struct pan_usage *u)
{
	char err[512];
	struct pan_store *s = pan_store_open(store_dir, v, PAN_STORE_READ, err, sizeof(err));
	cr_assert(s, "%s", err);
	cr_assert_eq(pan_store_usage(s, u, err, sizeof(err)), 0, "%s", err);
	pan_store_close(s);
}

/* What each sealed database holds under `key` after populate() (or all of it, after a re-seal: 2x). */
static void expect_counts(const struct pan_vault *v, uint32_t key, uint64_t times)
{
	static struct pan_usage u;
	usage_of(bank_dir, v, &u);
	cr_expect_eq(count_of(&u, "cards", key, false), CARDS * times);
	cr_expect_eq(count_of(&u, "orders", key, false), ORDERS * times);
	cr_expect_eq(count_of(&u, "orders", PAN_USAGE_NO_KEY, false), 2 * 2, "orders without a card: no seal");
	usage_of(net_dir, v, &u);
	cr_expect_eq(count_of(&u, "cards", key, false), CARDS * times);
	cr_expect_eq(count_of(&u, "orders", key, false), ORDERS * times);
	cr_expect_eq(count_of(&u, "outbox", key, false), OUTBOX * times);
	usage_of(saf_dir, v, &u);
	cr_expect_eq(count_of(&u, "advices", key, false), ADVICES * times);
	cr_expect_eq(count_of(&u, "exceptions", key, false), EXCEPTIONS * times);
}

Test(pan_reseal, usage_counts_every_sealed_database_by_key)
{
	populate();
	struct pan_vault *v = vault();
	expect_counts(v, 1, 1);
	expect_counts(v, 2, 1);
	static struct pan_usage u;
	usage_of(bank_dir, v, &u);
	for (size_t i = 0; i < u.row_count; i++)
		cr_expect_eq(u.rows[i].damaged, 0);
	pan_vault_free(v);
}

/* Every (database, key, value) of an environment, as raw bytes. */
struct entry {
	char db[16];
	size_t klen, vlen;
	uint8_t *k, *v;
};
struct snapshot {
	size_t n;
	struct entry e[512];
};

static void take_snapshot(const char *store_dir, const char *const *dbs, struct snapshot *out)
{
	MDB_env *env;
	cr_assert_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	cr_assert_eq(mdb_env_open(env, store_dir, MDB_RDONLY, 0600), 0);
	MDB_txn *txn;
	cr_assert_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	out->n = 0;
	for (const char *const *db = dbs; *db; db++) {
		MDB_dbi dbi;
		cr_assert_eq(mdb_dbi_open(txn, *db, 0, &dbi), 0, "%s", *db);
		MDB_cursor *c;
		cr_assert_eq(mdb_cursor_open(txn, dbi, &c), 0);
		MDB_val k, v;
		for (int got = mdb_cursor_get(c, &k, &v, MDB_FIRST); got == 0;
		     got = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			cr_assert_lt(out->n, 512);
			struct entry *e = &out->e[out->n++];
			snprintf(e->db, sizeof(e->db), "%s", *db);
			e->klen = k.mv_size;
			e->vlen = v.mv_size;
			e->k = malloc(k.mv_size);
			e->v = malloc(v.mv_size);
			memcpy(e->k, k.mv_data, k.mv_size);
			memcpy(e->v, v.mv_data, v.mv_size);
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

static void free_snapshot(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->e[i].k);
		free(s->e[i].v);
	}
}

static enum sealed_layout layout_of(const char *kind, const char *db)
{
	if (strcmp(kind, "saf") == 0)
		return strcmp(db, "advices") == 0 ? SEALED_SAF_ADVICE : SEALED_SAF_EXCEPTION;
	if (strcmp(db, "outbox") == 0)
		return SEALED_NET_OUTBOX;
	if (strcmp(kind, "bank") == 0)
		return strcmp(db, "cards") == 0 ? SEALED_BANK_CARD : SEALED_BANK_ORDER;
	return strcmp(db, "cards") == 0 ? SEALED_NET_CARD : SEALED_NET_ORDER;
}

/*
 * Same keys in the same order, same sizes; in sealed databases, the seal now
 * names key 2 and every other byte is as it was (a SAF record's checksum,
 * which covers the seal, aside); everything else byte for byte.
 */
static void expect_only_seals_changed(const char *kind, const struct snapshot *a, const struct snapshot *b,
				      const char *const *sealed)
{
	cr_assert_eq(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct entry *x = &a->e[i], *y = &b->e[i];
		cr_assert_str_eq(x->db, y->db);
		cr_assert(x->klen == y->klen && memcmp(x->k, y->k, x->klen) == 0, "keys changed in %s", x->db);
		cr_assert_eq(x->vlen, y->vlen);
		bool is_sealed = false;
		for (const char *const *s = sealed; *s; s++)
			is_sealed |= strcmp(*s, x->db) == 0;
		struct seal_place p;
		if (!is_sealed || sealed_layout_find(layout_of(kind, x->db), x->v, x->vlen, &p) != SEAL_AT) {
			cr_expect(memcmp(x->v, y->v, x->vlen) == 0, "a record without a seal changed in %s", x->db);
			continue;
		}
		cr_expect_eq(sealed_key_id(y->v + p.at), 2, "%s: not under key 2", x->db);
		size_t skip_at = p.at, skip_end = p.at + p.len, sum_at = (size_t)-1;
		if (strcmp(kind, "saf") == 0)
			sum_at = (strcmp(x->db, "exceptions") == 0 ? offsetof(struct saf_exception, entry) : 0) +
				 offsetof(struct saf_record, checksum);
		for (size_t j = 0; j < x->vlen; j++) {
			if ((j >= skip_at && j < skip_end) || (j >= sum_at && j < sum_at + 8))
				continue;
			cr_assert_eq(x->v[j], y->v[j], "%s: byte %zu outside the seal changed", x->db, j);
		}
	}
}

static struct pan_reseal_result reseal(const char *store_dir, const struct pan_vault *v, size_t batch)
{
	char err[512];
	struct pan_store *s = pan_store_open(store_dir, v, PAN_STORE_EXCLUSIVE, err, sizeof(err));
	cr_assert(s, "%s", err);
	struct pan_reseal_result r;
	cr_assert_eq(pan_store_reseal(s, batch, NULL, NULL, &r, err, sizeof(err)), 0, "%s", err);
	pan_store_close(s);
	return r;
}

/* A SAF record's PAN is the one advice() gave it. */
static bool pan_matches(const struct saf_record *r)
{
	char want[20];
	int key = (int)(r->seq / 1000);
	pan_of(want, key, (int)(r->seq % 1000) - 1);
	return strcmp(r->f.pan, want) == 0;
}

static void advice_opens(void *ctx, const struct saf_record *r)
{
	cr_expect(pan_matches(r), "advice %llu", (unsigned long long)r->seq);
	++*(size_t *)ctx;
}

static void exception_opens(void *ctx, uint64_t seq, const struct saf_exception *e)
{
	cr_expect(pan_matches(&e->entry.record), "exception %llu", (unsigned long long)seq);
	++*(size_t *)ctx;
}

/* After key 1 left the key file: every PAN opens and every card is found by its PAN. */
static void expect_everything_opens(const struct pan_vault *v)
{
	char err[512], pan[20], got[NET_PAN_MAX], id[40];
	struct store s;
	cr_assert_eq(store_open(&s, bank_dir, MAP, DURABILITY_SYNC, v, err, sizeof(err)), 0, "%s", err);
	struct store_txn *t;
	cr_assert_eq(store_read_begin(&s, &t), 0);
	for (int key = 1; key <= 2; key++)
		for (int k = 0; k < CARDS; k++) {
			pan_of(pan, key, k);
			struct card_record c;
			cr_assert_eq(store_card_get(t, &s, pan, &c), 0, "bank card %d-%d", key, k);
			if (k < ORDERS) {
				struct order_record o;
				snprintf(id, sizeof(id), "r:order-%d-%d", key, k);
				cr_assert_eq(store_order_get(t, &s, id, &o), 0);
				cr_expect_str_eq(o.pan, pan);
			}
		}
	store_abort(t);
	store_close(&s);

	struct network_store n;
	cr_assert_eq(network_store_open(&n, net_dir, MAP, v, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(network_store_read_begin(&n, &t), 0);
	for (int key = 1; key <= 2; key++)
		for (int k = 0; k < CARDS; k++) {
			pan_of(pan, key, k);
			struct net_card c;
			cr_assert_eq(net_card_get(t, &n, pan, &c), 0, "network card %d-%d", key, k);
			if (k < ORDERS) {
				snprintf(id, sizeof(id), "order-%d-%d", key, k);
				cr_assert_eq(net_order_get(t, &n, "big_bank", id, got), 0);
				cr_expect_str_eq(got, pan);
			}
			if (k < OUTBOX) {
				struct outbox_header h;
				char *body = NULL;
				size_t len;
				cr_assert_eq(net_outbox_get(t, &n, (uint64_t)(key * 1000 + k), &h, &body, &len), 0);
				cr_expect(strstr(body, pan));
				free(body);
			}
		}
	store_abort(t);
	network_store_close(&n);

	struct saf_store *q = saf_store_open(saf_dir, MAP, v, err, sizeof(err));
	cr_assert(q, "%s", err);
	size_t moved = 1, opened = 0;
	cr_assert_eq(saf_store_load(q, advice_opens, &opened, 4, &moved, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(moved, 0, "no advice unreadable");
	cr_expect_eq(opened, 2 * ADVICES);
	opened = 0;
	cr_assert_eq(saf_store_list_exceptions(q, 100, exception_opens, &opened), 0);
	cr_expect_eq(opened, 2 * EXCEPTIONS);
	saf_store_close(q);
}

static const char *const bank_dbs[] = {"accounts", "cards", "journal", "meta", "orders", NULL};
static const char *const bank_sealed[] = {"cards", "orders", NULL};
static const char *const net_dbs[] = {"customers", "cards", "orders", "production",
				      "outbox", "notifications", "meta", NULL};
static const char *const net_sealed[] = {"cards", "orders", "outbox", NULL};
static const char *const saf_dbs[] = {"advices", "exceptions", "meta", NULL};
static const char *const saf_sealed[] = {"advices", "exceptions", NULL};

Test(pan_reseal, reseal_moves_every_record_to_the_current_key_and_changes_only_the_seals)
{
	populate();
	static struct snapshot before[3], after[3];
	take_snapshot(bank_dir, bank_dbs, &before[0]);
	take_snapshot(net_dir, net_dbs, &before[1]);
	take_snapshot(saf_dir, saf_dbs, &before[2]);
	struct pan_vault *v = vault();
	/* Batches of 7: several transactions per database, resumed where the last stopped. */
	struct pan_reseal_result r = reseal(bank_dir, v, 7);
	cr_expect_eq(r.resealed, CARDS + ORDERS);
	cr_expect_eq(r.current, CARDS + ORDERS);
	cr_expect_eq(r.unsealed, 4);
	cr_expect_eq(r.damaged, 0);
	cr_expect_geq(r.transactions, (2 * CARDS) / 7 + (2 * ORDERS + 4) / 7);
	r = reseal(net_dir, v, 7);
	cr_expect_eq(r.resealed, CARDS + ORDERS + OUTBOX);
	r = reseal(saf_dir, v, 7);
	cr_expect_eq(r.resealed, ADVICES + EXCEPTIONS);
	expect_counts(v, 1, 0);
	expect_counts(v, 2, 2);

	take_snapshot(bank_dir, bank_dbs, &after[0]);
	take_snapshot(net_dir, net_dbs, &after[1]);
	take_snapshot(saf_dir, saf_dbs, &after[2]);
	expect_only_seals_changed("bank", &before[0], &after[0], bank_sealed);
	expect_only_seals_changed("network", &before[1], &after[1], net_sealed);
	expect_only_seals_changed("saf", &before[2], &after[2], saf_sealed);
	for (int i = 0; i < 3; i++) {
		free_snapshot(&before[i]);
		free_snapshot(&after[i]);
	}

	/* Idempotent: nothing left to do. */
	cr_expect_eq(reseal(bank_dir, v, 1000).resealed, 0);
	cr_expect_eq(reseal(net_dir, v, 1000).resealed, 0);
	cr_expect_eq(reseal(saf_dir, v, 1000).resealed, 0);
	pan_vault_free(v);

	/* Key 1 gone from the key file: everything still opens, every card is still found. */
	char err[512];
	cr_assert_eq(pan_keys_retire(keys, 1, err, sizeof(err)), 0, "%s", err);
	struct pan_keys k;
	cr_assert_eq(pan_keys_read(keys, &k, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(k.data_count, 1);
	cr_expect_eq(k.data[0].id, 2);
	pan_keys_wipe(&k);
	v = vault();
	expect_everything_opens(v);
	pan_vault_free(v);
}

/* A write cursor on the bank store's raw cards database, around LMDB's own calls: the tests
 * below damage or remove records the way no store function would. */
struct raw_cards {
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *c;
};

static void raw_cards_open(struct raw_cards *r)
{
	cr_assert_eq(mdb_env_create(&r->env), 0);
	mdb_env_set_maxdbs(r->env, 8);
	cr_assert_eq(mdb_env_open(r->env, bank_dir, 0, 0600), 0);
	cr_assert_eq(mdb_txn_begin(r->env, NULL, 0, &r->txn), 0);
	MDB_dbi dbi;
	cr_assert_eq(mdb_dbi_open(r->txn, "cards", 0, &dbi), 0);
	cr_assert_eq(mdb_cursor_open(r->txn, dbi, &r->c), 0);
}

static void raw_cards_commit(struct raw_cards *r)
{
	mdb_cursor_close(r->c);
	cr_assert_eq(mdb_txn_commit(r->txn), 0);
	mdb_env_close(r->env);
}

/* Flips a byte of the first bank card's ciphertext, as damage or an attacker would. */
static void tamper_bank_card_at(int position);
static void tamper_first_bank_card(void)
{
	tamper_bank_card_at(0);
}

/* The same to the first key-1 card at or after `position` in the database's order. */
static void tamper_bank_card_at(int position)
{
	struct raw_cards r;
	raw_cards_open(&r);
	MDB_cursor *c = r.c;
	MDB_val k, v;
	bool done = false;
	int at = 0;
	for (int got = mdb_cursor_get(c, &k, &v, MDB_FIRST); got == 0 && !done;
	     got = mdb_cursor_get(c, &k, &v, MDB_NEXT), at++) {
		struct card_stored s;
		memcpy(&s, v.mv_data, sizeof(s));
		if (at < position || sealed_key_id(s.pan.bytes) != 1)
			continue;
		s.pan.bytes[sizeof(s.pan.bytes) - 1] ^= 0x01;
		MDB_val nv = {sizeof(s), &s};
		cr_assert_eq(mdb_cursor_put(c, &k, &nv, MDB_CURRENT), 0);
		done = true;
	}
	cr_assert(done);
	raw_cards_commit(&r);
}

static void delete_damaged_bank_card(const struct pan_vault *v)
{
	struct raw_cards r;
	raw_cards_open(&r);
	MDB_cursor *c = r.c;
	MDB_val k, val;
	int deleted = 0;
	for (int got = mdb_cursor_get(c, &k, &val, MDB_FIRST); got == 0; got = mdb_cursor_get(c, &k, &val, MDB_NEXT)) {
		struct card_stored s;
		char pan[PAN_SEALED_TEXT];
		memcpy(&s, val.mv_data, sizeof(s));
		if (pan_vault_open_pan(v, &s.pan, pan) == 0)
			continue;
		cr_assert_eq(mdb_cursor_del(c, 0), 0);
		deleted++;
		break;
	}
	cr_assert_eq(deleted, 1);
	raw_cards_commit(&r);
}

static int run_tool(const char *const *args)
{
	int rc = test_run_program("tools/pan-keys", args, log_path, 30000);
	cr_assert_neq(rc, TEST_RUN_TIMED_OUT, "pan-keys did not finish within 30 s");
	return rc;
}

static bool said(const char *text)
{
	bool yes = test_log_mentions(log_path, 0, text);
	if (!yes)
		test_log_dump("pan-keys", log_path, 40);
	return yes;
}

static bool key_file_has(const char *text)
{
	FILE *f = fopen(keys, "r");
	cr_assert(f);
	char line[256];
	bool found = false;
	while (fgets(line, sizeof(line), f))
		found |= strncmp(line, text, strlen(text)) == 0;
	fclose(f);
	return found;
}

Test(pan_reseal, the_tool_counts_reseals_and_retires_from_the_shell)
{
	populate();
	/* The network's directory brings its switch's SAF queue along. */
	const char *const usage1[] = {"usage", keys, bank_dir, net_dir, NULL};
	cr_assert_eq(run_tool(usage1), 0);
	char line[600];
	snprintf(line, sizeof(line), "store=%s kind=bank db=cards key=1 records=%d damaged=0", bank_dir, CARDS);
	cr_expect(said(line), "%s", line);
	snprintf(line, sizeof(line), "store=%s kind=saf db=exceptions key=1 records=%d damaged=0", saf_dir, EXCEPTIONS);
	cr_expect(said(line), "%s", line);
	cr_expect(said("key 2 (current) seals"));
	int old = 2 * (CARDS + ORDERS) + OUTBOX + ADVICES + EXCEPTIONS;
	snprintf(line, sizeof(line), "# in all: %d records sealed under keys older than the current (2)", old);
	cr_expect(said(line), "%s", line);

	/* Retiring the current key, or one still in use, is refused with the counts; the file keeps it. */
	const char *const retire2[] = {"retire", keys, "2", "--store", bank_dir, net_dir, NULL};
	cr_expect_eq(run_tool(retire2), 1);
	cr_expect(said("data key 2 is current"));
	const char *const retire1[] = {"retire", keys, "1", "--store", bank_dir, net_dir, NULL};
	cr_expect_eq(run_tool(retire1), 1);
	snprintf(line, sizeof(line), "data key 1 still seals %d records", old);
	cr_expect(said(line), "%s", line);
	cr_expect(key_file_has("data 1 "));

	/* A tampered record: reported with where it is, the rest re-sealed, exit 1; retire still refused. */
	tamper_first_bank_card();
	const char *const reseal_all[] = {"reseal", "--batch", "10", keys, bank_dir, net_dir, NULL};
	cr_expect_eq(run_tool(reseal_all), 1);
	snprintf(line, sizeof(line), "damaged record: store=%s db=cards key=", bank_dir);
	cr_expect(said(line), "%s", line);
	cr_expect(said("sealed-with=1: its seal does not open"));
	snprintf(line, sizeof(line), "store=%s kind=bank resealed=%d current=%d unsealed=4 damaged=1", bank_dir,
		 CARDS - 1 + ORDERS, CARDS + ORDERS);
	cr_expect(said(line), "%s", line);
	cr_expect_eq(run_tool(retire1), 1);
	cr_expect(said("data key 1 still seals 1 records"));
	snprintf(line, sizeof(line), "store=%s kind=bank db=cards key=1 records=0 damaged=1", bank_dir);
	cr_expect(said(line), "%s", line);

	/* The damaged record removed (an operator's decision): key 1 is provably unused and leaves. */
	struct pan_vault *v = vault();
	delete_damaged_bank_card(v);
	pan_vault_free(v);
	cr_expect_eq(run_tool(reseal_all), 0);
	cr_expect(said("# re-sealed 0 records under data key 2; 0 damaged"));
	cr_assert_eq(run_tool(retire1), 0);
	cr_expect(said("retired data key 1"));
	cr_expect_not(key_file_has("data 1 "));
	cr_expect(key_file_has("data 2 "));
	struct stat st;
	cr_assert_eq(stat(keys, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	const char *const usage2[] = {"usage", keys, bank_dir, net_dir, NULL};
	cr_expect_eq(run_tool(usage2), 0);
	cr_expect(said("# in all: 0 records sealed under keys older than the current (2); 0 damaged"));
	cr_expect_not(test_log_mentions(log_path, 0, "key=1"));
}

Test(pan_reseal, a_store_another_process_has_open_is_refused)
{
	populate();
	int ready[2], go[2];
	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(go), 0);
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) { /* an agent: the bank's store open until told */
		struct pan_vault *v = vault();
		struct store s;
		char err[512], byte = 1;
		if (store_open(&s, bank_dir, MAP, DURABILITY_SYNC, v, err, sizeof(err)) != 0)
			_exit(3);
		if (write(ready[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 1)
			_exit(4);
		store_close(&s);
		_exit(0);
	}
	char byte;
	cr_assert_eq(read(ready[0], &byte, 1), 1, "the child did not open the store");
	struct pan_vault *v = vault();
	char err[512], want[64];
	cr_expect_null(pan_store_open(bank_dir, v, PAN_STORE_EXCLUSIVE, err, sizeof(err)));
	snprintf(want, sizeof(want), "in use by process %d", (int)child);
	cr_expect(strstr(err, want), "%s", err);
	/* Counting is read-only: fine while the agent runs. */
	static struct pan_usage u;
	usage_of(bank_dir, v, &u);
	cr_expect_eq(count_of(&u, "cards", 1, false), CARDS);
	/* The tool says so too, and touches nothing. */
	const char *const reseal_bank[] = {"reseal", keys, bank_dir, NULL};
	cr_expect_eq(run_tool(reseal_bank), 1);
	cr_expect(said("is in use by process"));
	cr_assert_eq(write(go[1], "x", 1), 1);
	int status;
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	/* The agent gone: the store is this process's, and it re-seals. */
	cr_expect_eq(reseal(bank_dir, v, 1000).resealed, CARDS + ORDERS);
	pan_vault_free(v);
}

Test(pan_reseal, an_agent_starting_during_a_reseal_waits_for_it)
{
	populate();
	struct pan_vault *v = vault();
	char err[512];
	struct pan_store *held = pan_store_open(bank_dir, v, PAN_STORE_EXCLUSIVE, err, sizeof(err));
	cr_assert(held, "%s", err);
	int ready[2];
	cr_assert_eq(pipe(ready), 0);
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) { /* an agent starting: its store_open waits in LMDB's lock */
		struct store s;
		char byte = 1;
		if (store_open(&s, bank_dir, MAP, DURABILITY_SYNC, v, err, sizeof(err)) != 0)
			_exit(3);
		if (write(ready[1], &byte, 1) != 1)
			_exit(4);
		store_close(&s);
		_exit(0);
	}
	close(ready[1]);
	struct pollfd p = {.fd = ready[0], .events = POLLIN};
	/* Not open while held (a slow child would pass this too; a wrong lock fails it). */
	cr_expect_eq(poll(&p, 1, 500), 0, "the agent opened the store while pan-keys held it");
	pan_store_close(held);
	cr_expect_eq(poll(&p, 1, 20000), 1, "the agent did not open the store once pan-keys let it go");
	int status;
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	pan_vault_free(v);
}

static void die_here(void *ctx, const char *db, const uint8_t *key, size_t key_len, uint32_t key_id, const char *why)
{
	(void)ctx, (void)db, (void)key, (void)key_len, (void)key_id, (void)why;
	raise(SIGKILL); /* inside a write transaction, after others committed */
}

Test(pan_reseal, a_reseal_killed_mid_transaction_leaves_every_record_under_one_key_or_the_other)
{
	populate();
	/* A damaged card well into the database: the child dies when the re-seal reaches it. */
	tamper_bank_card_at(2 * CARDS / 2);
	struct pan_vault *v = vault();
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		char err[512];
		struct pan_store *s = pan_store_open(bank_dir, v, PAN_STORE_EXCLUSIVE, err, sizeof(err));
		struct pan_reseal_result r;
		if (s)
			pan_store_reseal(s, 5, die_here, NULL, &r, err, sizeof(err));
		_exit(3); /* not reached: the damaged card is there */
	}
	int status;
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the re-seal was not killed (status %d)", status);

	/* Some batches committed, the one it died in did not: every card opens under key 1 or 2. */
	static struct pan_usage u;
	usage_of(bank_dir, v, &u);
	uint64_t one = count_of(&u, "cards", 1, false), two = count_of(&u, "cards", 2, false);
	cr_expect_eq(count_of(&u, "cards", 1, true), 1, "the tampered card only");
	cr_expect_eq(count_of(&u, "cards", 2, true), 0);
	cr_expect_eq(one + two, 2 * CARDS - 1);
	cr_expect_gt(two, CARDS, "no batch before the crash was committed");
	cr_expect_gt(one, 0, "the batch the crash interrupted was committed");

	/* A second run finishes: only the tampered card stays under key 1. */
	struct pan_reseal_result r;
	char err[512];
	struct pan_store *s = pan_store_open(bank_dir, v, PAN_STORE_EXCLUSIVE, err, sizeof(err));
	cr_assert(s, "%s", err);
	cr_assert_eq(pan_store_reseal(s, 5, NULL, NULL, &r, err, sizeof(err)), 0, "%s", err);
	pan_store_close(s);
	cr_expect_eq(r.resealed, one + ORDERS, "the cards left under key 1, and the orders");
	cr_expect_eq(r.damaged, 1);
	usage_of(bank_dir, v, &u);
	cr_expect_eq(count_of(&u, "cards", 1, false), 0);
	cr_expect_eq(count_of(&u, "cards", 2, false), 2 * CARDS - 1);
	pan_vault_free(v);
}
