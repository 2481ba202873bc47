#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "bin_routes.h"
#include "route_spec_builder.h"

static const char *bank_of(const struct route_table *t, const char *pan)
{
	struct route_hit hit;
	if (!route_table_lookup(t, pan, strlen(pan), &hit))
		return "none";
	return hit.bank->name;
}

Test(bin_routes, most_specific_range_wins)
{
	struct route_spec specs[] = {
		test_route_spec("510510", "510510", "six", 1),
		test_route_spec("51051000", "51051049", "eight", 2),
		test_route_spec("51051000555", "51051000555", "eleven", 3),
	};
	char err[256];
	struct route_table *t = route_table_build(specs, 3, 1, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_str_eq(bank_of(t, "5105100055500007"), "eleven");
	cr_assert_str_eq(bank_of(t, "5105100055600007"), "eight");
	cr_assert_str_eq(bank_of(t, "5105104900000007"), "eight");
	cr_assert_str_eq(bank_of(t, "5105105000000007"), "six", "outside the 8-digit range, inside the 6-digit one");
	cr_assert_str_eq(bank_of(t, "5105110000000007"), "none");
	route_table_free(t);
}

Test(bin_routes, every_length_from_6_to_11)
{
	struct route_spec specs[6];
	char names[6][8];
	const char *pan = "45678901234567";
	for (int len = 6; len <= 11; len++) {
		char prefix[12];
		memcpy(prefix, pan, (size_t)len);
		prefix[len] = '\0';
		snprintf(names[len - 6], sizeof(names[0]), "len%d", len);
		specs[len - 6] = test_route_spec(prefix, prefix, names[len - 6], (uint16_t)(100 + len));
	}
	char err[256];
	struct route_table *t = route_table_build(specs, 6, 1, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_str_eq(bank_of(t, pan), "len11");
	/* Differ at digit k+1: the longest matching length is k. */
	for (int k = 6; k <= 10; k++) {
		char other[20];
		strcpy(other, pan);
		other[k] = other[k] == '9' ? '0' : (char)(other[k] + 1);
		char want[8];
		snprintf(want, sizeof(want), "len%d", k);
		cr_assert_str_eq(bank_of(t, other), want, "pan %s", other);
	}
	route_table_free(t);
}

Test(bin_routes, range_bounds_are_inclusive)
{
	struct route_spec specs[] = {
		test_route_spec("51999100", "51999199", "lil", 1),
		test_route_spec("51999200", "51999200", "edge", 2),
		test_route_spec("41111111", "41111111", "visa", 3),
	};
	char err[256];
	struct route_table *t = route_table_build(specs, 3, 1, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_str_eq(bank_of(t, "5199910000000000"), "lil");
	cr_assert_str_eq(bank_of(t, "5199919999999999"), "lil");
	cr_assert_str_eq(bank_of(t, "5199909999999999"), "none");
	cr_assert_str_eq(bank_of(t, "5199920000000000"), "edge");
	cr_assert_str_eq(bank_of(t, "5199920100000000"), "none");
	cr_assert_str_eq(bank_of(t, "4111111111111111"), "visa");
	cr_assert_str_eq(bank_of(t, "41111"), "none", "shorter than any BIN");
	cr_assert_str_eq(bank_of(t, "4111a11111111111"), "none", "not digits");
	route_table_free(t);
}

Test(bin_routes, banks_resolve_to_their_endpoint)
{
	struct route_spec specs[] = {test_route_spec("510510", "510510", "a", 9101), test_route_spec("520000", "529999", "a", 9101)};
	char err[256];
	struct route_table *t = route_table_build(specs, 2, 7, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_eq(t->bank_count, 1);
	cr_assert_eq(t->version, 7);
	struct route_hit hit;
	cr_assert(route_table_lookup(t, "5250000000000000", 16, &hit));
	cr_assert_eq(ntohs(hit.bank->iso.sin_port), 9101);
	cr_assert_eq(hit.bin_length, 6);
	route_table_free(t);
}

Test(bin_routes, rejects_bad_specs_with_a_reason)
{
	struct {
		struct route_spec s[2];
		size_t n;
		const char *reason;
	} cases[] = {
		{{test_route_spec("51051", "51051", "a", 1)}, 1, "6 to 11 digits"},
		{{test_route_spec("51051x", "51051x", "a", 1)}, 1, "6 to 11 digits"},
		{{test_route_spec("510510", "5105109", "a", 1)}, 1, "like low"},
		{{test_route_spec("510519", "510510", "a", 1)}, 1, "above high"},
		{{test_route_spec("510510", "510510", "", 1)}, 1, "no bank"},
		{{test_route_spec("510510", "510510", "a", 0)}, 1, "endpoint"},
		{{test_route_spec("510510", "510520", "a", 1), test_route_spec("510515", "510530", "b", 2)}, 2, "overlap"},
		{{test_route_spec("510510", "510510", "a", 1), test_route_spec("520000", "520000", "a", 2)}, 2, "two endpoints"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct route_table *t = route_table_build(cases[i].s, cases[i].n, 1, err, sizeof(err));
		cr_assert_null(t, "case %zu accepted", i);
		cr_assert(strstr(err, cases[i].reason), "case %zu: '%s' lacks '%s'", i, err, cases[i].reason);
	}
}

Test(bin_routes, empty_table_routes_nothing)
{
	char err[64];
	struct route_table *t = route_table_build(NULL, 0, 1, err, sizeof(err));
	cr_assert_not_null(t);
	cr_assert_str_eq(bank_of(t, "5105100000000000"), "none");
	route_table_free(t);
}

Test(bin_routes, specs_from_the_config_of_one_network)
{
	struct ecosystem_config c;
	memset(&c, 0, sizeof(c));
	c.bank_count = 2;
	strcpy(c.banks[0].name, "big_bank");
	strcpy(c.banks[0].iso.host, "127.0.0.1");
	c.banks[0].iso.port = 9101;
	c.banks[0].network_count = 2;
	strcpy(c.banks[0].networks[0].network, "mastercard");
	c.banks[0].networks[0].bin_count = 1;
	strcpy(c.banks[0].networks[0].bins[0].low, "51051000");
	strcpy(c.banks[0].networks[0].bins[0].high, "51051000");
	strcpy(c.banks[0].networks[1].network, "visa");
	c.banks[0].networks[1].bin_count = 1;
	strcpy(c.banks[0].networks[1].bins[0].low, "41111111");
	strcpy(c.banks[0].networks[1].bins[0].high, "41111111");
	strcpy(c.banks[1].name, "lil_bank");
	strcpy(c.banks[1].iso.host, "127.0.0.1");
	c.banks[1].iso.port = 9102;
	c.banks[1].network_count = 1;
	strcpy(c.banks[1].networks[0].network, "mastercard");
	c.banks[1].networks[0].bin_count = 1;
	strcpy(c.banks[1].networks[0].bins[0].low, "51999100");
	strcpy(c.banks[1].networks[0].bins[0].high, "51999199");

	struct route_spec specs[8];
	size_t n = route_specs_from_config(&c, "mastercard", specs, 8);
	cr_assert_eq(n, 2);
	char err[256];
	struct route_table *t = route_table_build(specs, n, 1, err, sizeof(err));
	cr_assert_not_null(t, "%s", err);
	cr_assert_str_eq(bank_of(t, "5105100000000001"), "big_bank");
	cr_assert_str_eq(bank_of(t, "5199915000000001"), "lil_bank");
	cr_assert_str_eq(bank_of(t, "4111111100000001"), "none", "visa's BIN is not mastercard's");
	route_table_free(t);
}
