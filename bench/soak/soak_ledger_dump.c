/*
 * Dumps a stopped bank's LMDB store as text lines for the soak reconciliation
 * (bench/soak/soak_reconcile.py): the store is the truth about money, so it is
 * read directly rather than through the bank's HTTP summary.
 *
 *   soak_ledger_dump DIR
 *
 *   meta created_total N
 *   account ID BALANCE
 *   journal ACQUIRER STAN LOCAL_TIME RRN TERMINAL STATE REVERSAL_SEEN ACTION APPROVAL PAN ACCOUNT AMOUNT
 *
 * STATE is approved|declined|reversed|tombstone (or unknown:N); an empty
 * text field is written as "-". Exit status 0, 1 when the store cannot be read
 * or holds a record of an unexpected size (which is reported, not skipped).
 */
#include <stdio.h>
#include <string.h>

#include "store.h"

static const char *journal_state_name(unsigned state, char *buf, size_t size)
{
	switch (state) {
	case JOURNAL_APPROVED:
		return "approved";
	case JOURNAL_DECLINED:
		return "declined";
	case JOURNAL_REVERSED:
		return "reversed";
	case JOURNAL_TOMBSTONE:
		return "tombstone";
	}
	snprintf(buf, size, "unknown:%u", state);
	return buf;
}

/* Copies a space-padded key field without its padding; "-" when empty. */
static void key_field(char *out, const char *src, size_t width)
{
	size_t n = width;
	while (n > 0 && src[n - 1] == ' ')
		n--;
	if (n == 0) {
		strcpy(out, "-");
		return;
	}
	memcpy(out, src, n);
	out[n] = '\0';
}

/* A NUL-terminated record string, bounded by its field, "-" when empty. */
static void text_field(char *out, size_t out_size, const char *src, size_t width)
{
	size_t n = strnlen(src, width);
	if (n == 0 || n >= out_size) {
		snprintf(out, out_size, "%s", n == 0 ? "-" : "?");
		return;
	}
	memcpy(out, src, n);
	out[n] = '\0';
}

static int dump_accounts(MDB_txn *txn, const struct store *s, FILE *out)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->accounts, &c);
	if (rc)
		return rc;
	MDB_val k, v;
	int bad = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size != sizeof(struct account_record) || k.mv_size == 0 || k.mv_size >= STORE_ID_MAX) {
			fprintf(stderr, "soak_ledger_dump: account record of %zu bytes (key %zu bytes)\n", v.mv_size,
				k.mv_size);
			bad = 1;
			continue;
		}
		struct account_record a;
		memcpy(&a, v.mv_data, sizeof a); /* LMDB values carry no alignment promise */
		char id[STORE_ID_MAX];
		memcpy(id, k.mv_data, k.mv_size);
		id[k.mv_size] = '\0';
		fprintf(out, "account %s %lld\n", id, (long long)a.balance);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return rc;
	return bad ? MDB_CORRUPTED : 0;
}

static int dump_journal(MDB_txn *txn, const struct store *s, FILE *out)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->journal, &c);
	if (rc)
		return rc;
	MDB_val k, v;
	int bad = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (v.mv_size != sizeof(struct journal_record) || k.mv_size != JOURNAL_KEY_LEN) {
			fprintf(stderr, "soak_ledger_dump: journal record of %zu bytes (key %zu bytes)\n", v.mv_size,
				k.mv_size);
			bad = 1;
			continue;
		}
		struct journal_record j;
		memcpy(&j, v.mv_data, sizeof j);
		const char *key = k.mv_data;
		char acquirer[12], stan[7], local_time[13], rrn[13], terminal[9];
		key_field(acquirer, key + JOURNAL_KEY_ACQUIRER_AT, 11);
		key_field(stan, key + JOURNAL_KEY_STAN_AT, 6);
		key_field(local_time, key + JOURNAL_KEY_LOCAL_TIME_AT, 12);
		key_field(rrn, key + JOURNAL_KEY_RRN_AT, 12);
		key_field(terminal, key + JOURNAL_KEY_TERMINAL_AT, 8);
		char action[8], approval[8], pan[STORE_PAN_MAX + 2], account[STORE_ID_MAX + 1], state_buf[24];
		text_field(action, sizeof action, j.action, sizeof j.action);
		text_field(approval, sizeof approval, j.approval, sizeof j.approval);
		text_field(pan, sizeof pan, j.pan, sizeof j.pan);
		text_field(account, sizeof account, j.account, sizeof j.account);
		fprintf(out, "journal %s %s %s %s %s %s %u %s %s %s %s %llu\n", acquirer, stan, local_time, rrn,
			terminal, journal_state_name(j.state, state_buf, sizeof state_buf), (unsigned)j.reversal_seen,
			action, approval, pan, account, (unsigned long long)j.amount);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return rc;
	return bad ? MDB_CORRUPTED : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: soak_ledger_dump LMDB-DIR   (the bank must be stopped)\n");
		return 2;
	}
	struct store s;
	char err[512];
	/* The map grows to the file's size on open; the size given only matters for an empty store. */
	if (store_open(&s, argv[1], 1u << 20, DURABILITY_SYNC, err, sizeof err) != 0) {
		fprintf(stderr, "soak_ledger_dump: %s\n", err);
		return 1;
	}
	MDB_txn *txn;
	int rc = store_begin(&s, MDB_RDONLY, &txn);
	if (rc == 0) {
		int64_t created = 0;
		rc = store_meta_get(txn, &s, STORE_META_CREATED_TOTAL, &created);
		if (rc == MDB_NOTFOUND)
			rc = 0;
		if (rc == 0) {
			printf("meta created_total %lld\n", (long long)created);
			rc = dump_accounts(txn, &s, stdout);
		}
		if (rc == 0)
			rc = dump_journal(txn, &s, stdout);
		mdb_txn_abort(txn);
	}
	store_close(&s);
	if (rc != 0) {
		fprintf(stderr, "soak_ledger_dump: %s: %s\n", argv[1], mdb_strerror(rc));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
