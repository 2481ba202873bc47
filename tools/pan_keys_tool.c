/*
 * pan-keys: the PAN protection key file (docs/data-protection.md). Keys come
 * from OpenSSL's RAND_bytes and are written straight to the file (mode 0600);
 * nothing is printed but ids and counts.
 *
 *   pan-keys create FILE   a new file: a lookup key and data key 1 (current)
 *   pan-keys rotate FILE   adds data key N+1 and makes it current; old keys stay
 *   pan-keys check FILE    loads it as the agents do (mode, format); prints the current id
 *   pan-keys usage FILE STORE...           records per data key, store and database
 *   pan-keys reseal [--batch N] FILE STORE...  older keys' records re-sealed with the current (agents stopped)
 *   pan-keys retire FILE ID --store STORE...   removes data key ID once no store needs it
 *
 * A STORE is a bank's or a network's lmdb_path (a network's includes its
 * switch's SAF queue, <lmdb_path>/saf) or a SAF queue's directory.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pan_keys.h"
#include "pan_keys_commands.h"
#include "pan_vault.h"

static int usage(void)
{
	fprintf(stderr, "usage: pan-keys create|rotate|check KEY-FILE\n"
			"       pan-keys usage KEY-FILE STORE...\n"
			"       pan-keys reseal [--batch N] KEY-FILE STORE...\n"
			"       pan-keys retire KEY-FILE ID --store STORE...\n");
	return 2;
}

static int file_command(const char *command, const char *path)
{
	char err[512];
	if (strcmp(command, "create") == 0) {
		if (pan_keys_create(path, err, sizeof(err))) {
			fprintf(stderr, "pan-keys: %s\n", err);
			return 1;
		}
		printf("created %s: data key 1 is current\n", path);
		return 0;
	}
	if (strcmp(command, "rotate") == 0) {
		uint32_t id;
		if (pan_keys_rotate(path, &id, err, sizeof(err))) {
			fprintf(stderr, "pan-keys: %s\n", err);
			return 1;
		}
		printf("rotated %s: data key %u is current (restart the agents, then pan-keys reseal; older keys "
		       "still open old records)\n",
		       path, (unsigned)id);
		return 0;
	}
	if (strcmp(command, "check") == 0) {
		struct pan_vault *v = pan_vault_load(path, err, sizeof(err));
		if (!v) {
			fprintf(stderr, "pan-keys: %s\n", err);
			return 1;
		}
		printf("%s: usable, data key %u is current\n", path, (unsigned)pan_vault_current_key_id(v));
		pan_vault_free(v);
		return 0;
	}
	return usage();
}

int main(int argc, char **argv)
{
	umask(077);
	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "usage") == 0)
		return pan_keys_usage_command(argc - 2, argv + 2);
	if (strcmp(argv[1], "reseal") == 0)
		return pan_keys_reseal_command(argc - 2, argv + 2);
	if (strcmp(argv[1], "retire") == 0)
		return pan_keys_retire_command(argc - 2, argv + 2);
	if (argc != 3)
		return usage();
	return file_command(argv[1], argv[2]);
}
