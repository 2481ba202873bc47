/*
 * The bank's side of the group-commit writer: applies each request with
 * bank_core inside the batch transaction, and once the batch is committed
 * (durable in sync mode) counts, encodes and sends the answers, holding back
 * the share that fault injection delays.
 */
#ifndef BANK_WRITER_H
#define BANK_WRITER_H

#include "bank_core.h"
#include "bank_stats.h"
#include "faults.h"
#include "group_commit.h"
#include "iso8583.h"
#include "iso_mac_keys.h"
#include "reply_sender.h"

struct bank_writer {
	struct bank_core core;
	struct bank_stats *stats;
	const struct iso_profile *profile;
	struct reply_sender *sender; /* NULL: answers are not sent (benchmarks, unit tests) */
	struct delay_queue *delays;  /* NULL: no delay injection */
	struct iso_mac_view *mac;    /* the writer thread's MAC contexts for its answers; NULL: no MACs */
	struct fault_rng rng;
	double delay_probability;
	uint32_t delay_ms;
	int64_t fixed_time; /* non-zero: the clock for every batch (tests) */
	/* Where the store lives: a failed write names a full disk there (NULL: not said). */
	const char *store_path;
	/* Storage failures are logged at most once a second, with how many were answered 909 since. */
	int64_t storage_error_logged_at;
	uint64_t storage_errors_unlogged;
	/* Called with each committed batch after it is answered (tests, benchmarks); may be NULL. */
	void (*observer)(void *ctx, const struct bank_request *reqs, size_t n, int status);
	void *observer_ctx;
};

/* The ops to give group_commit_start() with the writer as context. */
extern const struct group_commit_ops bank_writer_ops;

#endif
