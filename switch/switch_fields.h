/*
 * Decoded elements read in place on the fast path. The switch's profile is
 * ASCII, so an element's logical text is its wire bytes: looking at them costs
 * nothing, while iso_field_text() copies them out one call at a time (ten
 * calls a message were a tenth of the switch's instructions). Packed (BCD)
 * elements still go through the codec, so these helpers hold for any profile.
 */
#ifndef SWITCH_FIELDS_H
#define SWITCH_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iso8583.h"

/* The element's logical bytes in place; NULL when absent or packed (then use iso_field_text). */
static inline const uint8_t *field_bytes(const struct iso_msg *m, int field, size_t *length)
{
	if (!iso_has(m, field) || m->fields[field].packed)
		return NULL;
	*length = m->fields[field].length;
	return m->fields[field].data;
}

/* Copies n bytes without a library call for the short elements of a payment message. */
static inline void field_copy_bytes(void *to, const uint8_t *s, size_t n)
{
	uint8_t *d = to;
	if (n > 16) {
		memcpy(d, s, n);
	} else if (n >= 8) {
		uint64_t a, b;
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		memcpy(d, &a, 4);
		memcpy(d + n - 4, &b, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

/* iso_field_text() with the same contract, inline for unpacked elements. */
static inline int field_text(const struct iso_msg *m, int field, char *out, size_t capacity)
{
	size_t n;
	const uint8_t *s = field_bytes(m, field, &n);
	if (!s)
		return iso_field_text(m, field, out, capacity);
	if (n + 1 > capacity)
		return -1;
	field_copy_bytes(out, s, n);
	out[n] = '\0';
	return (int)n;
}

/* iso_field_equals() with the same contract (a NUL in the element never matches). */
static inline bool field_equals_text(const struct iso_msg *m, int field, const char *text)
{
	size_t n;
	const uint8_t *s = field_bytes(m, field, &n);
	if (!s)
		return iso_field_equals(m, field, text);
	for (size_t i = 0; i < n; i++)
		if ((char)s[i] != text[i] || text[i] == '\0')
			return false;
	return text[n] == '\0';
}

#endif
