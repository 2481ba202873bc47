/*
 * The open-loop schedule checked on the generated intended times themselves
 * (no clocks involved): mean rate, spacing, and the Poisson shape.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "arrival_schedule.h"

Test(arrival_schedule, constant_arrivals_are_evenly_spaced)
{
	struct arrival_schedule s;
	arrival_schedule_init(&s, ARRIVAL_CONSTANT, 20000, 1, 0, 7);
	uint64_t previous = arrival_schedule_next(&s);
	cr_expect_eq(previous, 0);
	for (int i = 1; i < 100000; i++) {
		uint64_t t = arrival_schedule_next(&s);
		uint64_t gap = t - previous;
		cr_assert(gap >= 49999 && gap <= 50001, "gap %llu ns at %d, want 50000", (unsigned long long)gap, i);
		previous = t;
	}
	/* No drift: the 100000th arrival is exactly 5 s after the first. */
	cr_expect_eq(previous, 99999ull * 50000ull);
}

Test(arrival_schedule, constant_threads_interleave_to_the_total_rate)
{
	enum { THREADS = 4, PER_THREAD = 10000 };
	static uint64_t all[THREADS * PER_THREAD];
	for (unsigned t = 0; t < THREADS; t++) {
		struct arrival_schedule s;
		arrival_schedule_init(&s, ARRIVAL_CONSTANT, 100000, THREADS, t, 7);
		for (int i = 0; i < PER_THREAD; i++)
			all[i * THREADS + t] = arrival_schedule_next(&s);
	}
	/* Interleaved in index order, the union is one evenly spaced stream at 100000/s. */
	for (int i = 1; i < THREADS * PER_THREAD; i++) {
		uint64_t gap = all[i] - all[i - 1];
		cr_assert(gap >= 9999 && gap <= 10001, "gap %llu ns at %d, want 10000", (unsigned long long)gap, i);
	}
}

Test(arrival_schedule, poisson_has_the_right_mean_rate_and_exponential_gaps)
{
	const double rate = 50000, mean_gap = 1e9 / rate;
	const int n = 200000;
	struct arrival_schedule s;
	arrival_schedule_init(&s, ARRIVAL_POISSON, rate, 1, 0, 11);
	uint64_t previous = 0, last = 0;
	double sum = 0, sum_sq = 0;
	int above_mean = 0, above_three_means = 0;
	for (int i = 0; i < n; i++) {
		uint64_t t = arrival_schedule_next(&s);
		cr_assert(t >= previous, "times must not go backwards");
		double gap = (double)(t - previous);
		sum += gap;
		sum_sq += gap * gap;
		above_mean += gap > mean_gap;
		above_three_means += gap > 3 * mean_gap;
		previous = t;
		last = t;
	}
	double mean = sum / n, stddev = sqrt(sum_sq / n - mean * mean);
	/* Standard error of the mean is mean/sqrt(n) = 0.22%; allow 1%. */
	cr_expect(fabs(mean / mean_gap - 1) < 0.01, "mean gap %.1f ns, want %.1f", mean, mean_gap);
	cr_expect(fabs((double)n * 1e9 / (double)last / rate - 1) < 0.01, "achieved planned rate");
	/* Exponential: coefficient of variation 1, P(gap > mean) = e^-1, P(gap > 3 mean) = e^-3. */
	cr_expect(fabs(stddev / mean - 1) < 0.02, "coefficient of variation %.3f", stddev / mean);
	cr_expect(fabs((double)above_mean / n - exp(-1)) < 0.005, "P(gap > mean) = %.4f", (double)above_mean / n);
	cr_expect(fabs((double)above_three_means / n - exp(-3)) < 0.002, "P(gap > 3 mean) = %.4f",
		  (double)above_three_means / n);
}

Test(arrival_schedule, poisson_threads_add_up_to_the_total_rate)
{
	enum { THREADS = 3, PER_THREAD = 60000 };
	const double rate = 30000;
	double total_rate = 0;
	for (unsigned t = 0; t < THREADS; t++) {
		struct arrival_schedule s;
		arrival_schedule_init(&s, ARRIVAL_POISSON, rate, THREADS, t, 5);
		uint64_t last = 0;
		for (int i = 0; i < PER_THREAD; i++)
			last = arrival_schedule_next(&s);
		total_rate += PER_THREAD * 1e9 / (double)last;
	}
	cr_expect(fabs(total_rate / rate - 1) < 0.02, "threads together offer %.0f/s, want %.0f/s", total_rate, rate);
}

Test(arrival_schedule, same_seed_same_plan_and_threads_differ)
{
	struct arrival_schedule a, b, c;
	arrival_schedule_init(&a, ARRIVAL_POISSON, 1000, 2, 0, 42);
	arrival_schedule_init(&b, ARRIVAL_POISSON, 1000, 2, 0, 42);
	arrival_schedule_init(&c, ARRIVAL_POISSON, 1000, 2, 1, 42);
	int differs = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t ta = arrival_schedule_next(&a), tc = arrival_schedule_next(&c);
		cr_assert_eq(ta, arrival_schedule_next(&b));
		differs += ta != tc;
	}
	cr_expect(differs > 900, "threads must not share one random stream");
}
