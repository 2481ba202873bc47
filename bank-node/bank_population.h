/* Creates the generated card population of a bank (docs/protocol.md) if absent, in one transaction. */
#ifndef BANK_POPULATION_H
#define BANK_POPULATION_H

#include <stddef.h>

#include "ecosystem_config.h"
#include "store.h"

struct population_result {
	size_t accounts_created, cards_created, cards_total;
};

/* Returns 0 or a store status. Existing accounts and cards are left as they are. */
int bank_population_create(struct store *s, const struct ecosystem_config *cfg, const struct cfg_bank *bank,
			   struct population_result *out);

#endif
