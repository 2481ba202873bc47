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

/* The n <= 16 bytes at s as two words (overlapping when n < 16), without reading outside them. */
static inline void field_words(const uint8_t *s, size_t n, uint64_t *first, uint64_t *last)
{
	if (n >= 8) {
		memcpy(first, s, 8);
		memcpy(last, s + n - 8, 8);
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		*first = a | (uint64_t)b << 32;
		*last = *first;
	} else {
		uint64_t x = 0;
		for (size_t i = 0; i < n; i++)
			x |= (uint64_t)s[i] << (8 * i);
		*first = x | ~0ull << (8 * n); /* no NUL in the filler bytes */
		*last = *first;
	}
}

/* True when one of the n bytes at s is NUL (word at a time up to 16 bytes). */
static inline bool field_has_nul(const uint8_t *s, size_t n)
{
	if (n > 16)
		return memchr(s, '\0', n) != NULL;
	if (n == 0)
		return false;
	uint64_t a, b;
	field_words(s, n, &a, &b);
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	return (((a - ones) & ~a) | ((b - ones) & ~b)) & highs;
}

/* memcmp(a, b, n) == 0, word at a time up to 16 bytes. */
static inline bool field_bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n > 16)
		return memcmp(a, b, n) == 0;
	uint64_t a0, a1, b0, b1;
	field_words(a, n, &a0, &a1);
	field_words(b, n, &b0, &b1);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
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
	/* Equal bytes and no NUL among them is the same as the codec's walk that stops at text's NUL. */
	return field_bytes_equal(s, (const uint8_t *)text, n) && text[n] == '\0' && !field_has_nul(s, n);
}

#endif
