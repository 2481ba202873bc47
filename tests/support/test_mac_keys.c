#include "test_mac_keys.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/rand.h>

#include "ecosystem_config.h"
#include "ecosystem_mac.h"
#include "framing.h"
#include "iso_mac.h"
#include "iso_mac_keys.h"

#define TEST_MAX_KEYS 64

void test_mac_write_yaml(FILE *f, const char *dir, unsigned grace_s, bool allow_unprotected)
{
	fprintf(f, "iso_mac:\n  key_file: %s/iso_mac.keys\n  grace_s: %u\n  allow_unprotected: %s\n", dir,
		grace_s ? grace_s : 300, allow_unprotected ? "true" : "false");
}

bool test_mac_create_keys(const char *config_path)
{
	struct ecosystem_config *c = malloc(sizeof(*c));
	char err[512];
	bool ok = c && ecosystem_config_load(config_path, c, err, sizeof(err)) &&
		  ecosystem_mac_keyfile_create(c, c->iso_mac.key_file, err, sizeof(err));
	if (!ok)
		fprintf(stderr, "test MAC keys for %s: %s\n", config_path, c ? err : "out of memory");
	free(c);
	return ok;
}

static struct iso_mac_link keys[TEST_MAX_KEYS];

static bool rewrite(const char *key_file, size_t count)
{
	FILE *f = fopen(key_file, "w");
	if (!f)
		return false;
	chmod(key_file, 0600);
	for (size_t i = 0; i < count; i++) {
		fprintf(f, "%s %u ", keys[i].name, keys[i].current.id);
		for (size_t b = 0; b < keys[i].current.length; b++)
			fprintf(f, "%02x", keys[i].current.bytes[b]);
		fputc('\n', f);
	}
	return fclose(f) == 0;
}

static bool load(const char *key_file, size_t *count)
{
	char err[256];
	if (iso_mac_keyfile_read(key_file, keys, TEST_MAX_KEYS, count, err, sizeof(err)))
		return true;
	fprintf(stderr, "%s\n", err);
	return false;
}

bool test_mac_drop_link(const char *key_file, const char *link)
{
	size_t count, kept = 0;
	if (!load(key_file, &count))
		return false;
	for (size_t i = 0; i < count; i++)
		if (strcmp(keys[i].name, link) != 0)
			keys[kept++] = keys[i];
	return rewrite(key_file, kept);
}

bool test_mac_rotate_link(const char *key_file, const char *link)
{
	size_t count;
	if (!load(key_file, &count))
		return false;
	for (size_t i = 0; i < count; i++)
		if (strcmp(keys[i].name, link) == 0) {
			keys[i].current.id++;
			keys[i].current.length = 16;
			if (RAND_bytes(keys[i].current.bytes, 16) != 1)
				return false;
		}
	return rewrite(key_file, count);
}

static struct iso_cmac *key_of(const char *key_file, const char *link)
{
	size_t count;
	if (!load(key_file, &count))
		return NULL;
	for (size_t i = 0; i < count; i++)
		if (strcmp(keys[i].name, link) == 0)
			return iso_cmac_new(keys[i].current.bytes, keys[i].current.length);
	return NULL;
}

size_t test_mac_sign_framed(const char *key_file, const char *link, uint8_t *buf, size_t length, size_t capacity)
{
	if (!key_file)
		return length;
	struct iso_cmac *mac = key_of(key_file, link);
	uint8_t copy[ISO_MAX_MESSAGE];
	struct iso_msg m;
	size_t n = 0;
	bool ok = mac && length > 2 && length - 2 <= sizeof(copy) && capacity > 2;
	if (ok) {
		memcpy(copy, buf + 2, length - 2);
		ok = iso_decode(&iso_profile_ascii, copy, length - 2, &m, NULL) == ISO_OK;
	}
	if (ok) {
		iso_mac_reserve(&m);
		ok = iso_encode(&iso_profile_ascii, &m, buf + 2, capacity - 2, &n, NULL) == ISO_OK &&
		     iso_cmac_sign_frame(mac, buf + 2, n);
	}
	iso_cmac_free(mac);
	if (!ok)
		return 0;
	frame_write_header(FRAME_HEADER_BINARY2, n, buf);
	return n + 2;
}

bool test_mac_check_framed(const char *key_file, const char *link, const uint8_t *buf, size_t length)
{
	struct iso_cmac *mac = key_of(key_file, link);
	struct iso_msg m;
	bool ok = mac && length > 2 && iso_decode(&iso_profile_ascii, buf + 2, length - 2, &m, NULL) == ISO_OK &&
		  iso_mac_present(&m, buf + 2, length - 2) && iso_cmac_check_frame(mac, buf + 2, length - 2);
	iso_cmac_free(mac);
	return ok;
}
