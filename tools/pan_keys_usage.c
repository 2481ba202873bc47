/*
 * pan-keys usage KEYFILE STORE...: how many records each data key seals, per
 * store and database, each seal opened (one read transaction per store; the
 * agents may be running: the counts are a snapshot).
 */
#include <stdio.h>
#include <stdlib.h>

#include "pan_keys_commands.h"

int pan_keys_usage_command(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: pan-keys usage KEY-FILE STORE...\n");
		return 2;
	}
	char err[1024];
	struct pan_vault *v = pan_vault_load(argv[0], err, sizeof(err));
	if (!v) {
		fprintf(stderr, "pan-keys: %s\n", err);
		return 1;
	}
	struct pan_keys_stores *stores = malloc(sizeof(*stores));
	struct pan_usage *u = malloc(sizeof(*u));
	int rc = !stores || !u || pan_keys_stores_from_args(stores, argc - 1, argv + 1) ? 1 : 0;
	unsigned long long old = 0, damaged = 0;
	unsigned current = pan_vault_current_key_id(v);
	for (size_t i = 0; rc == 0 && i < stores->count; i++) {
		struct pan_store *s = pan_store_open(stores->dirs[i], v, PAN_STORE_READ, err, sizeof(err));
		if (!s || pan_store_usage(s, u, err, sizeof(err))) {
			fprintf(stderr, "pan-keys: %s\n", err);
			rc = 1;
		} else {
			pan_keys_print_usage(stores->dirs[i], pan_store_kind(s), u, current);
			for (size_t r = 0; r < u->row_count; r++) {
				damaged += u->rows[r].damaged;
				if (u->rows[r].key_id != PAN_USAGE_NO_KEY && u->rows[r].key_id != current)
					old += u->rows[r].records;
			}
		}
		pan_store_close(s);
	}
	if (rc == 0)
		printf("# in all: %llu records sealed under keys older than the current (%u)%s; %llu damaged\n", old,
		       current, old ? ": pan-keys reseal" : "", damaged);
	free(u);
	free(stores);
	pan_vault_free(v);
	return rc;
}
