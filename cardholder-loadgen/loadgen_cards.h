/*
 * The cards the cardholders pay with: the generated population of every bank
 * (card_population.h), each with the ISO endpoint of its network's switch.
 */
#ifndef LOADGEN_CARDS_H
#define LOADGEN_CARDS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "card_population.h"

struct loadgen_card {
	char pan[CARD_PAN_LEN + 1];
	char expiry[5];
	uint16_t network; /* index into ecosystem_config.networks */
};

struct loadgen_cards {
	struct loadgen_card *cards;
	size_t count;
	size_t network_count;
	struct sockaddr_in switch_address[CFG_MAX_NETWORKS]; /* per network index */
	uint64_t per_network[CFG_MAX_NETWORKS];              /* cards per network */
};

/*
 * Builds the deck from the config; only_network (or NULL) restricts it to one
 * network. Cards of a bank membership whose network the config does not list
 * are left out. false with a reason in err if no card is left.
 */
bool loadgen_cards_load(const struct ecosystem_config *c, const char *only_network, struct loadgen_cards *out,
			char *err, size_t err_size);
void loadgen_cards_free(struct loadgen_cards *cards);

#endif
