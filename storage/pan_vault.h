/*
 * How a PAN is kept at rest (PCI DSS 3.4, docs/data-protection.md): never in
 * clear. Two jobs, two kinds of keys, both from one key file (pan_keys.h):
 *
 *   lookup  HMAC-SHA-256 of the PAN under the lookup key: the LMDB key under
 *           which a card is found in one get, without the PAN on disk.
 *   seal    AES-256-GCM of the PAN (or of a whole record body) under the
 *           current data key; the key id travels with the ciphertext, so a
 *           rotated key file still opens what older keys sealed.
 *
 * A vault is loaded once and shared by every thread: each thread keeps its own
 * pre-keyed OpenSSL contexts (a dup of the keyed HMAC template, re-initialised
 * with a NULL key per PAN; a GCM context keyed once) and a cache of its recent
 * lookups (RAM), so the authorization path pays no key schedule, no
 * allocation and, for a card seen lately, no HMAC per message.
 */
#ifndef STORAGE_PAN_VAULT_H
#define STORAGE_PAN_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAN_VAULT_KEY_BYTES 32
#define PAN_VAULT_MAX_DATA_KEYS 64
#define PAN_LOOKUP_BYTES 32 /* HMAC-SHA-256 */
#define PAN_SEAL_IV_BYTES 12
#define PAN_SEAL_TAG_BYTES 16
/* Sealed bytes = plaintext + this: key id (4, little-endian), IV, tag. */
#define PAN_SEAL_OVERHEAD (4 + PAN_SEAL_IV_BYTES + PAN_SEAL_TAG_BYTES)
/* A PAN is sealed as 20 bytes (digits, NUL padded), so its length does not show. */
#define PAN_SEALED_TEXT 20

/* A sealed PAN as records store it: fixed size, no alignment needed. */
struct sealed_pan {
	uint8_t bytes[PAN_SEALED_TEXT + PAN_SEAL_OVERHEAD];
};
_Static_assert(sizeof(struct sealed_pan) == 52, "sealed_pan is stored: its size is part of the file format");

struct pan_vault;

/*
 * Loads the key file (pan_keys.h: refused when missing, unreadable, readable
 * by group or others, or malformed). NULL with a one-line reason in err; the
 * reason never carries key material.
 */
struct pan_vault *pan_vault_load(const char *key_file, char *err, size_t err_size);
void pan_vault_free(struct pan_vault *v);
/* True when key_file loads (pan_vault_load's checks); for an agent's start, where a bad key file exits 2. */
bool pan_vault_check(const char *key_file, char *err, size_t err_size);

/* The data key new seals use. */
uint32_t pan_vault_current_key_id(const struct pan_vault *v);

/* HMAC-SHA-256 of the len bytes of pan under the lookup key. 0, or -1 (OpenSSL failed). */
int pan_vault_lookup(const struct pan_vault *v, const char *pan, size_t len, uint8_t out[PAN_LOOKUP_BYTES]);
/*
 * A value that names the lookup key without revealing it (HMAC of a fixed
 * label): stores keep it, so that a key file that does not match the data is
 * refused at start instead of finding no card.
 */
int pan_vault_fingerprint(const struct pan_vault *v, uint8_t out[PAN_LOOKUP_BYTES]);

/* Seals a PAN (at most 19 characters). 0, or -1. */
int pan_vault_seal_pan(const struct pan_vault *v, const char *pan, struct sealed_pan *out);
/* Opens a sealed PAN into out (NUL-terminated). 0, or -1 (unknown key id, damaged, forged). */
int pan_vault_open_pan(const struct pan_vault *v, const struct sealed_pan *in, char out[PAN_SEALED_TEXT]);
/* An all-zero sealed_pan: "no PAN" (e.g. a tombstone's journal entry). */
int pan_sealed_is_empty(const struct sealed_pan *s);

/* Any bytes: out must hold len + PAN_SEAL_OVERHEAD. 0, or -1. */
int pan_vault_seal(const struct pan_vault *v, const void *in, size_t len, uint8_t *out);
/* in_len - PAN_SEAL_OVERHEAD bytes into out. 0, or -1 (too short, unknown key id, damaged). */
int pan_vault_open(const struct pan_vault *v, const uint8_t *in, size_t in_len, void *out);

#endif
