#include "latency_histogram.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * Layout: bucket 0 holds values [0, sub_bucket_count) one per slot; bucket
 * b >= 1 holds [sub_bucket_count/2 << b, sub_bucket_count << b) in steps of
 * 1 << b, so only its upper half of sub-buckets is stored. Slot index of a
 * value in bucket b with sub-bucket s is ((b + 1) << half_magnitude) + s - half.
 */

static int bit_length(uint64_t v)
{
	return v ? 64 - __builtin_clzll(v) : 0;
}

bool latency_histogram_init(struct latency_histogram *h, uint64_t highest_trackable, int significant_digits)
{
	memset(h, 0, sizeof(*h));
	if (significant_digits < 1 || significant_digits > 5 || highest_trackable < 2)
		return false;
	uint64_t largest_single_unit = 2;
	for (int i = 0; i < significant_digits; i++)
		largest_single_unit *= 10;
	/* Enough linear steps that one step is at most 1/10^d of the values it covers. */
	int sub_magnitude = bit_length(largest_single_unit - 1);
	h->sub_bucket_count = 1u << sub_magnitude;
	h->sub_bucket_half_magnitude = sub_magnitude - 1;
	uint32_t buckets = 1;
	while (buckets < 64 - (uint32_t)sub_magnitude &&
	       ((uint64_t)h->sub_bucket_count << (buckets - 1)) <= highest_trackable)
		buckets++;
	h->bucket_count = buckets;
	h->counts_length = (buckets + 1) << h->sub_bucket_half_magnitude;
	h->counts = calloc(h->counts_length, sizeof(*h->counts));
	if (!h->counts)
		return false;
	h->highest_trackable = highest_trackable;
	h->significant_digits = significant_digits;
	h->min = UINT64_MAX;
	return true;
}

void latency_histogram_free(struct latency_histogram *h)
{
	free(h->counts);
	h->counts = NULL;
}

void latency_histogram_reset(struct latency_histogram *h)
{
	memset(h->counts, 0, (size_t)h->counts_length * sizeof(*h->counts));
	h->total_count = 0;
	h->clamped = 0;
	h->min = UINT64_MAX;
	h->max = 0;
	h->sum = 0;
	h->sum_of_squares = 0;
}

static inline uint32_t bucket_of(const struct latency_histogram *h, uint64_t v)
{
	int magnitude = bit_length(v | (h->sub_bucket_count - 1));
	return (uint32_t)(magnitude - (h->sub_bucket_half_magnitude + 1));
}

static inline uint32_t index_of(const struct latency_histogram *h, uint64_t v)
{
	uint32_t bucket = bucket_of(h, v);
	uint32_t sub = (uint32_t)(v >> bucket);
	uint32_t half = h->sub_bucket_count >> 1;
	return ((bucket + 1) << h->sub_bucket_half_magnitude) + sub - half;
}

/* Lowest value of the slot, and the slot's width through *width. */
static uint64_t value_of_index(const struct latency_histogram *h, uint32_t index, uint64_t *width)
{
	int bucket = (int)(index >> h->sub_bucket_half_magnitude) - 1;
	uint32_t half = h->sub_bucket_count >> 1;
	uint64_t sub = (index & (half - 1)) + half;
	if (bucket < 0) {
		bucket = 0;
		sub = index;
	}
	*width = 1ull << bucket;
	return sub << bucket;
}

uint64_t latency_histogram_lowest_equivalent(const struct latency_histogram *h, uint64_t v)
{
	uint32_t bucket = bucket_of(h, v);
	return (v >> bucket) << bucket;
}

uint64_t latency_histogram_highest_equivalent(const struct latency_histogram *h, uint64_t v)
{
	uint32_t bucket = bucket_of(h, v);
	return latency_histogram_lowest_equivalent(h, v) + (1ull << bucket) - 1;
}

void latency_histogram_record_n(struct latency_histogram *h, uint64_t value, uint64_t n)
{
	if (n == 0)
		return;
	uint64_t slot_value = value;
	if (value > h->highest_trackable) {
		slot_value = h->highest_trackable;
		h->clamped += n;
	}
	h->counts[index_of(h, slot_value)] += n;
	h->total_count += n;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
	double v = (double)value;
	h->sum += v * (double)n;
	h->sum_of_squares += v * v * (double)n;
}

void latency_histogram_record(struct latency_histogram *h, uint64_t value)
{
	latency_histogram_record_n(h, value, 1);
}

static bool same_layout(const struct latency_histogram *a, const struct latency_histogram *b)
{
	return a->counts && b->counts && a->counts_length == b->counts_length &&
	       a->sub_bucket_count == b->sub_bucket_count && a->highest_trackable == b->highest_trackable;
}

bool latency_histogram_merge(struct latency_histogram *dst, const struct latency_histogram *src)
{
	if (!same_layout(dst, src))
		return false;
	for (uint32_t i = 0; i < dst->counts_length; i++)
		dst->counts[i] += src->counts[i];
	dst->total_count += src->total_count;
	dst->clamped += src->clamped;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->sum += src->sum;
	dst->sum_of_squares += src->sum_of_squares;
	return true;
}

bool latency_histogram_copy(struct latency_histogram *dst, const struct latency_histogram *src)
{
	if (!same_layout(dst, src))
		return false;
	uint64_t *counts = dst->counts;
	memcpy(counts, src->counts, (size_t)src->counts_length * sizeof(*counts));
	*dst = *src;
	dst->counts = counts;
	return true;
}

/* Rank (1-based) of the value at a percentile, the same rule as an exact sorted array. */
static uint64_t rank_at_percentile(uint64_t total, double percentile)
{
	if (percentile <= 0)
		return 1;
	if (percentile >= 100)
		return total;
	/* The small slack keeps 99% of 1000 at rank 990 despite binary fractions. */
	long double exact = (long double)percentile / 100.0L * (long double)total;
	uint64_t rank = (uint64_t)ceill(exact - 1e-9L);
	return rank < 1 ? 1 : rank;
}

uint64_t latency_histogram_value_at_percentile(const struct latency_histogram *h, double percentile)
{
	if (h->total_count == 0)
		return 0;
	if (percentile <= 0)
		return h->min;
	if (percentile >= 100)
		return h->max; /* kept exactly, even when clamped out of the buckets */
	uint64_t rank = rank_at_percentile(h->total_count, percentile);
	uint64_t cumulative = 0;
	for (uint32_t i = 0; i < h->counts_length; i++) {
		cumulative += h->counts[i];
		if (cumulative >= rank) {
			uint64_t width;
			uint64_t highest = value_of_index(h, i, &width) + width - 1;
			if (highest > h->max)
				highest = h->max;
			if (highest < h->min)
				highest = h->min;
			return highest;
		}
	}
	return h->max;
}

double latency_histogram_mean(const struct latency_histogram *h)
{
	return h->total_count ? h->sum / (double)h->total_count : 0.0;
}

double latency_histogram_stddev(const struct latency_histogram *h)
{
	if (h->total_count == 0)
		return 0.0;
	double mean = latency_histogram_mean(h);
	double variance = h->sum_of_squares / (double)h->total_count - mean * mean;
	return variance > 0 ? sqrt(variance) : 0.0;
}

/* Next reporting level: each halving of the distance to 100% gets `ticks` more rows. */
static double next_percentile_level(double level, int ticks_per_half_distance)
{
	double halvings = floor(log2(100.0 / (100.0 - level)));
	double ticks = (double)ticks_per_half_distance * pow(2.0, halvings + 1);
	return level + 100.0 / ticks;
}

int latency_histogram_write_hgrm(const struct latency_histogram *h, FILE *out, double unit_divisor,
				 int ticks_per_half_distance)
{
	int d = h->significant_digits;
	if (unit_divisor <= 0)
		unit_divisor = 1;
	if (ticks_per_half_distance < 1)
		ticks_per_half_distance = 5;
	fprintf(out, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");

	if (h->total_count > 0) {
		double level = 0.0;
		uint64_t cumulative = 0;
		uint64_t last_value = 0;
		for (uint32_t i = 0; i < h->counts_length && cumulative < h->total_count; i++) {
			if (h->counts[i] == 0)
				continue;
			cumulative += h->counts[i];
			uint64_t width;
			uint64_t value = value_of_index(h, i, &width) + width - 1;
			if (value > h->max)
				value = h->max;
			last_value = value;
			double reached = 100.0 * (double)cumulative / (double)h->total_count;
			/* Once everything is counted, one row at the pending level, then the 100% row. */
			while (level <= reached) {
				fprintf(out, "%12.*f %2.12f %10llu %14.2f\n", d, (double)value / unit_divisor,
					level / 100.0, (unsigned long long)cumulative, 1.0 / (1.0 - level / 100.0));
				level = next_percentile_level(level, ticks_per_half_distance);
				if (cumulative == h->total_count)
					break;
			}
		}
		fprintf(out, "%12.*f %2.12f %10llu\n", d, (double)last_value / unit_divisor, 1.0,
			(unsigned long long)h->total_count);
	}
	fprintf(out, "#[Mean    = %12.*f, StdDeviation   = %12.*f]\n", d, latency_histogram_mean(h) / unit_divisor,
		d, latency_histogram_stddev(h) / unit_divisor);
	fprintf(out, "#[Max     = %12.*f, Total count    = %12llu]\n", d, (double)h->max / unit_divisor,
		(unsigned long long)h->total_count);
	fprintf(out, "#[Buckets = %12u, SubBuckets     = %12u]\n", h->bucket_count, h->sub_bucket_count);
	return ferror(out) ? -1 : 0;
}
