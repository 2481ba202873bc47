/* The store's records: accounts, cards, journal, the never-negative guard, ledger totals, reopening. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "test_pan_keys.h"
#include "test_temp_dir.h"

static char dir[256];
static struct store store;

static void open_store(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "storage"));
	char err[256];
	cr_assert_eq(store_open(&store, dir, 16u << 20, DURABILITY_SYNC, test_shared_vault(), err, sizeof(err)), 0, "%s", err);
}

static void close_store(void)
{
	store_close(&store);
	test_temp_dir_remove(dir);
}

TestSuite(store, .init = open_store, .fini = close_store);

static struct account_record account(int64_t balance, const char *owner)
{
	struct account_record a;
	memset(&a, 0, sizeof(a));
	a.balance = balance;
	memcpy(a.currency, "978", 4);
	snprintf(a.owner, sizeof(a.owner), "%s", owner);
	return a;
}

Test(store, account_roundtrip_and_create_only_once)
{
	struct store_txn *txn;
	cr_assert_eq(store_write_begin(&store, &txn), 0);
	struct account_record a = account(1234, "alice");
	cr_assert_eq(store_account_put(txn, &store, "acc-1", &a, STORE_CREATE), 0);
	cr_assert_eq(store_account_put(txn, &store, "acc-1", &a, STORE_CREATE), STORE_EXISTS);
	struct account_record back;
	cr_assert_eq(store_account_get(txn, &store, "acc-1", &back), 0);
	cr_assert_eq(back.balance, 1234);
	cr_assert_str_eq(back.owner, "alice");
	cr_assert_eq(store_account_get(txn, &store, "acc-2", &back), STORE_NOT_FOUND);
	cr_assert_eq(store_account_get(txn, &store, "", &back), STORE_NOT_FOUND);
	cr_assert_eq(store_commit(txn), 0);
}

Test(store, refuses_a_negative_balance)
{
	struct store_txn *txn;
	cr_assert_eq(store_write_begin(&store, &txn), 0);
	struct account_record a = account(-1, "mallory");
	cr_assert_neq(store_account_put(txn, &store, "acc-neg", &a, STORE_REPLACE), 0);
	struct account_record back;
	cr_assert_eq(store_account_get(txn, &store, "acc-neg", &back), STORE_NOT_FOUND);
	store_abort(txn);
}

Test(store, refuses_ids_too_long_for_the_record)
{
	char id[STORE_ID_MAX + 8];
	memset(id, 'x', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	struct store_txn *txn;
	cr_assert_eq(store_write_begin(&store, &txn), 0);
	struct account_record a = account(1, "x");
	cr_assert_neq(store_account_put(txn, &store, id, &a, STORE_REPLACE), 0);
	store_abort(txn);
}

Test(store, card_and_journal_roundtrip)
{
	struct store_txn *txn;
	cr_assert_eq(store_write_begin(&store, &txn), 0);
	struct card_record c = {.account = "acc-1", .expiry = "3012", .state = CARD_PRODUCED};
	cr_assert_eq(store_card_put(txn, &store, "5105100000000018", &c, STORE_REPLACE), 0);
	struct card_record cb;
	cr_assert_eq(store_card_get(txn, &store, "5105100000000018", &cb), 0);
	cr_assert_eq(cb.state, CARD_PRODUCED);
	cr_assert_str_eq(cb.account, "acc-1");

	struct journal_key k;
	cr_assert(journal_key_build(&k, "30000000003", "000001", "261125120000", "RRN000000001", "TERM0001"));
	struct journal_record j = {.state = JOURNAL_APPROVED, .amount = 500, .action = "000"};
	cr_assert_eq(store_journal_put(txn, &store, &k, &j), 0);
	struct journal_record jb;
	cr_assert_eq(store_journal_get(txn, &store, &k, &jb), 0);
	cr_assert_eq(jb.amount, 500);
	cr_assert_eq(jb.state, JOURNAL_APPROVED);
	cr_assert_eq(store_commit(txn), 0);
}

Test(store, journal_key_separates_every_part)
{
	struct journal_key a, b;
	cr_assert(journal_key_build(&a, "123", "000001", "261125120000", "RRN000000001", "TERM0001"));
	cr_assert(journal_key_build(&b, "0123", "000001", "261125120000", "RRN000000001", "TERM0001"));
	cr_assert_neq(memcmp(a.bytes, b.bytes, JOURNAL_KEY_LEN), 0);
	cr_assert(journal_key_build(&b, "123", "000002", "261125120000", "RRN000000001", "TERM0001"));
	cr_assert_neq(memcmp(a.bytes, b.bytes, JOURNAL_KEY_LEN), 0);
	cr_assert(journal_key_build(&b, "123", "000001", "261125120001", "RRN000000001", "TERM0001"));
	cr_assert_neq(memcmp(a.bytes, b.bytes, JOURNAL_KEY_LEN), 0);
	cr_assert(journal_key_build(&b, "123", "000001", "261125120000", "RRN000000002", "TERM0001"));
	cr_assert_neq(memcmp(a.bytes, b.bytes, JOURNAL_KEY_LEN), 0);
	cr_assert(journal_key_build(&b, "123", "000001", "261125120000", "RRN000000001", "TERM0002"));
	cr_assert_neq(memcmp(a.bytes, b.bytes, JOURNAL_KEY_LEN), 0);
	cr_assert(journal_key_build(&b, "123", "000001", "261125120000", "RRN000000001", "TERM0001"));
	cr_assert_eq(memcmp(a.bytes, b.bytes, JOURNAL_KEY_LEN), 0);
	/* empty or oversized parts are refused */
	cr_assert_not(journal_key_build(&b, "", "000001", "261125120000", "RRN000000001", "TERM0001"));
	cr_assert_not(journal_key_build(&b, "123456789012", "000001", "261125120000", "RRN000000001", "TERM0001"));
	cr_assert_not(journal_key_build(&b, "123", "0000011", "261125120000", "RRN000000001", "TERM0001"));
}

/* Keys sort by local time before anything else: a later authorization lands at
 * the end of the tree whatever its acquirer or STAN (the writer's locality). */
Test(store, journal_keys_sort_by_local_time_first)
{
	struct journal_key earlier, later;
	cr_assert(journal_key_build(&earlier, "99999999999", "999999", "261125120000", "RRN999999999", "TERM9999"));
	cr_assert(journal_key_build(&later, "1", "000001", "261125120001", "RRN000000001", "TERM0001"));
	cr_assert_lt(memcmp(earlier.bytes, later.bytes, JOURNAL_KEY_LEN), 0);
	cr_assert(journal_key_build(&later, "1", "000001", "261126000000", "A", "B"));
	cr_assert_lt(memcmp(earlier.bytes, later.bytes, JOURNAL_KEY_LEN), 0);
}

/* The offsets tools read the parts back from are where the builder put them. */
Test(store, journal_key_parts_sit_at_their_offsets)
{
	struct journal_key k;
	cr_assert(journal_key_build(&k, "123", "000042", "261125120000", "RRN000000001", "TERM01"));
	cr_assert_eq(memcmp(k.bytes + JOURNAL_KEY_LOCAL_TIME_AT, "261125120000", 12), 0);
	cr_assert_eq(memcmp(k.bytes + JOURNAL_KEY_ACQUIRER_LENGTH_AT, "03", 2), 0);
	cr_assert_eq(memcmp(k.bytes + JOURNAL_KEY_ACQUIRER_AT, "123        ", 11), 0);
	cr_assert_eq(memcmp(k.bytes + JOURNAL_KEY_STAN_AT, "000042", 6), 0);
	cr_assert_eq(memcmp(k.bytes + JOURNAL_KEY_RRN_AT, "RRN000000001", 12), 0);
	cr_assert_eq(memcmp(k.bytes + JOURNAL_KEY_TERMINAL_AT, "TERM01  ", 8), 0);
	cr_assert_eq(JOURNAL_KEY_STAN_AT + 6, JOURNAL_KEY_LEN, "the STAN comes last");
	cr_assert_eq(JOURNAL_KEY_WITHOUT_STAN, JOURNAL_KEY_STAN_AT);
}

Test(store, ledger_totals_and_reopen)
{
	struct store_txn *txn;
	cr_assert_eq(store_write_begin(&store, &txn), 0);
	struct account_record a = account(700, "a"), b = account(300, "b");
	cr_assert_eq(store_account_put(txn, &store, "a", &a, STORE_REPLACE), 0);
	cr_assert_eq(store_account_put(txn, &store, "b", &b, STORE_REPLACE), 0);
	cr_assert_eq(store_meta_add(txn, &store, STORE_META_CREATED_TOTAL, 1100), 0);
	struct journal_key k1, k2, k3;
	journal_key_build(&k1, "1", "000001", "261125120000", "R1", "T1");
	journal_key_build(&k2, "1", "000002", "261125120000", "R2", "T1");
	journal_key_build(&k3, "1", "000003", "261125120000", "R3", "T1");
	struct journal_record j1 = {.state = JOURNAL_APPROVED, .amount = 60};
	struct journal_record j2 = {.state = JOURNAL_REVERSED, .amount = 40};
	struct journal_record j3 = {.state = JOURNAL_DECLINED, .amount = 99};
	store_journal_put(txn, &store, &k1, &j1);
	store_journal_put(txn, &store, &k2, &j2);
	store_journal_put(txn, &store, &k3, &j3);
	cr_assert_eq(store_commit(txn), 0);

	store_close(&store);
	char err[256];
	cr_assert_eq(store_open(&store, dir, 16u << 20, DURABILITY_ASYNC, test_shared_vault(), err, sizeof(err)), 0, "%s", err);
	struct ledger_totals t;
	cr_assert_eq(store_ledger_totals(&store, &t), 0);
	cr_assert_eq(t.accounts, 2);
	cr_assert_eq(t.total_balance, 1000);
	cr_assert_eq(t.created_total, 1100);
	cr_assert_eq(t.approved_count, 1);
	cr_assert_eq(t.approved_amount, 60);
	cr_assert_eq(t.reversed_count, 1);
	cr_assert_eq(t.reversed_amount, 40);
	cr_assert_eq(t.declined_count, 1);
}

Test(store, open_fails_cleanly_on_a_file_path)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/not-a-dir", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fclose(f);
	struct store other;
	char err[256] = "";
	cr_assert_neq(store_open(&other, path, 16u << 20, DURABILITY_SYNC, test_shared_vault(), err, sizeof(err)), 0);
	cr_assert_neq(strlen(err), 0);
}

Test(store, meta_totals_refuse_to_overflow)
{
	struct store_txn *txn;
	cr_assert_eq(store_write_begin(&store, &txn), 0);
	cr_assert_eq(store_meta_add(txn, &store, "t", INT64_MAX - 1), 0);
	cr_assert_neq(store_meta_add(txn, &store, "t", 2), 0);
	int64_t v;
	cr_assert_eq(store_meta_get(txn, &store, "t", &v), 0);
	cr_assert_eq(v, INT64_MAX - 1);
	store_abort(txn);
}
