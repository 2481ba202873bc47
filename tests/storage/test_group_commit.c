/*
 * The group-commit writer: every item applied once and completed after its
 * transaction committed, batches bounded by batch_max, one failing item
 * isolated from its batch, all three durability modes, background syncs.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "group_commit.h"
#include "meta_now.h"
#include "test_pan_keys.h"
#include "test_temp_dir.h"

struct item {
	uint32_t id;
	bool fail;
	int status; /* set by complete */
	bool completed;
};

struct harness {
	struct store *store;
	pthread_mutex_t lock;
	size_t completed, failed, batches_seen, largest_seen;
	bool committed_before_complete;
	bool ids_seen[4096];
	bool duplicate_completion;
};

static int apply_item(void *ctx, struct store_txn *txn, void *p)
{
	struct harness *h = ctx;
	struct item *it = p;
	if (it->fail)
		return STORE_INVALID;
	return store_meta_add(txn, h->store, "applied", 1);
}

static void complete_items(void *ctx, void *p, size_t n, int status)
{
	struct harness *h = ctx;
	struct item *items = p;
	/* What complete() is told is committed must be visible to a fresh reader. */
	int64_t applied = meta_now(h->store, "applied");
	pthread_mutex_lock(&h->lock);
	h->batches_seen++;
	if (n > h->largest_seen)
		h->largest_seen = n;
	for (size_t i = 0; i < n; i++) {
		if (h->ids_seen[items[i].id])
			h->duplicate_completion = true;
		h->ids_seen[items[i].id] = true;
		if (status)
			h->failed++;
		else
			h->completed++;
	}
	if (status == 0 && applied < (int64_t)h->completed)
		h->committed_before_complete = false;
	pthread_mutex_unlock(&h->lock);
}

static const struct group_commit_ops ops = {.apply = apply_item, .complete = complete_items};

static void wait_for(struct harness *h, size_t total)
{
	for (int i = 0; i < 2000; i++) { /* bounded: 10 s */
		pthread_mutex_lock(&h->lock);
		size_t done = h->completed + h->failed;
		pthread_mutex_unlock(&h->lock);
		if (done >= total)
			return;
		usleep(5000);
	}
	cr_assert_fail("only some items completed");
}

static void run_mode(enum durability mode, size_t total, size_t batch_max, int fail_id)
{
	char dir[256];
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "storage"));
	struct store store;
	char err[256];
	cr_assert_eq(store_open(&store, dir, 32u << 20, mode, test_shared_vault(), err, sizeof(err)), 0, "%s", err);
	struct harness h = {.store = &store, .committed_before_complete = true};
	pthread_mutex_init(&h.lock, NULL);
	struct group_commit_config cfg = {.item_size = sizeof(struct item), .queue_capacity = 128,
					  .batch_max = batch_max, .async_sync_ms = 20};
	struct group_commit *gc = group_commit_start(&store, &cfg, &ops, &h, err, sizeof(err));
	cr_assert_not_null(gc, "%s", err);
	struct item chunk[37];
	for (size_t sent = 0; sent < total;) {
		size_t k = 0;
		for (; k < 37 && sent < total; k++, sent++)
			chunk[k] = (struct item){.id = (uint32_t)sent, .fail = (int)sent == fail_id};
		cr_assert(group_commit_submit(gc, chunk, k));
	}
	wait_for(&h, total);
	struct group_commit_stats st;
	group_commit_get_stats(gc, &st);
	group_commit_stop(gc);

	cr_assert_not(h.duplicate_completion, "an item completed twice");
	for (size_t i = 0; i < total; i++)
		cr_assert(h.ids_seen[i], "item %zu never completed", i);
	cr_assert(h.committed_before_complete, "complete() ran before its commit was visible");
	cr_assert_eq(h.failed, fail_id >= 0 ? 1u : 0u);
	cr_assert_leq(h.largest_seen, batch_max);
	cr_assert_leq(st.largest_batch, batch_max);
	cr_assert_eq(st.failed_items, h.failed);

	/* Reopen: everything that completed with status 0 is on disk, nothing else. */
	store_close(&store);
	cr_assert_eq(store_open(&store, dir, 32u << 20, DURABILITY_SYNC, test_shared_vault(), err, sizeof(err)), 0, "%s", err);
	struct store_txn *txn;
	int64_t applied = -1;
	cr_assert_eq(store_read_begin(&store, &txn), 0);
	store_meta_get(txn, &store, "applied", &applied);
	store_abort(txn);
	cr_assert_eq(applied, (int64_t)h.completed);
	store_close(&store);
	pthread_mutex_destroy(&h.lock);
	test_temp_dir_remove(dir);
}

Test(group_commit, sync_applies_everything_once_in_bounded_batches)
{
	run_mode(DURABILITY_SYNC, 1000, 64, -1);
}

Test(group_commit, nometasync_and_async_apply_everything)
{
	run_mode(DURABILITY_NOMETASYNC, 700, 16, -1);
	run_mode(DURABILITY_ASYNC, 2000, 256, -1);
}

Test(group_commit, batch_max_one_is_one_transaction_per_item)
{
	run_mode(DURABILITY_ASYNC, 200, 1, -1);
}

Test(group_commit, a_failing_item_does_not_refuse_its_batch)
{
	run_mode(DURABILITY_SYNC, 500, 128, 77);
}

Test(group_commit, async_mode_syncs_in_the_background)
{
	char dir[256];
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "storage"));
	struct store store;
	char err[256];
	cr_assert_eq(store_open(&store, dir, 32u << 20, DURABILITY_ASYNC, test_shared_vault(), err, sizeof(err)), 0, "%s", err);
	struct harness h = {.store = &store, .committed_before_complete = true};
	pthread_mutex_init(&h.lock, NULL);
	struct group_commit_config cfg = {.item_size = sizeof(struct item), .queue_capacity = 16,
					  .batch_max = 16, .async_sync_ms = 20};
	struct group_commit *gc = group_commit_start(&store, &cfg, &ops, &h, err, sizeof(err));
	cr_assert_not_null(gc, "%s", err);
	struct item it = {.id = 1};
	cr_assert(group_commit_submit(gc, &it, 1));
	wait_for(&h, 1);
	struct group_commit_stats st = {0};
	for (int i = 0; i < 200 && st.syncs == 0; i++) { /* bounded: 2 s */
		usleep(10000);
		group_commit_get_stats(gc, &st);
	}
	cr_assert_geq(st.syncs, 1, "no background sync after a dirty batch");
	group_commit_stop(gc);
	store_close(&store);
	pthread_mutex_destroy(&h.lock);
	test_temp_dir_remove(dir);
}

Test(group_commit, rejects_an_incomplete_configuration)
{
	char err[256] = "";
	struct group_commit_config cfg = {.item_size = 8, .queue_capacity = 0, .batch_max = 1};
	cr_assert_null(group_commit_start(NULL, &cfg, &ops, NULL, err, sizeof(err)));
	cr_assert_neq(strlen(err), 0);
}

/* The stepped writer of the simulation: nothing happens between steps, a step is one turn
 * (bounded batches, a failing item isolated), a full queue refuses instead of waiting, an
 * abandoned writer applies nothing more and stop applies what is queued. */
Test(group_commit, stepped_writer_applies_only_when_stepped)
{
	char dir[256];
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "storage"));
	struct store store;
	char err[256];
	cr_assert_eq(store_open(&store, dir, 32u << 20, DURABILITY_SYNC, test_shared_vault(), err, sizeof(err)), 0, "%s", err);
	struct harness h = {.store = &store, .committed_before_complete = true};
	pthread_mutex_init(&h.lock, NULL);
	struct group_commit_config cfg = {.item_size = sizeof(struct item), .queue_capacity = 64, .batch_max = 16};
	struct group_commit *gc = group_commit_start_stepped(&store, &cfg, &ops, &h, err, sizeof(err));
	cr_assert_not_null(gc, "%s", err);

	struct item items[64];
	for (uint32_t i = 0; i < 64; i++)
		items[i] = (struct item){.id = i, .fail = i == 5};
	cr_assert(group_commit_submit(gc, items, 40));
	cr_assert_eq(group_commit_queued(gc), 40u);
	cr_assert_eq(h.completed + h.failed, 0u, "nothing applied before a step");
	cr_assert_eq(group_commit_step(gc), 40u);
	cr_assert_eq(group_commit_queued(gc), 0u);
	cr_assert_eq(h.completed, 39u);
	cr_assert_eq(h.failed, 1u, "the failing item alone");
	cr_assert_leq(h.largest_seen, 16u);
	cr_assert(h.committed_before_complete);
	cr_assert_eq(group_commit_step(gc), 0u, "an empty turn");

	/* Full: the submit refuses what does not fit instead of waiting for a thread that is not there. */
	cr_assert(group_commit_submit(gc, items + 40, 24));
	cr_assert_not(group_commit_submit(gc, items, 64));
	cr_assert_eq(group_commit_queued(gc), 64u);
	group_commit_abandon(gc); /* a crash: the queue is lost */

	gc = group_commit_start_stepped(&store, &cfg, &ops, &h, err, sizeof(err));
	cr_assert_not_null(gc, "%s", err);
	struct item last = {.id = 100};
	cr_assert(group_commit_submit(gc, &last, 1));
	group_commit_stop(gc); /* applies what is queued */
	cr_assert(h.ids_seen[100]);

	struct store_txn *txn;
	int64_t applied = -1;
	cr_assert_eq(store_read_begin(&store, &txn), 0);
	store_meta_get(txn, &store, "applied", &applied);
	store_abort(txn);
	cr_assert_eq(applied, 40, "39 of the first step, the one of stop, none of the abandoned queue");

	struct store async_store;
	char dir2[256];
	cr_assert(test_temp_dir_make(dir2, sizeof(dir2), "storage"));
	cr_assert_eq(store_open(&async_store, dir2, 32u << 20, DURABILITY_ASYNC, test_shared_vault(), err, sizeof(err)), 0);
	cr_assert_null(group_commit_start_stepped(&async_store, &cfg, &ops, &h, err, sizeof(err)), "async needs its flusher");
	store_close(&async_store);
	test_temp_dir_remove(dir2);
	store_close(&store);
	pthread_mutex_destroy(&h.lock);
	test_temp_dir_remove(dir);
}
