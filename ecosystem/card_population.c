/*
 * The generated cardholder population (docs/protocol.md, "Generated card
 * population"): every agent derives the same PANs and accounts from the config,
 * so nothing here may depend on anything but the config.
 */
#include "card_population.h"

#include <stdio.h>
#include <string.h>

#include "luhn.h"

size_t population_bank_card_count(const struct ecosystem_config *c, const struct cfg_bank *b)
{
	return b->network_count * (size_t)c->loadgen.cards_per_bank;
}

void population_account_id(const struct cfg_bank *b, size_t index, char *out, size_t size)
{
	snprintf(out, size, "%s-%zu", b->name, index);
}

/*
 * BIN `low`, then the index zero-padded to 15 digits in all, then the Luhn
 * digit. The config loader guarantees that cards_per_bank indexes fit in the
 * digits a membership's first BIN leaves; a caller that breaks this gets an
 * empty PAN rather than a PAN of another BIN.
 */
static void build_pan(const struct cfg_bin_range *bin, size_t index, char pan[CARD_PAN_LEN + 1])
{
	size_t bin_len = strlen(bin->low);
	size_t index_digits = (CARD_PAN_LEN - 1) - bin_len;
	char body[64];
	int written = snprintf(body, sizeof body, "%s%0*zu", bin->low, (int)index_digits, index);
	if (bin_len >= CARD_PAN_LEN - 1 || written != CARD_PAN_LEN - 1) {
		pan[0] = '\0';
		return;
	}
	memcpy(pan, body, CARD_PAN_LEN - 1);
	pan[CARD_PAN_LEN - 1] = luhn_check_digit(body, CARD_PAN_LEN - 1);
	pan[CARD_PAN_LEN] = '\0';
}

void population_bank_card(const struct ecosystem_config *c, const struct cfg_bank *b, size_t k,
			  struct population_card *out)
{
	memset(out, 0, sizeof *out);
	size_t per_membership = c->loadgen.cards_per_bank;
	if (per_membership == 0 || k >= population_bank_card_count(c, b))
		return;
	const struct cfg_bank_network *membership = &b->networks[k / per_membership];
	size_t index = k % per_membership;

	out->bank = b;
	out->network = membership->network;
	out->index = index;
	memcpy(out->expiry, CARD_POPULATION_EXPIRY, sizeof out->expiry);
	population_account_id(b, index, out->account, sizeof out->account);
	if (membership->bin_count > 0)
		build_pan(&membership->bins[0], index, out->pan);
}
