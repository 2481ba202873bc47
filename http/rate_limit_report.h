/*
 * The rate limiter's counters as the agents show them: a JSON object for
 * GET /stats and Prometheus families for GET /metrics (docs/security.md,
 * "Rate limits"). Kept apart from rate_limit.c so that the limiter needs
 * neither jansson nor the exposition format.
 */
#ifndef RATE_LIMIT_REPORT_H
#define RATE_LIMIT_REPORT_H

#include <jansson.h>
#include <stddef.h>

#include "prometheus.h"
#include "rate_limit.h"

/* {"rate_limited": {"customer": n, ...}, "auth_failures": n, "auth_throttled": n, ...}; zeros for NULL. */
json_t *rate_limit_stats_json(const struct rate_limiter *l);
/* <prefix>_http_rate_limited_total{scope}, _http_auth_failures_total, _http_auth_throttled_total,
 * _http_limit_evictions_total{table}, each with `labels` first. */
void rate_limit_metrics(struct prom_text *t, const char *prefix, const struct prom_label *labels,
			size_t label_count, const struct rate_limiter *l);

#endif
