/*
 * Cheap timestamps for the fast path: the CPU's time-stamp counter, calibrated
 * against CLOCK_MONOTONIC once per process, with clock_gettime as the fallback
 * where the TSC is not invariant (its rate would follow frequency scaling) or
 * not x86 at all. In the fallback a tick is a nanosecond.
 *
 * Calibration runs before main() (a constructor in tsc_clock.c, ~10 ms) so
 * that every tick any thread reads has the same meaning; tsc_clock_init() may
 * be called again and does nothing more.
 *
 * Ticks are comparable within one process only; across processes exchange
 * nanoseconds of CLOCK_MONOTONIC (tsc_clock_monotonic_ns).
 */
#ifndef TSC_CLOCK_H
#define TSC_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct tsc_clock_state {
	bool use_tsc;  /* false: ticks are CLOCK_MONOTONIC nanoseconds */
	uint64_t hz;   /* ticks per second */
	uint64_t ns_per_tick_q32; /* nanoseconds per tick, fixed point with 32 fraction bits */
};

extern struct tsc_clock_state tsc_clock_state;

void tsc_clock_init(void);

static inline uint64_t tsc_clock_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t tsc_now(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (tsc_clock_state.use_tsc)
		return __builtin_ia32_rdtsc();
#endif
	return tsc_clock_monotonic_ns();
}

static inline uint64_t tsc_hz(void)
{
	return tsc_clock_state.use_tsc ? tsc_clock_state.hz : 1000000000u;
}

static inline uint64_t tsc_to_ns(uint64_t ticks)
{
	if (!tsc_clock_state.use_tsc)
		return ticks;
	return (uint64_t)(((unsigned __int128)ticks * tsc_clock_state.ns_per_tick_q32) >> 32);
}

static inline uint64_t tsc_from_ns(uint64_t ns)
{
	if (!tsc_clock_state.use_tsc)
		return ns;
	return (uint64_t)((unsigned __int128)ns * tsc_clock_state.hz / 1000000000u);
}

/* Nanoseconds since an arbitrary per-process origin. */
static inline uint64_t tsc_now_ns(void)
{
	return tsc_to_ns(tsc_now());
}

#endif
