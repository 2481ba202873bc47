#include "group_commit.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct group_commit {
	struct store *store;
	struct group_commit_config cfg;
	struct group_commit_ops ops;
	void *ctx;

	pthread_mutex_t lock;
	pthread_cond_t has_items;
	pthread_cond_t has_space;
	uint8_t *fill; /* producers append here, under lock */
	size_t fill_count;
	uint8_t *drain; /* the writer's, outside the lock */
	bool stopping;
	bool stepped; /* no threads: group_commit_step runs the writer's turns */
	bool applying; /* the writer or an inline producer holds the writer's role (a batch in flight) */
	pthread_t thread;

	/* Async mode: a flusher thread syncs what the writer committed, so that a
	 * slow mdb_env_sync never holds up the batches behind it. */
	_Atomic bool dirty;
	bool flusher_running, flusher_stopping;
	pthread_mutex_t flusher_lock;
	pthread_cond_t flusher_wake;
	pthread_t flusher;

	_Atomic uint64_t batches, items, largest_batch, failed_items, syncs, inline_batches;
};

static int run_txn(struct group_commit *gc, uint8_t *items, size_t n)
{
	if (gc->ops.batch_begin)
		gc->ops.batch_begin(gc->ctx);
	struct store_txn *txn;
	int rc = store_write_begin(gc->store, &txn);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = gc->ops.apply(gc->ctx, txn, items + i * gc->cfg.item_size);
	if (rc) {
		store_abort(txn);
		return rc;
	}
	return store_commit(txn);
}

static void count_batch(struct group_commit *gc, size_t n)
{
	atomic_fetch_add_explicit(&gc->batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&gc->items, n, memory_order_relaxed);
	if (n > atomic_load_explicit(&gc->largest_batch, memory_order_relaxed))
		atomic_store_explicit(&gc->largest_batch, n, memory_order_relaxed);
}

static void apply_chunk(struct group_commit *gc, uint8_t *items, size_t n)
{
	int rc = run_txn(gc, items, n);
	if (rc == 0) {
		count_batch(gc, n);
		gc->ops.complete(gc->ctx, items, n, 0);
		return;
	}
	if (n == 1) {
		atomic_fetch_add_explicit(&gc->failed_items, 1, memory_order_relaxed);
		gc->ops.complete(gc->ctx, items, 1, rc);
		return;
	}
	/* Nothing of the rolled-back transaction is on disk: redo each alone. */
	for (size_t i = 0; i < n; i++)
		apply_chunk(gc, items + i * gc->cfg.item_size, 1);
}

static void apply_all(struct group_commit *gc, uint8_t *items, size_t n)
{
	for (size_t done = 0; done < n;) {
		size_t chunk = n - done;
		if (chunk > gc->cfg.batch_max)
			chunk = gc->cfg.batch_max;
		apply_chunk(gc, items + done * gc->cfg.item_size, chunk);
		done += chunk;
	}
}

static void background_sync(struct group_commit *gc)
{
	store_sync(gc->store);
	atomic_fetch_add_explicit(&gc->syncs, 1, memory_order_relaxed);
}

static void mark_dirty(struct group_commit *gc);

static void *writer_main(void *arg)
{
	struct group_commit *gc = arg;
	bool async = gc->store->durability == DURABILITY_ASYNC;

	pthread_mutex_lock(&gc->lock);
	for (;;) {
		/* An inline batch in flight holds the role: what it queued behind it waits for its end. */
		while (gc->applying || (gc->fill_count == 0 && !gc->stopping))
			pthread_cond_wait(&gc->has_items, &gc->lock);
		if (gc->fill_count == 0)
			break; /* stopping and drained */
		uint8_t *batch = gc->fill;
		size_t n = gc->fill_count;
		gc->fill = gc->drain;
		gc->fill_count = 0;
		gc->drain = batch;
		gc->applying = true;
		pthread_cond_broadcast(&gc->has_space);
		pthread_mutex_unlock(&gc->lock);

		apply_all(gc, batch, n);
		if (async)
			mark_dirty(gc);
		pthread_mutex_lock(&gc->lock);
		gc->applying = false;
	}
	pthread_mutex_unlock(&gc->lock);
	return NULL;
}

static struct timespec deadline_after_ms(unsigned ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	uint64_t ns = (uint64_t)t.tv_nsec + (uint64_t)ms * 1000000u;
	t.tv_sec += (time_t)(ns / 1000000000u);
	t.tv_nsec = (long)(ns % 1000000000u);
	return t;
}

/* Async mode: async_sync_ms after the first commit since the last sync, syncs what was
 * committed by then. With nothing committed it sleeps without a timeout: an idle bank has
 * no timer waking it. mdb_env_sync may run beside a write transaction; it only flushes the map. */
static void *flusher_main(void *arg)
{
	struct group_commit *gc = arg;
	pthread_mutex_lock(&gc->flusher_lock);
	while (!gc->flusher_stopping) {
		while (!gc->flusher_stopping && !atomic_load_explicit(&gc->dirty, memory_order_acquire))
			pthread_cond_wait(&gc->flusher_wake, &gc->flusher_lock);
		/* Commits gather for a period, then one sync takes them all. */
		struct timespec deadline = deadline_after_ms(gc->cfg.async_sync_ms);
		while (!gc->flusher_stopping &&
		       pthread_cond_timedwait(&gc->flusher_wake, &gc->flusher_lock, &deadline) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&gc->flusher_lock);
		if (atomic_exchange_explicit(&gc->dirty, false, memory_order_acq_rel))
			background_sync(gc);
		pthread_mutex_lock(&gc->flusher_lock);
	}
	pthread_mutex_unlock(&gc->flusher_lock);
	return NULL;
}

/* After a commit in async mode: the first since the last sync wakes the flusher (once a period). */
static void mark_dirty(struct group_commit *gc)
{
	if (atomic_exchange_explicit(&gc->dirty, true, memory_order_acq_rel))
		return; /* the flusher already knows */
	pthread_mutex_lock(&gc->flusher_lock);
	pthread_cond_signal(&gc->flusher_wake);
	pthread_mutex_unlock(&gc->flusher_lock);
}

static int start_flusher(struct group_commit *gc)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&gc->flusher_lock, NULL);
	pthread_cond_init(&gc->flusher_wake, &attr);
	pthread_condattr_destroy(&attr);
	int rc = pthread_create(&gc->flusher, NULL, flusher_main, gc);
	if (rc != 0) {
		pthread_mutex_destroy(&gc->flusher_lock);
		pthread_cond_destroy(&gc->flusher_wake);
		return rc;
	}
	gc->flusher_running = true;
	return 0;
}

/* After the writer has stopped: ends the flusher, which syncs what is left. */
static void stop_flusher(struct group_commit *gc)
{
	if (!gc->flusher_running)
		return;
	pthread_mutex_lock(&gc->flusher_lock);
	gc->flusher_stopping = true;
	pthread_cond_signal(&gc->flusher_wake);
	pthread_mutex_unlock(&gc->flusher_lock);
	pthread_join(gc->flusher, NULL);
	if (atomic_exchange_explicit(&gc->dirty, false, memory_order_acq_rel))
		background_sync(gc);
	pthread_mutex_destroy(&gc->flusher_lock);
	pthread_cond_destroy(&gc->flusher_wake);
	gc->flusher_running = false;
}

/* The writer's state without its threads; NULL with the reason in err. */
static struct group_commit *group_commit_alloc(struct store *store, const struct group_commit_config *cfg,
					       const struct group_commit_ops *ops, void *ctx, char *err,
					       size_t err_size)
{
	if (cfg->item_size == 0 || cfg->queue_capacity == 0 || cfg->batch_max == 0 || !ops->apply ||
	    !ops->complete) {
		snprintf(err, err_size, "group commit: item size, queue capacity, batch_max, apply and complete are required");
		return NULL;
	}
	struct group_commit *gc = calloc(1, sizeof(*gc));
	if (!gc) {
		snprintf(err, err_size, "group commit: out of memory");
		return NULL;
	}
	gc->store = store;
	gc->cfg = *cfg;
	if (gc->cfg.async_sync_ms == 0)
		gc->cfg.async_sync_ms = 100;
	gc->ops = *ops;
	gc->ctx = ctx;
	gc->fill = malloc(cfg->item_size * cfg->queue_capacity);
	gc->drain = malloc(cfg->item_size * cfg->queue_capacity);
	if (!gc->fill || !gc->drain) {
		snprintf(err, err_size, "group commit: cannot allocate a queue of %zu items", cfg->queue_capacity);
		free(gc->fill);
		free(gc->drain);
		free(gc);
		return NULL;
	}
	pthread_mutex_init(&gc->lock, NULL);
	pthread_cond_init(&gc->has_items, NULL);
	pthread_cond_init(&gc->has_space, NULL);
	return gc;
}

static void group_commit_free(struct group_commit *gc)
{
	pthread_mutex_destroy(&gc->lock);
	pthread_cond_destroy(&gc->has_items);
	pthread_cond_destroy(&gc->has_space);
	free(gc->fill);
	free(gc->drain);
	free(gc);
}

struct group_commit *group_commit_start(struct store *store, const struct group_commit_config *cfg,
					const struct group_commit_ops *ops, void *ctx, char *err,
					size_t err_size)
{
	struct group_commit *gc = group_commit_alloc(store, cfg, ops, ctx, err, err_size);
	if (!gc)
		return NULL;
	int rc = 0;
	if (store->durability == DURABILITY_ASYNC)
		rc = start_flusher(gc);
	if (rc == 0) {
		rc = pthread_create(&gc->thread, NULL, writer_main, gc);
		if (rc != 0)
			stop_flusher(gc);
	}
	if (rc != 0) {
		snprintf(err, err_size, "group commit: cannot start the writer or flusher thread: %s", strerror(rc));
		group_commit_free(gc);
		return NULL;
	}
	return gc;
}

struct group_commit *group_commit_start_stepped(struct store *store, const struct group_commit_config *cfg,
						const struct group_commit_ops *ops, void *ctx, char *err,
						size_t err_size)
{
	if (store->durability != DURABILITY_SYNC) {
		snprintf(err, err_size, "group commit: a stepped writer needs sync durability");
		return NULL;
	}
	struct group_commit *gc = group_commit_alloc(store, cfg, ops, ctx, err, err_size);
	if (gc)
		gc->stepped = true;
	return gc;
}

size_t group_commit_step(struct group_commit *gc)
{
	/* The writer thread's turn (writer_main), the swap included: what is
	 * submitted while this batch applies waits for the next step. */
	pthread_mutex_lock(&gc->lock);
	uint8_t *batch = gc->fill;
	size_t n = gc->fill_count;
	gc->fill = gc->drain;
	gc->fill_count = 0;
	gc->drain = batch;
	pthread_mutex_unlock(&gc->lock);
	if (n)
		apply_all(gc, batch, n);
	return n;
}

size_t group_commit_queued(const struct group_commit *gc)
{
	struct group_commit *g = (struct group_commit *)gc;
	pthread_mutex_lock(&g->lock);
	size_t n = g->fill_count;
	pthread_mutex_unlock(&g->lock);
	return n;
}

void group_commit_abandon(struct group_commit *gc)
{
	if (gc)
		group_commit_free(gc);
}

bool group_commit_submit(struct group_commit *gc, const void *items, size_t n)
{
	const uint8_t *src = items;
	pthread_mutex_lock(&gc->lock);
	while (n > 0) {
		while (gc->fill_count == gc->cfg.queue_capacity && !gc->stopping && !gc->stepped)
			pthread_cond_wait(&gc->has_space, &gc->lock);
		if (gc->stopping || gc->fill_count == gc->cfg.queue_capacity)
			break; /* stopping, or a stepped writer's full queue (nobody else would empty it) */
		size_t space = gc->cfg.queue_capacity - gc->fill_count;
		size_t k = n < space ? n : space;
		memcpy(gc->fill + gc->fill_count * gc->cfg.item_size, src, k * gc->cfg.item_size);
		gc->fill_count += k;
		src += k * gc->cfg.item_size;
		n -= k;
		pthread_cond_signal(&gc->has_items);
	}
	pthread_mutex_unlock(&gc->lock);
	return n == 0;
}

bool group_commit_run_inline(struct group_commit *gc, void *items, size_t n)
{
	if (n == 0 || n > gc->cfg.inline_max || gc->stepped)
		return false; /* a stepped writer's commits wait for the simulated disk (group_commit_step) */
	pthread_mutex_lock(&gc->lock);
	bool take = !gc->applying && gc->fill_count == 0 && !gc->stopping;
	if (take)
		gc->applying = true;
	pthread_mutex_unlock(&gc->lock);
	if (!take)
		return false; /* the writer is at work (or has work): it takes these with its next batch */
	apply_all(gc, items, n);
	atomic_fetch_add_explicit(&gc->inline_batches, 1, memory_order_relaxed);
	if (gc->store->durability == DURABILITY_ASYNC)
		mark_dirty(gc);
	pthread_mutex_lock(&gc->lock);
	gc->applying = false;
	if (gc->fill_count > 0 || gc->stopping)
		pthread_cond_signal(&gc->has_items); /* queued behind this batch while it ran, or a stop waits */
	pthread_mutex_unlock(&gc->lock);
	return true;
}

void group_commit_stop(struct group_commit *gc)
{
	if (!gc)
		return;
	if (gc->stepped) {
		group_commit_step(gc); /* what is queued, as the thread would before stopping */
		group_commit_free(gc);
		return;
	}
	pthread_mutex_lock(&gc->lock);
	gc->stopping = true;
	pthread_cond_broadcast(&gc->has_items);
	pthread_cond_broadcast(&gc->has_space);
	pthread_mutex_unlock(&gc->lock);
	pthread_join(gc->thread, NULL);
	stop_flusher(gc);
	group_commit_free(gc);
}

void group_commit_get_stats(const struct group_commit *gc, struct group_commit_stats *out)
{
	struct group_commit *g = (struct group_commit *)gc;
	out->batches = atomic_load_explicit(&g->batches, memory_order_relaxed);
	out->items = atomic_load_explicit(&g->items, memory_order_relaxed);
	out->largest_batch = atomic_load_explicit(&g->largest_batch, memory_order_relaxed);
	out->failed_items = atomic_load_explicit(&g->failed_items, memory_order_relaxed);
	out->syncs = atomic_load_explicit(&g->syncs, memory_order_relaxed);
	out->inline_batches = atomic_load_explicit(&g->inline_batches, memory_order_relaxed);
}
