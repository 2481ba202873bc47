/*
 * The switch's GET /metrics page in Prometheus' text format: its counters
 * (totals over the workers), gauges and the store-and-forward queue per bank,
 * every sample labelled with the network (docs/metrics.md).
 */
#ifndef SWITCH_METRICS_H
#define SWITCH_METRICS_H

#include <stddef.h>

#include "rate_limit.h"

struct switch_core;

/* The page (malloc'd, *length bytes), or NULL when memory ran out. */
/* limits: the HTTP API's rate limiter (its counters; NULL: zeros). */
char *switch_metrics_text(struct switch_core *s, const struct rate_limiter *limits, size_t *length);

#endif
