/*
 * The run's report: summary line, summary.json, the .hgrm percentile
 * distribution, the per-second interval log, and gnuplot pictures of both.
 * File formats are described in docs/loadgen.md.
 */
#ifndef LOADGEN_REPORT_H
#define LOADGEN_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "latency_histogram.h"
#include "loadgen_plan.h"
#include "loadgen_worker.h"

struct loadgen_summary {
	struct loadgen_plan plan;
	unsigned threads;
	const char *dataplane;
	uint64_t planned;         /* requests the plan asked for (sent + unsent) */
	double send_seconds;      /* run start to the last 1100 sent */
	double answer_seconds;    /* run start to the last answer received in time */
	double offered_rate;      /* sent / send_seconds */
	double throughput;        /* answered / answer_seconds */
	/* Answers that are a decision (approved or declined), not a 9xx system
	 * failure such as 911 issuer timed out or 912 issuer unavailable. */
	uint64_t decided;
	double decided_rate;      /* decided / answer_seconds: what a sweep calls achieved */
	struct loadgen_counts counts;
	const struct latency_histogram *latency; /* ns, answers within the timeout */
	const struct latency_histogram *send_lag; /* ns, actual minus intended send time */
	uint64_t interval_overruns;
	double cpu_user_s, cpu_system_s; /* the generator process, including its idle spinning */
};

/* Answers in time whose action code is not 9xx (ISO 8583:1993's system and network failures). */
uint64_t loadgen_decided_answers(const struct loadgen_counts *c);

/* One line: throughput, percentiles, counts per action code, timeouts and reversals. */
void loadgen_summary_line(const struct loadgen_summary *s, FILE *out);
/* The line above plus the detail counters, as a block of text. */
void loadgen_summary_text(const struct loadgen_summary *s, FILE *out);
/* summary.json: every counter and percentile, for scripts (ecosystem.sh, tests, bench). */
bool loadgen_summary_json(const struct loadgen_summary *s, const char *path, char *err, size_t err_size);

/* The interval log, one row per second. */
FILE *loadgen_intervals_open(const char *path);
void loadgen_intervals_row(FILE *f, uint64_t second, uint64_t sent, uint64_t answered, uint64_t timeouts,
			   const struct latency_histogram *h);

/*
 * Writes percentiles.gp and rate.gp next to latency.hgrm and intervals.tsv
 * in dir and runs gnuplot on them (PNG; the latency plot only when some answer
 * came in time). Returns false if a plot was not made (the scripts stay).
 */
bool loadgen_write_plots(const char *dir, bool have_latencies, char *err, size_t err_size);

/* mkdir -p. */
bool loadgen_make_dirs(const char *path, char *err, size_t err_size);

#endif
