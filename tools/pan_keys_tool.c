/*
 * pan-keys: creates and rotates the PAN protection key file
 * (docs/data-protection.md). Keys come from OpenSSL's RAND_bytes and are
 * written straight to the file (mode 0600); nothing is printed but ids.
 *
 *   pan-keys create FILE   a new file: a lookup key and data key 1 (current)
 *   pan-keys rotate FILE   adds data key N+1 and makes it current; old keys stay
 *   pan-keys check FILE    loads it as the agents do (mode, format); prints the current id
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "pan_keys.h"
#include "pan_vault.h"

static int usage(void)
{
	fprintf(stderr, "usage: pan-keys create|rotate|check KEY-FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	umask(077);
	if (argc != 3)
		return usage();
	char err[512];
	const char *path = argv[2];
	if (strcmp(argv[1], "create") == 0) {
		if (pan_keys_create(path, err, sizeof(err))) {
			fprintf(stderr, "pan-keys: %s\n", err);
			return 1;
		}
		printf("created %s: data key 1 is current\n", path);
		return 0;
	}
	if (strcmp(argv[1], "rotate") == 0) {
		uint32_t id;
		if (pan_keys_rotate(path, &id, err, sizeof(err))) {
			fprintf(stderr, "pan-keys: %s\n", err);
			return 1;
		}
		printf("rotated %s: data key %u is current (restart the agents; older keys still open old records)\n",
		       path, (unsigned)id);
		return 0;
	}
	if (strcmp(argv[1], "check") == 0) {
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
