/*
 * bank-node's command line: the option table's ranges and messages, unknown
 * options and missing values, --help naming every option, and the overrides
 * applied over the bank's config entry.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_node.h"

static struct bank_options o;
static char err[256];

/* Parses {"bank-node", "--config", "c.yaml", "--bank", "b", more...}. */
static bool parse_with(const char *const *more, int more_count)
{
	const char *argv[40] = {"bank-node", "--config", "c.yaml", "--bank", "b"};
	cr_assert_leq(more_count, 35);
	for (int i = 0; i < more_count; i++)
		argv[5 + i] = more[i];
	err[0] = '\0';
	return bank_options_parse(5 + more_count, (char **)argv, &o, err, sizeof err);
}

#define PARSE(...)                                                                                                    \
	parse_with((const char *const[]){__VA_ARGS__}, (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)))

static void expect_bad(bool ok, const char *message)
{
	cr_expect_not(ok, "accepted, expected: %s", message);
	cr_expect_str_eq(err, message);
}

Test(bank_options, nothing_given_leaves_every_override_unset)
{
	cr_assert(parse_with(NULL, 0), "%s", err);
	cr_expect_str_eq(o.config_path, "c.yaml");
	cr_expect_str_eq(o.bank_name, "b");
	cr_expect_null(o.lmdb_path);
	cr_expect(o.http_port < 0 && o.iso_port < 0 && o.durability < 0);
	cr_expect(o.batch_max < 0 && o.answer_budget_ms < 0 && o.delay_ms < 0);
	cr_expect(o.delay_probability < 0 && o.drop_probability < 0);
	cr_expect_not(o.seed_set);
}

Test(bank_options, every_option_lands_in_its_field)
{
	cr_assert(PARSE("--lmdb-path", "/tmp/x", "--http-port", "65535", "--iso-port", "1", "--durability", "nometasync",
			"--batch-max", "1048576", "--answer-budget-ms", "0", "--delay-probability", "1", "--delay-ms",
			"600000", "--drop-probability", "0.25", "--seed", "18446744073709551615"),
		  "%s", err);
	cr_expect_str_eq(o.lmdb_path, "/tmp/x");
	cr_expect_eq(o.http_port, 65535);
	cr_expect_eq(o.iso_port, 1);
	cr_expect_eq(o.durability, DURABILITY_NOMETASYNC);
	cr_expect_eq(o.batch_max, 1 << 20);
	cr_expect_eq(o.answer_budget_ms, 0);
	cr_expect_float_eq(o.delay_probability, 1.0, 1e-12);
	cr_expect_eq(o.delay_ms, 600000);
	cr_expect_float_eq(o.drop_probability, 0.25, 1e-12);
	cr_expect(o.seed_set);
	cr_expect_eq(o.seed, UINT64_MAX);
	cr_expect(PARSE("--durability", "sync"));
	cr_expect_eq(o.durability, DURABILITY_SYNC);
	cr_expect(PARSE("--durability", "async"));
	cr_expect_eq(o.durability, DURABILITY_ASYNC);
}

Test(bank_options, values_out_of_range_say_what_was_expected)
{
	expect_bad(PARSE("--http-port", "0"), "--http-port: '0' is not a port (1-65535)");
	expect_bad(PARSE("--iso-port", "65536"), "--iso-port: '65536' is not a port (1-65535)");
	expect_bad(PARSE("--durability", "fast"), "--durability: 'fast' is not one of sync, nometasync, async");
	expect_bad(PARSE("--batch-max", "0"), "--batch-max: '0' is not a count (1-1048576)");
	expect_bad(PARSE("--answer-budget-ms", "60001"),
		   "--answer-budget-ms: '60001' is not a time in ms (0-60000, 0 = never shed)");
	expect_bad(PARSE("--delay-probability", "1.5"), "--delay-probability: '1.5' is not a probability in [0, 1]");
	expect_bad(PARSE("--drop-probability", "nan"), "--drop-probability: 'nan' is not a probability in [0, 1]");
	expect_bad(PARSE("--delay-ms", "600001"), "--delay-ms: '600001' is not a delay in ms (0-600000)");
	expect_bad(PARSE("--seed", "x"), "--seed: 'x' is not an unsigned integer");
	expect_bad(PARSE("--http-port", "80x"), "--http-port: '80x' is not a port (1-65535)");
}

Test(bank_options, unknown_options_missing_values_and_strays_are_refused)
{
	expect_bad(PARSE("--bogus"), "unknown or incomplete option '--bogus'");
	expect_bad(PARSE("--seed"), "unknown or incomplete option '--seed'");
	expect_bad(PARSE("--help=1"), "unknown or incomplete option '--help=1'");
	expect_bad(PARSE("stray"), "unexpected argument 'stray'");
	const char *no_bank[] = {"bank-node", "--config", "c.yaml"};
	cr_expect_not(bank_options_parse(3, (char **)no_bank, &o, err, sizeof err));
	cr_expect_str_eq(err, "--config and --bank are required");
	expect_bad(PARSE("--help"), "help");
}

Test(bank_options, help_names_every_option)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	cr_assert_not_null(out);
	bank_options_usage(out);
	fclose(out);
	static const char *const options[] = {
		"--config FILE", "--bank NAME", "--lmdb-path DIR", "--http-port N", "--iso-port N",
		"--durability sync|nometasync|async", "--batch-max N", "--answer-budget-ms N", "--delay-probability P",
		"--delay-ms N", "--drop-probability P", "--seed N", "--help",
	};
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
		cr_expect(strstr(text, options[i]), "usage does not list %s:\n%s", options[i], text);
	cr_expect(strstr(text, "(0-60000, 0 = never shed"), "the budget's range as the parser has it:\n%s", text);
	free(text);
}

Test(bank_options, given_options_override_the_config_entry)
{
	struct cfg_bank bank;
	memset(&bank, 0, sizeof bank);
	bank.http.port = 8001;
	bank.iso.port = 9001;
	bank.durability = DURABILITY_SYNC;
	bank.answer_budget_ms = 100;
	bank.faults.delay_ms = 5;
	cr_assert(parse_with(NULL, 0));
	cr_assert(bank_options_apply(&o, &bank, err, sizeof err), "%s", err);
	cr_expect_eq(bank.http.port, 8001, "not given: the config's");
	cr_expect_eq(bank.durability, DURABILITY_SYNC);
	cr_expect_eq(bank.batch_max, 256, "neither given nor configured: 256");
	cr_expect_eq(bank.faults.delay_ms, 5);
	cr_assert(PARSE("--http-port", "8100", "--durability", "async", "--answer-budget-ms", "0", "--batch-max", "7",
			"--drop-probability", "0.5", "--lmdb-path", "/tmp/bank-b"));
	cr_assert(bank_options_apply(&o, &bank, err, sizeof err), "%s", err);
	cr_expect_eq(bank.http.port, 8100);
	cr_expect_eq(bank.iso.port, 9001);
	cr_expect_eq(bank.durability, DURABILITY_ASYNC);
	cr_expect_eq(bank.answer_budget_ms, 0, "0 given is 0, not unset");
	cr_expect_eq(bank.batch_max, 7);
	cr_expect_float_eq(bank.faults.drop_probability, 0.5, 1e-12);
	cr_expect_str_eq(bank.lmdb_path, "/tmp/bank-b");
}
