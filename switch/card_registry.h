/*
 * The cards a network knows: an immutable open-addressing hash set keyed by
 * the PAN, read lock-free by workers (published through an rcu_cell). Adding
 * or blocking a card builds a new registry (copy on write, control plane only).
 */
#ifndef CARD_REGISTRY_H
#define CARD_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecosystem_config.h"

enum card_state { CARD_ACTIVE = 1, CARD_BLOCKED = 2 };

struct card_entry {
	uint64_t pan;      /* PAN digits as a number (at most 19 digits fit) */
	uint8_t pan_len;   /* 0 = empty slot */
	uint8_t state;     /* enum card_state */
	char expiry[4];    /* YYMM */
};

struct card_registry {
	size_t count;
	size_t mask; /* slots - 1 */
	struct card_entry *slots;
};

struct card_registry *card_registry_create(size_t expected);
void card_registry_free(struct card_registry *r);
/* A copy with room for extra more cards. */
struct card_registry *card_registry_clone(const struct card_registry *r, size_t extra);

/* Inserts or updates a card. False when the PAN is not 12..19 digits, expiry not 4 digits or full. */
bool card_registry_put(struct card_registry *r, const char *pan, size_t pan_len, const char *expiry,
		       enum card_state state);
const struct card_entry *card_registry_find(const struct card_registry *r, const char *pan, size_t pan_len);
/* The same for a PAN already read as a number (pan_len digits, 12..19). */
const struct card_entry *card_registry_find_number(const struct card_registry *r, uint64_t pan, size_t pan_len);

/* Registry of the generated population of every bank membership of the network. */
struct card_registry *card_registry_from_population(const struct ecosystem_config *c, const char *network);

#endif
