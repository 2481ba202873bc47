/*
 * The seed's config layout: loaded as the agents load any config, the same
 * ecosystem as the shipped one (names, MIIs, IINs), defaults where the seed
 * says nothing, and each way the seed's two lists of IINs can disagree
 * refused with the path of both sides.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecosystem_config.h"
#include "seed_config.h"

#ifndef SEED_EXAMPLE
#error "SEED_EXAMPLE must name config/examples/seed-ecosystem.yaml"
#endif

static struct ecosystem_config cfg;
static char err[512];

static const char SEED[] = "agents:\n"
			   "  bank:\n"
			   "    big_bank:\n"
			   "      issuer_identification_numbers:\n"
			   "        mastercard: \"51051000\"\n"
			   "        visa: \"41111111\"\n"
			   "    lil_bank:\n"
			   "      issuer_identification_numbers:\n"
			   "        mastercard: \"51999100\"\n"
			   "  network:\n"
			   "    mastercard:\n"
			   "      major_industry_identifier: 5\n"
			   "      issuer_identification_numbers:\n"
			   "        big_bank: \"51051000\"\n"
			   "        lil_bank: \"51999100\"\n"
			   "    visa:\n"
			   "      major_industry_identifier: 4\n"
			   "      issuer_identification_numbers:\n"
			   "        big_bank: \"41111111\"\n";

static bool parse(const char *text)
{
	return ecosystem_config_parse(text, strlen(text), "seed.yaml", &cfg, err, sizeof err);
}

/* SEED with the first occurrence of `from` replaced by `to`. */
static char *seed_with(const char *from, const char *to)
{
	const char *at = strstr(SEED, from);
	cr_assert_not_null(at, "test bug: '%s' is not in SEED", from);
	size_t head = (size_t)(at - SEED);
	char *out = malloc(sizeof SEED + strlen(to));
	memcpy(out, SEED, head);
	strcpy(out + head, to);
	strcat(out, at + strlen(from));
	return out;
}

static void expect_error(const char *text, const char *fragment)
{
	cr_assert(!parse(text), "accepted:\n%s", text);
	cr_assert(strstr(err, fragment), "error '%s' lacks '%s'", err, fragment);
}

static const struct cfg_bank_network *membership(const struct cfg_bank *b, const char *network)
{
	for (size_t i = 0; i < b->network_count; i++)
		if (strcmp(b->networks[i].network, network) == 0)
			return &b->networks[i];
	return NULL;
}

Test(seed_config, the_seeds_file_loads_as_the_shipped_topology)
{
	cr_assert(ecosystem_config_load(SEED_EXAMPLE, &cfg, err, sizeof err), "%s", err);
	cr_assert_str_eq(cfg.source, SEED_EXAMPLE);
	cr_assert_eq(cfg.network_count, 2);
	const struct cfg_network *mc = ecosystem_find_network(&cfg, "mastercard");
	const struct cfg_network *visa = ecosystem_find_network(&cfg, "visa");
	cr_assert(mc && visa);
	cr_assert_eq(mc->major_industry_id, 5);
	cr_assert_eq(visa->major_industry_id, 4);
	cr_assert_str_eq(mc->iso.host, "127.0.0.1");
	cr_assert_eq(mc->iso.port, 9201);
	cr_assert_eq(visa->http.port, 8202);

	cr_assert_eq(cfg.bank_count, 2);
	const struct cfg_bank *big = ecosystem_find_bank(&cfg, "big_bank");
	const struct cfg_bank *lil = ecosystem_find_bank(&cfg, "lil_bank");
	cr_assert(big && lil);
	cr_assert_str_eq(big->institution_id, "10000000001");
	cr_assert_str_eq(lil->institution_id, "20000000002");
	cr_assert_eq(big->http.port, 8101);
	cr_assert_eq(lil->iso.port, 9102);
	cr_assert_str_eq(big->lmdb_path, "var/big_bank");
	cr_assert_eq(big->network_count, 2);
	cr_assert_str_eq(membership(big, "mastercard")->bins[0].low, "51051000");
	cr_assert_str_eq(membership(big, "visa")->bins[0].low, "41111111");
	cr_assert_eq(lil->network_count, 1);
	cr_assert_str_eq(membership(lil, "mastercard")->bins[0].low, "51999100");
	cr_assert_null(membership(lil, "visa"));
}

Test(seed_config, lists_of_iins_are_taken)
{
	char *text = seed_with("        mastercard: \"51051000\"\n",
			       "        mastercard: [\"51051000\", \"51051001\"]\n");
	char *both = NULL;
	{
		const char *from = "        big_bank: \"51051000\"\n";
		const char *at = strstr(text, from);
		cr_assert_not_null(at);
		both = malloc(strlen(text) + 64);
		memcpy(both, text, (size_t)(at - text));
		strcpy(both + (at - text), "        big_bank: [\"51051001\", \"51051000\"]\n");
		strcat(both, at + strlen(from));
	}
	cr_assert(parse(both), "%s", err);
	const struct cfg_bank_network *m = membership(ecosystem_find_bank(&cfg, "big_bank"), "mastercard");
	cr_assert_eq(m->bin_count, 2);
	free(text);
	free(both);
}

Test(seed_config, the_two_sides_must_agree)
{
	char *t = seed_with("        lil_bank: \"51999100\"\n", "        lil_bank: \"51999101\"\n");
	expect_error(t, "agents.bank.lil_bank.issuer_identification_numbers.mastercard: '51999100' is not in "
			"agents.network.mastercard.issuer_identification_numbers.lil_bank");
	free(t);
	/* A bank that says it issues at visa, which does not list it. */
	t = seed_with("        mastercard: \"51999100\"\n", "        mastercard: \"51999100\"\n        visa: \"41999100\"\n");
	expect_error(t, "agents.bank.lil_bank.issuer_identification_numbers.visa: '41999100' is not in "
			"agents.network.visa.issuer_identification_numbers.lil_bank");
	free(t);
	t = seed_with("        big_bank: \"41111111\"\n", "        big_bank: \"41111111\"\n        no_bank: \"41000000\"\n");
	expect_error(t, "agents.network.visa.issuer_identification_numbers.no_bank: no bank of that name");
	free(t);
}

Test(seed_config, bad_values_are_named)
{
	char *t = seed_with("major_industry_identifier: 4", "major_industry_identifier: 42");
	expect_error(t, "agents.network.visa: major_industry_identifier: '42' is not a digit");
	free(t);
	t = seed_with("        visa: \"41111111\"\n", "        visa: \"4111\"\n");
	expect_error(t, "'4111' is not an issuer identification number");
	free(t);
	t = seed_with("    lil_bank:\n", "    \"lil bank: x\":\n");
	expect_error(t, "is not a name");
	free(t);
	t = seed_with("  network:\n", "  networks:\n");
	expect_error(t, "agents: unknown key 'networks'");
	free(t);
	t = seed_with("      issuer_identification_numbers:\n        mastercard: \"51999100\"\n",
		      "      iins:\n        mastercard: \"51999100\"\n");
	expect_error(t, "agents.bank.lil_bank: unknown key 'iins'");
	free(t);
	cr_assert(strstr(err, "seed.yaml:8:"), "the line is named: %s", err);
}

Test(seed_config, a_native_config_is_not_converted)
{
	char *native = NULL;
	cr_assert_eq(seed_config_convert("banks: []\n", 10, "x", &native, err, sizeof err), SEED_NOT_SEED);
	cr_assert_null(native);
	cr_assert_eq(seed_config_convert("agents: [", 9, "x", &native, err, sizeof err), SEED_NOT_SEED,
		     "broken YAML is left to the native parser's message");
	cr_assert(!parse("agents: ["));
	cr_assert(strstr(err, "invalid YAML"), "%s", err);
}
