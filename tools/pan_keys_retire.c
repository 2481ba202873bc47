/*
 * pan-keys retire KEYFILE ID --store STORE...: removes data key ID from the
 * key file once provably unused: not current, and no record of any store
 * given sealed under it (opening or damaged). Every store is held for this
 * process alone from its count until the key file is replaced, so no agent
 * can seal under the old key in between (one started before the rotation
 * would); refused otherwise, with the counts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pan_keys.h"
#include "pan_keys_commands.h"

static int usage(void)
{
	fprintf(stderr, "usage: pan-keys retire KEY-FILE ID --store STORE...\n");
	return 2;
}

int pan_keys_retire_command(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[2], "--store") != 0)
		return usage();
	char *end;
	errno = 0;
	unsigned long id = strtoul(argv[1], &end, 10);
	if (errno || *end || argv[1][0] == '-' || id == 0 || id > UINT32_MAX)
		return usage();
	char err[1024];
	struct pan_vault *v = pan_vault_load(argv[0], err, sizeof(err));
	if (!v) {
		fprintf(stderr, "pan-keys: %s\n", err);
		return 1;
	}
	struct pan_keys_stores *stores = malloc(sizeof(*stores));
	struct pan_usage *u = malloc(sizeof(*u));
	struct pan_store *open[PAN_KEYS_MAX_STORES] = {0};
	int rc = !stores || !u || pan_keys_stores_from_args(stores, argc - 3, argv + 3) ? 1 : 0;
	if (rc == 0 && id == pan_vault_current_key_id(v)) {
		fprintf(stderr, "pan-keys: data key %lu is current: rotate, restart, reseal, then retire it\n", id);
		rc = 1;
	}
	unsigned long long under = 0, unattributed = 0;
	for (size_t i = 0; rc == 0 && i < stores->count; i++) {
		open[i] = pan_store_open(stores->dirs[i], v, PAN_STORE_EXCLUSIVE, err, sizeof(err));
		if (!open[i] || pan_store_usage(open[i], u, err, sizeof(err))) {
			fprintf(stderr, "pan-keys: %s\n", err);
			rc = 1;
			break;
		}
		for (size_t r = 0; r < u->row_count; r++) {
			const struct pan_usage_row *row = &u->rows[r];
			if (row->key_id == id && row->records + row->damaged > 0) {
				printf("store=%s kind=%s db=%s key=%lu records=%llu damaged=%llu\n", stores->dirs[i],
				       pan_store_kind(open[i]), row->db, id, (unsigned long long)row->records,
				       (unsigned long long)row->damaged);
				under += row->records + row->damaged;
			}
			if (row->key_id == PAN_USAGE_NO_KEY)
				unattributed += row->damaged;
		}
	}
	if (rc == 0 && under > 0) {
		fprintf(stderr,
			"pan-keys: data key %lu still seals %llu records (above): pan-keys reseal first "
			"(damaged ones: restore or remove them)\n",
			id, under);
		rc = 1;
	}
	if (rc == 0 && pan_keys_retire(argv[0], (uint32_t)id, err, sizeof(err))) {
		fprintf(stderr, "pan-keys: %s\n", err);
		rc = 1;
	}
	if (rc == 0) {
		printf("# retired data key %lu from %s: no record of the %zu stores given is sealed under it\n", id,
		       argv[0], stores->count);
		if (unattributed)
			printf("# note: %llu damaged records name no key at all (pan-keys usage shows where)\n",
			       unattributed);
	}
	for (size_t i = 0; stores && i < stores->count; i++)
		pan_store_close(open[i]); /* after the key file is replaced: no agent opened them in between */
	free(u);
	free(stores);
	pan_vault_free(v);
	return rc;
}
