/* A fresh directory under /tmp for one test's LMDB environment, removed afterwards. */
#ifndef TEST_TEMP_DIR_H
#define TEST_TEMP_DIR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void temp_dir_make(char *out, size_t size)
{
	snprintf(out, size, "/tmp/iso-storage-test-XXXXXX");
	if (!mkdtemp(out))
		abort();
}

static inline void temp_dir_remove(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

#endif
