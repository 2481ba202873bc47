#include "test_pan_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pan_keys.h"
#include "pan_vault.h"
#include "test_temp_dir.h"

bool test_pan_keys_make(const char *dir, char *out, size_t out_size)
{
	int n = snprintf(out, out_size, "%s/pan.keys", dir);
	if (n < 0 || (size_t)n >= out_size)
		return false;
	if (access(out, F_OK) == 0)
		return true;
	char err[512];
	if (pan_keys_create(out, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_pan_keys_make: %s\n", err);
		return false;
	}
	return true;
}

bool test_pan_keys_config(FILE *f, const char *dir)
{
	char path[1024];
	if (!test_pan_keys_make(dir, path, sizeof(path)))
		return false;
	return fprintf(f, "pan_protection:\n  key_file: %s\n", path) > 0;
}

struct pan_vault *test_pan_vault(const char *dir)
{
	char path[1024], err[512];
	if (!test_pan_keys_make(dir, path, sizeof(path)))
		return NULL;
	struct pan_vault *v = pan_vault_load(path, err, sizeof(err));
	if (!v)
		fprintf(stderr, "test_pan_vault: %s\n", err);
	return v;
}

static struct pan_vault *shared;
static char shared_dir[512];

static void shared_free(void)
{
	pan_vault_free(shared);
	shared = NULL;
	test_temp_dir_remove(shared_dir);
}

const struct pan_vault *test_shared_vault(void)
{
	if (shared)
		return shared;
	if (!test_temp_dir_make(shared_dir, sizeof(shared_dir), "keys") || !(shared = test_pan_vault(shared_dir))) {
		fprintf(stderr, "test_shared_vault: no PAN protection keys\n");
		abort();
	}
	atexit(shared_free);
	return shared;
}
