/*
 * Authorizations per second through the bank's single LMDB writer: for each
 * durability mode and batch size, a bounded number of 1100 decisions (journal
 * lookup, rules, debit, journal entry) applied in group-committed
 * transactions, each answer encoded once its batch is committed (as the node
 * does before sending). The store lives in a temporary directory.
 *
 *   bench_storage [--count N] [--accounts N] [--dir DIR] [--modes sync,nometasync,async]
 *                 [--batches 1,16,64,256,1024] [--seconds S]
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bank_writer.h"
#include "group_commit.h"
#include "bench_vault.h"
#include "store.h"


struct counter {
	_Atomic uint64_t done;
	_Atomic uint64_t approved;
	_Atomic uint64_t encoded_bytes;
};

static void observe(void *ctx, const struct bank_request *reqs, size_t n, int status)
{
	struct counter *c = ctx;
	uint64_t approved = 0, bytes = 0;
	uint8_t frame[ISO_MAX_MESSAGE + 2];
	for (size_t i = 0; i < n; i++) {
		approved += status == 0 && strcmp(reqs[i].action, "000") == 0;
		bytes += bank_reply_encode(&iso_profile_ascii, &reqs[i], frame, sizeof(frame));
	}
	atomic_fetch_add(&c->approved, approved);
	atomic_fetch_add(&c->encoded_bytes, bytes);
	atomic_fetch_add(&c->done, n);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void pan_of(size_t k, char out[20])
{
	snprintf(out, 20, "510510%010zu", k % 10000000000u);
}

static int create_accounts(struct store *s, size_t accounts)
{
	struct store_txn *txn;
	int rc = store_write_begin(s, &txn);
	for (size_t k = 0; k < accounts && rc == 0; k++) {
		char id[STORE_ID_MAX], pan[20];
		snprintf(id, sizeof(id), "bench-%zu", k);
		pan_of(k, pan);
		struct account_record a = {.balance = 1000000000000ll, .currency = "978"};
		snprintf(a.owner, sizeof(a.owner), "%s", id);
		struct card_record c = {.expiry = "3012", .state = CARD_ACTIVE};
		snprintf(c.account, sizeof(c.account), "%s", id);
		rc = store_account_put(txn, s, id, &a, STORE_REPLACE);
		if (rc == 0)
			rc = store_card_put(txn, s, pan, &c, STORE_REPLACE);
	}
	if (rc) {
		store_abort(txn);
		return rc;
	}
	return store_commit(txn);
}

static void make_request(struct bank_request *r, size_t i, size_t accounts)
{
	memset(r, 0, sizeof(*r));
	r->mti = 1100;
	r->kind = BANK_AUTHORIZATION;
	r->amount = 100 + i % 1000;
	pan_of(i % accounts, r->pan);
	snprintf(r->amount_text, sizeof(r->amount_text), "%012llu", (unsigned long long)r->amount);
	snprintf(r->stan, sizeof(r->stan), "%06zu", i % 1000000);
	snprintf(r->rrn, sizeof(r->rrn), "%012zu", i % 1000000000000u);
	memcpy(r->local_time, "261125120000", 13);
	memcpy(r->acquirer, "30000000003", 12);
	memcpy(r->terminal, "TERM0001", 9);
	memcpy(r->processing_code, "000000", 7);
	memcpy(r->currency, "978", 4);
	memcpy(r->transmission_time, "1125120000", 11);
	journal_key_build(&r->key, r->acquirer, r->stan, r->local_time, r->rrn, r->terminal);
}

struct result {
	uint64_t count;
	double seconds;
	double avg_batch;
	uint64_t approved;
};

static int run_one(const char *base_dir, enum durability mode, size_t batch, size_t count, size_t accounts,
		   double max_seconds, struct bank_request *reqs, struct result *out)
{
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/bench-%s-%zu", base_dir, durability_name(mode), batch);
	char err[256];
	struct store s;
	static struct pan_vault *vault;
	if (!vault && !(vault = bench_vault(base_dir)))
		return 1;
	if (store_open(&s, dir, 4ull << 30, mode, vault, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	int rc = create_accounts(&s, accounts);
	if (rc) {
		fprintf(stderr, "creating accounts: %s\n", store_strerror(rc));
		store_close(&s);
		return 1;
	}
	struct counter counter = {0};
	struct bank_stats *stats = calloc(1, sizeof(*stats));
	struct bank_writer *w = calloc(1, sizeof(*w));
	struct bank_rules rules = {.currency = "978"};
	bank_core_init(&w->core, &s, &rules, accounts);
	w->stats = stats;
	w->profile = &iso_profile_ascii;
	w->observer = observe;
	w->observer_ctx = &counter;
	struct group_commit_config cfg = {.item_size = sizeof(struct bank_request),
					  .queue_capacity = batch * 4 > 256 ? batch * 4 : 256,
					  .batch_max = batch, .async_sync_ms = 100};
	struct group_commit *gc = group_commit_start(&s, &cfg, &bank_writer_ops, w, err, sizeof(err));
	if (!gc) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double start = now_s();
	size_t submitted = 0;
	while (submitted < count && now_s() - start < max_seconds) {
		size_t k = count - submitted < 256 ? count - submitted : 256;
		group_commit_submit(gc, reqs + submitted, k);
		submitted += k;
	}
	while (atomic_load(&counter.done) < submitted)
		usleep(200);
	double seconds = now_s() - start;
	struct group_commit_stats st;
	group_commit_get_stats(gc, &st);
	group_commit_stop(gc);
	bank_core_free(&w->core);
	store_close(&s);
	free(w);
	free(stats);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	out->count = submitted;
	out->seconds = seconds;
	out->avg_batch = st.batches ? (double)st.items / (double)st.batches : 0;
	out->approved = atomic_load(&counter.approved);
	return 0;
}

static size_t parse_list(const char *s, size_t *out, size_t max)
{
	size_t n = 0;
	while (*s && n < max) {
		out[n++] = strtoull(s, (char **)&s, 10);
		if (*s == ',')
			s++;
		else
			break;
	}
	return n;
}

int main(int argc, char **argv)
{
	size_t count = 200000, accounts = 10000;
	double max_seconds = 10;
	const char *modes = "sync,nometasync,async";
	const char *base_dir = NULL;
	size_t batches[16] = {1, 16, 64, 256, 1024};
	size_t batch_count = 5;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--count") == 0)
			count = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--accounts") == 0)
			accounts = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0)
			base_dir = argv[i + 1];
		else if (strcmp(argv[i], "--modes") == 0)
			modes = argv[i + 1];
		else if (strcmp(argv[i], "--batches") == 0)
			batch_count = parse_list(argv[i + 1], batches, 16);
		else if (strcmp(argv[i], "--seconds") == 0)
			max_seconds = atof(argv[i + 1]);
		else {
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (count == 0 || accounts == 0 || batch_count == 0) {
		fprintf(stderr, "count, accounts and batches must be positive\n");
		return 2;
	}
	char temp[] = "/tmp/bench-storage-XXXXXX";
	if (!base_dir) {
		base_dir = mkdtemp(temp);
		if (!base_dir) {
			perror("mkdtemp");
			return 1;
		}
	}
	struct bank_request *reqs = malloc(count * sizeof(*reqs));
	if (!reqs) {
		fprintf(stderr, "out of memory for %zu requests\n", count);
		return 1;
	}
	for (size_t i = 0; i < count; i++)
		make_request(&reqs[i], i, accounts);

	printf("# %zu authorizations at most per run (and at most %.0f s of submitting), %zu accounts, dir %s\n", count,
	       max_seconds, accounts, base_dir);
	printf("%-11s %6s %9s %9s %12s %10s\n", "durability", "batch", "auths", "seconds", "auths/s", "avg batch");
	const enum durability all[] = {DURABILITY_SYNC, DURABILITY_NOMETASYNC, DURABILITY_ASYNC};
	int status = 0;
	for (size_t m = 0; m < 3; m++) {
		if (!strstr(modes, durability_name(all[m])))
			continue;
		for (size_t b = 0; b < batch_count; b++) {
			struct result r;
			if (run_one(base_dir, all[m], batches[b], count, accounts, max_seconds, reqs, &r)) {
				status = 1;
				continue;
			}
			printf("%-11s %6zu %9llu %9.3f %12.0f %10.1f\n", durability_name(all[m]), batches[b],
			       (unsigned long long)r.count, r.seconds, (double)r.count / r.seconds, r.avg_batch);
			fflush(stdout);
			if (r.approved != r.count) {
				fprintf(stderr, "only %llu of %llu approved\n", (unsigned long long)r.approved,
					(unsigned long long)r.count);
				status = 1;
			}
		}
	}
	free(reqs);
	if (base_dir == temp)
		rmdir(temp);
	return status;
}
