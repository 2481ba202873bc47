#include "one_bank_ecosystem.h"

#include "ecosystem_config.h"
#include "ecosystem_mac.h"

#include <stdio.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pan_keys.h"

bool one_bank_ecosystem_write(const char *path, const struct one_bank_ecosystem *e)
{
	/* Throwaway PAN keys in the ecosystem's LMDB directory (made if missing). */
	if (mkdir(e->lmdb_dir, 0700) != 0 && errno != EEXIST)
		return false;
	char keys[1024], err[512];
	snprintf(keys, sizeof(keys), "%s/pan.keys", e->lmdb_dir);
	if (access(keys, F_OK) != 0 && pan_keys_create(keys, err, sizeof(err)) != 0) {
		fprintf(stderr, "one_bank_ecosystem: %s\n", err);
		return false;
	}
	FILE *f = fopen(path, "w");
	if (!f)
		return false;
	fprintf(f, "pan_protection:\n  key_file: %s\n", keys);
	fprintf(f,
		"banks:\n"
		"  - name: big_bank\n"
		"    institution_id: \"10000000001\"\n"
		"    http: 127.0.0.1:%u\n"
		"    iso: %s:%u\n"
		"    lmdb_path: %s/big_bank\n"
		"    lmdb_map_size: 67108864\n"
		"    durability: async\n"
		"    networks:\n"
		"      - network: mastercard\n"
		"        bins: [\"51051000\"]\n"
		"networks:\n"
		"  - name: mastercard\n"
		"    major_industry_id: 5\n"
		"    http: 127.0.0.1:%u\n"
		"    iso: %s:%u\n"
		"    lmdb_path: %s/mastercard\n"
		"    dataplane: dpdk\n"
		"    bank_timeout_ms: 5000\n",
		e->bank_http, e->bank_ip, e->bank_udp, e->lmdb_dir, e->switch_http, e->switch_ip, e->switch_udp,
		e->lmdb_dir);
	if (e->outcome_memory)
		fprintf(f, "    outcome_memory: %u\n", e->outcome_memory);
	fprintf(f,
		"loadgen:\n"
		"  cards_per_bank: %u\n"
		"  initial_balance: 100000000\n"
		"  timeout_ms: 3000\n",
		e->cards_per_bank);
	if (e->mac_key_file)
		fprintf(f, "iso_mac:\n  key_file: %s\n", e->mac_key_file);
	else
		fprintf(f, "iso_mac:\n  allow_unprotected: true\n");
	if (fclose(f) != 0)
		return false;
	if (!e->mac_key_file)
		return true;
	static struct ecosystem_config c;
	if (!ecosystem_config_load(path, &c, err, sizeof err) ||
	    !ecosystem_mac_keyfile_create(&c, e->mac_key_file, err, sizeof err)) {
		fprintf(stderr, "%s: %s\n", path, err);
		return false;
	}
	return true;
}
