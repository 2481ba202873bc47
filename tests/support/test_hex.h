/*
 * Hex text to bytes for the tests' vectors (RFC 4493, the documented MAC
 * example): pairs of hex digits, no separators; stops at an odd last digit.
 */
#ifndef TEST_HEX_H
#define TEST_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

static inline size_t test_unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;
	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;
		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

#endif
