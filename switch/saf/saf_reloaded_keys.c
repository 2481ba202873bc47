#include "saf_reloaded_keys.h"

#include <stdlib.h>

static uint64_t hash_without_stan(const struct txn_key *key)
{
	struct txn_key blank;
	txn_key_without_stan(key, &blank);
	return txn_key_hash(&blank);
}

bool saf_reloaded_keys_add(struct saf_reloaded_keys *k, const struct saf_record *r)
{
	struct txn_key key;
	/* The advice's own STAN stands in for the original's: it is blanked anyway. */
	if (!txn_key_make(r->f.acquirer, r->f.stan, r->f.local_time, r->f.rrn, r->f.terminal, &key))
		return true; /* no repeat can name it either: nothing to remember */
	if (k->count == k->capacity) {
		size_t capacity = k->capacity ? 2 * k->capacity : 64;
		uint64_t *grown = realloc(k->hashes, capacity * sizeof(*grown));
		if (!grown)
			return false;
		k->hashes = grown;
		k->capacity = capacity;
	}
	k->hashes[k->count++] = hash_without_stan(&key);
	return true;
}

static int compare_hashes(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

void saf_reloaded_keys_seal(struct saf_reloaded_keys *k)
{
	if (k->count > 1)
		qsort(k->hashes, k->count, sizeof(*k->hashes), compare_hashes);
}

bool saf_reloaded_keys_has(const struct saf_reloaded_keys *k, const struct txn_key *key)
{
	if (k->count == 0)
		return false;
	uint64_t h = hash_without_stan(key);
	return bsearch(&h, k->hashes, k->count, sizeof(*k->hashes), compare_hashes) != NULL;
}

void saf_reloaded_keys_free(struct saf_reloaded_keys *k)
{
	free(k->hashes);
	*k = (struct saf_reloaded_keys){0};
}
