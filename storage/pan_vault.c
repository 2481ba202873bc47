#include "pan_vault.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pan_keys.h"

struct pan_vault {
	struct pan_keys keys;
	const uint8_t *current_key;
	EVP_MAC *mac;
	EVP_MAC_CTX *mac_template; /* keyed with the lookup key; threads dup it once */
	uint64_t serial;	   /* tells a thread's cached contexts which vault they belong to */
};

/* What one thread keeps for the vault it last used: pre-keyed contexts. */
struct thread_contexts {
	uint64_t serial;
	EVP_MAC_CTX *mac;
	EVP_CIPHER_CTX *seal; /* keyed with the current data key; a fresh IV per seal */
	EVP_CIPHER_CTX *open;
	/*
	 * GCM IVs, NIST SP 800-38D 8.2.1 (deterministic construction): a 64-bit fixed field drawn
	 * at random for this context, then a 32-bit invocation counter. Unique per key as long as
	 * no two contexts draw the same fixed field (2^-64 per pair); a new field is drawn before
	 * the counter wraps. RAND_bytes per seal cost more than the encryption itself.
	 */
	uint8_t iv_fixed[8];
	uint32_t iv_counter;
	bool iv_ready;
	uint64_t iv_fork_generation; /* a forked child draws its own field: it must not repeat the parent's IVs */
	struct lookup_slot *cache; /* LOOKUP_CACHE_SLOTS, direct-mapped */
};

/*
 * Recent lookups of this thread (RAM only, like the PANs of the requests
 * themselves): the bank hashes a request's PAN for its card and again for its
 * journal entry, and the same cards come back all day. An HMAC through
 * OpenSSL 3's EVP_MAC costs about a microsecond (two digest-context copies,
 * each an allocation); a hit here is a short hash and a compare.
 */
#define LOOKUP_CACHE_SLOTS 16384 /* about 0.9 MB per thread that uses the vault */
struct lookup_slot {
	uint8_t len; /* 0: empty */
	char pan[PAN_SEALED_TEXT];
	uint8_t hash[PAN_LOOKUP_BYTES];
};

static size_t slot_of(const char *pan, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a: a cache index, nothing secret rests on it */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)pan[i]) * 16777619u;
	return h % LOOKUP_CACHE_SLOTS;
}

static pthread_key_t contexts_key;
static pthread_once_t contexts_once = PTHREAD_ONCE_INIT;
static atomic_uint_fast64_t fork_generation;

static void forked_child(void)
{
	atomic_fetch_add(&fork_generation, 1);
}
static atomic_uint_fast64_t next_serial = 1;

static void contexts_clear(struct thread_contexts *c)
{
	EVP_MAC_CTX_free(c->mac);
	EVP_CIPHER_CTX_free(c->seal);
	EVP_CIPHER_CTX_free(c->open);
	if (c->cache) {
		OPENSSL_cleanse(c->cache, LOOKUP_CACHE_SLOTS * sizeof(*c->cache)); /* it held PANs */
		free(c->cache);
	}
	OPENSSL_cleanse(c, sizeof(*c));
}

static void contexts_destroy(void *p)
{
	if (!p)
		return;
	contexts_clear(p);
	free(p);
}

static void contexts_key_create(void)
{
	pthread_key_create(&contexts_key, contexts_destroy);
	pthread_atfork(NULL, NULL, forked_child);
}

/* This thread's contexts for v, made on first use (per thread, per vault). */
static struct thread_contexts *contexts_of(const struct pan_vault *v)
{
	pthread_once(&contexts_once, contexts_key_create);
	struct thread_contexts *c = pthread_getspecific(contexts_key);
	if (c && c->serial == v->serial)
		return c;
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || pthread_setspecific(contexts_key, c) != 0) {
			free(c);
			return NULL;
		}
	}
	contexts_clear(c);
	c->mac = EVP_MAC_CTX_dup(v->mac_template);
	c->seal = EVP_CIPHER_CTX_new();
	c->open = EVP_CIPHER_CTX_new();
	c->cache = calloc(LOOKUP_CACHE_SLOTS, sizeof(*c->cache));
	if (!c->mac || !c->seal || !c->open || !c->cache ||
	    EVP_EncryptInit_ex(c->seal, EVP_aes_256_gcm(), NULL, v->current_key, NULL) != 1 ||
	    EVP_DecryptInit_ex(c->open, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) {
		contexts_clear(c);
		return NULL;
	}
	c->serial = v->serial;
	return c;
}

bool pan_vault_check(const char *key_file, char *err, size_t err_size)
{
	struct pan_vault *v = pan_vault_load(key_file, err, err_size);
	pan_vault_free(v);
	return v != NULL;
}

struct pan_vault *pan_vault_load(const char *key_file, char *err, size_t err_size)
{
	struct pan_vault *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	if (pan_keys_read(key_file, &v->keys, err, err_size)) {
		free(v);
		return NULL;
	}
	for (size_t i = 0; i < v->keys.data_count; i++)
		if (v->keys.data[i].id == v->keys.current)
			v->current_key = v->keys.data[i].key;
	char digest[] = "SHA256";
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
			       OSSL_PARAM_construct_end()};
	v->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	v->mac_template = v->mac ? EVP_MAC_CTX_new(v->mac) : NULL;
	if (!v->mac_template || EVP_MAC_init(v->mac_template, v->keys.lookup, sizeof(v->keys.lookup), params) != 1) {
		snprintf(err, err_size, "OpenSSL has no HMAC-SHA-256");
		pan_vault_free(v);
		return NULL;
	}
	v->serial = atomic_fetch_add(&next_serial, 1);
	return v;
}

void pan_vault_free(struct pan_vault *v)
{
	if (!v)
		return;
	pthread_once(&contexts_once, contexts_key_create);
	struct thread_contexts *c = pthread_getspecific(contexts_key);
	if (c && c->serial == v->serial)
		contexts_clear(c); /* other threads drop theirs on their next use or at exit */
	EVP_MAC_CTX_free(v->mac_template);
	EVP_MAC_free(v->mac);
	pan_keys_wipe(&v->keys);
	free(v);
}

uint32_t pan_vault_current_key_id(const struct pan_vault *v)
{
	return v->keys.current;
}

int pan_vault_lookup(const struct pan_vault *v, const char *pan, size_t len, uint8_t out[PAN_LOOKUP_BYTES])
{
	struct thread_contexts *c = contexts_of(v);
	if (!c)
		return -1;
	struct lookup_slot *slot = len < PAN_SEALED_TEXT ? &c->cache[slot_of(pan, len)] : NULL;
	if (slot && slot->len == len && len != 0 && memcmp(pan, slot->pan, len) == 0) {
		memcpy(out, slot->hash, PAN_LOOKUP_BYTES);
		return 0;
	}
	size_t n = 0;
	/* NULL key: HMAC keeps the key it was given, only the state restarts. */
	if (EVP_MAC_init(c->mac, NULL, 0, NULL) != 1 || EVP_MAC_update(c->mac, (const uint8_t *)pan, len) != 1 ||
	    EVP_MAC_final(c->mac, out, &n, PAN_LOOKUP_BYTES) != 1 || n != PAN_LOOKUP_BYTES)
		return -1;
	if (slot) {
		slot->len = (uint8_t)len;
		memcpy(slot->pan, pan, len);
		memcpy(slot->hash, out, PAN_LOOKUP_BYTES);
	}
	return 0;
}

int pan_vault_fingerprint(const struct pan_vault *v, uint8_t out[PAN_LOOKUP_BYTES])
{
	static const char label[] = "pan-protection lookup key fingerprint";
	return pan_vault_lookup(v, label, sizeof(label) - 1, out);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Layout of sealed bytes: key id, IV, tag, ciphertext. */
int pan_vault_seal(const struct pan_vault *v, const void *in, size_t len, uint8_t *out)
{
	struct thread_contexts *c = contexts_of(v);
	if (!c || len > (size_t)INT32_MAX)
		return -1;
	uint8_t *iv = out + 4, *tag = iv + PAN_SEAL_IV_BYTES, *text = tag + PAN_SEAL_TAG_BYTES;
	put_le32(out, v->keys.current);
	int n = 0, m = 0;
	uint64_t generation = atomic_load_explicit(&fork_generation, memory_order_relaxed);
	if (!c->iv_ready || c->iv_counter == UINT32_MAX || c->iv_fork_generation != generation) {
		if (RAND_bytes(c->iv_fixed, sizeof(c->iv_fixed)) != 1)
			return -1;
		c->iv_counter = 0;
		c->iv_ready = true;
		c->iv_fork_generation = generation;
	}
	memcpy(iv, c->iv_fixed, sizeof(c->iv_fixed));
	put_le32(iv + sizeof(c->iv_fixed), ++c->iv_counter);
	if (EVP_EncryptInit_ex(c->seal, NULL, NULL, NULL, iv) != 1 ||
	    EVP_EncryptUpdate(c->seal, NULL, &n, out, 4) != 1 || /* the key id as AAD: it cannot be swapped */
	    EVP_EncryptUpdate(c->seal, text, &n, in, (int)len) != 1 || EVP_EncryptFinal_ex(c->seal, text + n, &m) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c->seal, EVP_CTRL_GCM_GET_TAG, PAN_SEAL_TAG_BYTES, tag) != 1)
		return -1;
	return 0;
}

static const uint8_t *data_key(const struct pan_vault *v, uint32_t id)
{
	for (size_t i = 0; i < v->keys.data_count; i++)
		if (v->keys.data[i].id == id)
			return v->keys.data[i].key;
	return NULL;
}

int pan_vault_open(const struct pan_vault *v, const uint8_t *in, size_t in_len, void *out)
{
	if (in_len < PAN_SEAL_OVERHEAD || in_len - PAN_SEAL_OVERHEAD > (size_t)INT32_MAX)
		return -1;
	struct thread_contexts *c = contexts_of(v);
	const uint8_t *key = data_key(v, get_le32(in));
	if (!c || !key)
		return -1;
	const uint8_t *iv = in + 4, *tag = iv + PAN_SEAL_IV_BYTES, *text = tag + PAN_SEAL_TAG_BYTES;
	int len = (int)(in_len - PAN_SEAL_OVERHEAD), n = 0, m = 0;
	uint8_t aad_sink[4];
	int ok = EVP_DecryptInit_ex(c->open, NULL, NULL, key, iv) == 1 &&
		 EVP_DecryptUpdate(c->open, NULL, &n, in, 4) == 1 &&
		 EVP_DecryptUpdate(c->open, out, &n, text, len) == 1 &&
		 EVP_CIPHER_CTX_ctrl(c->open, EVP_CTRL_GCM_SET_TAG, PAN_SEAL_TAG_BYTES, (void *)tag) == 1 &&
		 EVP_DecryptFinal_ex(c->open, aad_sink, &m) == 1;
	if (!ok)
		OPENSSL_cleanse(out, (size_t)len); /* nothing unauthenticated leaves */
	return ok ? 0 : -1;
}

int pan_vault_seal_pan(const struct pan_vault *v, const char *pan, struct sealed_pan *out)
{
	char text[PAN_SEALED_TEXT] = {0};
	size_t n = strnlen(pan, PAN_SEALED_TEXT);
	if (n >= PAN_SEALED_TEXT)
		return -1;
	memcpy(text, pan, n);
	int rc = pan_vault_seal(v, text, sizeof(text), out->bytes);
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int pan_vault_open_pan(const struct pan_vault *v, const struct sealed_pan *in, char out[PAN_SEALED_TEXT])
{
	if (pan_vault_open(v, in->bytes, sizeof(in->bytes), out) != 0 || out[PAN_SEALED_TEXT - 1] != '\0') {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

int pan_sealed_is_empty(const struct sealed_pan *s)
{
	for (size_t i = 0; i < sizeof(s->bytes); i++)
		if (s->bytes[i])
			return 0;
	return 1;
}
