/* Throwaway PAN protection keys for tests: a key file in the test's own directory. */
#ifndef TEST_PAN_KEYS_H
#define TEST_PAN_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct pan_vault;

/* Writes "<dir>/pan.keys" (mode 0600, fresh random keys) unless it exists; its path into out. */
bool test_pan_keys_make(const char *dir, char *out, size_t out_size);
/* Makes the key file in dir and writes the config's top-level "pan_protection: {key_file: ...}" to f. */
bool test_pan_keys_config(FILE *f, const char *dir);
/* The vault of "<dir>/pan.keys", made first if needed; NULL on failure (reason on stderr). */
struct pan_vault *test_pan_vault(const char *dir);

/*
 * One vault for the whole test process, its key file in a temporary directory
 * of its own; freed and removed at exit. Aborts when it cannot be made.
 */
const struct pan_vault *test_shared_vault(void);

#endif
