/*
 * Message authentication of ISO 8583 links (docs/protocol.md, "MAC"): AES-CMAC
 * (NIST SP 800-38B, RFC 4493; ISO 9797-1 algorithm 5) computed by OpenSSL 3's
 * CMAC (iso_mac.c says why through its CMAC_CTX functions), truncated to its
 * leftmost 8 bytes, in DE 64 (DE 128 when the message has a secondary bitmap). The MAC is the last element of a message
 * and covers every byte before it: MTI, bitmaps (with the MAC's own bit set)
 * and all other elements as sent, without the frame's length header. CMAC
 * pads by itself (SP 800-38B: 10* and subkey K2); nothing else is padded.
 *
 * An iso_cmac is one keyed context: not thread-safe (one per thread), keyed
 * once and restarted per message without a key, so a message costs the AES
 * blocks and OpenSSL's restart, no key schedule and no allocation.
 */
#ifndef ISO_MAC_H
#define ISO_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"

#define ISO_MAC_SIZE 8     /* bytes of DE 64/128 */
#define ISO_CMAC_FULL 16   /* an untruncated AES-CMAC */
#define ISO_MAC_KEY_MAX 32 /* AES-128, -192 or -256 */

struct iso_cmac;

/* A context keyed with an AES key of 16, 24 or 32 bytes; NULL on a bad length or no memory. */
struct iso_cmac *iso_cmac_new(const uint8_t *key, size_t key_length);
void iso_cmac_free(struct iso_cmac *c);

/* The whole 16-byte CMAC of data (test vectors); false if OpenSSL refuses. */
bool iso_cmac_full(struct iso_cmac *c, const uint8_t *data, size_t length, uint8_t out[ISO_CMAC_FULL]);

/* CMACs the calling thread has computed (benchmarks: how many a relayed message costs). */
uint64_t iso_cmac_count(void);

/* The 8-byte MAC of data (the CMAC's leftmost bytes). */
bool iso_cmac_mac(struct iso_cmac *c, const uint8_t *data, size_t length, uint8_t out[ISO_MAC_SIZE]);

/* True when mac is data's MAC (compared in constant time). */
bool iso_cmac_check(struct iso_cmac *c, const uint8_t *data, size_t length, const uint8_t mac[ISO_MAC_SIZE]);

/* The element that carries m's MAC: 128 when m has any element above 64, else 64. */
int iso_mac_field(const struct iso_msg *m);

/* True when m (decoded from frame) carries its MAC as its last 8 bytes. */
bool iso_mac_present(const struct iso_msg *m, const uint8_t *frame, size_t length);

/*
 * Marks m's MAC element present with 8 placeholder bytes, so that iso_encode
 * reserves it (and sets its bitmap bit); the MAC itself is written over the
 * last 8 bytes of the encoded message by iso_cmac_sign_frame.
 */
void iso_mac_reserve(struct iso_msg *m);

/*
 * Takes a reserved MAC element off an encoded message (a link without a key
 * sends none): clears its bitmap bit and drops the last 8 bytes. Returns the
 * new length. msg must end with the element iso_mac_reserve made.
 */
size_t iso_mac_strip(const struct iso_profile *p, uint8_t *msg, size_t length);

/* Writes the MAC of frame[0 .. length-8) into frame's last 8 bytes. */
bool iso_cmac_sign_frame(struct iso_cmac *c, uint8_t *frame, size_t length);

/* True when frame's last 8 bytes are the MAC of the bytes before them. */
bool iso_cmac_check_frame(struct iso_cmac *c, const uint8_t *frame, size_t length);

#endif
