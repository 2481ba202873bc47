#include "tcp_peer_map.h"

#include <stdlib.h>

bool tcp_peer_map_init(struct tcp_peer_map *m, uint32_t max_entries)
{
	m->entries = NULL;
	m->count = 0;
	if (max_entries == 0 || max_entries > (1u << 26))
		return false;
	uint32_t size = 4;
	while (size < 2 * max_entries)
		size <<= 1;
	m->entries = calloc(size, sizeof(*m->entries));
	if (!m->entries)
		return false;
	m->mask = size - 1;
	m->limit = max_entries;
	return true;
}

void tcp_peer_map_destroy(struct tcp_peer_map *m)
{
	free(m->entries);
	m->entries = NULL;
	m->count = 0;
}

bool tcp_peer_map_put(struct tcp_peer_map *m, uint64_t key, uint32_t value)
{
	if (key == 0 || m->count >= m->limit)
		return false;
	for (uint32_t i = tcp_peer_hash(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->entries[i].key == key)
			return false;
		if (m->entries[i].key == 0) {
			m->entries[i].key = key;
			m->entries[i].value = value;
			m->count++;
			return true;
		}
	}
}

uint32_t tcp_peer_map_get(const struct tcp_peer_map *m, uint64_t key)
{
	if (key == 0)
		return TCP_PEER_MAP_NONE;
	for (uint32_t i = tcp_peer_hash(key) & m->mask;; i = (i + 1) & m->mask) {
		if (m->entries[i].key == key)
			return m->entries[i].value;
		if (m->entries[i].key == 0)
			return TCP_PEER_MAP_NONE;
	}
}

bool tcp_peer_map_remove(struct tcp_peer_map *m, uint64_t key)
{
	if (key == 0)
		return false;
	uint32_t i = tcp_peer_hash(key) & m->mask;
	while (m->entries[i].key != key) {
		if (m->entries[i].key == 0)
			return false;
		i = (i + 1) & m->mask;
	}
	/* Backward shift: pull later members of the probe run into the hole when
	 * the hole lies between their home slot and where they sit now. */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & m->mask; m->entries[j].key != 0; j = (j + 1) & m->mask) {
		uint32_t home = tcp_peer_hash(m->entries[j].key) & m->mask;
		bool movable = ((j - home) & m->mask) >= ((j - hole) & m->mask);
		if (movable) {
			m->entries[hole] = m->entries[j];
			hole = j;
		}
	}
	m->entries[hole].key = 0;
	m->count--;
	return true;
}
