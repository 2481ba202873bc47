/*
 * The TCP port's map from a peer's IPv4 address and port to a link: open
 * addressing with linear probing and backward-shift deletion (no tombstones,
 * so a long-lived map with links coming and going never degrades). Sized once
 * for the most links the port may hold; used by the I/O thread alone.
 */
#ifndef TCP_PEER_MAP_H
#define TCP_PEER_MAP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define TCP_PEER_MAP_NONE UINT32_MAX

struct tcp_peer_map_entry {
	uint64_t key; /* 0 = empty */
	uint32_t value;
};

struct tcp_peer_map {
	struct tcp_peer_map_entry *entries;
	uint32_t mask;
	uint32_t count;
	uint32_t limit; /* most entries it accepts: half the table */
};

/* Holds up to max_entries peers. */
bool tcp_peer_map_init(struct tcp_peer_map *m, uint32_t max_entries);
void tcp_peer_map_destroy(struct tcp_peer_map *m);

/* Address and port as a non-zero key (both in network byte order inside). */
static inline uint64_t tcp_peer_key(const struct sockaddr_in *a)
{
	return (1ull << 48) | ((uint64_t)a->sin_addr.s_addr << 16) | a->sin_port;
}

/* False when the key is present already or the map is full. */
bool tcp_peer_map_put(struct tcp_peer_map *m, uint64_t key, uint32_t value);
/* The value, or TCP_PEER_MAP_NONE. */
uint32_t tcp_peer_map_get(const struct tcp_peer_map *m, uint64_t key);
/* True when the key was there. */
bool tcp_peer_map_remove(struct tcp_peer_map *m, uint64_t key);

static inline uint32_t tcp_peer_hash(uint64_t key)
{
	/* Fibonacci-style multiply: client ports differ in low bits only. */
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 32;
	return (uint32_t)key;
}

#endif
