/*
 * What a data-key rotation's re-seal costs (docs/data-protection.md,
 * "Rotating a data key"): a bank store of N cards, then rounds of
 * rotate + pan_store_reseal (every card moves to the new key) with the given
 * batch sizes in turn (records visited per write transaction, synchronous
 * commits), and pan_store_usage over the result; records per second.
 *
 *   bench_pan_reseal [--cards N] [--batches 100,1000,10000] [--rounds R] [--dir DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_vault.h"
#include "pan_keys.h"
#include "pan_store.h"
#include "store.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fill(const char *dir, const struct pan_vault *v, long cards)
{
	struct store s;
	char err[512];
	if (store_open(&s, dir, 1ull << 30, DURABILITY_SYNC, v, err, sizeof(err))) {
		fprintf(stderr, "bench_pan_reseal: %s\n", err);
		return -1;
	}
	for (long done = 0; done < cards;) {
		struct store_txn *t;
		if (store_write_begin(&s, &t))
			return -1;
		for (long k = 0; k < 10000 && done < cards; k++, done++) {
			char pan[24];
			snprintf(pan, sizeof(pan), "5105100%09ld", done % 1000000000);
			struct card_record c = {.expiry = "3012", .state = CARD_ACTIVE};
			snprintf(c.account, sizeof(c.account), "big_bank-%ld", done);
			if (store_card_put(t, &s, pan, &c, STORE_CREATE))
				return -1;
		}
		if (store_commit(t))
			return -1;
	}
	store_close(&s);
	return 0;
}

int main(int argc, char **argv)
{
	long cards = 200000, rounds = 2;
	char batches[128] = "100,1000,10000", dir[256] = "";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--cards") == 0)
			cards = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--batches") == 0)
			snprintf(batches, sizeof(batches), "%s", argv[i + 1]);
		else if (strcmp(argv[i], "--rounds") == 0)
			rounds = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--dir") == 0)
			snprintf(dir, sizeof(dir), "%s", argv[i + 1]);
	}
	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/bench-pan-reseal-XXXXXX");
		if (!mkdtemp(dir))
			return 1;
	}
	char keys[300], store_dir[300], err[512];
	snprintf(keys, sizeof(keys), "%s/pan.keys", dir);
	snprintf(store_dir, sizeof(store_dir), "%s/big_bank", dir);
	struct pan_vault *v = bench_vault(dir);
	if (!v || fill(store_dir, v, cards))
		return 1;
	pan_vault_free(v);
	printf("cards %ld in %s\n", cards, store_dir);
	for (long r = 0; r < rounds; r++) {
		char list[128];
		snprintf(list, sizeof(list), "%s", batches);
		for (char *save = NULL, *b = strtok_r(list, ",", &save); b; b = strtok_r(NULL, ",", &save)) {
			uint32_t id;
			if (pan_keys_rotate(keys, &id, err, sizeof(err)) || !(v = pan_vault_load(keys, err, sizeof(err)))) {
				fprintf(stderr, "bench_pan_reseal: %s\n", err);
				return 1;
			}
			struct pan_store *s = pan_store_open(store_dir, v, PAN_STORE_EXCLUSIVE, err, sizeof(err));
			struct pan_reseal_result res;
			double t0 = now_s();
			if (!s || pan_store_reseal(s, (size_t)atol(b), NULL, NULL, &res, err, sizeof(err))) {
				fprintf(stderr, "bench_pan_reseal: %s\n", err);
				return 1;
			}
			double t1 = now_s();
			static struct pan_usage u;
			if (pan_store_usage(s, &u, err, sizeof(err)))
				return 1;
			double t2 = now_s();
			printf("batch %6s: re-sealed %llu to key %u in %llu txns: %.2f s, %.0f records/s; usage %.2f s, "
			       "%.0f records/s\n",
			       b, (unsigned long long)res.resealed, (unsigned)id, (unsigned long long)res.transactions,
			       t1 - t0, (double)res.resealed / (t1 - t0), t2 - t1, (double)cards / (t2 - t1));
			pan_store_close(s);
			pan_vault_free(v);
		}
	}
	/* What this bench made, nothing else. */
	char path[400];
	snprintf(path, sizeof(path), "%s/data.mdb", store_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", store_dir);
	unlink(path);
	rmdir(store_dir);
	unlink(keys);
	rmdir(dir);
	return 0;
}
