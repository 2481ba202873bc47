/*
 * The main thread's view of the per-second rows while workers run: merges
 * each second of every worker into one row of intervals.tsv and, with
 * --progress, one line on stderr.
 */
#ifndef LOADGEN_INTERVAL_COLLECTOR_H
#define LOADGEN_INTERVAL_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "latency_histogram.h"
#include "loadgen_worker.h"

struct interval_collector {
	FILE *file;
	bool progress;
	uint64_t next_second;
	struct latency_histogram row, so_far;
	uint64_t sent_total, answered_total;
};

/*
 * Emits every row all workers have published (or will never publish, having
 * finished); final: the workers are joined, emit whatever is left.
 */
void interval_collector_collect(struct interval_collector *c, struct loadgen_worker *workers, unsigned threads,
				bool final);

#endif
