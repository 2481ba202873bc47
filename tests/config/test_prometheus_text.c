/*
 * The exposition writer: exact text for families, labels (escaped), doubles
 * and a histogram, and the whole page accepted by Prometheus' own linter
 * (`promtool check metrics`).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prometheus.h"

static char *page(size_t *len)
{
	struct prom_text *t = prom_text_new();
	cr_assert_not_null(t);
	prom_family(t, "iso_switch_authorizations_total", PROM_COUNTER, "1100s from cardholders.\nPer network.");
	struct prom_label net[] = {{"network", "mastercard"}};
	prom_sample(t, "iso_switch_authorizations_total", net, 1, 12345);
	prom_family(t, "iso_switch_pending", PROM_GAUGE, "Authorizations waiting for a bank, a \\ path");
	struct prom_label odd[] = {{"network", "a\"b\\c\nd"}, {"bank", "big_bank"}};
	prom_sample(t, "iso_switch_pending", odd, 2, 7);
	prom_family(t, "iso_ratio", PROM_GAUGE, "A double.");
	prom_sample_double(t, "iso_ratio", NULL, 0, 0.25);
	prom_sample_double(t, "iso_ratio", net, 1, INFINITY);
	prom_family(t, "iso_latency_seconds", PROM_HISTOGRAM, "Round trips.");
	const double bounds[] = {0.001, 0.01, 0.1};
	const uint64_t counts[] = {5, 3, 0, 2};
	prom_histogram(t, "iso_latency_seconds", net, 1, bounds, counts, 3, 1.5);
	return prom_text_finish(t, len);
}

Test(prometheus_text, exact_text)
{
	size_t len;
	char *text = page(&len);
	cr_assert_not_null(text);
	cr_assert_eq(strlen(text), len);
	const char *want =
		"# HELP iso_switch_authorizations_total 1100s from cardholders.\\nPer network.\n"
		"# TYPE iso_switch_authorizations_total counter\n"
		"iso_switch_authorizations_total{network=\"mastercard\"} 12345\n"
		"# HELP iso_switch_pending Authorizations waiting for a bank, a \\\\ path\n"
		"# TYPE iso_switch_pending gauge\n"
		"iso_switch_pending{network=\"a\\\"b\\\\c\\nd\",bank=\"big_bank\"} 7\n"
		"# HELP iso_ratio A double.\n"
		"# TYPE iso_ratio gauge\n"
		"iso_ratio 0.25\n"
		"iso_ratio{network=\"mastercard\"} +Inf\n"
		"# HELP iso_latency_seconds Round trips.\n"
		"# TYPE iso_latency_seconds histogram\n"
		"iso_latency_seconds_bucket{network=\"mastercard\",le=\"0.001\"} 5\n"
		"iso_latency_seconds_bucket{network=\"mastercard\",le=\"0.01\"} 8\n"
		"iso_latency_seconds_bucket{network=\"mastercard\",le=\"0.1\"} 8\n"
		"iso_latency_seconds_bucket{network=\"mastercard\",le=\"+Inf\"} 10\n"
		"iso_latency_seconds_sum{network=\"mastercard\"} 1.5\n"
		"iso_latency_seconds_count{network=\"mastercard\"} 10\n";
	cr_assert_str_eq(text, want);
	free(text);
}

Test(prometheus_text, promtool_accepts_the_page)
{
	size_t len;
	char *text = page(&len);
	FILE *p = popen("promtool check metrics > /dev/null 2>&1", "w");
	cr_assert_not_null(p);
	fwrite(text, 1, len, p);
	cr_assert_eq(pclose(p), 0, "promtool check metrics refused:\n%s", text);
	free(text);
}
