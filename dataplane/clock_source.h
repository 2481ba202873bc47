/*
 * The clocks the agents read where a reading decides something (the
 * store-and-forward schedule and its retention, the switch's date, the bank's
 * batch clock and answer budget), with a hook a deterministic simulation
 * (tests/sim/) installs once before it builds the agents in its own thread.
 *
 * Production never installs one: a reading costs one predictable branch on a
 * global more than clock_gettime. The fast path's TSC stamps (tsc_clock.h)
 * only feed latency figures and stay as they are.
 */
#ifndef CLOCK_SOURCE_H
#define CLOCK_SOURCE_H

#include <stdint.h>
#include <time.h>

struct clock_source {
	uint64_t (*monotonic_ns)(void *ctx); /* CLOCK_MONOTONIC */
	int64_t (*realtime_ns)(void *ctx);   /* CLOCK_REALTIME: may jump, as NTP steps it */
	void *ctx;
};

/* NULL: the system's clocks. Set before any agent is built, never while threads read it. */
extern const struct clock_source *clock_source_override;

static inline uint64_t clock_monotonic_ns(void)
{
	const struct clock_source *c = clock_source_override;
	if (__builtin_expect(c != NULL, 0))
		return c->monotonic_ns(c->ctx);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t clock_monotonic_ms(void)
{
	return clock_monotonic_ns() / 1000000u;
}

static inline int64_t clock_realtime_ns(void)
{
	const struct clock_source *c = clock_source_override;
	if (__builtin_expect(c != NULL, 0))
		return c->realtime_ns(c->ctx);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t clock_realtime_ms(void)
{
	return clock_realtime_ns() / 1000000;
}

static inline int64_t clock_realtime_s(void)
{
	return clock_realtime_ns() / 1000000000;
}

#endif
