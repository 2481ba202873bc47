/*
 * A worker's transactions waiting at a bank: a fixed array of slots
 * preallocated at start (no allocation per message), with a free list.
 *
 * The switch gives every transaction its own STAN (DE 11) towards the bank:
 * first digit the owning worker, then five digits naming the slot. Slots
 * 0..49999 name authorizations; the reversal advice the switch queues for
 * slot s carries s + 50000, so a reversal has its own STAN as the profile
 * asks (its 1430 goes to the store-and-forward queue, matched by DE 56, 37
 * and 41, not back to the slot, which is long reused). DE 37 and DE 41 of the
 * answer must equal the slot's, so a late answer for a slot reused since is
 * recognised as stale rather than matched to the wrong cardholder.
 */
#ifndef PENDING_TABLE_H
#define PENDING_TABLE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "iso8583.h"
#include "txn_key.h"

#define PENDING_MAX_WORKERS 10
#define PENDING_MAX_SLOTS 50000
#define PENDING_REVERSAL_OFFSET 50000

enum pending_kind {
	PENDING_FREE = 0,
	PENDING_AUTHORIZATION,   /* 1100 at the bank, cardholder waiting */
	PENDING_ADVICE,          /* a reversal advice handed to the store-and-forward queue, not yet on disk */
	PENDING_TAKEN,           /* allocated, not filled in yet: matches nothing, but can be released */
};

/* The cardholder's data elements the switch needs to answer or reverse later. */
struct pending_fields {
	char pan[20];
	char processing[7];
	char amount[13];
	char transmission[11];
	char stan[7];       /* the cardholder's DE 11 */
	char local_time[13];
	char acquirer[12];
	char rrn[13];
	char terminal[9];
	char currency[4];
	char original[36];  /* DE 56 of a forwarded reversal, as the cardholder sent it */
};

/* Whom a PENDING_ADVICE slot answers once its advice is on disk (or the disk refused it). */
enum advice_answer {
	ADVICE_TELLS_NOBODY = 0, /* the cardholder has its answer already (a cancelled approval) */
	ADVICE_ANSWERS_911,      /* the bank timed out: 1110 911 (909 if the disk refused) */
	ADVICE_ANSWERS_1430,     /* a cardholder's reversal: 1430 400 (909 if the disk refused) */
};

struct pending_txn {
	uint8_t kind;         /* enum pending_kind */
	uint8_t answer;       /* enum advice_answer, for PENDING_ADVICE */
	bool advice_submitted; /* handed to the forwarder (else its ring was full: retried on a timer) */
	/* The cardholder reversed this authorization while it was at the bank
	 * (the switch already answered 1430): its 1110 is not forwarded, and an
	 * approval is reversed by the switch. */
	bool cardholder_reversed;
	struct sockaddr_in cardholder;
	struct sockaddr_in bank;
	struct txn_key key;
	uint32_t outcome_index; /* where the outcome memory keeps this transaction's outcome */
	uint64_t forwarded_ns;  /* when the 1100 left for the bank (tsc_now_ns), for the round-trip histogram */
	struct pending_fields f;
	char bank_original[36]; /* DE 56 of a cardholder's reversal as its bank must get it; "" for the switch's own */
};

struct pending_table {
	uint32_t capacity;
	uint32_t in_use;
	/* Free slots in a FIFO: a released slot is reused last, so that a bank's
	 * late answer still finds its slot's last transaction (and is recognised
	 * as late) for as long as possible. */
	uint32_t free_head, free_count;
	uint32_t *free_list;
	struct pending_txn *slots;
	uint8_t worker;
};

bool pending_table_init(struct pending_table *t, uint8_t worker, uint32_t capacity);
void pending_table_destroy(struct pending_table *t);
/* A free slot (kind PENDING_TAKEN until the caller sets it), or UINT32_MAX when full. */
uint32_t pending_alloc(struct pending_table *t);
void pending_release(struct pending_table *t, uint32_t slot);
/*
 * The slot the allocation `ahead` allocations from now will return if nothing
 * is released meanwhile (UINT32_MAX when there is none): free slots are
 * reused oldest first, so that slot is cold, and the worker prefetches it.
 */
static inline uint32_t pending_upcoming(const struct pending_table *t, uint32_t ahead)
{
	if (ahead >= t->free_count)
		return UINT32_MAX;
	uint32_t at = t->free_head + ahead;
	return t->free_list[at >= t->capacity ? at - t->capacity : at];
}

/* "WSSSSS": six digits, NUL-terminated into out[7]. */
void pending_stan(uint8_t worker, uint32_t slot, bool reversal, char out[7]);

struct stan_owner {
	uint8_t worker;
	uint32_t slot;
	bool reversal;
};
/* Decodes a switch-assigned STAN; false if not six digits. */
bool pending_stan_parse(const char *stan, size_t len, struct stan_owner *out);

/* Fills f from a decoded cardholder message; false when a needed element is absent or too long. */
bool pending_fields_capture(const struct iso_msg *m, struct pending_fields *f);

/*
 * The slot a bank's answer (1110 or 1430) belongs to, after checking that it
 * is this worker's, the slot is waiting for that kind of answer, and DE 37/41
 * match. NULL otherwise (stale, late or forged: the caller counts it).
 */
struct pending_txn *pending_match(struct pending_table *t, const struct iso_msg *answer, uint32_t *slot_out);
/* The same for an answer whose DE 11 the caller already parsed into owner. */
struct pending_txn *pending_match_owned(struct pending_table *t, const struct iso_msg *answer,
					const struct stan_owner *owner, uint32_t *slot_out);

/*
 * For an answer pending_match refused: true when it names one of this
 * worker's slots whose last transaction (finished since, possibly timed out
 * and reversed) had the same DE 37/41, i.e. a bank answering too late.
 */
bool pending_is_late(const struct pending_table *t, const struct iso_msg *answer);

#endif
