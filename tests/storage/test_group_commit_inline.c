/*
 * group_commit_run_inline: a producer that finds the writer idle commits a
 * small batch on its own thread. It must keep the writer's promises: complete()
 * only after the commit (on disk in sync mode), never two batches at once,
 * every item once, and no inline batch while the writer holds one.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "group_commit.h"
#include "meta_now.h"
#include "test_pan_keys.h"
#include "test_temp_dir.h"

#define ITEMS_MAX 4096

struct item {
	uint32_t id;
	bool hold; /* apply waits until the test releases it (keeps the writer busy) */
};

struct harness {
	struct store *store;
	pthread_mutex_t lock;
	atomic_int applying;         /* batches in apply/complete right now */
	atomic_bool overlapped;      /* ever two at once */
	atomic_bool held;            /* a held item is in apply */
	atomic_bool release;         /* lets it go */
	bool committed_before_complete;
	bool duplicate;
	bool seen[ITEMS_MAX];
	size_t completed;
	pthread_t completed_on[ITEMS_MAX];
};

static void batch_begin(void *ctx)
{
	struct harness *h = ctx;
	if (atomic_fetch_add(&h->applying, 1) != 0)
		atomic_store(&h->overlapped, true);
}

static int apply_item(void *ctx, struct store_txn *txn, void *p)
{
	struct harness *h = ctx;
	struct item *it = p;
	if (it->hold) {
		atomic_store(&h->held, true);
		for (int i = 0; i < 2000 && !atomic_load(&h->release); i++) /* bounded: 10 s */
			usleep(5000);
	}
	return store_meta_add(txn, h->store, "applied", 1);
}

static void complete_items(void *ctx, void *p, size_t n, int status)
{
	struct harness *h = ctx;
	struct item *items = p;
	/* What complete() is told is committed must be visible to a fresh reader. */
	int64_t applied = meta_now(h->store, "applied");
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < n; i++) {
		if (h->seen[items[i].id])
			h->duplicate = true;
		h->seen[items[i].id] = true;
		h->completed_on[items[i].id] = pthread_self();
		if (status == 0)
			h->completed++;
	}
	if (applied < (int64_t)h->completed)
		h->committed_before_complete = false;
	pthread_mutex_unlock(&h->lock);
	atomic_fetch_sub(&h->applying, 1);
}

static const struct group_commit_ops ops = {
	.batch_begin = batch_begin, .apply = apply_item, .complete = complete_items};

static size_t completed(struct harness *h)
{
	pthread_mutex_lock(&h->lock);
	size_t n = h->completed;
	pthread_mutex_unlock(&h->lock);
	return n;
}

static void wait_for(struct harness *h, size_t total)
{
	for (int i = 0; i < 2000 && completed(h) < total; i++) /* bounded: 10 s */
		usleep(5000);
	cr_assert_eq(completed(h), total, "only %zu of %zu items completed", completed(h), total);
}

struct fixture {
	char dir[256];
	struct store store;
	struct harness h;
	struct group_commit *gc;
};

static void open_fixture(struct fixture *f, enum durability mode, size_t inline_max)
{
	cr_assert(test_temp_dir_make(f->dir, sizeof(f->dir), "storage"));
	char err[256];
	cr_assert_eq(store_open(&f->store, f->dir, 32u << 20, mode, test_shared_vault(), err, sizeof(err)), 0, "%s",
		     err);
	memset(&f->h, 0, sizeof(f->h));
	f->h.store = &f->store;
	f->h.committed_before_complete = true;
	pthread_mutex_init(&f->h.lock, NULL);
	struct group_commit_config cfg = {.item_size = sizeof(struct item), .queue_capacity = 64,
					  .batch_max = 32, .async_sync_ms = 20, .inline_max = inline_max};
	f->gc = group_commit_start(&f->store, &cfg, &ops, &f->h, err, sizeof(err));
	cr_assert_not_null(f->gc, "%s", err);
}

/* Stops the writer, then checks on a reopened store that what completed is on disk. */
static void close_fixture(struct fixture *f)
{
	group_commit_stop(f->gc);
	cr_assert_not(f->h.duplicate, "an item completed twice");
	cr_assert(f->h.committed_before_complete, "complete() ran before its commit was visible");
	cr_assert_not(atomic_load(&f->h.overlapped), "two batches were applied at once");
	store_close(&f->store);
	char err[256];
	cr_assert_eq(store_open(&f->store, f->dir, 32u << 20, DURABILITY_SYNC, test_shared_vault(), err, sizeof(err)),
		     0, "%s", err);
	struct store_txn *txn;
	int64_t applied = -1;
	cr_assert_eq(store_read_begin(&f->store, &txn), 0);
	store_meta_get(txn, &f->store, "applied", &applied);
	store_abort(txn);
	cr_assert_eq(applied, (int64_t)f->h.completed);
	store_close(&f->store);
	pthread_mutex_destroy(&f->h.lock);
	test_temp_dir_remove(f->dir);
}

Test(group_commit_inline, an_idle_writer_lets_the_caller_commit_and_answer_after_the_commit)
{
	struct fixture f;
	open_fixture(&f, DURABILITY_SYNC, 4);
	struct item items[4] = {{.id = 0}, {.id = 1}, {.id = 2}, {.id = 3}};
	cr_assert(group_commit_run_inline(f.gc, items, 4));
	/* Done before returning, on this thread: nothing was handed to the writer. */
	cr_assert_eq(completed(&f.h), 4);
	for (int i = 0; i < 4; i++)
		cr_assert(pthread_equal(f.h.completed_on[i], pthread_self()));
	struct group_commit_stats st;
	group_commit_get_stats(f.gc, &st);
	cr_assert_eq(st.batches, 1);
	cr_assert_eq(st.inline_batches, 1);
	close_fixture(&f);
}

Test(group_commit_inline, batches_over_inline_max_or_with_inline_off_go_to_the_writer)
{
	struct fixture f;
	open_fixture(&f, DURABILITY_ASYNC, 2);
	struct item three[3] = {{.id = 0}, {.id = 1}, {.id = 2}};
	cr_assert_not(group_commit_run_inline(f.gc, three, 3));
	cr_assert_eq(completed(&f.h), 0, "a refused batch must not have been applied");
	close_fixture(&f);

	open_fixture(&f, DURABILITY_ASYNC, 0);
	struct item one = {.id = 7};
	cr_assert_not(group_commit_run_inline(f.gc, &one, 1));
	cr_assert(group_commit_submit(f.gc, &one, 1));
	wait_for(&f.h, 1);
	close_fixture(&f);
}

Test(group_commit_inline, no_inline_batch_while_the_writer_holds_one)
{
	struct fixture f;
	open_fixture(&f, DURABILITY_SYNC, 16);
	struct item held = {.id = 0, .hold = true};
	cr_assert(group_commit_submit(f.gc, &held, 1));
	for (int i = 0; i < 2000 && !atomic_load(&f.h.held); i++) /* bounded: 10 s */
		usleep(5000);
	cr_assert(atomic_load(&f.h.held), "the writer never took the held item");
	struct item next = {.id = 1};
	cr_assert_not(group_commit_run_inline(f.gc, &next, 1), "ran beside the writer's batch");
	cr_assert(group_commit_submit(f.gc, &next, 1));
	atomic_store(&f.h.release, true);
	wait_for(&f.h, 2);
	/* Idle again (once the writer has let go of its role): the next one is the caller's. */
	struct item last = {.id = 2};
	bool ran = false;
	for (int i = 0; i < 2000 && !(ran = group_commit_run_inline(f.gc, &last, 1)); i++) /* bounded: 10 s */
		usleep(5000);
	cr_assert(ran, "an idle writer never let the caller commit");
	close_fixture(&f);
}

struct producer {
	struct group_commit *gc;
	uint32_t first, count;
	size_t inline_runs;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	for (uint32_t i = 0; i < p->count; i++) {
		struct item it = {.id = p->first + i};
		if (group_commit_run_inline(p->gc, &it, 1))
			p->inline_runs++;
		else if (!group_commit_submit(p->gc, &it, 1))
			break;
	}
	return NULL;
}

Test(group_commit_inline, producers_racing_the_writer_apply_everything_once_one_batch_at_a_time)
{
	struct fixture f;
	open_fixture(&f, DURABILITY_ASYNC, 16);
	struct producer p[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		p[i] = (struct producer){.gc = f.gc, .first = (uint32_t)i * 1000u, .count = 1000};
		cr_assert_eq(pthread_create(&t[i], NULL, produce, &p[i]), 0);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	wait_for(&f.h, 3000);
	for (uint32_t id = 0; id < 3000; id++)
		cr_assert(f.h.seen[id], "item %u never completed", id);
	close_fixture(&f);
}
