/*
 * Prometheus' text exposition format (version 0.0.4), written into a growing
 * buffer: metric families with HELP and TYPE, samples with labels (values
 * escaped as the format says), and histograms from per-bucket counts.
 * The agents' GET /metrics pages are built with it.
 */
#ifndef PROMETHEUS_H
#define PROMETHEUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "latency_counts.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

struct prom_label {
	const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]* */
	const char *value; /* any text: escaped on output */
};

struct prom_text;

struct prom_text *prom_text_new(void);
/* # HELP and # TYPE of a family; its samples follow. A counter's name ends in _total. */
void prom_family(struct prom_text *t, const char *name, enum prom_type type, const char *help);
void prom_sample(struct prom_text *t, const char *name, const struct prom_label *labels, size_t label_count,
		 uint64_t value);
void prom_sample_double(struct prom_text *t, const char *name, const struct prom_label *labels,
			size_t label_count, double value);
/*
 * A histogram's samples (its family declared with PROM_HISTOGRAM): counts[i]
 * observations fell in (bounds[i-1], bounds[i]] and counts[bound_count] above
 * the last bound; written cumulative as name_bucket{le=...}, then name_sum and
 * name_count. Bounds are in the metric's unit (seconds for latencies).
 */
void prom_histogram(struct prom_text *t, const char *name, const struct prom_label *labels, size_t label_count,
		    const double *bounds, const uint64_t *counts, size_t bound_count, double sum);
/* A latency histogram (latency_counts.h) as name_bucket/_sum/_count in seconds. */
void prom_latency(struct prom_text *t, const char *name, const struct prom_label *labels, size_t label_count,
		  const struct latency_counts *c);
/* The text (malloc'd, NUL-terminated, *length bytes) and frees t; NULL when memory ran out. */
char *prom_text_finish(struct prom_text *t, size_t *length);

#endif
