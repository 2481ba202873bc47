/* TSC calibration against CLOCK_MONOTONIC (see tsc_clock.h). */
#include "tsc_clock.h"

#include <pthread.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

struct tsc_clock_state tsc_clock_state = {.use_tsc = false, .hz = 1000000000u, .ns_per_tick_q32 = 1ull << 32};

static pthread_once_t calibrate_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) || defined(__i386__)
/* CPUID 0x80000007 EDX bit 8: the TSC ticks at a constant rate in every P/C-state. */
static bool invariant_tsc(void)
{
	unsigned a, b, c, d;
	/* gcc declares the result unsigned, clang int: compare as unsigned on both. */
	if ((unsigned)__get_cpuid_max(0x80000000u, NULL) < 0x80000007u)
		return false;
	if (!__get_cpuid(0x80000007u, &a, &b, &c, &d))
		return false;
	return (d >> 8) & 1u;
}

/* Ticks per second over a ~10 ms window, the best of three to dodge preemption. */
static uint64_t measure_hz(void)
{
	uint64_t best = 0;
	uint64_t best_window_error = UINT64_MAX;
	for (int round = 0; round < 3; round++) {
		uint64_t t0 = tsc_clock_monotonic_ns();
		uint64_t c0 = __builtin_ia32_rdtsc();
		uint64_t t0b = tsc_clock_monotonic_ns();
		struct timespec pause = {0, 10 * 1000 * 1000};
		nanosleep(&pause, NULL);
		uint64_t t1 = tsc_clock_monotonic_ns();
		uint64_t c1 = __builtin_ia32_rdtsc();
		uint64_t t1b = tsc_clock_monotonic_ns();
		/* The clock reads around each counter read bound its error. */
		uint64_t window_error = (t0b - t0) + (t1b - t1);
		uint64_t elapsed_ns = (t1 + t1b) / 2 - (t0 + t0b) / 2;
		if (elapsed_ns == 0 || c1 <= c0)
			continue;
		if (window_error < best_window_error) {
			best_window_error = window_error;
			best = (uint64_t)((unsigned __int128)(c1 - c0) * 1000000000u / elapsed_ns);
		}
	}
	return best;
}
#endif

static void calibrate(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (!invariant_tsc())
		return;
	uint64_t hz = measure_hz();
	/* Below 100 MHz something is off (a trapping or emulated TSC): keep the fallback. */
	if (hz < 100000000u)
		return;
	tsc_clock_state.hz = hz;
	tsc_clock_state.ns_per_tick_q32 = (uint64_t)(((unsigned __int128)1000000000u << 32) / hz);
	tsc_clock_state.use_tsc = true;
#endif
}

void tsc_clock_init(void)
{
	pthread_once(&calibrate_once, calibrate);
}

__attribute__((constructor)) static void tsc_clock_init_at_start(void)
{
	tsc_clock_init();
}
