/* Luhn check digits and the generated card population every agent derives from the config. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "card_population.h"
#include "luhn.h"

Test(luhn, known_numbers)
{
	cr_assert(luhn_valid("4111111111111111", 16));
	cr_assert(luhn_valid("5105105105105100", 16));
	cr_assert(luhn_valid("378282246310005", 15));
	cr_assert(luhn_valid("79927398713", 11));
	cr_assert_not(luhn_valid("4111111111111112", 16));
	cr_assert_not(luhn_valid("79927398710", 11));
	cr_assert_not(luhn_valid("", 0));
	cr_assert_not(luhn_valid("4111a11111111111", 16));
	cr_assert_not(luhn_valid("411111111111111 ", 16));
	cr_assert_eq(luhn_check_digit("7992739871", 10), '3');
	cr_assert_eq(luhn_check_digit("411111111111111", 15), '1');
	cr_assert_eq(luhn_check_digit("41111x", 6), 0, "a non-digit has no check digit");
}

/* Luhn catches every single-digit error: appending the check digit validates, any one change breaks it. */
Test(luhn, check_digit_round_trip_and_single_digit_errors)
{
	char pan[20];
	unsigned seed = 12345;
	for (int round = 0; round < 500; round++) {
		size_t n = 12 + (size_t)(round % 7);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			pan[i] = (char)('0' + (seed >> 16) % 10);
		}
		pan[n] = luhn_check_digit(pan, n);
		cr_assert(luhn_valid(pan, n + 1), "%.*s", (int)n + 1, pan);
		size_t pos = (size_t)round % (n + 1);
		char saved = pan[pos];
		pan[pos] = (char)('0' + (saved - '0' + 1 + round % 9) % 10);
		cr_assert_not(luhn_valid(pan, n + 1), "changed digit %zu of %.*s still valid", pos, (int)n + 1, pan);
		pan[pos] = saved;
	}
}

static struct ecosystem_config cfg;

static void load_shipped(void)
{
	const char *src = getenv("ISO_SOURCE_DIR");
	cr_assert_not_null(src, "ISO_SOURCE_DIR is not set (run through ctest)");
	char path[1024], err[512];
	snprintf(path, sizeof path, "%s/config/ecosystem.yaml", src);
	cr_assert(ecosystem_config_load(path, &cfg, err, sizeof err), "%s", err);
}

static int compare_pans(const void *a, const void *b)
{
	return strcmp(a, b);
}

Test(population, pans_are_luhn_valid_unique_and_start_with_their_bin)
{
	load_shipped();
	size_t total = 0;
	for (size_t b = 0; b < cfg.bank_count; b++)
		total += population_bank_card_count(&cfg, &cfg.banks[b]);
	cr_assert_eq(total, (size_t)cfg.loadgen.cards_per_bank * 3, "seed: big_bank on 2 networks, lil_bank on 1");
	char(*pans)[CARD_PAN_LEN + 1] = calloc(total, sizeof *pans);
	size_t at = 0;
	for (size_t b = 0; b < cfg.bank_count; b++) {
		const struct cfg_bank *bank = &cfg.banks[b];
		for (size_t k = 0; k < population_bank_card_count(&cfg, bank); k++) {
			struct population_card card;
			population_bank_card(&cfg, bank, k, &card);
			const struct cfg_bank_network *m = &bank->networks[k / cfg.loadgen.cards_per_bank];
			cr_assert_eq(strlen(card.pan), CARD_PAN_LEN);
			cr_assert(luhn_valid(card.pan, CARD_PAN_LEN), "%s", card.pan);
			cr_assert_eq(strncmp(card.pan, m->bins[0].low, m->bins[0].length), 0, "%s vs BIN %s", card.pan,
				     m->bins[0].low);
			cr_assert_str_eq(card.network, m->network);
			cr_assert_eq(card.bank, bank);
			cr_assert_eq(card.index, k % cfg.loadgen.cards_per_bank);
			cr_assert_str_eq(card.expiry, CARD_POPULATION_EXPIRY);
			char account[64];
			snprintf(account, sizeof account, "%s-%zu", bank->name, card.index);
			cr_assert_str_eq(card.account, account);
			/* The index sits right before the check digit, zero-padded. */
			char index_digits[16];
			snprintf(index_digits, sizeof index_digits, "%0*zu", 15 - (int)m->bins[0].length, card.index);
			cr_assert_eq(strncmp(card.pan + m->bins[0].length, index_digits, strlen(index_digits)), 0, "%s", card.pan);
			memcpy(pans[at++], card.pan, sizeof pans[0]);
		}
	}
	qsort(pans, total, sizeof *pans, compare_pans);
	for (size_t i = 1; i < total; i++)
		cr_assert_str_neq(pans[i - 1], pans[i], "duplicate PAN");
	free(pans);
}

Test(population, known_first_cards_and_identical_across_calls)
{
	load_shipped();
	const struct cfg_bank *big = ecosystem_find_bank(&cfg, "big_bank");
	const struct cfg_bank *lil = ecosystem_find_bank(&cfg, "lil_bank");
	struct population_card a, b;
	population_bank_card(&cfg, big, 0, &a);
	cr_assert_str_eq(a.pan, "5105100000000001"); /* 51051000 + 0000000, Luhn digit 1 */
	cr_assert_str_eq(a.account, "big_bank-0");
	population_bank_card(&cfg, big, cfg.loadgen.cards_per_bank, &b);
	cr_assert_str_eq(b.pan, "4111111100000002"); /* visa membership, index 0 */
	cr_assert_str_eq(b.account, "big_bank-0", "one account per index across networks");
	population_bank_card(&cfg, lil, 7, &a);
	cr_assert_str_eq(a.pan, "5199910000000075");
	cr_assert_str_eq(a.account, "lil_bank-7");

	for (size_t k = 0; k < population_bank_card_count(&cfg, big); k += 97) {
		population_bank_card(&cfg, big, k, &a);
		population_bank_card(&cfg, big, k, &b);
		cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
	}
	char account[64];
	population_account_id(lil, 42, account, sizeof account);
	cr_assert_str_eq(account, "lil_bank-42");
}

Test(population, index_past_the_end_gives_an_empty_card)
{
	load_shipped();
	const struct cfg_bank *lil = ecosystem_find_bank(&cfg, "lil_bank");
	struct population_card card;
	population_bank_card(&cfg, lil, population_bank_card_count(&cfg, lil), &card);
	cr_assert_str_eq(card.pan, "");
	cr_assert_null(card.bank);
}
