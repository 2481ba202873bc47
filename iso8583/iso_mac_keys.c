#include "iso_mac_keys.h"

#include "secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hex_digit.h"

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool parse_hex_key(const char *hex, struct iso_mac_key *key)
{
	size_t n = strlen(hex);
	if (n != 32 && n != 48 && n != 64)
		return false;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit_value(hex[2 * i]), lo = hex_digit_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		key->bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	key->length = (uint8_t)(n / 2);
	return true;
}

bool iso_mac_keyfile_read(const char *path, struct iso_mac_link *out, size_t capacity, size_t *count, char *err,
			  size_t err_size)
{
	*count = 0;
	FILE *f = secret_file_open(path, "iso_mac key file", err, err_size);
	if (!f)
		return false;
	char line[512];
	unsigned line_no = 0;
	bool ok = true;
	while (ok && fgets(line, sizeof(line), f)) {
		line_no++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *save = NULL;
		char *name = strtok_r(line, " \t\r\n", &save);
		if (!name)
			continue;
		char *id = strtok_r(NULL, " \t\r\n", &save);
		char *hex = strtok_r(NULL, " \t\r\n", &save);
		char *extra = strtok_r(NULL, " \t\r\n", &save);
		struct iso_mac_link link;
		memset(&link, 0, sizeof(link));
		char *end = NULL;
		unsigned long id_value = id ? strtoul(id, &end, 10) : 0;
		/* Never echo the line: it holds a key. */
		if (!id || !hex || extra || *end || id_value > UINT32_MAX || strlen(name) >= ISO_MAC_LINK_NAME ||
		    !parse_hex_key(hex, &link.current)) {
			snprintf(err, err_size,
				 "iso_mac key file %s line %u: expected '<link> <key id> <32, 48 or 64 hex digits>'", path,
				 line_no);
			ok = false;
		} else if (*count == capacity) {
			snprintf(err, err_size, "iso_mac key file %s: more than %zu keys", path, capacity);
			ok = false;
		} else {
			for (size_t i = 0; i < *count; i++)
				if (strcmp(out[i].name, name) == 0) {
					snprintf(err, err_size, "iso_mac key file %s line %u: a second key for %s", path,
						 line_no, name);
					ok = false;
				}
			strcpy(link.name, name);
			link.current.id = (uint32_t)id_value;
			if (ok)
				out[(*count)++] = link;
		}
		OPENSSL_cleanse(&link, sizeof(link));
		OPENSSL_cleanse(line, sizeof(line));
	}
	fclose(f);
	if (!ok) {
		OPENSSL_cleanse(out, sizeof(*out) * capacity);
		*count = 0;
	}
	return ok;
}

struct iso_cmac *iso_mac_keyfile_link(const char *path, const char *link, char *err, size_t err_size)
{
	struct iso_mac_link *keys = calloc(ISO_MAC_MAX_LINKS * 4, sizeof(*keys));
	size_t count = 0;
	struct iso_cmac *c = NULL;
	if (!keys) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	if (iso_mac_keyfile_read(path, keys, ISO_MAC_MAX_LINKS * 4, &count, err, err_size)) {
		const struct iso_mac_key *key = NULL;
		for (size_t i = 0; i < count; i++)
			if (link ? strcmp(keys[i].name, link) == 0 : count == 1)
				key = &keys[i].current;
		if (!key)
			snprintf(err, err_size, "%s: %s", path,
				 link ? "no key for that link" : "holds several keys: name the link");
		else if (!(c = iso_cmac_new(key->bytes, key->length)))
			snprintf(err, err_size, "OpenSSL has no AES-CMAC for that key");
	}
	OPENSSL_cleanse(keys, sizeof(*keys) * ISO_MAC_MAX_LINKS * 4);
	free(keys);
	return c;
}

bool iso_mac_keyfile_create(const char *path, const char *const *links, size_t link_count, char *err,
			    size_t err_size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return false;
	}
	fprintf(f, "# ISO 8583 link MAC keys (AES-CMAC, docs/protocol.md): <link> <key id> <key hex>\n");
	bool ok = true;
	for (size_t i = 0; i < link_count && ok; i++) {
		uint8_t key[16];
		if (RAND_bytes(key, sizeof(key)) != 1) {
			snprintf(err, err_size, "RAND_bytes failed");
			ok = false;
			break;
		}
		fprintf(f, "%s 1 ", links[i]);
		for (size_t b = 0; b < sizeof(key); b++)
			fprintf(f, "%02x", key[b]);
		fputc('\n', f);
		OPENSSL_cleanse(key, sizeof(key));
	}
	if (fclose(f) != 0 && ok) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		ok = false;
	}
	return ok;
}

static bool same_key(const struct iso_mac_key *a, const struct iso_mac_key *b)
{
	return a->length == b->length && a->id == b->id && CRYPTO_memcmp(a->bytes, b->bytes, a->length) == 0;
}

/* Puts the file's keys in place; with keep_previous, a changed key's old one stays for the grace period. */
static bool load_keys(struct iso_mac_keyring *kr, bool keep_previous, char *err, size_t err_size)
{
	struct iso_mac_link *file = calloc(ISO_MAC_MAX_LINKS * 4, sizeof(*file));
	if (!file) {
		snprintf(err, err_size, "out of memory");
		return false;
	}
	size_t n = 0;
	bool ok = true;
	if (kr->path[0])
		ok = iso_mac_keyfile_read(kr->path, file, ISO_MAC_MAX_LINKS * 4, &n, err, err_size);
	struct iso_mac_key chosen[ISO_MAC_MAX_LINKS];
	memset(chosen, 0, sizeof(chosen));
	for (size_t l = 0; ok && l < kr->count; l++) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(file[i].name, kr->links[l].name) == 0)
				chosen[l] = file[i].current;
		if (chosen[l].length == 0 && !kr->allow_unprotected) {
			snprintf(err, err_size,
				 "iso_mac: no key for link %s in %s (add one, or set iso_mac.allow_unprotected for a lab)",
				 kr->links[l].name, kr->path[0] ? kr->path : "(no key_file)");
			ok = false;
		}
		if (ok && keep_previous && kr->links[l].current.length && chosen[l].length == 0) {
			snprintf(err, err_size, "iso_mac: the reload would remove the key of link %s", kr->links[l].name);
			ok = false;
		}
	}
	if (ok) {
		uint64_t now = monotonic_ms();
		pthread_mutex_lock(&kr->lock);
		for (size_t l = 0; l < kr->count; l++) {
			struct iso_mac_link *link = &kr->links[l];
			if (same_key(&link->current, &chosen[l]))
				continue;
			if (keep_previous && link->current.length) {
				link->previous = link->current;
				link->previous_until_ms = now + (uint64_t)kr->grace_s * 1000u;
			}
			link->current = chosen[l];
		}
		atomic_fetch_add(&kr->generation, 1);
		pthread_mutex_unlock(&kr->lock);
	}
	OPENSSL_cleanse(chosen, sizeof(chosen));
	OPENSSL_cleanse(file, sizeof(*file) * ISO_MAC_MAX_LINKS * 4);
	free(file);
	return ok;
}

bool iso_mac_keyring_init(struct iso_mac_keyring *kr, const char *path, unsigned grace_s, bool allow_unprotected,
			  const char *const *links, size_t link_count, char *err, size_t err_size)
{
	memset(kr, 0, sizeof(*kr));
	pthread_mutex_init(&kr->lock, NULL);
	atomic_init(&kr->generation, 1);
	if (link_count > ISO_MAC_MAX_LINKS || (path && strlen(path) >= sizeof(kr->path))) {
		snprintf(err, err_size, "iso_mac: too many links or key file path too long");
		return false;
	}
	if (path)
		strcpy(kr->path, path);
	kr->grace_s = grace_s;
	kr->allow_unprotected = allow_unprotected;
	for (size_t i = 0; i < link_count; i++) {
		if (strlen(links[i]) >= ISO_MAC_LINK_NAME) {
			snprintf(err, err_size, "iso_mac: link name too long: %s", links[i]);
			return false;
		}
		strcpy(kr->links[i].name, links[i]);
	}
	kr->count = link_count;
	return load_keys(kr, false, err, err_size);
}

void iso_mac_keyring_destroy(struct iso_mac_keyring *kr)
{
	OPENSSL_cleanse(kr->links, sizeof(kr->links));
	pthread_mutex_destroy(&kr->lock);
}

bool iso_mac_keyring_reload(struct iso_mac_keyring *kr, char *err, size_t err_size)
{
	return load_keys(kr, true, err, err_size);
}

int iso_mac_keyring_find(const struct iso_mac_keyring *kr, const char *link)
{
	for (size_t i = 0; i < kr->count; i++)
		if (strcmp(kr->links[i].name, link) == 0)
			return (int)i;
	return -1;
}

bool iso_mac_keyring_unprotected(struct iso_mac_keyring *kr, int link)
{
	pthread_mutex_lock(&kr->lock);
	bool none = kr->links[link].current.length == 0;
	pthread_mutex_unlock(&kr->lock);
	return none;
}

size_t iso_mac_keyring_stats_json(struct iso_mac_keyring *kr, char *out, size_t capacity)
{
	size_t at = 0;
	if (capacity)
		out[0] = '\0';
	for (size_t i = 0; i < kr->count; i++) {
		struct iso_mac_link_counters *c = &kr->links[i].counters;
		int n = snprintf(out + at, capacity - at,
				 "%s\"%s\":{\"mac_missing\":%llu,\"mac_wrong\":%llu,\"mac_previous_key\":%llu,"
				 "\"unprotected\":%s}",
				 i ? "," : "", kr->links[i].name, (unsigned long long)atomic_load(&c->missing),
				 (unsigned long long)atomic_load(&c->wrong), (unsigned long long)atomic_load(&c->previous_key),
				 iso_mac_keyring_unprotected(kr, (int)i) ? "true" : "false");
		if (n < 0 || (size_t)n >= capacity - at)
			break;
		at += (size_t)n;
	}
	return at;
}

/* ---- views ---- */

static void view_clear(struct iso_mac_view *v)
{
	for (size_t i = 0; i < ISO_MAC_MAX_LINKS; i++) {
		iso_cmac_free(v->links[i].current);
		iso_cmac_free(v->links[i].previous);
		v->links[i] = (struct iso_mac_view_link){0};
	}
}

bool iso_mac_view_init(struct iso_mac_view *v, struct iso_mac_keyring *kr)
{
	memset(v, 0, sizeof(*v));
	v->keyring = kr;
	v->generation = 0; /* never the keyring's: the first refresh builds the contexts */
	return iso_mac_view_refresh(v);
}

void iso_mac_view_destroy(struct iso_mac_view *v)
{
	view_clear(v);
}

bool iso_mac_view_refresh(struct iso_mac_view *v)
{
	struct iso_mac_keyring *kr = v->keyring;
	if (!kr)
		return true;
	unsigned g = atomic_load_explicit(&kr->generation, memory_order_acquire);
	if (g == v->generation)
		return true;
	struct iso_mac_view fresh;
	memset(&fresh, 0, sizeof(fresh));
	bool ok = true;
	pthread_mutex_lock(&kr->lock);
	g = atomic_load_explicit(&kr->generation, memory_order_relaxed);
	fresh.count = kr->count;
	for (size_t i = 0; i < kr->count && ok; i++) {
		const struct iso_mac_link *l = &kr->links[i];
		if (l->current.length) {
			fresh.links[i].current = iso_cmac_new(l->current.bytes, l->current.length);
			ok = fresh.links[i].current != NULL;
		}
		if (ok && l->previous.length) {
			fresh.links[i].previous = iso_cmac_new(l->previous.bytes, l->previous.length);
			fresh.links[i].previous_until_ms = l->previous_until_ms;
			ok = fresh.links[i].previous != NULL;
		}
	}
	pthread_mutex_unlock(&kr->lock);
	if (!ok) {
		view_clear(&fresh);
		return false;
	}
	view_clear(v);
	memcpy(v->links, fresh.links, sizeof(v->links));
	v->count = fresh.count;
	v->generation = g;
	return true;
}

bool iso_mac_view_sign(struct iso_mac_view *v, int link, uint8_t *frame, size_t length)
{
	if (!iso_mac_view_signs(v, link))
		return false;
	return iso_cmac_sign_frame(v->links[link].current, frame, length);
}

size_t iso_mac_view_seal(struct iso_mac_view *v, const struct iso_profile *p, int link, uint8_t *framed,
			 size_t length)
{
	if (length <= 2 + ISO_MAC_SIZE)
		return 0;
	if (v && iso_mac_view_signs(v, link))
		return iso_mac_view_sign(v, link, framed + 2, length - 2) ? length : 0;
	size_t n = iso_mac_strip(p, framed + 2, length - 2);
	framed[0] = (uint8_t)(n >> 8);
	framed[1] = (uint8_t)n;
	return n + 2;
}

enum iso_mac_verdict iso_mac_view_try(struct iso_mac_view *v, int link, const struct iso_msg *m, const uint8_t *frame,
				      size_t length)
{
	if (link < 0 || (size_t)link >= v->count)
		return ISO_MAC_WRONG;
	struct iso_mac_view_link *l = &v->links[link];
	if (!l->current)
		return ISO_MAC_UNPROTECTED;
	if (!iso_mac_present(m, frame, length))
		return ISO_MAC_MISSING;
	if (iso_cmac_check_frame(l->current, frame, length))
		return ISO_MAC_VALID;
	if (l->previous && monotonic_ms() < l->previous_until_ms && iso_cmac_check_frame(l->previous, frame, length))
		return ISO_MAC_VALID_PREVIOUS;
	return ISO_MAC_WRONG;
}

void iso_mac_view_count(struct iso_mac_view *v, int link, enum iso_mac_verdict verdict)
{
	if (!v->keyring || link < 0 || (size_t)link >= v->keyring->count)
		return;
	struct iso_mac_link_counters *c = &v->keyring->links[link].counters;
	if (verdict == ISO_MAC_MISSING)
		atomic_fetch_add_explicit(&c->missing, 1, memory_order_relaxed);
	else if (verdict == ISO_MAC_WRONG)
		atomic_fetch_add_explicit(&c->wrong, 1, memory_order_relaxed);
	else if (verdict == ISO_MAC_VALID_PREVIOUS)
		atomic_fetch_add_explicit(&c->previous_key, 1, memory_order_relaxed);
}

enum iso_mac_verdict iso_mac_view_check(struct iso_mac_view *v, int link, const struct iso_msg *m,
					const uint8_t *frame, size_t length)
{
	enum iso_mac_verdict verdict = iso_mac_view_try(v, link, m, frame, length);
	if (verdict != ISO_MAC_VALID && verdict != ISO_MAC_UNPROTECTED)
		iso_mac_view_count(v, link, verdict);
	return verdict;
}
