#include "outcome_memory.h"

#include <stddef.h>
#include <stdlib.h>

#include "table_memory.h"

bool outcome_memory_init(struct outcome_memory *m, uint32_t capacity)
{
	memset(m, 0, sizeof(*m));
	if (capacity == 0 || capacity >= (1u << 29))
		return false;
	uint32_t slots = 2;
	while (slots < 2 * capacity)
		slots <<= 1;
	m->capacity = capacity;
	m->slot_mask = slots - 1;
	m->slots = table_calloc(slots, sizeof(*m->slots));
	m->entries = table_calloc(capacity, sizeof(*m->entries));
	if (!m->slots || !m->entries) {
		outcome_memory_destroy(m);
		return false;
	}
	return true;
}

void outcome_memory_destroy(struct outcome_memory *m)
{
	table_free(m->slots, (size_t)m->slot_mask + 1, sizeof(*m->slots));
	table_free(m->entries, m->capacity, sizeof(*m->entries));
	memset(m, 0, sizeof(*m));
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t probe(const struct outcome_memory *m, const struct txn_key *key, uint32_t hash)
{
	for (uint32_t i = hash & m->slot_mask;; i = (i + 1) & m->slot_mask) {
		const struct outcome_slot *s = &m->slots[i];
		if (s->entry == 0)
			return i;
		if (s->hash == hash && txn_key_equal(&m->entries[s->entry - 1].key, key))
			return i;
	}
}

/* Removes the slot of entry index, shifting later members of its probe run back. */
static void remove_entry(struct outcome_memory *m, uint32_t index)
{
	uint32_t i = m->entries[index].hash & m->slot_mask;
	while (m->slots[i].entry != index + 1)
		i = (i + 1) & m->slot_mask;
	for (uint32_t j = i;;) {
		j = (j + 1) & m->slot_mask;
		if (m->slots[j].entry == 0)
			break;
		uint32_t home = m->slots[j].hash & m->slot_mask;
		/* The element at j may fill the hole at i unless its home lies in (i, j]. */
		bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		m->slots[i] = m->slots[j];
		i = j;
	}
	m->slots[i].entry = 0;
}

/*
 * Entries are reused in FIFO order, so the ones the next inserts will evict are
 * known: their lines, and the index lines their removal will touch (found from
 * their hash once their line is in), are loaded a few inserts ahead.
 */
#define OUTCOME_PREFETCH_ENTRY 8
#define OUTCOME_PREFETCH_SLOT 4

/* Always inlined: GCC takes a function that only loads and prefetches for pure, and drops calls to it. */
static inline __attribute__((always_inline)) void prefetch_evictions(const struct outcome_memory *m)
{
	if (m->count != m->capacity)
		return;
	uint32_t far = m->oldest + OUTCOME_PREFETCH_ENTRY, near = m->oldest + OUTCOME_PREFETCH_SLOT;
	far = far >= m->capacity ? far % m->capacity : far;
	near = near >= m->capacity ? near % m->capacity : near;
	__builtin_prefetch(&m->entries[far], 1);
	__builtin_prefetch(&m->slots[m->entries[near].hash & m->slot_mask], 1);
}

uint32_t outcome_memory_prefetch(const struct outcome_memory *m, const struct txn_key *key)
{
	uint32_t hash = (uint32_t)txn_key_hash(key);
	__builtin_prefetch(&m->slots[hash & m->slot_mask]);
	return hash;
}

struct outcome *outcome_memory_upsert(struct outcome_memory *m, const struct txn_key *key, bool *existed)
{
	return outcome_memory_upsert_hashed(m, key, (uint32_t)txn_key_hash(key), existed);
}

struct outcome *outcome_memory_upsert_hashed(struct outcome_memory *m, const struct txn_key *key, uint32_t hash,
					     bool *existed)
{
	uint32_t at = probe(m, key, hash);
	if (m->slots[at].entry) {
		*existed = true;
		return &m->entries[m->slots[at].entry - 1].value;
	}
	*existed = false;
	uint32_t index;
	if (m->count == m->capacity) {
		index = m->oldest;
		remove_entry(m, index);
		m->oldest = m->oldest + 1 == m->capacity ? 0 : m->oldest + 1; /* no division a message */
		m->evictions++;
		/* The removal may have shifted the run key probes through. */
		at = probe(m, key, hash);
	} else {
		index = (m->oldest + m->count) % m->capacity;
		m->count++;
	}
	prefetch_evictions(m);
	struct outcome_entry *e = &m->entries[index];
	e->key = *key;
	e->hash = hash;
	memset(&e->value, 0, sizeof(e->value));
	m->slots[at].entry = index + 1;
	m->slots[at].hash = hash;
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
	uint32_t hash = (uint32_t)txn_key_hash(key);
	uint32_t at = probe(m, key, hash);
	return m->slots[at].entry ? &m->entries[m->slots[at].entry - 1].value : NULL;
}
