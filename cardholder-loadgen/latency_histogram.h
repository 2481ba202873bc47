/*
 * A log-linear latency histogram in the manner of HdrHistogram: values are
 * grouped in power-of-two buckets, each split linearly into enough sub-buckets
 * that every recorded value is kept to the requested number of significant
 * decimal digits. Memory is allocated once at init; record is O(1) and never
 * allocates, so workers record on the fast path and merge at the end.
 *
 * Values are plain integers in the caller's unit (the load generator records
 * nanoseconds). Values above the trackable maximum are clamped into the top
 * bucket and counted in `clamped`; min and max are kept exactly.
 */
#ifndef LATENCY_HISTOGRAM_H
#define LATENCY_HISTOGRAM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct latency_histogram {
	uint64_t highest_trackable;
	int significant_digits;
	int sub_bucket_half_magnitude; /* log2(sub_bucket_count) - 1 */
	uint32_t sub_bucket_count;     /* linear steps per power of two */
	uint32_t bucket_count;         /* powers of two covered */
	uint32_t counts_length;
	uint64_t *counts;

	uint64_t total_count;
	uint64_t clamped; /* values above highest_trackable */
	uint64_t min, max;
	double sum, sum_of_squares; /* exact mean and standard deviation */
};

/* significant_digits in [1, 5]; highest_trackable >= 2. Returns false on bad arguments or no memory. */
bool latency_histogram_init(struct latency_histogram *h, uint64_t highest_trackable, int significant_digits);
void latency_histogram_free(struct latency_histogram *h);
void latency_histogram_reset(struct latency_histogram *h);

void latency_histogram_record(struct latency_histogram *h, uint64_t value);
void latency_histogram_record_n(struct latency_histogram *h, uint64_t value, uint64_t n);

/* Adds every count of src to dst; both must have the same layout (same init arguments). */
bool latency_histogram_merge(struct latency_histogram *dst, const struct latency_histogram *src);
/* dst becomes an exact copy of src (same layout). */
bool latency_histogram_copy(struct latency_histogram *dst, const struct latency_histogram *src);

static inline uint64_t latency_histogram_count(const struct latency_histogram *h)
{
	return h->total_count;
}

/*
 * The value at a percentile in [0, 100]: the largest value equivalent (same
 * bucket) to the recorded value of rank ceil(p/100 * count), never above the
 * exact max. 0 on an empty histogram.
 */
uint64_t latency_histogram_value_at_percentile(const struct latency_histogram *h, double percentile);
double latency_histogram_mean(const struct latency_histogram *h);
double latency_histogram_stddev(const struct latency_histogram *h);

/* The range of values that share v's bucket: [lowest, highest]. */
uint64_t latency_histogram_lowest_equivalent(const struct latency_histogram *h, uint64_t v);
uint64_t latency_histogram_highest_equivalent(const struct latency_histogram *h, uint64_t v);

/*
 * Writes the HdrHistogram percentile-distribution text (.hgrm): the
 * "Value Percentile TotalCount 1/(1-Percentile)" table with
 * `ticks_per_half_distance` rows per halving of the remaining distance to
 * 100%, then the #[Mean ...], #[Max ...] and #[Buckets ...] footer. Values
 * are divided by unit_divisor (1000 turns nanoseconds into microseconds).
 */
int latency_histogram_write_hgrm(const struct latency_histogram *h, FILE *out, double unit_divisor,
				 int ticks_per_half_distance);

#endif
