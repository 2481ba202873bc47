/*
 * BIN routing table: decimal BIN ranges of 6 to 11 digits, each naming the
 * bank (and its ISO endpoint) that issues the cards in it. The most specific
 * range wins: the lookup tries the longest BIN length first.
 *
 * A table is immutable once built (published to workers under RCU, see
 * route_cell.h): per BIN length, ranges sorted by their low end and never
 * overlapping, so a lookup is at most six binary searches over small arrays.
 */
#ifndef BIN_ROUTES_H
#define BIN_ROUTES_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ecosystem_config.h"

#define BIN_MIN_DIGITS 6
#define BIN_MAX_DIGITS 11

/* A route as given by the config or the HTTP API, before it is built into a table. */
struct route_spec {
	char low[BIN_MAX_DIGITS + 1];
	char high[BIN_MAX_DIGITS + 1];
	char bank[CFG_NAME_MAX];
	struct cfg_endpoint iso;
};

struct route_bank {
	char name[CFG_NAME_MAX];
	struct cfg_endpoint endpoint;
	struct sockaddr_in iso;
};

struct bin_range_entry {
	uint64_t low, high;
	uint32_t bank;   /* index into banks */
	uint32_t spec;   /* index of the route_spec it came from */
};

struct route_table {
	uint64_t version;
	size_t bank_count;
	struct route_bank *banks;
	size_t spec_count;
	struct route_spec *specs; /* as given, for GET /routes */
	/* Ranges of BIN length L are entries[first[L] .. first[L] + count[L]). */
	size_t first[BIN_MAX_DIGITS + 1];
	size_t count[BIN_MAX_DIGITS + 1];
	struct bin_range_entry *entries;
};

struct route_hit {
	const struct route_bank *bank;
	uint8_t bin_length;
};

/*
 * Builds a table from specs. Checks every spec (digits only, 6..11, same
 * length for low and high, low <= high, bank named, endpoint resolvable) and
 * that no two ranges of one length overlap. NULL and a reason in err on failure.
 */
struct route_table *route_table_build(const struct route_spec *specs, size_t count, uint64_t version,
				      char *err, size_t err_size);
void route_table_free(struct route_table *t);

/*
 * The same from the PAN's leading digits already read as numbers: prefix[L] holds
 * the first L digits for L = BIN_MIN_DIGITS..longest (longest: the PAN's length,
 * at most BIN_MAX_DIGITS), so that a caller that reads the PAN anyway reads it once.
 */
bool route_table_lookup_prefixes(const struct route_table *t, const uint64_t *prefix, size_t longest,
				 struct route_hit *hit);

/* The most specific route for the PAN's leading digits; false when none. */
bool route_table_lookup(const struct route_table *t, const char *pan, size_t pan_len,
			struct route_hit *hit);

/* The routes a network's config implies: every BIN range of every bank membership of it. */
size_t route_specs_from_config(const struct ecosystem_config *c, const char *network,
			       struct route_spec *out, size_t capacity);

#endif
