/*
 * What the joined workers did, as one summary for the report: their
 * histograms and counters merged, the rates over the run's own time line, and
 * the process's CPU time.
 */
#ifndef LOADGEN_SUMMARY_MERGE_H
#define LOADGEN_SUMMARY_MERGE_H

#include "latency_histogram.h"
#include "loadgen_report.h"
#include "loadgen_worker.h"

/*
 * Fills summary from workers[0..threads) once they are joined. merged and lag
 * are empty histograms (of the workers' range) that it fills; the summary
 * points at them, so they must outlive it.
 */
void loadgen_summary_merge(struct loadgen_summary *summary, const struct loadgen_worker *workers, unsigned threads,
			   const struct loadgen_shared *shared, const char *dataplane, struct latency_histogram *merged,
			   struct latency_histogram *lag);

#endif
