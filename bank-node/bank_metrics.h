/*
 * The bank node's GET /metrics page in Prometheus' text format: what it
 * decided and how (per action code), what it could not read, and its group
 * commit, every sample labelled with the bank (docs/metrics.md).
 */
#ifndef BANK_METRICS_H
#define BANK_METRICS_H

#include <stddef.h>

#include "bank_stats.h"
#include "group_commit.h"
#include "rate_limit.h"

/* The page (malloc'd, *length bytes), or NULL when memory ran out; limits: the HTTP API's rate
 * limiter (its counters; NULL: zeros). */
char *bank_metrics_text(const char *bank, const struct bank_stats *s, const struct group_commit_stats *gc,
			const struct rate_limiter *limits, size_t *length);

#endif
