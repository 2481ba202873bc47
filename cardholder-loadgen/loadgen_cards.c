#include "loadgen_cards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udp_port.h"

static int network_index(const struct ecosystem_config *c, const char *name)
{
	for (size_t i = 0; i < c->network_count; i++)
		if (strcmp(c->networks[i].name, name) == 0)
			return (int)i;
	return -1;
}

bool loadgen_cards_load(const struct ecosystem_config *c, const char *only_network, struct loadgen_cards *out,
			char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (only_network && network_index(c, only_network) < 0) {
		snprintf(err, err_size, "--network %s: no such network in %s", only_network, c->source);
		return false;
	}
	out->network_count = c->network_count;
	for (size_t n = 0; n < c->network_count; n++) {
		const struct cfg_endpoint *e = &c->networks[n].iso;
		if (endpoint_to_sockaddr(e->host, e->port, &out->switch_address[n]) != 0) {
			snprintf(err, err_size, "networks[%zu].iso: '%s' is not an IPv4 address", n, e->host);
			return false;
		}
	}
	size_t total = 0;
	for (size_t b = 0; b < c->bank_count; b++)
		total += population_bank_card_count(c, &c->banks[b]);
	out->cards = calloc(total ? total : 1, sizeof(*out->cards));
	if (!out->cards) {
		snprintf(err, err_size, "no memory for %zu cards", total);
		return false;
	}
	for (size_t b = 0; b < c->bank_count; b++) {
		const struct cfg_bank *bank = &c->banks[b];
		size_t n = population_bank_card_count(c, bank);
		for (size_t k = 0; k < n; k++) {
			struct population_card pc;
			population_bank_card(c, bank, k, &pc);
			int net = network_index(c, pc.network);
			if (net < 0 || pc.pan[0] == '\0' || (only_network && strcmp(pc.network, only_network) != 0))
				continue;
			struct loadgen_card *card = &out->cards[out->count++];
			memcpy(card->pan, pc.pan, sizeof(card->pan));
			memcpy(card->expiry, pc.expiry, sizeof(card->expiry));
			card->network = (uint16_t)net;
			out->per_network[net]++;
		}
	}
	if (out->count == 0) {
		snprintf(err, err_size, "no cards to pay with: loadgen.cards_per_bank is 0 or no bank joins %s",
			 only_network ? only_network : "a configured network");
		loadgen_cards_free(out);
		return false;
	}
	return true;
}

void loadgen_cards_free(struct loadgen_cards *cards)
{
	free(cards->cards);
	cards->cards = NULL;
	cards->count = 0;
}
