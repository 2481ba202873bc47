/*
 * Approvals per card in the current minute, for the velocity fraud rule.
 * Owned by the writer thread alone (no locks): an open-addressing table keyed
 * by PAN, each card counting in a fixed 60-second window that starts at its
 * first approval and restarts once it has elapsed.
 */
#ifndef BANK_VELOCITY_H
#define BANK_VELOCITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

#define VELOCITY_WINDOW_S 60

struct velocity_slot {
	char pan[STORE_PAN_MAX + 1]; /* "" = free */
	int64_t window_start;
	uint32_t count;
};

struct velocity_table {
	struct velocity_slot *slots;
	size_t mask; /* capacity - 1, capacity a power of two */
	size_t used;
};

bool velocity_init(struct velocity_table *t, size_t expected_cards);
void velocity_free(struct velocity_table *t);
/* Approvals of this card in its current window (0 when the window has elapsed). */
uint32_t velocity_count(const struct velocity_table *t, const char *pan, int64_t now_s);
/* Counts one approval; false only when the table cannot grow (the rule then sees no history). */
bool velocity_record(struct velocity_table *t, const char *pan, int64_t now_s);

#endif
