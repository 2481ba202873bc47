#include "iso_mac.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

struct iso_cmac {
	EVP_MAC_CTX *ctx;
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
	const char *cipher = cipher_for(key_length);
	if (!cipher)
		return NULL;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
	if (!mac)
		return NULL;
	struct iso_cmac *c = OPENSSL_zalloc(sizeof(*c));
	if (c)
		c->ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context holds its own reference */
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, (char *)cipher, 0),
		OSSL_PARAM_construct_end(),
	};
	if (!c || !c->ctx || !EVP_MAC_init(c->ctx, key, key_length, params)) {
		iso_cmac_free(c);
		return NULL;
	}
	return c;
}

void iso_cmac_free(struct iso_cmac *c)
{
	if (!c)
		return;
	EVP_MAC_CTX_free(c->ctx); /* clears the key schedule */
	OPENSSL_free(c);
}

bool iso_cmac_full(struct iso_cmac *c, const uint8_t *data, size_t length, uint8_t out[ISO_CMAC_FULL])
{
	size_t written = 0;
	/* A NULL key restarts the CMAC with the key already set: no new key schedule. */
	return EVP_MAC_init(c->ctx, NULL, 0, NULL) && EVP_MAC_update(c->ctx, data, length) &&
	       EVP_MAC_final(c->ctx, out, &written, ISO_CMAC_FULL) && written == ISO_CMAC_FULL;
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
	uint8_t expected[ISO_MAC_SIZE];
	return iso_cmac_mac(c, data, length, expected) && CRYPTO_memcmp(expected, mac, ISO_MAC_SIZE) == 0;
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
