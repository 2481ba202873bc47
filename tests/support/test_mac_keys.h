/*
 * Throwaway MAC keys for tests that start the real programs (docs/protocol.md,
 * "MAC"): the iso_mac section of a generated config, and its key file with a
 * fresh key for every link of the ecosystem, so that every test runs with
 * MACs on unless it says otherwise.
 */
#ifndef TEST_MAC_KEYS_H
#define TEST_MAC_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The section for links without MACs: unit-level tests whose fake peers do not sign. */
#define TEST_MAC_UNPROTECTED_YAML "iso_mac:\n  allow_unprotected: true\n"

/*
 * Writes "iso_mac: {key_file: <dir>/iso_mac.keys, grace_s: ...}" (grace_s 0:
 * the default 300); allow_unprotected for a test that leaves a link without a
 * key (test_mac_drop_link).
 */
void test_mac_write_yaml(FILE *f, const char *dir, unsigned grace_s, bool allow_unprotected);

/* Removes link's key from a key file (that link then runs without MACs). */
bool test_mac_drop_link(const char *key_file, const char *link);

/* Replaces link's key in a key file by a fresh one with the next key id (a rotation). */
bool test_mac_rotate_link(const char *key_file, const char *link);

/*
 * Re-encodes the framed (2-byte header, ASCII profile) message in buf with its
 * MAC under link's current key in key_file; returns the new framed length, 0
 * on failure. key_file NULL: returned unchanged.
 */
size_t test_mac_sign_framed(const char *key_file, const char *link, uint8_t *buf, size_t length, size_t capacity);

/* True when the framed message in buf carries a valid MAC under link's key in key_file. */
bool test_mac_check_framed(const char *key_file, const char *link, const uint8_t *buf, size_t length);

/* Loads the config and writes its key file (mode 0600) with a fresh key per link; false with a message. */
bool test_mac_create_keys(const char *config_path);

#endif
