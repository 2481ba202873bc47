/*
 * Throwaway MAC keys for tests that start the real programs (docs/protocol.md,
 * "MAC"): the iso_mac section of a generated config, and its key file with a
 * fresh key for every link of the ecosystem, so that every test runs with
 * MACs on unless it says otherwise.
 */
#ifndef TEST_MAC_KEYS_H
#define TEST_MAC_KEYS_H

#include <stdbool.h>
#include <stdio.h>

/* The section for links without MACs: unit-level tests whose fake peers do not sign. */
#define TEST_MAC_UNPROTECTED_YAML "iso_mac:\n  allow_unprotected: true\n"

/* Writes "iso_mac: {key_file: <dir>/iso_mac.keys, grace_s: ...}" (grace_s 0: the default 300). */
void test_mac_write_yaml(FILE *f, const char *dir, unsigned grace_s);

/* Loads the config and writes its key file (mode 0600) with a fresh key per link; false with a message. */
bool test_mac_create_keys(const char *config_path);

#endif
