/*
 * The generated cardholder population every agent derives identically from
 * the config (see docs/protocol.md): banks create these accounts and cards,
 * switches register the PANs, the load generator pays with them.
 */
#ifndef CARD_POPULATION_H
#define CARD_POPULATION_H

#include "ecosystem_config.h"

#define CARD_PAN_LEN 16
#define CARD_POPULATION_EXPIRY "3012" /* YYMM, far enough in the future */

struct population_card {
	char pan[CARD_PAN_LEN + 1];
	char expiry[5];
	char account[CFG_NAME_MAX + 16]; /* "<bank>-<index>" */
	const struct cfg_bank *bank;
	const char *network;
	size_t index;
};

/* Number of generated cards of one bank across all its network memberships. */
size_t population_bank_card_count(const struct ecosystem_config *c, const struct cfg_bank *b);
/* The k-th card of a bank, k < population_bank_card_count(); membership-major order. */
void population_bank_card(const struct ecosystem_config *c, const struct cfg_bank *b, size_t k,
			  struct population_card *out);
/* Account id of index i at a bank. */
void population_account_id(const struct cfg_bank *b, size_t index, char *out, size_t size);

#endif
