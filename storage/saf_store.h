/*
 * The switch's store-and-forward queue on disk: every reversal advice the
 * network owes a bank, kept in LMDB until the bank's 1430 acknowledges it.
 *
 * One environment of its own (<network lmdb_path>/saf) with two databases:
 *   advices     seq -> struct saf_record   what is still owed, in the order it was queued
 *   exceptions  seq -> struct saf_exception what an operator must settle by hand
 *                                           (retention passed, or unreadable at start)
 * Keys are the 8-byte big-endian sequence number, so a cursor walks the queue
 * in order. Commits are synchronous (no MDB_NOSYNC): when saf_store_commit
 * returns 0 the advices of the batch survive a SIGKILL or a power cut, which
 * is what lets the switch answer the cardholder afterwards.
 *
 * Records carry a magic, a version and a checksum, so an entry cut short or
 * damaged on disk is recognised at start and moved aside instead of being sent.
 *
 * The advice's PAN (DE 2 of every repeat) never reaches the disk in clear:
 * records handed in and out carry it in f.pan (RAM), the store writes it
 * sealed with the vault's current data key into pan_sealed and f.pan zeroed,
 * and opens it again on every read. A third database, meta, holds the format
 * record (pan_format.h): a queue of the cleartext format is refused at open.
 */
#ifndef STORAGE_SAF_STORE_H
#define STORAGE_SAF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pan_vault.h"

#define SAF_RECORD_MAGIC 0x53414631u /* "SAF1" */
/* 2: the PAN is sealed (pan_sealed) and f.pan all zero on disk (docs/data-protection.md). */
#define SAF_RECORD_VERSION 2
#define SAF_BANK_NAME_MAX 32

enum saf_kind {
	SAF_SWITCH_REVERSAL = 1,    /* the switch undoes an authorization it timed out or the cardholder cancelled */
	SAF_CARDHOLDER_REVERSAL = 2, /* a cardholder's 1420, forwarded */
};

/* The elements of the advice as the bank must get it, NUL-terminated text. */
struct saf_fields {
	char pan[20];
	char processing[7];
	char amount[13];
	char transmission[11];
	char stan[7]; /* DE 11 of the advice towards the bank */
	char local_time[13];
	char acquirer[12];
	char rrn[13];
	char terminal[9];
	char currency[4];
	char original[36]; /* DE 56: the original as the bank knows it */
};

struct saf_record {
	uint32_t magic;
	uint16_t version;
	uint8_t kind; /* enum saf_kind */
	uint8_t reserved;
	uint64_t seq;
	int64_t queued_unix_ms; /* wall clock: retention counts across restarts */
	char bank[SAF_BANK_NAME_MAX];
	uint32_t bank_ipv4; /* network byte order */
	uint16_t bank_port; /* network byte order */
	uint16_t reserved2;
	struct saf_fields f;  /* on disk f.pan is all zero: the PAN is in pan_sealed */
	struct sealed_pan pan_sealed; /* in RAM: whatever the last write left */
	uint8_t reserved3[3]; /* explicit, so that no padding byte escapes the checksum */
	uint64_t checksum;    /* FNV-1a over every byte before it: finds damage, not an attacker */
};
_Static_assert(sizeof(struct saf_fields) == 145, "saf_fields is stored: its layout is the file format");
_Static_assert(sizeof(struct saf_record) == 272, "saf_record is stored: its layout is the file format");

enum saf_exception_reason {
	SAF_EXPIRED = 1,    /* not acknowledged within the retention */
	SAF_UNREADABLE = 2, /* found damaged or cut short at start */
	SAF_UNKNOWN_BANK = 3, /* names a bank the switch no longer knows */
};

struct saf_exception {
	uint8_t reason; /* enum saf_exception_reason */
	uint8_t reserved[7];
	int64_t moved_unix_ms;
	uint32_t raw_length; /* bytes of the entry as it was found */
	uint32_t reserved2;
	/* An unreadable entry keeps its raw bytes (at most sizeof(struct saf_record)); others a whole record. */
	union {
		struct saf_record record;
		uint8_t raw[sizeof(struct saf_record)];
	} entry;
};

struct saf_store;

/* Opens (creating) the store in dir; vault (the caller's, kept until close) seals the PANs. NULL with the reason in err. */
struct saf_store *saf_store_open(const char *dir, uint64_t map_size, const struct pan_vault *vault, char *err,
				 size_t err_size);
void saf_store_close(struct saf_store *s);

/* Fills the magic, version and checksum of r (seq and content set by the caller). */
void saf_record_seal(struct saf_record *r);
/* True when raw is a whole record of this version whose checksum and strings hold (as on disk: f.pan empty). */
bool saf_record_check(const void *raw, size_t length);

/* The next free sequence number (one above the highest ever used in either database). */
uint64_t saf_store_next_seq(const struct saf_store *s);

/*
 * One durable batch: adds the records, removes the acknowledged seqs, and
 * moves the expired ones to the exceptions, in one synchronous transaction.
 * Returns 0, or an error with its reason in err (nothing of the batch is
 * written then: the caller keeps the advices in memory and tries again).
 * *map_full is set when the reason is that the LMDB map is full.
 */
struct saf_batch {
	const struct saf_record *adds;
	size_t add_count;
	const uint64_t *removes;
	size_t remove_count;
	const struct saf_record *expired;
	size_t expired_count;
	int64_t now_unix_ms;
};
int saf_store_commit(struct saf_store *s, const struct saf_batch *b, bool *map_full, char *err, size_t err_size);

/*
 * At start: calls on_record for every readable queued advice in seq order;
 * an unreadable one is moved to the exceptions (and counted in *moved) in
 * the same pass. Returns 0, or an error with its reason.
 */
typedef void (*saf_record_fn)(void *ctx, const struct saf_record *r);
int saf_store_load(struct saf_store *s, saf_record_fn on_record, void *ctx, int64_t now_unix_ms, size_t *moved,
		   char *err, size_t err_size);

/* Moves one queued advice to the exceptions (e.g. its bank is gone from the config). */
int saf_store_move_to_exceptions(struct saf_store *s, const struct saf_record *r, enum saf_exception_reason why,
				 int64_t now_unix_ms, char *err, size_t err_size);

/* Read-only walks for operators (any thread): at most limit entries from the oldest. */
typedef void (*saf_exception_fn)(void *ctx, uint64_t seq, const struct saf_exception *e);
int saf_store_list_queued(struct saf_store *s, size_t limit, saf_record_fn fn, void *ctx);
int saf_store_list_exceptions(struct saf_store *s, size_t limit, saf_exception_fn fn, void *ctx);
/* Entries in each database (any thread). */
int saf_store_counts(struct saf_store *s, uint64_t *queued, uint64_t *exceptions);

const char *saf_exception_reason_name(enum saf_exception_reason r);

/* Test hook: writes raw bytes under seq into the advices database, as damage on disk would. */
/* Test hook: r as the store would write it (PAN sealed, f.pan zeroed, checksum); 0 or -1. */
int saf_store_disk_form_for_test(const struct saf_store *s, const struct saf_record *r, struct saf_record *out);
int saf_store_put_raw_for_test(struct saf_store *s, uint64_t seq, const void *raw, size_t length);

#endif
