/*
 * The single LMDB writer with group commit.
 *
 * Producers (I/O threads) copy fixed-size items into a bounded queue; one
 * writer thread swaps the queue out whole, applies up to batch_max items in
 * one write transaction, commits it (a durable commit in sync mode) and only
 * then hands the batch to complete(), which answers the requests. While the
 * writer waits for the disk, the next batch fills up: the busier the node,
 * the larger the batches and the fewer syncs per authorization.
 *
 * In async mode a separate flusher thread runs the periodic mdb_env_sync, so a
 * slow disk flush never stalls the batches queued behind it.
 *
 * At a light load the hand-off costs more than the work: the producer wakes
 * the writer, which commits one request and goes back to sleep, two context
 * switches on top of the producer's own. group_commit_run_inline() lets a
 * producer that finds the writer idle and nothing queued apply and commit a
 * small batch on its own thread instead, with the same ops, the same
 * transaction and the same order: complete() still runs only after the
 * commit (durable in sync mode), and never beside the writer or another
 * inline batch (one batch at a time holds the writer's role).
 *
 * If a transaction fails, its items are retried one transaction each so that
 * one bad item cannot refuse the others; an item that still fails reaches
 * complete() with its store status (store_txn.h; answer it as a system
 * malfunction).
 */
#ifndef STORAGE_GROUP_COMMIT_H
#define STORAGE_GROUP_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct group_commit_ops {
	/* Once before each transaction (e.g. read the clock once per batch); may be NULL. */
	void (*batch_begin)(void *ctx);
	/* Applies one item inside the transaction; non-zero (a store status) rolls the transaction back. */
	int (*apply)(void *ctx, struct store_txn *txn, void *item);
	/* The items are committed per the durability mode (status 0) or rolled back (status != 0). */
	void (*complete)(void *ctx, void *items, size_t n, int status);
};

struct group_commit_config {
	size_t item_size;
	size_t queue_capacity;  /* items waiting at most; producers block beyond */
	size_t batch_max;       /* items per write transaction at most */
	unsigned async_sync_ms; /* async durability: period of the background mdb_env_sync */
	size_t inline_max;      /* group_commit_run_inline takes batches up to this size (0: never) */
};

struct group_commit_stats {
	uint64_t batches; /* committed transactions */
	uint64_t items;   /* items in them */
	uint64_t largest_batch;
	uint64_t failed_items; /* completed with a non-zero status */
	uint64_t syncs;        /* background syncs (async mode) */
	uint64_t inline_batches; /* of the batches, those a producer committed on its own thread */
};

struct group_commit;

struct group_commit *group_commit_start(struct store *store, const struct group_commit_config *cfg,
					const struct group_commit_ops *ops, void *ctx, char *err,
					size_t err_size);
/*
 * The same writer without its threads, for a deterministic simulation
 * (tests/sim/) that decides when the disk commits: submit never waits (false
 * when the queue is full), group_commit_step applies what is queued in the
 * caller's thread, exactly as the writer thread does one turn. Only in
 * DURABILITY_SYNC (the flusher of async mode is a thread); never inline (group_commit_run_inline).
 */
struct group_commit *group_commit_start_stepped(struct store *store, const struct group_commit_config *cfg,
						const struct group_commit_ops *ops, void *ctx, char *err,
						size_t err_size);
/* One turn of the writer; returns how many items it applied (and completed). */
size_t group_commit_step(struct group_commit *gc);
/* Items waiting for the next turn. */
size_t group_commit_queued(const struct group_commit *gc);
/* A crash: frees a stepped writer without applying what is queued (group_commit_stop applies it). */
void group_commit_abandon(struct group_commit *gc);

/* Copies n items into the queue, waiting while it is full. False once stopping. */
bool group_commit_submit(struct group_commit *gc, const void *items, size_t n);
/*
 * When the writer is idle, nothing is queued and n <= inline_max: applies and
 * commits the items on the calling thread, calls complete() (which may change
 * them, as on the writer), and returns true. Otherwise returns false at once
 * and the caller submits them. ops and their context are then used from the
 * caller's thread, one batch at a time, handed over under the queue's lock.
 */
bool group_commit_run_inline(struct group_commit *gc, void *items, size_t n);
/* Applies what is queued, then stops the writer and frees everything. */
void group_commit_stop(struct group_commit *gc);
void group_commit_get_stats(const struct group_commit *gc, struct group_commit_stats *out);

#endif
