/*
 * A bank that lets SWITCH_BANK_DOWN_AFTER authorizations in a row time out,
 * without answering anything in between, is taken as unavailable for a while:
 * new authorizations for it are answered 912 at once instead of waiting for
 * yet another timeout. When the while is over, requests flow again; one more
 * timeout takes it down again, any answer brings it back. Per worker.
 */
#ifndef BANK_HEALTH_H
#define BANK_HEALTH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "latency_counts.h"

#define SWITCH_BANK_DOWN_AFTER 8
#define SWITCH_BANK_DOWN_MIN_MS 1000
#define SWITCH_BANK_HEALTH 16 /* banks tracked per worker */

struct bank_health {
	struct sockaddr_in bank;
	uint32_t consecutive_timeouts;
	uint64_t down_until_ms;
	struct latency_counts round_trip; /* forwarded 1100 to the bank's 1110, for /metrics */
};

/* One worker's banks, in the order it first saw them; /metrics reads the first `count`. */
struct bank_health_table {
	uint32_t count;
	struct bank_health banks[SWITCH_BANK_HEALTH];
};

/* Inline: every authorization asks whether its bank is down, every bank answer says it is not. */

static inline bool same_endpoint(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* The bank's record, made on first sight; NULL when the table is full (then it is never taken down). */
static inline struct bank_health *health_of(struct bank_health_table *t, const struct sockaddr_in *bank)
{
	for (uint32_t i = 0; i < t->count; i++)
		if (same_endpoint(&t->banks[i].bank, bank))
			return &t->banks[i];
	if (t->count == SWITCH_BANK_HEALTH)
		return NULL;
	struct bank_health *h = &t->banks[t->count];
	memset(h, 0, sizeof(*h));
	h->bank = *bank;
	/* Published after it is filled in: the HTTP thread reads the table while the worker adds. */
	__atomic_store_n(&t->count, t->count + 1, __ATOMIC_RELEASE);
	return h;
}

static inline bool bank_is_down(struct bank_health_table *t, const struct sockaddr_in *bank, uint64_t now_ms)
{
	struct bank_health *h = health_of(t, bank);
	return h && now_ms < h->down_until_ms;
}

static inline void bank_answered(struct bank_health_table *t, const struct sockaddr_in *bank)
{
	struct bank_health *h = health_of(t, bank);
	if (h) {
		h->consecutive_timeouts = 0;
		h->down_until_ms = 0;
	}
}

/* An answer to an authorization forwarded round_trip_ns ago. */
static inline void bank_answered_after(struct bank_health_table *t, const struct sockaddr_in *bank,
				       uint64_t round_trip_ns)
{
	struct bank_health *h = health_of(t, bank);
	if (h) {
		h->consecutive_timeouts = 0;
		h->down_until_ms = 0;
		latency_add_single_writer(&h->round_trip, round_trip_ns);
	}
}

/* Counts a timeout; the one that makes SWITCH_BANK_DOWN_AFTER in a row takes the bank down for
 * max(SWITCH_BANK_DOWN_MIN_MS, 4 x bank_timeout_ms). */
void bank_timed_out(struct bank_health_table *t, const struct sockaddr_in *bank, uint64_t now_ms,
		    uint32_t bank_timeout_ms);

#endif
