/* One route of a BIN table as the switch's tests write it: a range, its bank, the bank's ISO port on loopback. */
#ifndef TEST_ROUTE_SPEC_BUILDER_H
#define TEST_ROUTE_SPEC_BUILDER_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bin_routes.h"

static inline struct route_spec test_route_spec(const char *low, const char *high, const char *bank, uint16_t port)
{
	struct route_spec s;
	memset(&s, 0, sizeof(s));
	/* Precision bounded by each field, so that -O2's truncation check sees every copy fit. */
	snprintf(s.low, sizeof(s.low), "%.*s", (int)sizeof(s.low) - 1, low);
	snprintf(s.high, sizeof(s.high), "%.*s", (int)sizeof(s.high) - 1, high);
	snprintf(s.bank, sizeof(s.bank), "%.*s", (int)sizeof(s.bank) - 1, bank);
	snprintf(s.iso.host, sizeof(s.iso.host), "127.0.0.1");
	s.iso.port = port;
	return s;
}

#endif
