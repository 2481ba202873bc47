/*
 * The switch's GET /metrics page in Prometheus' text format: its counters
 * (totals over the workers), gauges and the store-and-forward queue per bank,
 * every sample labelled with the network (docs/metrics.md).
 */
#ifndef SWITCH_METRICS_H
#define SWITCH_METRICS_H

#include <stddef.h>

struct switch_core;

/* The page (malloc'd, *length bytes), or NULL when memory ran out. */
char *switch_metrics_text(struct switch_core *s, size_t *length);

#endif
