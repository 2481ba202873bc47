/*
 * OpenSSL 3.0's CMAC behind the deprecated CMAC_CTX functions rather than
 * EVP_MAC: the same code (the EVP_MAC "CMAC" provider calls these very
 * functions), without the provider dispatch and parameter handling around
 * each of the three calls per message, which measured some 10% of a 1100's
 * MAC (docs/benchmarks.md, "MACs on the ISO links"). OpenSSL still does all
 * of the CMAC: subkeys, chaining, padding. If a later OpenSSL drops the
 * CMAC_* functions, the EVP_MAC version is in this file's history.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "iso_mac.h"

#include <string.h>

#include <openssl/cmac.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

struct iso_cmac {
	CMAC_CTX *ctx;
};

static const char *cipher_for(size_t key_length)
{
	switch (key_length) {
	case 16: return "AES-128-CBC";
	case 24: return "AES-192-CBC";
	case 32: return "AES-256-CBC";
	default: return NULL;
	}
}

struct iso_cmac *iso_cmac_new(const uint8_t *key, size_t key_length)
{
	const char *name = cipher_for(key_length);
	if (!name)
		return NULL;
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	if (!cipher)
		return NULL;
	struct iso_cmac *c = OPENSSL_zalloc(sizeof(*c));
	if (c)
		c->ctx = CMAC_CTX_new();
	bool ok = c && c->ctx && CMAC_Init(c->ctx, key, key_length, cipher, NULL);
	EVP_CIPHER_free(cipher); /* the context holds its own reference */
	if (!ok) {
		iso_cmac_free(c);
		return NULL;
	}
	return c;
}

void iso_cmac_free(struct iso_cmac *c)
{
	if (!c)
		return;
	CMAC_CTX_free(c->ctx); /* clears the key schedule and subkeys */
	OPENSSL_free(c);
}

/* A thread's own counter: no sharing, one increment per CMAC. */
static _Thread_local uint64_t cmacs_computed;

uint64_t iso_cmac_count(void)
{
	return cmacs_computed;
}

bool iso_cmac_full(struct iso_cmac *c, const uint8_t *data, size_t length, uint8_t out[ISO_CMAC_FULL])
{
	size_t written = 0;
	cmacs_computed++;
	/* All NULL restarts the CMAC with the key already set: no key schedule, no subkeys. */
	return CMAC_Init(c->ctx, NULL, 0, NULL, NULL) && CMAC_Update(c->ctx, data, length) &&
	       CMAC_Final(c->ctx, out, &written) && written == ISO_CMAC_FULL;
}

bool iso_cmac_mac(struct iso_cmac *c, const uint8_t *data, size_t length, uint8_t out[ISO_MAC_SIZE])
{
	uint8_t full[ISO_CMAC_FULL];
	if (!iso_cmac_full(c, data, length, full))
		return false;
	memcpy(out, full, ISO_MAC_SIZE);
	return true;
}

bool iso_cmac_check(struct iso_cmac *c, const uint8_t *data, size_t length, const uint8_t mac[ISO_MAC_SIZE])
{
	uint8_t full[ISO_CMAC_FULL];
	return iso_cmac_full(c, data, length, full) && CRYPTO_memcmp(full, mac, ISO_MAC_SIZE) == 0;
}

int iso_mac_field(const struct iso_msg *m)
{
	/* present[] holds field f at bit f: fields 65..71 in byte 8, up to 128 in byte 16. */
	uint8_t any = m->present[8] & 0xFE;
	for (int i = 9; i < 16; i++)
		any |= m->present[i];
	any |= m->present[16] & 1u;
	return any ? 128 : 64;
}

bool iso_mac_present(const struct iso_msg *m, const uint8_t *frame, size_t length)
{
	int f = iso_mac_field(m);
	return length > ISO_MAC_SIZE && iso_has(m, f) && m->fields[f].length == ISO_MAC_SIZE &&
	       m->fields[f].data == frame + length - ISO_MAC_SIZE;
}

void iso_mac_reserve(struct iso_msg *m)
{
	static const uint8_t placeholder[ISO_MAC_SIZE];
	/* DE 64 first: with it alone present, iso_mac_field still says 64 unless
	 * the message has a secondary bitmap, and then it must be 128 instead. */
	iso_clear(m, 64);
	iso_clear(m, 128);
	iso_set(m, iso_mac_field(m), placeholder, ISO_MAC_SIZE);
}

size_t iso_mac_strip(const struct iso_profile *p, uint8_t *msg, size_t length)
{
	size_t bitmap = p->mti_encoding == ISO_ENC_BCD ? 2 : 4;
	if (length < bitmap + 8 + ISO_MAC_SIZE)
		return length;
	/* Bit 64 (or 128) is the last bit of the primary (or secondary) bitmap. */
	size_t last = (msg[bitmap] & 0x80) ? bitmap + 15 : bitmap + 7;
	msg[last] &= (uint8_t)~1u;
	return length - ISO_MAC_SIZE;
}

bool iso_cmac_sign_frame(struct iso_cmac *c, uint8_t *frame, size_t length)
{
	if (length <= ISO_MAC_SIZE)
		return false;
	return iso_cmac_mac(c, frame, length - ISO_MAC_SIZE, frame + length - ISO_MAC_SIZE);
}

bool iso_cmac_check_frame(struct iso_cmac *c, const uint8_t *frame, size_t length)
{
	if (length <= ISO_MAC_SIZE)
		return false;
	return iso_cmac_check(c, frame, length - ISO_MAC_SIZE, frame + length - ISO_MAC_SIZE);
}
