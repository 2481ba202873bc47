/* Accuracy of the log-linear histogram against exact percentiles of known data. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency_histogram.h"
#include "loadgen_random.h"

#define HIGHEST (1ull << 36)

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The exact value at a percentile: sorted[ceil(p/100 * n) - 1], the rule the histogram follows. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	if (p <= 0)
		return sorted[0];
	size_t rank = (size_t)ceill((long double)p / 100.0L * (long double)n - 1e-9L);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static const double percentiles[] = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 99.999, 100};

static void check_against_exact(uint64_t *values, size_t n)
{
	struct latency_histogram h;
	cr_assert(latency_histogram_init(&h, HIGHEST, 3));
	for (size_t i = 0; i < n; i++)
		latency_histogram_record(&h, values[i]);
	qsort(values, n, sizeof(*values), compare_u64);
	cr_assert_eq(latency_histogram_count(&h), n);
	for (size_t i = 0; i < sizeof(percentiles) / sizeof(percentiles[0]); i++) {
		double p = percentiles[i];
		uint64_t exact = exact_percentile(values, n, p);
		uint64_t got = latency_histogram_value_at_percentile(&h, p);
		double relative = fabs((double)got - (double)exact) / (double)(exact ? exact : 1);
		cr_expect(relative <= 0.001, "p%g: histogram %llu, exact %llu (%.5f%% off)", p,
			  (unsigned long long)got, (unsigned long long)exact, relative * 100);
	}
	cr_expect_eq(latency_histogram_value_at_percentile(&h, 100), values[n - 1], "max is exact");
	cr_expect_eq(latency_histogram_value_at_percentile(&h, 0), values[0], "min is exact");
	latency_histogram_free(&h);
}

Test(latency_histogram, uniform_values_within_a_tenth_of_a_percent)
{
	size_t n = 200000;
	uint64_t *v = malloc(n * sizeof(*v));
	struct loadgen_random r;
	loadgen_random_seed(&r, 1);
	for (size_t i = 0; i < n; i++)
		v[i] = loadgen_random_between(&r, 1, 50000000); /* 1 ns .. 50 ms */
	check_against_exact(v, n);
	free(v);
}

Test(latency_histogram, long_tailed_values_within_a_tenth_of_a_percent)
{
	/* Log-uniform over 7 decades: every bucket size gets exercised. */
	size_t n = 200000;
	uint64_t *v = malloc(n * sizeof(*v));
	struct loadgen_random r;
	loadgen_random_seed(&r, 2);
	for (size_t i = 0; i < n; i++)
		v[i] = (uint64_t)pow(10.0, 2.0 + 7.0 * loadgen_random_unit(&r));
	check_against_exact(v, n);
	free(v);
}

Test(latency_histogram, small_exact_integers_are_exact)
{
	struct latency_histogram h;
	cr_assert(latency_histogram_init(&h, HIGHEST, 3));
	for (uint64_t v = 1; v <= 1000; v++)
		latency_histogram_record(&h, v);
	cr_expect_eq(latency_histogram_value_at_percentile(&h, 50), 500);
	cr_expect_eq(latency_histogram_value_at_percentile(&h, 99), 990);
	cr_expect_eq(latency_histogram_value_at_percentile(&h, 99.9), 999);
	cr_expect_float_eq(latency_histogram_mean(&h), 500.5, 1e-9);
	latency_histogram_free(&h);
}

Test(latency_histogram, bucket_equivalence_is_three_digits)
{
	struct latency_histogram h;
	cr_assert(latency_histogram_init(&h, HIGHEST, 3));
	uint64_t samples[] = {1, 2047, 2048, 4097, 123456, 999999999, 12345678901ull};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		uint64_t v = samples[i];
		uint64_t lo = latency_histogram_lowest_equivalent(&h, v), hi = latency_histogram_highest_equivalent(&h, v);
		cr_expect(lo <= v && v <= hi, "%llu outside its own bucket", (unsigned long long)v);
		cr_expect((double)(hi - lo) <= (double)v / 1000.0 + 1e-9, "bucket of %llu too wide", (unsigned long long)v);
	}
	latency_histogram_free(&h);
}

Test(latency_histogram, merge_equals_recording_everything_in_one)
{
	struct latency_histogram a, b, all;
	cr_assert(latency_histogram_init(&a, HIGHEST, 3));
	cr_assert(latency_histogram_init(&b, HIGHEST, 3));
	cr_assert(latency_histogram_init(&all, HIGHEST, 3));
	struct loadgen_random r;
	loadgen_random_seed(&r, 3);
	for (int i = 0; i < 100000; i++) {
		uint64_t v = loadgen_random_between(&r, 1000, 5000000);
		latency_histogram_record(i % 3 ? &a : &b, v);
		latency_histogram_record(&all, v);
	}
	cr_assert(latency_histogram_merge(&a, &b));
	cr_expect_eq(a.total_count, all.total_count);
	cr_expect_eq(a.min, all.min);
	cr_expect_eq(a.max, all.max);
	cr_expect_eq(memcmp(a.counts, all.counts, a.counts_length * sizeof(uint64_t)), 0);
	for (size_t i = 0; i < sizeof(percentiles) / sizeof(percentiles[0]); i++)
		cr_expect_eq(latency_histogram_value_at_percentile(&a, percentiles[i]),
			     latency_histogram_value_at_percentile(&all, percentiles[i]));
	struct latency_histogram other_layout;
	cr_assert(latency_histogram_init(&other_layout, HIGHEST, 2));
	cr_expect_not(latency_histogram_merge(&a, &other_layout), "different layouts must not merge");
	latency_histogram_free(&a);
	latency_histogram_free(&b);
	latency_histogram_free(&all);
	latency_histogram_free(&other_layout);
}

Test(latency_histogram, values_above_the_range_are_clamped_and_counted)
{
	struct latency_histogram h;
	cr_assert(latency_histogram_init(&h, 1000000, 3));
	latency_histogram_record(&h, 10);
	latency_histogram_record(&h, 5000000);
	cr_expect_eq(h.clamped, 1);
	cr_expect_eq(h.max, 5000000, "max stays exact");
	cr_expect_eq(latency_histogram_value_at_percentile(&h, 100), 5000000);
	latency_histogram_free(&h);
}

Test(latency_histogram, bad_arguments_are_refused)
{
	struct latency_histogram h;
	cr_expect_not(latency_histogram_init(&h, HIGHEST, 0));
	cr_expect_not(latency_histogram_init(&h, HIGHEST, 6));
	cr_expect_not(latency_histogram_init(&h, 1, 3));
}

/* Parses the .hgrm text the way plotting tools do and checks it against the histogram. */
Test(latency_histogram, hgrm_output_parses_as_percentile_distribution)
{
	struct latency_histogram h;
	cr_assert(latency_histogram_init(&h, HIGHEST, 3));
	struct loadgen_random r;
	loadgen_random_seed(&r, 4);
	for (int i = 0; i < 50000; i++)
		latency_histogram_record(&h, (uint64_t)pow(10.0, 3.0 + 3.0 * loadgen_random_unit(&r)));
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	cr_assert(out);
	cr_assert_eq(latency_histogram_write_hgrm(&h, out, 1000.0, 5), 0);
	fclose(out);

	char *save = NULL;
	char *line = strtok_r(text, "\n", &save);
	cr_assert(line);
	char c1[32], c2[32], c3[32], c4[32];
	cr_assert_eq(sscanf(line, "%31s %31s %31s %31s", c1, c2, c3, c4), 4);
	cr_expect_str_eq(c1, "Value");
	cr_expect_str_eq(c2, "Percentile");
	cr_expect_str_eq(c3, "TotalCount");
	cr_expect_str_eq(c4, "1/(1-Percentile)");

	int rows = 0, last_rows = 0, footer = 0;
	double previous_value = -1, previous_percentile = -1;
	unsigned long long previous_count = 0;
	double mean = -1, max = -1;
	unsigned long long footer_count = 0;
	while ((line = strtok_r(NULL, "\n", &save))) {
		double value, percentile, inverse, stddev;
		unsigned long long count;
		unsigned buckets, sub_buckets;
		if (line[0] == '#') {
			if (sscanf(line, "#[Mean = %lf, StdDeviation = %lf]", &mean, &stddev) == 2 ||
			    sscanf(line, "#[Max = %lf, Total count = %llu]", &max, &footer_count) == 2 ||
			    sscanf(line, "#[Buckets = %u, SubBuckets = %u]", &buckets, &sub_buckets) == 2)
				footer++;
			continue;
		}
		int fields = sscanf(line, "%lf %lf %llu %lf", &value, &percentile, &count, &inverse);
		cr_assert(fields == 4 || fields == 3, "unparsable row: %s", line);
		cr_expect(value >= previous_value && percentile >= previous_percentile && count >= previous_count,
			  "rows must be monotonic: %s", line);
		if (fields == 4)
			cr_expect_float_eq(inverse, 1.0 / (1.0 - percentile), 0.01 * inverse + 0.01);
		else
			last_rows++;
		previous_value = value;
		previous_percentile = percentile;
		previous_count = count;
		rows++;
	}
	cr_expect_eq(footer, 3, "three footer lines");
	cr_expect_eq(last_rows, 1, "one closing 100%% row");
	cr_expect_float_eq(previous_percentile, 1.0, 1e-12);
	cr_expect_eq(previous_count, 50000);
	cr_expect_eq(footer_count, 50000);
	cr_expect_float_eq(max, (double)h.max / 1000.0, 0.001);
	cr_expect_float_eq(mean, latency_histogram_mean(&h) / 1000.0, 0.001);
	cr_expect(rows > 50, "a useful number of rows (%d)", rows);
	free(text);
	latency_histogram_free(&h);
}
