/*
 * Where the seal sits in each sealed record of the three stores (the table
 * of docs/data-protection.md), for the tools that count and re-seal them
 * (pan_store.h): one place that knows every sealed value's layout, so that a
 * re-seal changes the seal and nothing else.
 */
#ifndef STORAGE_SEALED_LAYOUT_H
#define STORAGE_SEALED_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sealed_layout {
	SEALED_BANK_CARD,     /* bank cards: struct card_stored; the key is lookup(PAN) */
	SEALED_BANK_ORDER,    /* bank orders: struct order_stored; the seal all zero until the card is known */
	SEALED_NET_CARD,      /* network cards: struct net_card_stored; the key is lookup(PAN) */
	SEALED_NET_ORDER,     /* network orders: struct sealed_pan */
	SEALED_NET_OUTBOX,    /* network outbox: struct outbox_header, then the sealed body */
	SEALED_SAF_ADVICE,    /* SAF advices: struct saf_record (its checksum covers the seal) */
	SEALED_SAF_EXCEPTION, /* SAF exceptions: struct saf_exception holding a saf_record (or raw bytes) */
};

enum seal_found {
	SEAL_AT,	/* place says where; the record may be re-sealed */
	SEAL_NONE,	/* the record holds no seal (an order whose card is not known yet) */
	SEAL_MALFORMED, /* not the layout's size or its checksum fails: damaged, never rewritten */
};

struct seal_place {
	size_t at, len;	    /* the seal inside the value (len 0: no key id to tell, for SEAL_MALFORMED) */
	bool keyed_by_pan;  /* the record's LMDB key is the lookup hash of the sealed PAN */
	bool pan;	    /* the sealed text is a PAN (NUL padded) */
};

enum seal_found sealed_layout_find(enum sealed_layout l, const uint8_t *value, size_t len, struct seal_place *out);
/* After value's seal was replaced: what covers it (a SAF record's checksum). */
void sealed_layout_after_reseal(enum sealed_layout l, uint8_t *value, size_t len);
/* The data key id a seal names (its first 4 bytes, little-endian). */
uint32_t sealed_key_id(const uint8_t *seal);

#endif
