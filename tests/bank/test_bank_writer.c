/*
 * The bank's decisions through the real group-commit writer: answers are only
 * seen after their batch committed, duplicates inside and across batches debit
 * once, and when the store runs out of space (STORE_FULL, logged in LMDB's
 * words: MDB_MAP_FULL) the failed requests are answered 909 while the ledger stays exactly consistent.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bank_writer.h"
#include "test_pan_keys.h"
#include "test_temp_dir.h"

#define PAN "5105100000000018"

struct seen {
	pthread_mutex_t lock;
	size_t done, approved, system_errors, other;
	uint64_t approved_amount;
	bool answered_before_commit;
	bool check_visibility; /* scans the journal per batch: small runs only */
	struct store *store;
};

static void observe(void *ctx, const struct bank_request *reqs, size_t n, int status)
{
	struct seen *s = ctx;
	struct ledger_totals t;
	bool visible = s->check_visibility && store_ledger_totals(s->store, &t) == 0;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(reqs[i].action, "000") == 0) {
			s->approved++;
			if (reqs[i].outcome != OUTCOME_DUPLICATE)
				s->approved_amount += reqs[i].amount;
		} else if (strcmp(reqs[i].action, "909") == 0) {
			s->system_errors++;
		} else {
			s->other++;
		}
	}
	s->done += n;
	/* Everything approved so far must already be in the committed journal. */
	if (status == 0 && visible && t.approved_amount < s->approved_amount)
		s->answered_before_commit = true;
	pthread_mutex_unlock(&s->lock);
}

struct fixture {
	char dir[256];
	struct store store;
	struct bank_writer writer;
	struct bank_stats stats;
	struct group_commit *gc;
	struct seen seen;
};

static void start(struct fixture *f, uint64_t map_size, int64_t balance)
{
	memset(f, 0, sizeof(*f));
	cr_assert(test_temp_dir_make(f->dir, sizeof(f->dir), "bank"));
	char err[256];
	cr_assert_eq(store_open(&f->store, f->dir, map_size, DURABILITY_SYNC, test_shared_vault(), err, sizeof(err)), 0, "%s", err);
	struct store_txn *txn;
	cr_assert_eq(store_write_begin(&f->store, &txn), 0);
	struct account_record a = {.balance = balance, .currency = "978", .owner = "acc"};
	struct card_record c = {.account = "acc", .expiry = "3012", .state = CARD_ACTIVE};
	cr_assert_eq(store_account_put(txn, &f->store, "acc", &a, STORE_REPLACE), 0);
	cr_assert_eq(store_card_put(txn, &f->store, PAN, &c, STORE_REPLACE), 0);
	cr_assert_eq(store_meta_add(txn, &f->store, STORE_META_CREATED_TOTAL, balance), 0);
	cr_assert_eq(store_commit(txn), 0);
	struct bank_rules rules = {.currency = "978"};
	cr_assert(bank_core_init(&f->writer.core, &f->store, &rules, 4));
	f->writer.stats = &f->stats;
	f->writer.profile = &iso_profile_ascii;
	f->writer.fixed_time = 1795608000;
	f->writer.observer = observe;
	f->writer.observer_ctx = &f->seen;
	pthread_mutex_init(&f->seen.lock, NULL);
	f->seen.store = &f->store;
	struct group_commit_config cfg = {.item_size = sizeof(struct bank_request), .queue_capacity = 512,
					  .batch_max = 64};
	f->gc = group_commit_start(&f->store, &cfg, &bank_writer_ops, &f->writer, err, sizeof(err));
	cr_assert_not_null(f->gc, "%s", err);
}

static void finish(struct fixture *f)
{
	group_commit_stop(f->gc);
	bank_core_free(&f->writer.core);
	store_close(&f->store);
	pthread_mutex_destroy(&f->seen.lock);
	test_temp_dir_remove(f->dir);
}

static struct bank_request authorization(unsigned stan, uint64_t amount)
{
	struct bank_request r;
	memset(&r, 0, sizeof(r));
	r.mti = 1100;
	r.kind = BANK_AUTHORIZATION;
	r.amount = amount;
	memcpy(r.pan, PAN, sizeof(PAN));
	snprintf(r.stan, sizeof(r.stan), "%06u", stan % 1000000);
	snprintf(r.rrn, sizeof(r.rrn), "%012u", stan);
	snprintf(r.amount_text, sizeof(r.amount_text), "%012llu", (unsigned long long)amount);
	memcpy(r.local_time, "261125120000", 13);
	memcpy(r.acquirer, "30000000003", 12);
	memcpy(r.terminal, "TERM0001", 9);
	cr_assert(journal_key_build(&r.key, r.acquirer, r.stan, r.local_time, r.rrn, r.terminal));
	return r;
}

static void wait_done(struct fixture *f, size_t total)
{
	for (int i = 0; i < 3000; i++) { /* bounded: 15 s */
		pthread_mutex_lock(&f->seen.lock);
		size_t done = f->seen.done;
		pthread_mutex_unlock(&f->seen.lock);
		if (done >= total)
			return;
		usleep(5000);
	}
	cr_assert_fail("only some requests were answered");
}

Test(writer, answers_follow_commits_and_duplicates_debit_once)
{
	static struct fixture f;
	start(&f, 64u << 20, 1000000);
	f.seen.check_visibility = true;
	enum { N = 3000 };
	static struct bank_request reqs[N];
	for (unsigned i = 0; i < N; i++)
		reqs[i] = authorization(i % 1000, 10 + i % 1000); /* every key three times */
	cr_assert(group_commit_submit(f.gc, reqs, N));
	wait_done(&f, N);
	cr_assert_not(f.seen.answered_before_commit);
	cr_assert_eq(f.seen.approved, N, "duplicates repeat the approval");
	struct ledger_totals t;
	cr_assert_eq(store_ledger_totals(&f.store, &t), 0);
	cr_assert_eq(t.approved_count, 1000);
	cr_assert_eq(t.created_total - t.total_balance, (int64_t)t.approved_amount);
	cr_assert_eq(t.approved_amount, f.seen.approved_amount);
	finish(&f);
}

Test(writer, a_full_store_answers_909_and_keeps_the_ledger_exact, .init = cr_redirect_stderr)
{
	static struct fixture f;
	start(&f, 1u << 20, 1000000000);
	enum { N = 20000 }; /* far more journal entries than 1 MiB holds */
	static struct bank_request reqs[N];
	for (unsigned i = 0; i < N; i++)
		reqs[i] = authorization(i, 1);
	for (unsigned i = 0; i < N; i += 500)
		cr_assert(group_commit_submit(f.gc, reqs + i, 500));
	wait_done(&f, N);
	cr_assert_gt(f.seen.system_errors, 0, "the map never filled up");
	cr_assert_gt(f.seen.approved, 0);
	cr_assert_eq(f.seen.approved + f.seen.system_errors, N);
	struct ledger_totals t;
	cr_assert_eq(store_ledger_totals(&f.store, &t), 0);
	cr_assert_eq(t.approved_count, f.seen.approved, "the journal holds exactly the answered approvals");
	cr_assert_eq(t.created_total - t.total_balance, (int64_t)t.approved_amount);
	cr_assert_eq(atomic_load(&f.stats.system_errors), f.seen.system_errors);
	finish(&f);
	/* and the operator is told why, not once per request */
	fflush(stderr);
	char log[4096] = {0};
	size_t got = fread(log, 1, sizeof(log) - 1, cr_get_redirected_stderr());
	cr_assert(strstr(log, "MDB_MAP_FULL") && strstr(log, "raise lmdb_map_size"), "stderr: %s", log);
	size_t lines = 0;
	for (size_t i = 0; i < got; i++)
		lines += log[i] == '\n';
	cr_assert_lt(lines, 5, "at most a line a second: %s", log);
}
