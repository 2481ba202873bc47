/*
 * pan-keys reseal [--batch N] KEYFILE STORE...: every record sealed under a
 * data key older than the current one re-sealed with the current one, each
 * store held for this process alone (refused while an agent has it open).
 * Damaged records are listed (where, not what) and make the exit code 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pan_keys_commands.h"

#define DEFAULT_BATCH 1000

struct damaged_ctx {
	const char *dir;
};

static void on_damaged(void *ctx, const char *db, const uint8_t *key, size_t key_len, uint32_t key_id,
		       const char *why)
{
	const struct damaged_ctx *d = ctx;
	/* The LMDB key only: a lookup hash, an order id or a sequence number, never a PAN. */
	char hex[2 * 64 + 1];
	size_t n = key_len < 64 ? key_len : 64;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", key[i]);
	hex[2 * n] = '\0';
	fprintf(stderr, "pan-keys: damaged record: store=%s db=%s key=%s%s sealed-with=%u: %s\n", d->dir, db, hex,
		key_len > n ? "..." : "", (unsigned)key_id, why);
}

int pan_keys_reseal_command(int argc, char **argv)
{
	size_t batch = DEFAULT_BATCH;
	if (argc >= 2 && strcmp(argv[0], "--batch") == 0) {
		char *end;
		batch = strtoul(argv[1], &end, 10);
		if (*end || batch == 0 || batch > 1000000) {
			fprintf(stderr, "pan-keys: --batch takes 1 to 1000000 records\n");
			return 2;
		}
		argc -= 2;
		argv += 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: pan-keys reseal [--batch N] KEY-FILE STORE...\n");
		return 2;
	}
	char err[1024];
	struct pan_vault *v = pan_vault_load(argv[0], err, sizeof(err));
	if (!v) {
		fprintf(stderr, "pan-keys: %s\n", err);
		return 1;
	}
	struct pan_keys_stores *stores = malloc(sizeof(*stores));
	int rc = !stores || pan_keys_stores_from_args(stores, argc - 1, argv + 1) ? 1 : 0;
	unsigned current = pan_vault_current_key_id(v);
	unsigned long long resealed = 0, damaged = 0;
	for (size_t i = 0; rc == 0 && i < stores->count; i++) {
		struct damaged_ctx d = {stores->dirs[i]};
		struct pan_reseal_result r;
		struct pan_store *s = pan_store_open(stores->dirs[i], v, PAN_STORE_EXCLUSIVE, err, sizeof(err));
		if (!s || pan_store_reseal(s, batch, on_damaged, &d, &r, err, sizeof(err))) {
			fprintf(stderr, "pan-keys: %s\n", err);
			rc = 1;
		} else {
			printf("store=%s kind=%s resealed=%llu current=%llu unsealed=%llu damaged=%llu "
			       "transactions=%llu\n",
			       stores->dirs[i], pan_store_kind(s), (unsigned long long)r.resealed,
			       (unsigned long long)r.current, (unsigned long long)r.unsealed,
			       (unsigned long long)r.damaged, (unsigned long long)r.transactions);
			resealed += r.resealed;
			damaged += r.damaged;
		}
		pan_store_close(s);
	}
	if (rc == 0)
		printf("# re-sealed %llu records under data key %u; %llu damaged%s\n", resealed, current, damaged,
		       damaged ? " (listed on stderr, left as they are: restore them from a backup or remove them)"
			       : "");
	free(stores);
	pan_vault_free(v);
	return rc ? rc : damaged ? 1 : 0;
}
