/*
 * What became of recent cardholder transactions, so that a cardholder's
 * reversal can be answered or translated: bounded (capacity fixed at start,
 * the oldest entry is evicted), preallocated, one per worker (a transaction's
 * key decides which worker owns it, so no sharing).
 */
#ifndef OUTCOME_MEMORY_H
#define OUTCOME_MEMORY_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "txn_key.h"

enum outcome_kind {
	OUTCOME_PENDING = 1, /* at the bank; slot is the pending transaction */
	OUTCOME_APPROVED,    /* the bank approved; bank_stan is the STAN it saw */
	OUTCOME_REFUSED,     /* refused by the bank or by the network's checks */
	OUTCOME_TIMED_OUT,   /* answered 911; the switch reverses it at the bank itself */
	OUTCOME_REVERSED_EARLY, /* a cardholder reversal came first: the original, if it comes, is refused */
};

struct outcome {
	uint8_t kind;
	uint32_t slot;
	char bank_stan[7];
	char approval[7]; /* DE 38 of an approval the cardholder heard; "" otherwise */
	int16_t action;   /* DE 39 the cardholder heard (a repeat hears it again); -1: none to repeat */
	struct sockaddr_in bank;
};

struct outcome_entry {
	struct txn_key key;
	uint32_t hash; /* low half of the key's hash, as in its index slot */
	struct outcome value;
};

/*
 * The index is open-addressed (linear probing, at most half full) over small
 * slots holding an entry's position and 32 bits of its hash, so that a miss
 * (every new 1100) usually reads one cache line of the index and no entry.
 */
struct outcome_slot {
	uint32_t entry; /* entry index + 1; 0 = empty */
	uint32_t hash;
};

struct outcome_memory {
	uint32_t capacity;
	uint32_t count;
	uint32_t oldest; /* entries are used as a FIFO: oldest is evicted first */
	uint32_t slot_mask;
	struct outcome_slot *slots;
	struct outcome_entry *entries;
	uint64_t evictions;
};

bool outcome_memory_init(struct outcome_memory *m, uint32_t capacity);
void outcome_memory_destroy(struct outcome_memory *m);
/* Inserts or overwrites; returns the stored value. */
struct outcome *outcome_memory_put(struct outcome_memory *m, const struct txn_key *key,
				   const struct outcome *value);
struct outcome *outcome_memory_find(struct outcome_memory *m, const struct txn_key *key);
/*
 * One lookup for "seen before?" and "remember it": the existing value
 * (*existed true) or a new zeroed one for the caller to fill (evicting the
 * oldest entry when full).
 */
struct outcome *outcome_memory_upsert(struct outcome_memory *m, const struct txn_key *key, bool *existed);
/*
 * The same in two steps, so that the index line a new key lands on (a cache
 * miss: keys spread over the whole index) loads while the caller does other
 * work: _prefetch hashes the key and starts the load, _upsert_hashed takes
 * that hash.
 */
uint32_t outcome_memory_prefetch(const struct outcome_memory *m, const struct txn_key *key);
/* The same for a caller that has the key's hash already ((uint32_t)txn_key_hash(key)). */
static inline __attribute__((always_inline)) void outcome_memory_prefetch_hash(const struct outcome_memory *m,
									      uint32_t hash)
{
	__builtin_prefetch(&m->slots[hash & m->slot_mask]);
}
struct outcome *outcome_memory_upsert_hashed(struct outcome_memory *m, const struct txn_key *key, uint32_t hash,
					     bool *existed);
/* Where a value lives, to update it later without a lookup ... */
uint32_t outcome_memory_index(const struct outcome_memory *m, const struct outcome *value);
/* ... as long as it still holds key (NULL once evicted and reused). */
struct outcome *outcome_memory_at(struct outcome_memory *m, uint32_t index, const struct txn_key *key);

#endif
