/*
 * What one reversal advice costs the switch's store-and-forward queue:
 *   - on disk: advices written in synchronous group commits of 1, 16, 64 and
 *     256 (saf_store_commit, one fsync per commit), then acknowledged (deleted)
 *     in commits of the same size; microseconds per advice, and the ratio of
 *     each batch size against one advice per commit, measured in the same run;
 *   - in memory: the schedule's add, first send and acknowledgement
 *     (saf_queue), nanoseconds per advice.
 * The fast path never pays either: advices exist only for timeouts and reversals.
 *
 *   bench_saf [--count N] [--dir DIR]    (N advices per batch size, default 2000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_vault.h"
#include "saf_queue.h"
#include "saf_store.h"


static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct saf_record advice(uint64_t seq)
{
	struct saf_record r;
	memset(&r, 0, sizeof(r));
	r.kind = SAF_SWITCH_REVERSAL;
	r.seq = seq;
	r.queued_unix_ms = 1700000000000;
	snprintf(r.bank, sizeof(r.bank), "big_bank");
	r.bank_ipv4 = 0x0100007f;
	r.bank_port = 0x8523;
	snprintf(r.f.pan, sizeof(r.f.pan), "5105100000000027");
	snprintf(r.f.amount, sizeof(r.f.amount), "000000001234");
	snprintf(r.f.stan, sizeof(r.f.stan), "5%05llu", (unsigned long long)(seq % 50000));
	snprintf(r.f.local_time, sizeof(r.f.local_time), "261203061500");
	snprintf(r.f.acquirer, sizeof(r.f.acquirer), "30000000003");
	snprintf(r.f.rrn, sizeof(r.f.rrn), "%012llu", (unsigned long long)seq);
	snprintf(r.f.terminal, sizeof(r.f.terminal), "TERM0001");
	snprintf(r.f.original, sizeof(r.f.original), "1100%06llu2612030615001130000000003",
		 (unsigned long long)(seq % 1000000));
	saf_record_seal(&r);
	return r;
}

static void on_send(void *ctx, const struct saf_entry *e, bool repeat)
{
	(void)e;
	(void)repeat;
	(*(size_t *)ctx)++;
}

static void on_expire(void *ctx, const struct saf_record *r)
{
	(void)ctx;
	(void)r;
}

static int disk(const char *dir, size_t count)
{
	static const size_t batches[] = {1, 16, 64, 256};
	char err[256];
	struct pan_vault *vault = bench_vault(dir);
	struct saf_store *s = vault ? saf_store_open(dir, 1ull << 30, vault, err, sizeof(err)) : NULL;
	if (!s) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct saf_record *recs = malloc(256 * sizeof(*recs));
	uint64_t *seqs = malloc(256 * sizeof(*seqs));
	double base = 0;
	uint64_t seq = saf_store_next_seq(s);
	printf("%-8s %14s %14s %10s\n", "batch", "store us/adv", "ack us/adv", "vs batch 1");
	for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
		size_t n = batches[b];
		double store = 0, ack = 0;
		for (size_t done = 0; done < count; done += n) {
			for (size_t i = 0; i < n; i++) {
				recs[i] = advice(seq + i);
				seqs[i] = seq + i;
			}
			struct saf_batch add = {.adds = recs, .add_count = n};
			double t = now_s();
			if (saf_store_commit(s, &add, NULL, err, sizeof(err)) != 0) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
			store += now_s() - t;
			struct saf_batch del = {.removes = seqs, .remove_count = n};
			t = now_s();
			if (saf_store_commit(s, &del, NULL, err, sizeof(err)) != 0) {
				fprintf(stderr, "%s\n", err);
				return 1;
			}
			ack += now_s() - t;
			seq += n;
		}
		size_t advices = (count + n - 1) / n * n;
		double per = store * 1e6 / (double)advices;
		if (b == 0)
			base = per;
		printf("%-8zu %14.2f %14.2f %9.1fx\n", n, per, ack * 1e6 / (double)advices, base / per);
	}
	free(recs);
	free(seqs);
	saf_store_close(s);
	pan_vault_free(vault);
	return 0;
}

static int memory(size_t count)
{
	/* The shipped window (64 out at a bank at once); no rate bound, to time the code alone. */
	const struct saf_settings settings = {
		.first_retry_ms = 200, .max_retry_ms = 30000, .window = 64, .drain_per_s = 1u << 30,
		.retention_ms = 86400000};
	struct saf_queue q;
	if (!saf_queue_init(&q, &settings))
		return 1;
	size_t n = count * 50;
	struct saf_record *recs = malloc(n * sizeof(*recs));
	for (size_t i = 0; i < n; i++)
		recs[i] = advice(i + 1);
	size_t sent = 0;
	double t = now_s();
	for (size_t i = 0; i < n; i++)
		saf_queue_add(&q, &recs[i], 0);
	double added = now_s();
	/* A bank that answers every window at once: send, acknowledge, until the queue is empty. */
	uint64_t now = 0;
	struct saf_record done;
	for (size_t acked = 0; acked < n; now++) {
		saf_queue_run(&q, now, 1700000000000, on_send, on_expire, &sent);
		while (q.banks[0].head && q.banks[0].head->attempts) {
			struct saf_record r = q.banks[0].head->rec;
			saf_queue_acknowledge(&q, r.f.original, r.f.rrn, r.f.terminal, now, &done);
			acked++;
		}
	}
	double drained = now_s();
	printf("in memory, %zu advices (window 64): add %.0f ns, send + acknowledge %.0f ns per advice (%zu sent)\n",
	       n, (added - t) * 1e9 / (double)n, (drained - added) * 1e9 / (double)n, sent);
	free(recs);
	saf_queue_destroy(&q);
	return 0;
}

int main(int argc, char **argv)
{
	size_t count = 2000;
	const char *dir = NULL;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--count") == 0)
			count = strtoul(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
	}
	char tmp[] = "/tmp/iso-bench-saf-XXXXXX";
	if (!dir) {
		if (!mkdtemp(tmp)) {
			perror("mkdtemp");
			return 1;
		}
		dir = tmp;
	}
	printf("SAF store in %s, %zu advices per batch size, synchronous commits\n", dir, count);
	int rc = disk(dir, count) || memory(count);
	if (dir == tmp) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmp);
	}
	return rc;
}
