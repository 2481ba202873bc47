#include "pan_keys.h"

#include "secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void pan_keys_wipe(struct pan_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

static int hex_key(const char *text, uint8_t out[PAN_VAULT_KEY_BYTES])
{
	if (strlen(text) != 2 * PAN_VAULT_KEY_BYTES)
		return -1;
	for (size_t i = 0; i < PAN_VAULT_KEY_BYTES; i++) {
		unsigned v = 0;
		for (int j = 0; j < 2; j++) {
			char c = text[2 * i + (size_t)j];
			unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
				     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
				     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
							    : 16u;
			if (d > 15)
				return -1;
			v = v << 4 | d;
		}
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int parse_id(const char *text, uint32_t *id)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || *end || end == text || text[0] == '-' || v == 0 || v > UINT32_MAX)
		return -1;
	*id = (uint32_t)v;
	return 0;
}

/* One line; the error names the line number only, never its content (it may hold a key). */
static int parse_line(char *line, struct pan_keys *k, int *have_lookup, char *err, size_t err_size,
		      const char *path, int line_no)
{
	char *words[4];
	int n = 0;
	for (char *save = NULL, *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == 4)
			break;
		words[n++] = w;
	}
	if (n == 0 || words[0][0] == '#')
		return 0;
	if (strcmp(words[0], "lookup") == 0 && n == 2 && !*have_lookup && hex_key(words[1], k->lookup) == 0) {
		*have_lookup = 1;
		return 0;
	}
	if (strcmp(words[0], "data") == 0 && n == 3 && k->data_count < PAN_VAULT_MAX_DATA_KEYS) {
		uint32_t id;
		if (parse_id(words[1], &id) == 0 && hex_key(words[2], k->data[k->data_count].key) == 0) {
			for (size_t i = 0; i < k->data_count; i++)
				if (k->data[i].id == id) {
					snprintf(err, err_size, "key file %s:%d: data key id %u appears twice", path, line_no,
						 (unsigned)id);
					return -1;
				}
			k->data[k->data_count++].id = id;
			return 0;
		}
	}
	if (strcmp(words[0], "current") == 0 && n == 2 && k->current == 0 && parse_id(words[1], &k->current) == 0)
		return 0;
	snprintf(err, err_size,
		 "key file %s:%d: not 'lookup <64 hex>', 'data <id> <64 hex>' or 'current <id>' (or a repeat)", path,
		 line_no);
	return -1;
}

int pan_keys_read(const char *path, struct pan_keys *out, char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (!path || !path[0]) {
		snprintf(err, err_size, "no PAN protection key file configured (pan_protection.key_file)");
		return -1;
	}
	FILE *f = secret_file_open(path, "PAN protection key file", err, err_size);
	if (!f) {
		size_t n = strlen(err);
		if (access(path, F_OK) != 0 && n < err_size)
			snprintf(err + n, err_size - n, " (create one with pan-keys create)");
		return -1;
	}
	char line[256];
	int line_no = 0, have_lookup = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		line_no++;
		rc = parse_line(line, out, &have_lookup, err, err_size, path, line_no);
	}
	OPENSSL_cleanse(line, sizeof(line));
	fclose(f);
	if (rc == 0 && (!have_lookup || out->data_count == 0 || out->current == 0)) {
		snprintf(err, err_size, "PAN protection key file %s: needs a lookup key, a data key and current", path);
		rc = -1;
	}
	int found = 0;
	for (size_t i = 0; rc == 0 && i < out->data_count; i++)
		found |= out->data[i].id == out->current;
	if (rc == 0 && !found) {
		snprintf(err, err_size, "PAN protection key file %s: current %u names no data key", path,
			 (unsigned)out->current);
		rc = -1;
	}
	if (rc)
		pan_keys_wipe(out);
	return rc;
}

static void hex(char *out, const uint8_t *key)
{
	for (size_t i = 0; i < PAN_VAULT_KEY_BYTES; i++)
		snprintf(out + 2 * i, 3, "%02x", key[i]);
}

/* Writes k to a new file at path (O_EXCL, 0600). */
static int write_keys(const char *path, const struct pan_keys *k, char *err, size_t err_size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, err_size, "creating key file %s: %s", path, strerror(errno));
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		snprintf(err, err_size, "creating key file %s: %s", path, strerror(errno));
		return -1;
	}
	char h[2 * PAN_VAULT_KEY_BYTES + 1];
	fprintf(f, "# PAN protection keys (docs/data-protection.md). Never share, never commit; mode 0600.\n");
	hex(h, k->lookup);
	fprintf(f, "lookup %s\n", h);
	for (size_t i = 0; i < k->data_count; i++) {
		hex(h, k->data[i].key);
		fprintf(f, "data %u %s\n", (unsigned)k->data[i].id, h);
	}
	fprintf(f, "current %u\n", (unsigned)k->current);
	OPENSSL_cleanse(h, sizeof(h));
	int bad = fflush(f) != 0 || fsync(fd) != 0;
	bad |= fclose(f) != 0;
	if (bad) {
		unlink(path);
		snprintf(err, err_size, "writing key file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int random_key(uint8_t out[PAN_VAULT_KEY_BYTES], char *err, size_t err_size)
{
	if (RAND_bytes(out, PAN_VAULT_KEY_BYTES) == 1)
		return 0;
	snprintf(err, err_size, "no random bytes from OpenSSL");
	return -1;
}

int pan_keys_create(const char *path, char *err, size_t err_size)
{
	struct pan_keys k;
	memset(&k, 0, sizeof(k));
	k.data_count = 1;
	k.data[0].id = 1;
	k.current = 1;
	int rc = random_key(k.lookup, err, err_size);
	if (rc == 0)
		rc = random_key(k.data[0].key, err, err_size);
	if (rc == 0)
		rc = write_keys(path, &k, err, err_size);
	pan_keys_wipe(&k);
	return rc;
}

/* Replaces path with k: written to path.new (0600, synced), then renamed over it. */
static int replace_keys(const char *path, const struct pan_keys *k, char *err, size_t err_size)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp)) {
		snprintf(err, err_size, "key file path too long");
		return -1;
	}
	unlink(tmp); /* a leftover of an interrupted rotation */
	if (write_keys(tmp, k, err, err_size))
		return -1;
	if (rename(tmp, path) != 0) {
		snprintf(err, err_size, "replacing key file %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int pan_keys_rotate(const char *path, uint32_t *new_id, char *err, size_t err_size)
{
	struct pan_keys k;
	if (pan_keys_read(path, &k, err, err_size))
		return -1;
	int rc = 0;
	uint32_t highest = 0;
	for (size_t i = 0; i < k.data_count; i++)
		highest = k.data[i].id > highest ? k.data[i].id : highest;
	if (k.data_count == PAN_VAULT_MAX_DATA_KEYS || highest == UINT32_MAX) {
		snprintf(err, err_size, "key file %s: already %zu data keys (re-seal and retire old ones first)", path,
			 k.data_count);
		rc = -1;
	}
	if (rc == 0)
		rc = random_key(k.data[k.data_count].key, err, err_size);
	if (rc == 0) {
		k.data[k.data_count].id = highest + 1;
		k.data_count++;
		k.current = highest + 1;
		rc = replace_keys(path, &k, err, err_size);
	}
	if (rc == 0 && new_id)
		*new_id = k.current;
	pan_keys_wipe(&k);
	return rc;
}

int pan_keys_retire(const char *path, uint32_t id, char *err, size_t err_size)
{
	struct pan_keys k;
	if (pan_keys_read(path, &k, err, err_size))
		return -1;
	int rc = -1;
	size_t at = k.data_count;
	for (size_t i = 0; i < k.data_count; i++)
		if (k.data[i].id == id)
			at = i;
	if (id == k.current)
		snprintf(err, err_size, "key file %s: data key %u is current: rotate first", path, (unsigned)id);
	else if (at == k.data_count)
		snprintf(err, err_size, "key file %s: no data key %u", path, (unsigned)id);
	else
		rc = 0;
	if (rc == 0) {
		memmove(&k.data[at], &k.data[at + 1], (k.data_count - at - 1) * sizeof(k.data[0]));
		k.data_count--;
		rc = replace_keys(path, &k, err, err_size);
	}
	pan_keys_wipe(&k);
	return rc;
}
