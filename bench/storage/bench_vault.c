#include "bench_vault.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pan_keys.h"

struct pan_vault *bench_vault(const char *dir)
{
	char path[600], err[512];
	snprintf(path, sizeof(path), "%s/pan.keys", dir);
	mkdir(dir, 0700);
	if (access(path, F_OK) != 0 && pan_keys_create(path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return NULL;
	}
	struct pan_vault *v = pan_vault_load(path, err, sizeof(err));
	if (!v)
		fprintf(stderr, "%s\n", err);
	return v;
}
