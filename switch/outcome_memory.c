#include "outcome_memory.h"

#include <stddef.h>
#include <stdlib.h>

#define NO_ENTRY UINT32_MAX

bool outcome_memory_init(struct outcome_memory *m, uint32_t capacity)
{
	memset(m, 0, sizeof(*m));
	if (capacity == 0 || capacity >= (1u << 30))
		return false;
	uint32_t buckets = 1;
	while (buckets < capacity)
		buckets <<= 1;
	m->capacity = capacity;
	m->bucket_mask = buckets - 1;
	m->buckets = malloc(sizeof(*m->buckets) * buckets);
	m->entries = calloc(capacity, sizeof(*m->entries));
	if (!m->buckets || !m->entries) {
		outcome_memory_destroy(m);
		return false;
	}
	for (uint32_t i = 0; i < buckets; i++)
		m->buckets[i] = NO_ENTRY;
	return true;
}

void outcome_memory_destroy(struct outcome_memory *m)
{
	free(m->buckets);
	free(m->entries);
	memset(m, 0, sizeof(*m));
}

static struct outcome_entry *lookup(struct outcome_memory *m, const struct txn_key *key, uint64_t hash)
{
	for (uint32_t i = m->buckets[hash & m->bucket_mask]; i != NO_ENTRY; i = m->entries[i].next) {
		struct outcome_entry *e = &m->entries[i];
		if (e->hash == hash && txn_key_equal(&e->key, key))
			return e;
	}
	return NULL;
}

static void unlink_entry(struct outcome_memory *m, uint32_t index)
{
	uint32_t *link = &m->buckets[m->entries[index].hash & m->bucket_mask];
	while (*link != index)
		link = &m->entries[*link].next;
	*link = m->entries[index].next;
}

struct outcome *outcome_memory_upsert(struct outcome_memory *m, const struct txn_key *key, bool *existed)
{
	uint64_t hash = txn_key_hash(key);
	struct outcome_entry *e = lookup(m, key, hash);
	if (e) {
		*existed = true;
		return &e->value;
	}
	*existed = false;
	uint32_t index;
	if (m->count == m->capacity) {
		index = m->oldest;
		unlink_entry(m, index);
		m->oldest = (m->oldest + 1) % m->capacity;
		m->evictions++;
	} else {
		index = (m->oldest + m->count) % m->capacity;
		m->count++;
	}
	e = &m->entries[index];
	e->key = *key;
	e->hash = hash;
	memset(&e->value, 0, sizeof(e->value));
	uint32_t *bucket = &m->buckets[hash & m->bucket_mask];
	e->next = *bucket;
	*bucket = index;
	return &e->value;
}

struct outcome *outcome_memory_put(struct outcome_memory *m, const struct txn_key *key,
				   const struct outcome *value)
{
	bool existed;
	struct outcome *o = outcome_memory_upsert(m, key, &existed);
	*o = *value;
	return o;
}

uint32_t outcome_memory_index(const struct outcome_memory *m, const struct outcome *value)
{
	const struct outcome_entry *e =
		(const struct outcome_entry *)((const char *)value - offsetof(struct outcome_entry, value));
	return (uint32_t)(e - m->entries);
}

struct outcome *outcome_memory_at(struct outcome_memory *m, uint32_t index, const struct txn_key *key)
{
	if (index >= m->capacity)
		return NULL;
	struct outcome_entry *e = &m->entries[index];
	/* Evicted entries are reused in FIFO order; the key tells whether this one still is ours. */
	if (index >= m->count || !txn_key_equal(&e->key, key))
		return NULL;
	return &e->value;
}

struct outcome *outcome_memory_find(struct outcome_memory *m, const struct txn_key *key)
{
	struct outcome_entry *e = lookup(m, key, txn_key_hash(key));
	return e ? &e->value : NULL;
}
