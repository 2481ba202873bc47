/*
 * Reconnect backoff of the TCP port's outbound links: each wait is the current
 * backoff with +-25% jitter (so that many links lost together do not come back
 * in lockstep), and the backoff doubles up to a cap.
 */
#ifndef TCP_BACKOFF_H
#define TCP_BACKOFF_H

#include <stdint.h>

/* The wait before the next attempt: backoff_ms +-25%, the offset drawn from random. */
static inline uint64_t tcp_backoff_wait_ms(uint32_t backoff_ms, uint64_t random)
{
	uint64_t base = backoff_ms;
	uint64_t spread = base / 2; /* [-25%, +25%] is a range of half the base */
	return base - base / 4 + (spread ? random % (spread + 1) : 0);
}

/* The backoff after one more failure. */
static inline uint32_t tcp_backoff_next_ms(uint32_t backoff_ms, uint32_t max_ms)
{
	uint64_t doubled = (uint64_t)backoff_ms * 2;
	return doubled > max_ms ? max_ms : (uint32_t)doubled;
}

#endif
