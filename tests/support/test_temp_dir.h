/* Temporary directories of one test (configs, LMDB environments, logs) and their removal. */
#ifndef TEST_TEMP_DIR_H
#define TEST_TEMP_DIR_H

#include <stdbool.h>
#include <stddef.h>

/* A fresh directory $TMPDIR/iso-test-<tag>-XXXXXX (or under /tmp) into out; false (out "") on failure. */
bool test_temp_dir_make(char *out, size_t size, const char *tag);
/*
 * Removes the tree; only a path that test_temp_dir_make could have made (it
 * has "/iso-test-" in it), so a wrong or empty path can never remove more.
 * Returns false when something was left.
 */
bool test_temp_dir_remove(const char *path);

#endif
