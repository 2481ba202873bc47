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
#include <sys/stat.h>
#include <string.h>

#include "pan_vault.h"
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

/* What a dump pass carries through store_scan(). */
struct dump {
	FILE *out;
	int bad; /* a record of an unexpected size was reported */
};

static void dump_account(const void *key, size_t key_len, const void *value, size_t value_len, void *ctx)
{
	struct dump *d = ctx;
	if (value_len != sizeof(struct account_record) || key_len == 0 || key_len >= STORE_ID_MAX) {
		fprintf(stderr, "soak_ledger_dump: account record of %zu bytes (key %zu bytes)\n", value_len, key_len);
		d->bad = 1;
		return;
	}
	struct account_record a;
	memcpy(&a, value, sizeof a); /* LMDB values carry no alignment promise */
	char id[STORE_ID_MAX];
	memcpy(id, key, key_len);
	id[key_len] = '\0';
	fprintf(d->out, "account %s %lld\n", id, (long long)a.balance);
}

static void dump_journal_entry(const void *key_bytes, size_t key_len, const void *value, size_t value_len,
			       void *ctx)
{
	struct dump *d = ctx;
	if (value_len != sizeof(struct journal_record) || key_len != JOURNAL_KEY_LEN) {
		fprintf(stderr, "soak_ledger_dump: journal record of %zu bytes (key %zu bytes)\n", value_len, key_len);
		d->bad = 1;
		return;
	}
	struct journal_record j;
	memcpy(&j, value, sizeof j); /* the journal has the PAN masked (first 6, last 4) and hashed only */
	const char *key = key_bytes;
	char acquirer[12], stan[7], local_time[13], rrn[13], terminal[9];
	key_field(acquirer, key + JOURNAL_KEY_ACQUIRER_AT, 11);
	key_field(stan, key + JOURNAL_KEY_STAN_AT, 6);
	key_field(local_time, key + JOURNAL_KEY_LOCAL_TIME_AT, 12);
	key_field(rrn, key + JOURNAL_KEY_RRN_AT, 12);
	key_field(terminal, key + JOURNAL_KEY_TERMINAL_AT, 8);
	char action[8], approval[8], pan[STORE_PAN_MAX + 2], account[STORE_ID_MAX + 1], state_buf[24];
	text_field(action, sizeof action, j.action, sizeof j.action);
	text_field(approval, sizeof approval, j.approval, sizeof j.approval);
	text_field(pan, sizeof pan, j.pan_masked, sizeof j.pan_masked);
	text_field(account, sizeof account, j.account, sizeof j.account);
	fprintf(d->out, "journal %s %s %s %s %s %s %u %s %s %s %s %llu\n", acquirer, stan, local_time, rrn, terminal,
		journal_state_name(j.state, state_buf, sizeof state_buf), (unsigned)j.reversal_seen, action, approval,
		pan, account, (unsigned long long)j.amount);
}

/* Every entry of table through visit; a record of an unexpected size fails the dump once all are listed. */
static int dump_table(struct store_txn *txn, const struct store *s, enum store_table table,
		      void (*visit)(const void *, size_t, const void *, size_t, void *), FILE *out)
{
	struct dump d = {out, 0};
	int rc = store_scan(txn, s, table, visit, &d);
	if (rc)
		return rc;
	return d.bad ? STORE_CORRUPTED : STORE_OK;
}

int main(int argc, char **argv)
{
	umask(077); /* the dump names cards (masked) and balances: the owner's only */
	if (argc != 3 || argv[1][0] == '-') {
		fprintf(stderr, "usage: soak_ledger_dump LMDB-DIR PAN-KEY-FILE   (the bank must be stopped)\n");
		return 2;
	}
	struct store s;
	char err[512];
	/* The store refuses to open without the key file it was written with (its format record). */
	struct pan_vault *vault = pan_vault_load(argv[2], err, sizeof err);
	if (!vault) {
		fprintf(stderr, "soak_ledger_dump: %s\n", err);
		return 1;
	}
	/* The map grows to the file's size on open; the size given only matters for an empty store. */
	if (store_open(&s, argv[1], 1u << 20, DURABILITY_SYNC, vault, err, sizeof err) != 0) {
		fprintf(stderr, "soak_ledger_dump: %s\n", err);
		pan_vault_free(vault);
		return 1;
	}
	struct store_txn *txn;
	int rc = store_read_begin(&s, &txn);
	if (rc == 0) {
		int64_t created = 0;
		rc = store_meta_get(txn, &s, STORE_META_CREATED_TOTAL, &created);
		if (rc == STORE_NOT_FOUND)
			rc = 0;
		if (rc == 0) {
			printf("meta created_total %lld\n", (long long)created);
			rc = dump_table(txn, &s, STORE_ACCOUNTS, dump_account, stdout);
		}
		if (rc == 0)
			rc = dump_table(txn, &s, STORE_JOURNAL, dump_journal_entry, stdout);
		store_abort(txn);
	}
	store_close(&s);
	pan_vault_free(vault);
	if (rc != 0) {
		fprintf(stderr, "soak_ledger_dump: %s: %s\n", argv[1], store_strerror(rc));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
