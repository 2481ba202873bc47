/*
 * The open-loop plan: intended send times of one generator thread, computed
 * from the arrival process alone and never from when answers come back, so
 * that a slow system cannot slow the offered load down (no coordinated
 * omission). Latency is measured from these intended times.
 *
 * Constant arrivals with `threads` generators interleave: thread t of T sends
 * at (k*T + t) / rate, so together they are evenly spaced at the total rate.
 * Poisson arrivals draw exponential gaps of mean T / rate per thread; the
 * superposition of independent Poisson streams is Poisson at the total rate.
 */
#ifndef ARRIVAL_SCHEDULE_H
#define ARRIVAL_SCHEDULE_H

#include <stdint.h>

#include "ecosystem_config.h" /* enum arrival_process */
#include "loadgen_random.h"

struct arrival_schedule {
	enum arrival_process process;
	double gap_ns;    /* mean gap of this thread */
	double offset_ns; /* phase of this thread (constant arrivals) */
	uint64_t index;   /* arrivals produced so far */
	double poisson_time_ns;
	struct loadgen_random random;
};

/* total_rate > 0 arrivals per second shared by `threads` generators; this is generator `thread`. */
void arrival_schedule_init(struct arrival_schedule *s, enum arrival_process process, double total_rate,
			   unsigned threads, unsigned thread, uint64_t seed);

/* Intended time of the next arrival, in nanoseconds from the start of the run; non-decreasing. */
uint64_t arrival_schedule_next(struct arrival_schedule *s);

#endif
