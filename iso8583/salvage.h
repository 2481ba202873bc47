/*
 * Reading what can be read of a message that failed to decode, so that a
 * 904 answer can still carry the keys (DE 11, 37, 41) its sender matches on.
 *
 * Uses only the codec's documented behaviour: the elements before the faulty
 * one are re-decoded from a copy whose bitmap announces only them; the
 * decoder then reports where they end (ISO_ERR_TRAILING_BYTES at that offset)
 * and the copy cut there decodes cleanly.
 */
#ifndef ISO8583_SALVAGE_H
#define ISO8583_SALVAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"

/*
 * msg/len: the message that failed with err. scratch: at least len bytes,
 * which out then points into. True when out holds the MTI and the elements
 * before the faulty one.
 */
bool iso_salvage_decode(const struct iso_profile *p, const uint8_t *msg, size_t len,
			const struct iso_error *err, uint8_t *scratch, struct iso_msg *out);

#endif
