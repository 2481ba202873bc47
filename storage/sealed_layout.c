#include "sealed_layout.h"

#include <string.h>

#include "network_cards_store.h"
#include "pan_vault.h"
#include "records.h"
#include "saf_store.h"

uint32_t sealed_key_id(const uint8_t *seal)
{
	return (uint32_t)seal[0] | (uint32_t)seal[1] << 8 | (uint32_t)seal[2] << 16 | (uint32_t)seal[3] << 24;
}

static enum seal_found fixed(const uint8_t *value, size_t len, size_t size, size_t at, bool keyed_by_pan,
			     struct seal_place *out)
{
	out->at = at;
	out->len = sizeof(struct sealed_pan);
	out->keyed_by_pan = keyed_by_pan;
	out->pan = true;
	if (len != size) {
		out->len = 0;
		return SEAL_MALFORMED;
	}
	struct sealed_pan s;
	memcpy(&s, value + at, sizeof(s));
	return pan_sealed_is_empty(&s) ? SEAL_NONE : SEAL_AT;
}

/* A SAF record at offset `at` of the value: checked as the switch checks it at start. */
static enum seal_found saf_record_at(const uint8_t *value, size_t len, size_t at, struct seal_place *out)
{
	if (len < at + sizeof(struct saf_record))
		return SEAL_MALFORMED;
	enum seal_found f = fixed(value, len, len, at + offsetof(struct saf_record, pan_sealed), false, out);
	if (!saf_record_check(value + at, sizeof(struct saf_record)))
		return SEAL_MALFORMED; /* place kept: its key id is the best account of what it was sealed with */
	return f;
}

enum seal_found sealed_layout_find(enum sealed_layout l, const uint8_t *value, size_t len, struct seal_place *out)
{
	memset(out, 0, sizeof(*out));
	switch (l) {
	case SEALED_BANK_CARD:
		return fixed(value, len, sizeof(struct card_stored), offsetof(struct card_stored, pan), true, out);
	case SEALED_BANK_ORDER:
		return fixed(value, len, sizeof(struct order_stored), offsetof(struct order_stored, pan), false, out);
	case SEALED_NET_CARD:
		return fixed(value, len, sizeof(struct net_card_stored), offsetof(struct net_card_stored, pan), true,
			     out);
	case SEALED_NET_ORDER:
		return fixed(value, len, sizeof(struct sealed_pan), 0, false, out);
	case SEALED_NET_OUTBOX:
		if (len < sizeof(struct outbox_header) + PAN_SEAL_OVERHEAD)
			return SEAL_MALFORMED;
		out->at = sizeof(struct outbox_header);
		out->len = len - out->at;
		return SEAL_AT;
	case SEALED_SAF_ADVICE:
		if (len != sizeof(struct saf_record))
			return SEAL_MALFORMED;
		return saf_record_at(value, len, 0, out);
	case SEALED_SAF_EXCEPTION: {
		if (len != sizeof(struct saf_exception))
			return SEAL_MALFORMED;
		struct saf_exception e;
		memcpy(&e, value, offsetof(struct saf_exception, entry));
		/* An unreadable entry keeps the bytes found: a whole record only when it is one. */
		if (e.reason == SAF_UNREADABLE && e.raw_length != sizeof(struct saf_record))
			return SEAL_MALFORMED;
		return saf_record_at(value, len, offsetof(struct saf_exception, entry), out);
	}
	}
	return SEAL_MALFORMED;
}

void sealed_layout_after_reseal(enum sealed_layout l, uint8_t *value, size_t len)
{
	size_t at;
	if (l == SEALED_SAF_ADVICE)
		at = 0;
	else if (l == SEALED_SAF_EXCEPTION)
		at = offsetof(struct saf_exception, entry);
	else
		return;
	if (len < at + sizeof(struct saf_record))
		return;
	struct saf_record r;
	memcpy(&r, value + at, sizeof(r)); /* LMDB values need not be aligned */
	saf_record_seal(&r);
	memcpy(value + at, &r, sizeof(r));
}
