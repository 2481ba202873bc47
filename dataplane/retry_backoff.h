/*
 * The wait before retry number `attempts` (1-based) of something that keeps
 * failing: first_ms, doubling with each attempt, never above max_ms. Shared by
 * the switch's store-and-forward repeats and the network's notification
 * deliveries.
 */
#ifndef RETRY_BACKOFF_H
#define RETRY_BACKOFF_H

#include <stdint.h>

static inline uint32_t retry_backoff_ms(uint32_t first_ms, uint32_t max_ms, uint32_t attempts)
{
	uint64_t wait = first_ms;
	for (uint32_t i = 1; i < attempts && wait < max_ms; i++)
		wait *= 2;
	return wait > max_ms ? max_ms : (uint32_t)wait;
}

#endif
