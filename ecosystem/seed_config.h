/*
 * The seed's config layout (rusty-payment-ecosystem's config/ecosystem.yaml),
 * converted to this project's:
 *
 *   agents:
 *     bank:
 *       big_bank:
 *         issuer_identification_numbers: { mastercard: "51051000", visa: "41111111" }
 *     network:
 *       mastercard:
 *         major_industry_identifier: 5
 *         issuer_identification_numbers: { big_bank: "51051000" }
 *
 * The seed names who issues under which IIN twice (at the bank and at the
 * network); the two must agree. What the seed does not say (addresses,
 * institution ids, storage paths) takes the defaults of docs/configuration.md's
 * "The seed's layout": loopback, banks' HTTP from 8101 and ISO from 9101,
 * networks' from 8201 and 9201, in the order the file lists them.
 */
#ifndef SEED_CONFIG_H
#define SEED_CONFIG_H

#include <stddef.h>

enum seed_result {
	SEED_NOT_SEED,  /* not the seed's layout (or not YAML at all): parse it as this project's */
	SEED_CONVERTED, /* *native holds the same ecosystem in this project's layout */
	SEED_INVALID,   /* the seed's layout, but wrong: err says where */
};

/* *native is malloc'd, NUL-terminated YAML (the caller frees it); err names source and key paths. */
enum seed_result seed_config_convert(const char *yaml, size_t len, const char *source, char **native, char *err,
				     size_t err_size);

#endif
