#include "saf_store.h"

#include <errno.h>
#include <lmdb.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmdb_env.h"
#include "pan_format.h"

struct saf_store {
	MDB_env *env;
	MDB_dbi advices;
	MDB_dbi exceptions;
	MDB_dbi meta;
	uint64_t next_seq;
	const struct pan_vault *vault;
};

static void seq_key(uint64_t seq, uint8_t out[8])
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)seq;
		seq >>= 8;
	}
}

static uint64_t seq_of_key(const MDB_val *k)
{
	uint64_t seq = 0;
	if (k->mv_size != 8)
		return 0;
	const uint8_t *b = k->mv_data;
	for (int i = 0; i < 8; i++)
		seq = seq << 8 | b[i];
	return seq;
}

static uint64_t fnv1a(const void *data, size_t n)
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void saf_record_seal(struct saf_record *r)
{
	r->magic = SAF_RECORD_MAGIC;
	r->version = SAF_RECORD_VERSION;
	r->reserved = 0;
	r->reserved2 = 0;
	memset(r->reserved3, 0, sizeof(r->reserved3));
	r->checksum = fnv1a(r, offsetof(struct saf_record, checksum));
}

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

bool saf_record_check(const void *raw, size_t length)
{
	if (length != sizeof(struct saf_record))
		return false;
	struct saf_record r;
	memcpy(&r, raw, sizeof(r)); /* LMDB values need not be aligned */
	if (r.magic != SAF_RECORD_MAGIC || r.version != SAF_RECORD_VERSION)
		return false;
	if (r.checksum != fnv1a(&r, offsetof(struct saf_record, checksum)))
		return false;
	if (r.kind != SAF_SWITCH_REVERSAL && r.kind != SAF_CARDHOLDER_REVERSAL)
		return false;
	const struct saf_fields *f = &r.f;
	return terminated(r.bank, sizeof(r.bank)) && terminated(f->pan, sizeof(f->pan)) &&
	       terminated(f->processing, sizeof(f->processing)) && terminated(f->amount, sizeof(f->amount)) &&
	       terminated(f->transmission, sizeof(f->transmission)) && terminated(f->stan, sizeof(f->stan)) &&
	       terminated(f->local_time, sizeof(f->local_time)) && terminated(f->acquirer, sizeof(f->acquirer)) &&
	       terminated(f->rrn, sizeof(f->rrn)) && terminated(f->terminal, sizeof(f->terminal)) &&
	       terminated(f->currency, sizeof(f->currency)) && terminated(f->original, sizeof(f->original));
}

/* r as written: the PAN sealed, f.pan zeroed, the checksum over that. */
static int to_disk(const struct saf_store *s, const struct saf_record *r, struct saf_record *out)
{
	*out = *r;
	if (pan_vault_seal_pan(s->vault, r->f.pan, &out->pan_sealed) != 0)
		return -1;
	memset(out->f.pan, 0, sizeof(out->f.pan));
	saf_record_seal(out);
	return 0;
}

/* A record read from disk, its PAN opened into f.pan; false when damaged or not openable. */
static bool from_disk(const struct saf_store *s, const void *raw, size_t length, struct saf_record *out)
{
	if (!saf_record_check(raw, length))
		return false;
	memcpy(out, raw, sizeof(*out)); /* LMDB values need not be aligned */
	return pan_vault_open_pan(s->vault, &out->pan_sealed, out->f.pan) == 0;
}

int saf_store_disk_form_for_test(const struct saf_store *s, const struct saf_record *r, struct saf_record *out)
{
	return to_disk(s, r, out);
}

static uint64_t last_seq(MDB_txn *txn, MDB_dbi dbi)
{
	MDB_cursor *c;
	if (mdb_cursor_open(txn, dbi, &c) != 0)
		return 0;
	MDB_val k, v;
	uint64_t seq = mdb_cursor_get(c, &k, &v, MDB_LAST) == 0 ? seq_of_key(&k) : 0;
	mdb_cursor_close(c);
	return seq;
}

struct saf_store *saf_store_open(const char *dir, uint64_t map_size, const struct pan_vault *vault, char *err,
				 size_t err_size)
{
	if (!vault) {
		snprintf(err, err_size, "SAF store at %s: no PAN protection keys given", dir);
		return NULL;
	}
	struct saf_store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	s->vault = vault;
	const struct lmdb_named_db dbs[] = {
		{"advices", &s->advices},
		{"exceptions", &s->exceptions},
		{"meta", &s->meta},
	};
	/* Synchronous commits: an advice is acknowledged to nobody before it is on disk.
	 * MDB_NOTLS: the HTTP thread lists the queue with read transactions of its own. */
	const struct lmdb_env_settings settings = {
		.map_size = map_size, .flags = MDB_NOTLS, .dbs = dbs, .db_count = sizeof(dbs) / sizeof(dbs[0])};
	if (lmdb_env_open(&s->env, dir, &settings, err, err_size) != 0) {
		free(s);
		return NULL;
	}
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0) {
		snprintf(err, err_size, "SAF store at %s: %s", dir, mdb_strerror(rc));
		saf_store_close(s);
		return NULL;
	}
	/* A queue of the cleartext format is refused here, before any of it is read or moved. */
	const MDB_dbi data[] = {s->advices, s->exceptions};
	char why[512];
	rc = pan_format_check_or_write(txn, s->meta, data, 2, vault, dir, why, sizeof(why));
	uint64_t a = last_seq(txn, s->advices), e = last_seq(txn, s->exceptions);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc != 0) {
		snprintf(err, err_size, "SAF store: %s", rc == -1 ? why : mdb_strerror(rc));
		saf_store_close(s);
		return NULL;
	}
	s->next_seq = (a > e ? a : e) + 1;
	return s;
}

void saf_store_close(struct saf_store *s)
{
	if (!s)
		return;
	if (s->env)
		mdb_env_close(s->env);
	free(s);
}

uint64_t saf_store_next_seq(const struct saf_store *s)
{
	return s->next_seq;
}

static int put_exception(MDB_txn *txn, const struct saf_store *s, uint64_t seq, enum saf_exception_reason why,
			 const void *raw, size_t length, int64_t now_unix_ms)
{
	struct saf_exception e;
	memset(&e, 0, sizeof(e));
	e.reason = (uint8_t)why;
	e.moved_unix_ms = now_unix_ms;
	e.raw_length = (uint32_t)length;
	memcpy(e.entry.raw, raw, length < sizeof(e.entry.raw) ? length : sizeof(e.entry.raw));
	uint8_t kb[8];
	seq_key(seq, kb);
	MDB_val k = {sizeof(kb), kb}, v = {sizeof(e), &e};
	return mdb_put(txn, s->exceptions, &k, &v, 0);
}

static int del_advice(MDB_txn *txn, const struct saf_store *s, uint64_t seq)
{
	uint8_t kb[8];
	seq_key(seq, kb);
	MDB_val k = {sizeof(kb), kb};
	int rc = mdb_del(txn, s->advices, &k, NULL);
	/* Acknowledged twice (a repeat's 1430 after the first): already gone is fine. */
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static void report(int rc, bool *map_full, const char *what, char *err, size_t err_size)
{
	if (map_full)
		*map_full = rc == MDB_MAP_FULL;
	snprintf(err, err_size, "SAF store %s: %s%s", what, mdb_strerror(rc),
		 rc == MDB_MAP_FULL ? " (the map is full: raise the network's lmdb_map_size)" : "");
}

int saf_store_commit(struct saf_store *s, const struct saf_batch *b, bool *map_full, char *err, size_t err_size)
{
	if (map_full)
		*map_full = false;
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0) {
		report(rc, map_full, "begin", err, err_size);
		return rc;
	}
	uint64_t highest = 0;
	for (size_t i = 0; rc == 0 && i < b->add_count; i++) {
		uint8_t kb[8];
		seq_key(b->adds[i].seq, kb);
		struct saf_record disk;
		if (to_disk(s, &b->adds[i], &disk) != 0) {
			rc = EIO;
			break;
		}
		MDB_val k = {sizeof(kb), kb}, v = {sizeof(disk), &disk};
		rc = mdb_put(txn, s->advices, &k, &v, 0);
		if (b->adds[i].seq > highest)
			highest = b->adds[i].seq;
	}
	for (size_t i = 0; rc == 0 && i < b->remove_count; i++)
		rc = del_advice(txn, s, b->removes[i]);
	for (size_t i = 0; rc == 0 && i < b->expired_count; i++) {
		struct saf_record disk;
		rc = to_disk(s, &b->expired[i], &disk) == 0 ? 0 : EIO;
		if (rc == 0)
			rc = put_exception(txn, s, b->expired[i].seq, SAF_EXPIRED, &disk, sizeof(disk), b->now_unix_ms);
		if (rc == 0)
			rc = del_advice(txn, s, b->expired[i].seq);
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		report(rc, map_full, "write", err, err_size);
		return rc;
	}
	rc = mdb_txn_commit(txn);
	if (rc != 0) {
		report(rc, map_full, "commit", err, err_size);
		return rc;
	}
	if (highest >= s->next_seq)
		s->next_seq = highest + 1;
	return 0;
}

int saf_store_load(struct saf_store *s, saf_record_fn on_record, void *ctx, int64_t now_unix_ms, size_t *moved,
		   char *err, size_t err_size)
{
	*moved = 0;
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0) {
		report(rc, NULL, "load", err, err_size);
		return rc;
	}
	MDB_cursor *c;
	rc = mdb_cursor_open(txn, s->advices, &c);
	if (rc != 0) {
		mdb_txn_abort(txn);
		report(rc, NULL, "load", err, err_size);
		return rc;
	}
	MDB_val k, v;
	int got = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	while (rc == 0 && got == 0) {
		uint64_t seq = seq_of_key(&k);
		struct saf_record r;
		if (seq != 0 && from_disk(s, v.mv_data, v.mv_size, &r)) {
			on_record(ctx, &r);
			got = mdb_cursor_get(c, &k, &v, MDB_NEXT);
			continue;
		}
		/* Damaged on disk: kept aside for an operator, never sent as it is. A
		 * key that is not 8 bytes gets a fresh seq in the exceptions. */
		uint64_t at = seq ? seq : s->next_seq++;
		rc = put_exception(txn, s, at, SAF_UNREADABLE, v.mv_data, v.mv_size, now_unix_ms);
		if (rc == 0)
			rc = mdb_cursor_del(c, 0);
		if (rc == 0) {
			(*moved)++;
			/* After a delete the cursor stands on the next entry already. */
			got = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
		}
	}
	mdb_cursor_close(c);
	if (rc == 0 && got != 0 && got != MDB_NOTFOUND)
		rc = got;
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else
		mdb_txn_abort(txn);
	if (rc != 0)
		report(rc, NULL, "load", err, err_size);
	return rc;
}

int saf_store_move_to_exceptions(struct saf_store *s, const struct saf_record *r, enum saf_exception_reason why,
				 int64_t now_unix_ms, char *err, size_t err_size)
{
	struct saf_record disk;
	if (to_disk(s, r, &disk) != 0) {
		snprintf(err, err_size, "SAF store move to exceptions: sealing the PAN failed");
		return EIO;
	}
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc == 0)
		rc = put_exception(txn, s, r->seq, why, &disk, sizeof(disk), now_unix_ms);
	if (rc == 0)
		rc = del_advice(txn, s, r->seq);
	if (rc == 0)
		rc = mdb_txn_commit(txn);
	else if (txn)
		mdb_txn_abort(txn);
	if (rc != 0)
		report(rc, NULL, "move to exceptions", err, err_size);
	return rc;
}

static int walk(struct saf_store *s, MDB_dbi dbi, size_t limit, bool exceptions, void *fn, void *ctx)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return rc;
	MDB_cursor *c;
	rc = mdb_cursor_open(txn, dbi, &c);
	if (rc != 0) {
		mdb_txn_abort(txn);
		return rc;
	}
	MDB_val k, v;
	size_t n = 0;
	for (int got = mdb_cursor_get(c, &k, &v, MDB_FIRST); got == 0 && n < limit;
	     got = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct saf_record r;
		if (exceptions) {
			struct saf_exception e;
			memset(&e, 0, sizeof(e));
			memcpy(&e, v.mv_data, v.mv_size < sizeof(e) ? v.mv_size : sizeof(e));
			/* A whole record gets its PAN back; raw bytes of a damaged one stay as found. */
			if (e.reason != SAF_UNREADABLE && from_disk(s, &e.entry.record, sizeof(e.entry.record), &r))
				e.entry.record = r;
			((saf_exception_fn)fn)(ctx, seq_of_key(&k), &e);
		} else if (from_disk(s, v.mv_data, v.mv_size, &r)) {
			((saf_record_fn)fn)(ctx, &r);
		}
		n++;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return 0;
}

int saf_store_list_queued(struct saf_store *s, size_t limit, saf_record_fn fn, void *ctx)
{
	return walk(s, s->advices, limit, false, (void *)fn, ctx);
}

int saf_store_list_exceptions(struct saf_store *s, size_t limit, saf_exception_fn fn, void *ctx)
{
	return walk(s, s->exceptions, limit, true, (void *)fn, ctx);
}

int saf_store_counts(struct saf_store *s, uint64_t *queued, uint64_t *exceptions)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0)
		return rc;
	MDB_stat a, e;
	rc = mdb_stat(txn, s->advices, &a);
	if (rc == 0)
		rc = mdb_stat(txn, s->exceptions, &e);
	mdb_txn_abort(txn);
	if (rc == 0) {
		*queued = a.ms_entries;
		*exceptions = e.ms_entries;
	}
	return rc;
}

const char *saf_exception_reason_name(enum saf_exception_reason r)
{
	switch (r) {
	case SAF_EXPIRED: return "expired";
	case SAF_UNREADABLE: return "unreadable";
	case SAF_UNKNOWN_BANK: return "unknown_bank";
	}
	return "unknown";
}

int saf_store_put_raw_for_test(struct saf_store *s, uint64_t seq, const void *raw, size_t length)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
	if (rc != 0)
		return rc;
	uint8_t kb[8];
	seq_key(seq, kb);
	MDB_val k = {sizeof(kb), kb}, v = {length, (void *)raw};
	rc = mdb_put(txn, s->advices, &k, &v, 0);
	if (rc == 0)
		return mdb_txn_commit(txn);
	mdb_txn_abort(txn);
	return rc;
}
