#include "test_mac_keys.h"

#include <stdlib.h>

#include "ecosystem_config.h"
#include "ecosystem_mac.h"

void test_mac_write_yaml(FILE *f, const char *dir, unsigned grace_s)
{
	fprintf(f, "iso_mac:\n  key_file: %s/iso_mac.keys\n  grace_s: %u\n", dir, grace_s ? grace_s : 300);
}

bool test_mac_create_keys(const char *config_path)
{
	struct ecosystem_config *c = malloc(sizeof(*c));
	char err[512];
	bool ok = c && ecosystem_config_load(config_path, c, err, sizeof(err)) &&
		  ecosystem_mac_keyfile_create(c, c->iso_mac.key_file, err, sizeof(err));
	if (!ok)
		fprintf(stderr, "test MAC keys for %s: %s\n", config_path, c ? err : "out of memory");
	free(c);
	return ok;
}
