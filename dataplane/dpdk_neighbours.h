/*
 * IPv4 -> MAC neighbour table shared by all queues of a DPDK port.
 * Learned from every IPv4 peer that sends to us and from ARP; read on every
 * transmitted datagram by every worker, so lookups are lock-free (one atomic
 * load per probe) and writers only touch a slot when its MAC changes.
 * Entries are never removed: a switch talks to a handful of banks and
 * cardholder gateways, and a full table is counted, not grown.
 */
#ifndef DPDK_NEIGHBOURS_H
#define DPDK_NEIGHBOURS_H

#include <stdbool.h>
#include <stdint.h>

#include "dpdk_frames.h"

#define NEIGHBOUR_SLOTS 1024 /* power of two */

struct neighbour_slot {
	uint32_t ip;  /* network order; 0 = free (0.0.0.0 is never a peer) */
	uint64_t mac; /* 48-bit MAC | NEIGHBOUR_VALID, 0 while being filled in */
};

struct neighbour_table {
	struct neighbour_slot slots[NEIGHBOUR_SLOTS];
	uint64_t generation; /* bumped on every new or changed MAC, so queues know to retry held frames */
	uint64_t full;       /* learn attempts that found no free slot */
};

void neighbour_table_init(struct neighbour_table *t);
/* Records ip -> mac. Returns false if the table is full (counted). */
bool neighbour_learn(struct neighbour_table *t, uint32_t ip, const struct pkt_mac *mac);
bool neighbour_lookup(const struct neighbour_table *t, uint32_t ip, struct pkt_mac *mac);
uint64_t neighbour_generation(const struct neighbour_table *t);
/* Number of known neighbours (telemetry). */
unsigned neighbour_count(const struct neighbour_table *t);
/* Calls visit for every known neighbour, in slot order (telemetry; not on the fast path). */
void neighbour_each(const struct neighbour_table *t, void (*visit)(uint32_t ip, const struct pkt_mac *mac, void *ctx),
		    void *ctx);

#endif
