#include "test_temp_dir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool test_temp_dir_make(char *out, size_t size, const char *tag)
{
	const char *base = getenv("TMPDIR");
	int n = snprintf(out, size, "%s/iso-test-%s-XXXXXX", base && *base ? base : "/tmp", tag);
	if (n < 0 || (size_t)n >= size || !mkdtemp(out)) {
		if (size > 0)
			out[0] = '\0';
		return false;
	}
	return true;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "could not remove %s\n", path);
	return 0; /* go on: remove what can be removed */
}

bool test_temp_dir_remove(const char *path)
{
	if (!path || !strstr(path, "/iso-test-"))
		return false;
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return access(path, F_OK) != 0;
}
