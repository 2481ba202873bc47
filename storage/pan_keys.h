/*
 * The PAN protection key file (docs/data-protection.md): one lookup key and
 * one or more data keys, as text, mode 0600:
 *
 *   # comment
 *   lookup <64 hex digits>
 *   data <id> <64 hex digits>      (one line per key, ids 1..2^32-1)
 *   current <id>                   (the data key new seals use)
 *
 * Rotation adds a data key and makes it current; the old lines stay, so what
 * they sealed still opens. The lookup key never rotates in place: every
 * stored lookup hash depends on it (re-keying it is a rebuild of the stores).
 */
#ifndef STORAGE_PAN_KEYS_H
#define STORAGE_PAN_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "pan_vault.h"

struct pan_keys {
	uint8_t lookup[PAN_VAULT_KEY_BYTES];
	size_t data_count;
	struct {
		uint32_t id;
		uint8_t key[PAN_VAULT_KEY_BYTES];
	} data[PAN_VAULT_MAX_DATA_KEYS];
	uint32_t current;
};

/* Reads and checks path (owner-only mode, every line well-formed, current names a data key). */
int pan_keys_read(const char *path, struct pan_keys *out, char *err, size_t err_size);
/* Creates path (which must not exist) with fresh random keys, mode 0600. */
int pan_keys_create(const char *path, char *err, size_t err_size);
/* Adds a fresh data key with the next id and makes it current; *new_id set. Atomic (rename). */
int pan_keys_rotate(const char *path, uint32_t *new_id, char *err, size_t err_size);
/*
 * Removes data key id (not the current one) from path, atomically (rename),
 * mode 0600. Whether anything is still sealed under it is the caller's
 * question (pan_store.h: pan-keys retire asks every store first).
 */
int pan_keys_retire(const char *path, uint32_t id, char *err, size_t err_size);
/* Wipes key material from memory. */
void pan_keys_wipe(struct pan_keys *k);

#endif
