#include "arrival_schedule.h"

#include <math.h>

void arrival_schedule_init(struct arrival_schedule *s, enum arrival_process process, double total_rate,
			   unsigned threads, unsigned thread, uint64_t seed)
{
	if (threads == 0)
		threads = 1;
	if (total_rate <= 0)
		total_rate = 1;
	s->process = process;
	s->gap_ns = 1e9 * (double)threads / total_rate;
	s->offset_ns = 1e9 * (double)thread / total_rate;
	s->index = 0;
	s->poisson_time_ns = 0;
	loadgen_random_seed(&s->random, seed * 1000003u + thread);
}

uint64_t arrival_schedule_next(struct arrival_schedule *s)
{
	uint64_t k = s->index++;
	if (s->process == ARRIVAL_CONSTANT)
		/* Computed from the index, not accumulated, so rounding never drifts. */
		return (uint64_t)(s->offset_ns + (double)k * s->gap_ns);
	/* Exponential gap by inversion; 1 - u lies in (0, 1] so the log is finite. */
	double u = loadgen_random_unit(&s->random);
	s->poisson_time_ns += -log(1.0 - u) * s->gap_ns;
	return (uint64_t)s->poisson_time_ns;
}
