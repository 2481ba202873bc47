/*
 * The transactions whose reversal advices a switch found on disk at start,
 * by their key without the STAN (txn_key_without_stan): after a restart the
 * workers remember nothing, and an acquirer's repeat (1101) of one of them
 * must hear its 911 again, not the original's approval that the advice is
 * about to reverse (docs/protocol.md, "Repeats"). Built once before the
 * workers start and never changed: workers read it without locks. Only
 * hashes are kept; a collision answers a repeat 911, which moves no money.
 */
#ifndef SAF_RELOADED_KEYS_H
#define SAF_RELOADED_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "saf_store.h"
#include "txn_key.h"

struct saf_reloaded_keys {
	uint64_t *hashes; /* sorted once sealed */
	size_t count, capacity;
};

/* Adds an advice's original (skipped when its fields make no key); false only when out of memory. */
bool saf_reloaded_keys_add(struct saf_reloaded_keys *k, const struct saf_record *r);
/* Sorts: after this, only saf_reloaded_keys_has and _free. */
void saf_reloaded_keys_seal(struct saf_reloaded_keys *k);
/* True when an advice for the transaction of key (any STAN) was reloaded. */
bool saf_reloaded_keys_has(const struct saf_reloaded_keys *k, const struct txn_key *key);
void saf_reloaded_keys_free(struct saf_reloaded_keys *k);

#endif
