/*
 * Stores of the cleartext era are refused at open with a clear reason (the
 * format record, pan_format.h), for the bank's store, the network's card store
 * and the SAF queue; and what the stores write holds no PAN in clear, while
 * reading gives it back.
 */
#include <criterion/criterion.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmdb_env.h"
#include "network_cards_store.h"
#include "saf_store.h"
#include "store.h"
#include "test_pan_keys.h"
#include "test_temp_dir.h"

static char dir[256];

static void make_dir(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "pan-format"));
}

static void remove_dir(void)
{
	test_temp_dir_remove(dir);
}

TestSuite(pan_format, .init = make_dir, .fini = remove_dir);

/* An environment as the previous build left it: a PAN as a key of db_name, no format record. */
static void write_cleartext_era(const char *const *dbs, size_t count, const char *db_name)
{
	MDB_dbi handles[8];
	struct lmdb_named_db named[8];
	for (size_t i = 0; i < count; i++)
		named[i] = (struct lmdb_named_db){dbs[i], &handles[i]};
	struct lmdb_env_settings settings = {.map_size = 16 << 20, .dbs = named, .db_count = count};
	MDB_env *env;
	char err[256];
	cr_assert_eq(lmdb_env_open(&env, dir, &settings, err, sizeof(err)), 0, "%s", err);
	MDB_txn *txn;
	cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (size_t i = 0; i < count; i++)
		if (strcmp(dbs[i], db_name) == 0) {
			MDB_val k = {16, "5105100000000027"}, v = {4, "old!"};
			cr_assert_eq(mdb_put(txn, handles[i], &k, &v, 0), 0);
		}
	cr_assert_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

Test(pan_format, the_banks_cleartext_store_is_refused)
{
	const char *dbs[] = {"accounts", "cards", "journal", "meta", "orders"};
	write_cleartext_era(dbs, 5, "cards");
	struct store s;
	char err[512];
	cr_assert_neq(store_open(&s, dir, 16 << 20, DURABILITY_SYNC, test_shared_vault(), err, sizeof(err)), 0);
	cr_expect(strstr(err, "before PAN protection") && strstr(err, dir), "%s", err);
}

Test(pan_format, the_networks_cleartext_store_is_refused)
{
	const char *dbs[] = {"customers", "cards", "orders", "production", "outbox", "notifications", "meta"};
	write_cleartext_era(dbs, 7, "cards");
	struct network_store s;
	char err[512];
	cr_assert_neq(network_store_open(&s, dir, 16 << 20, test_shared_vault(), err, sizeof(err)), 0);
	cr_expect(strstr(err, "before PAN protection"), "%s", err);
}

Test(pan_format, the_cleartext_saf_queue_is_refused)
{
	const char *dbs[] = {"advices", "exceptions"};
	write_cleartext_era(dbs, 2, "advices");
	char err[512];
	cr_assert_null(saf_store_open(dir, 16 << 20, test_shared_vault(), err, sizeof(err)));
	cr_expect(strstr(err, "before PAN protection"), "%s", err);
}

static bool file_holds(const char *path, const char *text)
{
	FILE *f = fopen(path, "rb");
	cr_assert(f);
	size_t cap = 64 << 20;
	char *buf = malloc(cap);
	size_t n = fread(buf, 1, cap, f);
	fclose(f);
	bool found = memmem(buf, n, text, strlen(text)) != NULL;
	free(buf);
	return found;
}

Test(pan_format, the_banks_records_keep_no_pan_in_clear_and_give_it_back)
{
	const char *pan = "5105100000000027";
	struct store s;
	char err[512];
	cr_assert_eq(store_open(&s, dir, 16 << 20, DURABILITY_SYNC, test_shared_vault(), err, sizeof(err)), 0, "%s",
		     err);
	struct store_txn *t;
	cr_assert_eq(store_write_begin(&s, &t), 0);
	struct card_record card = {.account = "big_bank-0", .expiry = "3012", .state = CARD_ACTIVE};
	cr_assert_eq(store_card_put(t, &s, pan, &card, STORE_CREATE), 0);
	struct journal_key key;
	cr_assert(journal_key_build(&key, "30000000003", "000001", "251203101010", "RRN000000001", "TERM0001"));
	struct journal_record j = {.state = JOURNAL_APPROVED, .amount = 100};
	cr_assert_eq(store_journal_set_pan(&s, &j, pan), 0);
	cr_assert_eq(store_journal_put(t, &s, &key, &j), 0);
	struct order_record o = {.state = ORDER_CARD_KNOWN};
	snprintf(o.pan, sizeof(o.pan), "%s", pan);
	cr_assert_eq(store_order_put(t, &s, "r:order-1", &o), 0);
	cr_assert_eq(store_commit(t), 0);

	cr_assert_eq(store_read_begin(&s, &t), 0);
	struct card_record c2;
	struct journal_record j2;
	struct order_record o2;
	cr_assert_eq(store_card_get(t, &s, pan, &c2), 0);
	cr_expect_str_eq(c2.account, "big_bank-0");
	cr_assert_eq(store_journal_get(t, &s, &key, &j2), 0);
	cr_expect_str_eq(j2.pan_masked, "510510******0027");
	cr_expect(store_journal_pan_is(&s, &j2, pan), "the journal entry names its card by the lookup hash");
	cr_expect_not(store_journal_pan_is(&s, &j2, "5105100000000035"));
	cr_assert_eq(store_order_get(t, &s, "r:order-1", &o2), 0);
	cr_expect_str_eq(o2.pan, pan);
	store_abort(t);
	store_close(&s);

	char data[400];
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	cr_expect_not(file_holds(data, pan), "a PAN in clear in %s", data);
	cr_expect(file_holds(data, "510510******0027"), "the journal keeps the masked PAN for listings");
}
