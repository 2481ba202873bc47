#include "dpdk_neighbours.h"

#include <string.h>

#define NEIGHBOUR_VALID (1ull << 63)
#define NEIGHBOUR_MAX_PROBE 64

static uint64_t mac_to_word(const struct pkt_mac *mac)
{
	uint64_t w = 0;
	for (int i = 0; i < 6; i++)
		w = (w << 8) | mac->bytes[i];
	return w | NEIGHBOUR_VALID;
}

static void word_to_mac(uint64_t w, struct pkt_mac *mac)
{
	for (int i = 5; i >= 0; i--) {
		mac->bytes[i] = (uint8_t)w;
		w >>= 8;
	}
}

static unsigned slot_of(uint32_t ip)
{
	/* Fibonacci hashing spreads consecutive addresses of one subnet. */
	return (unsigned)((ip * 2654435769u) >> 22) & (NEIGHBOUR_SLOTS - 1);
}

void neighbour_table_init(struct neighbour_table *t)
{
	memset(t, 0, sizeof *t);
}

bool neighbour_learn(struct neighbour_table *t, uint32_t ip, const struct pkt_mac *mac)
{
	if (ip == 0)
		return false;
	uint64_t word = mac_to_word(mac);
	unsigned s = slot_of(ip);
	for (int probe = 0; probe < NEIGHBOUR_MAX_PROBE; probe++, s = (s + 1) & (NEIGHBOUR_SLOTS - 1)) {
		struct neighbour_slot *slot = &t->slots[s];
		uint32_t current = __atomic_load_n(&slot->ip, __ATOMIC_ACQUIRE);
		if (current == 0) {
			uint32_t expected = 0;
			if (!__atomic_compare_exchange_n(&slot->ip, &expected, ip, false, __ATOMIC_ACQ_REL,
							 __ATOMIC_ACQUIRE)) {
				current = expected; /* another queue claimed it first */
			} else {
				current = ip;
			}
		}
		if (current != ip)
			continue;
		if (__atomic_load_n(&slot->mac, __ATOMIC_RELAXED) != word) {
			__atomic_store_n(&slot->mac, word, __ATOMIC_RELEASE);
			__atomic_add_fetch(&t->generation, 1, __ATOMIC_RELEASE);
		}
		return true;
	}
	__atomic_add_fetch(&t->full, 1, __ATOMIC_RELAXED);
	return false;
}

bool neighbour_lookup(const struct neighbour_table *t, uint32_t ip, struct pkt_mac *mac)
{
	unsigned s = slot_of(ip);
	for (int probe = 0; probe < NEIGHBOUR_MAX_PROBE; probe++, s = (s + 1) & (NEIGHBOUR_SLOTS - 1)) {
		const struct neighbour_slot *slot = &t->slots[s];
		uint32_t current = __atomic_load_n(&slot->ip, __ATOMIC_ACQUIRE);
		if (current == 0)
			return false;
		if (current != ip)
			continue;
		uint64_t word = __atomic_load_n(&slot->mac, __ATOMIC_ACQUIRE);
		if (!(word & NEIGHBOUR_VALID))
			return false; /* claimed, MAC not stored yet */
		word_to_mac(word, mac);
		return true;
	}
	return false;
}

uint64_t neighbour_generation(const struct neighbour_table *t)
{
	return __atomic_load_n(&t->generation, __ATOMIC_ACQUIRE);
}

unsigned neighbour_count(const struct neighbour_table *t)
{
	unsigned n = 0;
	for (unsigned s = 0; s < NEIGHBOUR_SLOTS; s++)
		if (__atomic_load_n(&t->slots[s].mac, __ATOMIC_ACQUIRE) & NEIGHBOUR_VALID)
			n++;
	return n;
}

void neighbour_each(const struct neighbour_table *t, void (*visit)(uint32_t ip, const struct pkt_mac *mac, void *ctx),
		    void *ctx)
{
	for (unsigned s = 0; s < NEIGHBOUR_SLOTS; s++) {
		uint32_t ip = __atomic_load_n(&t->slots[s].ip, __ATOMIC_ACQUIRE);
		uint64_t word = __atomic_load_n(&t->slots[s].mac, __ATOMIC_ACQUIRE);
		if (ip == 0 || !(word & NEIGHBOUR_VALID))
			continue;
		struct pkt_mac mac;
		word_to_mac(word, &mac);
		visit(ip, &mac, ctx);
	}
}
