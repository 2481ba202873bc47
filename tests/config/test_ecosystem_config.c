/*
 * config/ecosystem.yaml loading: the shipped file and the seed topology, the
 * defaults, and one test per kind of mistake, each checking that the message
 * names the file, the line, the key path and the bad value.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecosystem_config.h"

/* A small valid ecosystem; the line numbers in the comments are the ones the errors must name. */
static const char BASE[] = "banks:\n"                              /* 1 */
			   "  - name: big_bank\n"                  /* 2 */
			   "    institution_id: \"10000000001\"\n" /* 3 */
			   "    http: 127.0.0.1:8101\n"            /* 4 */
			   "    iso: 127.0.0.1:9101\n"             /* 5 */
			   "    durability: async\n"               /* 6 */
			   "    networks:\n"                       /* 7 */
			   "      - network: mastercard\n"         /* 8 */
			   "        bins: [\"51051000\"]\n"        /* 9 */
			   "      - network: visa\n"               /* 10 */
			   "        bins: [\"41111111\"]\n"        /* 11 */
			   "  - name: lil_bank\n"                  /* 12 */
			   "    institution_id: \"20000000002\"\n" /* 13 */
			   "    http: 127.0.0.1:8102\n"            /* 14 */
			   "    iso: 127.0.0.1:9102\n"             /* 15 */
			   "    durability: sync\n"                /* 16 */
			   "    networks:\n"                       /* 17 */
			   "      - network: mastercard\n"         /* 18 */
			   "        bins: [\"51999100-51999199\"]\n" /* 19 */
			   "networks:\n"                           /* 20 */
			   "  - name: mastercard\n"                /* 21 */
			   "    major_industry_id: 5\n"            /* 22 */
			   "    http: 127.0.0.1:8201\n"            /* 23 */
			   "    iso: 127.0.0.1:9201\n"             /* 24 */
			   "  - name: visa\n"                      /* 25 */
			   "    major_industry_id: 4\n"            /* 26 */
			   "    http: 127.0.0.1:8202\n"            /* 27 */
			   "    iso: 127.0.0.1:9202\n";            /* 28 */

static struct ecosystem_config cfg;
static char err[512];

/* BASE with the first occurrence of `from` replaced by `to` (which must exist). */
static char *base_with(const char *from, const char *to)
{
	const char *at = strstr(BASE, from);
	cr_assert_not_null(at, "test bug: '%s' is not in BASE", from);
	size_t head = (size_t)(at - BASE), from_len = strlen(from), to_len = strlen(to);
	char *out = malloc(sizeof BASE - from_len + to_len);
	memcpy(out, BASE, head);
	memcpy(out + head, to, to_len);
	strcpy(out + head + to_len, at + from_len);
	return out;
}

static char *concat(const char *a, const char *b)
{
	char *out = malloc(strlen(a) + strlen(b) + 1);
	strcpy(out, a);
	strcat(out, b);
	return out;
}

static bool parse_text(const char *yaml)
{
	memset(err, 0, sizeof err);
	return ecosystem_config_parse(yaml, strlen(yaml), "test.yaml", &cfg, err, sizeof err);
}

/* The mutated BASE must fail, with a message holding every one of the given pieces. */
static void expect_error(const char *from, const char *to, const char *piece1, const char *piece2)
{
	char *yaml = base_with(from, to);
	bool ok = parse_text(yaml);
	free(yaml);
	cr_assert_not(ok, "'%s' -> '%s' was accepted", from, to);
	cr_assert_not_null(strstr(err, piece1), "message '%s' lacks '%s'", err, piece1);
	if (piece2)
		cr_assert_not_null(strstr(err, piece2), "message '%s' lacks '%s'", err, piece2);
	cr_assert_null(strchr(err, '\n'), "message is not one line: '%s'", err);
}

Test(ecosystem_config, shipped_file_has_the_seed_topology)
{
	const char *src = getenv("ISO_SOURCE_DIR");
	cr_assert_not_null(src, "ISO_SOURCE_DIR is not set (run through ctest)");
	char path[1024];
	snprintf(path, sizeof path, "%s/config/ecosystem.yaml", src);
	cr_assert(ecosystem_config_load(path, &cfg, err, sizeof err), "%s", err);
	cr_assert_str_eq(cfg.source, path);

	cr_assert_eq(cfg.bank_count, 2);
	cr_assert_eq(cfg.network_count, 2);
	const struct cfg_network *mc = ecosystem_find_network(&cfg, "mastercard");
	const struct cfg_network *visa = ecosystem_find_network(&cfg, "visa");
	cr_assert_not_null(mc);
	cr_assert_not_null(visa);
	cr_assert_eq(mc->major_industry_id, 5);
	cr_assert_eq(visa->major_industry_id, 4);
	cr_assert_str_eq(mc->dataplane, "socket");

	const struct cfg_bank *big = ecosystem_find_bank(&cfg, "big_bank");
	const struct cfg_bank *lil = ecosystem_find_bank(&cfg, "lil_bank");
	cr_assert_not_null(big);
	cr_assert_not_null(lil);
	cr_assert_null(ecosystem_find_bank(&cfg, "no_bank"));
	cr_assert_null(ecosystem_find_network(&cfg, "amex"));

	cr_assert_eq(big->network_count, 2);
	cr_assert_str_eq(big->networks[0].network, "mastercard");
	cr_assert_str_eq(big->networks[0].bins[0].low, "51051000");
	cr_assert_str_eq(big->networks[0].bins[0].high, "51051000");
	cr_assert_eq(big->networks[0].bins[0].length, 8);
	cr_assert_str_eq(big->networks[1].network, "visa");
	cr_assert_str_eq(big->networks[1].bins[0].low, "41111111");

	cr_assert_eq(lil->network_count, 1);
	cr_assert_str_eq(lil->networks[0].network, "mastercard");
	cr_assert_str_eq(lil->networks[0].bins[0].low, "51999100");
	cr_assert_str_eq(lil->networks[0].bins[0].high, "51999199");

	cr_assert_str_eq(big->http.host, "127.0.0.1");
	cr_assert_eq(big->http.port, 8101);
	cr_assert_gt(cfg.loadgen.cards_per_bank, 0);
	cr_assert_str_eq(cfg.loadgen.currency, "978");
}

Test(ecosystem_config, defaults_fill_optional_keys)
{
	cr_assert(parse_text(BASE), "%s", err);
	const struct cfg_bank *lil = &cfg.banks[1];
	cr_assert_eq(lil->durability, DURABILITY_SYNC);
	cr_assert_eq(cfg.banks[0].durability, DURABILITY_ASYNC);
	cr_assert_str_eq(lil->lmdb_path, "var/lil_bank");
	cr_assert_eq(lil->lmdb_map_size, 1ull << 33);
	cr_assert_eq(lil->answer_budget_ms, 100);
	cr_assert_eq(lil->batch_max, 256);
	cr_assert_eq(lil->fraud.max_amount, 0);
	cr_assert_eq(lil->faults.drop_probability, 0.0);
	const struct cfg_network *visa = &cfg.networks[1];
	cr_assert_str_eq(visa->lmdb_path, "var/visa");
	cr_assert_str_eq(visa->dataplane, "socket");
	cr_assert_eq(visa->bank_timeout_ms, 250);
	cr_assert_eq(visa->reversal_retry_ms, 200);
	cr_assert_eq(visa->reversal_retry_max_ms, 30000);
	cr_assert_eq(visa->reversal_window, 64);
	cr_assert_eq(visa->reversal_drain_per_s, 2000);
	cr_assert_eq(visa->reversal_retention_s, 86400);
	cr_assert_eq(visa->outcome_memory, 262144);
	cr_assert_eq(visa->card_production_ms, 200);
	cr_assert_eq(cfg.loadgen.rate, 1000);
	cr_assert_eq(cfg.loadgen.duration_s, 10);
	cr_assert_eq(cfg.loadgen.arrivals, ARRIVAL_POISSON);
	cr_assert_eq(cfg.loadgen.cards_per_bank, 1000);
	cr_assert_eq(cfg.loadgen.min_amount, 100);
	cr_assert_eq(cfg.loadgen.max_amount, 20000);
	cr_assert_str_eq(cfg.loadgen.currency, "978");
	cr_assert_str_eq(cfg.loadgen.acquirer_id, "30000000003");
}

Test(ecosystem_config, every_key_can_be_set)
{
	char *yaml = base_with("    durability: sync\n",
			       "    durability: nometasync\n"
			       "    lmdb_path: /tmp/lil\n"
			       "    lmdb_map_size: 2097152\n"
			       "    batch_max: 64\n"
			       "    fraud:\n"
			       "      max_amount: 500\n"
			       "      max_approvals_per_minute: 3\n"
			       "    faults:\n"
			       "      delay_probability: 0.25\n"
			       "      delay_ms: 7\n"
			       "      drop_probability: 1\n");
	size_t len = strlen(yaml);
	const char *more = "    dataplane: dpdk\n    bank_timeout_ms: 99\n"
			   "    reversal_retry_ms: 50\n    reversal_retry_max_ms: 800\n    reversal_window: 3\n"
			   "    reversal_drain_per_s: 10\n    reversal_retention_s: 60\n    reversal_max_attempts: 5\n"
			   "loadgen:\n  rate: 5\n  duration_s: 2\n  max_requests: 9\n  arrivals: constant\n"
			   "  cards_per_bank: 10\n  initial_balance: 7\n  min_amount: 1\n  max_amount: 1\n"
			   "  timeout_ms: 3\n  currency: \"840\"\n  acquirer_id: \"42\"\n";
	yaml = realloc(yaml, len + strlen(more) + 1);
	strcpy(yaml + len, more);
	bool ok = parse_text(yaml);
	free(yaml);
	cr_assert(ok, "%s", err);
	const struct cfg_bank *lil = &cfg.banks[1];
	cr_assert_eq(lil->durability, DURABILITY_NOMETASYNC);
	cr_assert_str_eq(durability_name(lil->durability), "nometasync");
	cr_assert_str_eq(lil->lmdb_path, "/tmp/lil");
	cr_assert_eq(lil->lmdb_map_size, 2097152);
	cr_assert_eq(lil->batch_max, 64);
	cr_assert_eq(lil->fraud.max_amount, 500);
	cr_assert_eq(lil->fraud.max_approvals_per_minute, 3);
	cr_assert_eq(lil->faults.delay_probability, 0.25);
	cr_assert_eq(lil->faults.delay_ms, 7);
	cr_assert_eq(lil->faults.drop_probability, 1.0);
	cr_assert_str_eq(cfg.networks[1].dataplane, "dpdk");
	cr_assert_eq(cfg.networks[1].bank_timeout_ms, 99);
	cr_assert_eq(cfg.networks[1].reversal_retry_ms, 50);
	cr_assert_eq(cfg.networks[1].reversal_retry_max_ms, 800);
	cr_assert_eq(cfg.networks[1].reversal_window, 3);
	cr_assert_eq(cfg.networks[1].reversal_drain_per_s, 10);
	cr_assert_eq(cfg.networks[1].reversal_retention_s, 60);
	cr_assert_eq(cfg.loadgen.rate, 5);
	cr_assert_eq(cfg.loadgen.max_requests, 9);
	cr_assert_eq(cfg.loadgen.arrivals, ARRIVAL_CONSTANT);
	cr_assert_eq(cfg.loadgen.cards_per_bank, 10);
	cr_assert_str_eq(cfg.loadgen.currency, "840");
	cr_assert_str_eq(cfg.loadgen.acquirer_id, "42");
}

Test(ecosystem_config, bad_durability_names_file_line_key_and_value)
{
	char *yaml = base_with("durability: sync", "durability: fast");
	cr_assert_not(parse_text(yaml));
	free(yaml);
	cr_assert_str_eq(err, "test.yaml:16: banks[1].durability: 'fast' is not one of sync, nometasync, async");
}

Test(ecosystem_config, bad_ports_and_hosts)
{
	expect_error("127.0.0.1:8102", "127.0.0.1:0", "test.yaml:14: banks[1].http: '127.0.0.1:0'", "1..65535");
	expect_error("127.0.0.1:8102", "127.0.0.1:65536", "banks[1].http: '127.0.0.1:65536'", "1..65535");
	expect_error("127.0.0.1:9202", "127.0.0.1:http", "test.yaml:28: networks[1].iso", "1..65535");
	expect_error("127.0.0.1:9202", "127.0.0.1", "networks[1].iso: '127.0.0.1' is not host:port", NULL);
	expect_error("127.0.0.1:8102", "localhost:8102", "banks[1].http: 'localhost:8102'", "IPv4");
	expect_error("127.0.0.1:8102", "127.0.0.1:8101", "banks[1].http: '127.0.0.1:8101' is already the endpoint of banks[0].http", NULL);
}

Test(ecosystem_config, missing_required_key)
{
	expect_error("    institution_id: \"20000000002\"\n", "", "test.yaml:12: banks[1].institution_id: missing required key", NULL);
	expect_error("    major_industry_id: 4\n", "", "networks[1].major_industry_id: missing required key", NULL);
	expect_error("networks:\n", "unused:\n", "unknown key", NULL);
}

Test(ecosystem_config, unknown_keys_are_errors)
{
	expect_error("durability: sync", "durabilty: sync", "test.yaml:16: banks[1].durabilty: unknown key", "durability");
	expect_error("    iso: 127.0.0.1:9202\n", "    iso: 127.0.0.1:9202\n    timeout_ms: 5\n",
		     "test.yaml:29: networks[1].timeout_ms: unknown key", NULL);
	expect_error("banks:\n", "bank:\n", "test.yaml:1: bank: unknown key", NULL);
}

Test(ecosystem_config, duplicate_keys_and_names)
{
	expect_error("    durability: sync\n", "    durability: sync\n    durability: async\n",
		     "test.yaml:17: banks[1].durability: key given twice (first at line 16)", NULL);
	expect_error("name: lil_bank", "name: big_bank", "test.yaml:12: banks[1].name: 'big_bank' is already the name of banks[0]", NULL);
	expect_error("name: visa", "name: mastercard", "test.yaml:25: networks[1].name: 'mastercard'", "already");
	expect_error("\"20000000002\"", "\"10000000001\"", "banks[1].institution_id: '10000000001'", "big_bank");
}

Test(ecosystem_config, bad_bins)
{
	expect_error("\"51051000\"", "\"5105\"", "test.yaml:9: banks[0].networks[0].bins[0]: '5105'", "6 to 11 digits");
	expect_error("\"51051000\"", "\"510510001234\"", "banks[0].networks[0].bins[0]: '510510001234'", NULL);
	expect_error("\"51051000\"", "\"5105100x\"", "banks[0].networks[0].bins[0]: '5105100x'", NULL);
	expect_error("\"51051000\"", "\"51051000-\"", "banks[0].networks[0].bins[0]", NULL);
	expect_error("\"51051000\"", "[]", "banks[0].networks[0].bins[0]: expected a single value", NULL);
	expect_error("[\"51051000\"]", "[]", "banks[0].networks[0].bins: the list is empty", NULL);
}

Test(ecosystem_config, bin_range_ends_must_match)
{
	expect_error("51999100-51999199", "51999100-5199919", "test.yaml:19: banks[1].networks[0].bins[0]: '51999100-5199919'",
		     "differ in length (8 and 7 digits)");
	expect_error("51999100-51999199", "51999199-51999100", "banks[1].networks[0].bins[0]", "low end is above its high end");
}

Test(ecosystem_config, agents_never_share_an_lmdb_environment)
{
	expect_error("    durability: sync\n", "    durability: sync\n    lmdb_path: var/big_bank/\n",
		     "test.yaml:17: banks[1].lmdb_path: 'var/big_bank/' is already the LMDB path of banks[0]", NULL);
	expect_error("    durability: sync\n", "    durability: sync\n    lmdb_path: var/visa\n",
		     "banks[1].lmdb_path: 'var/visa' is already the LMDB path of networks[1]", NULL);
}

/*
 * Bad input of any kind gets an error, never a crash: random byte edits of a
 * valid file either still load or fail with one "test.yaml:<line>: " line.
 */
Test(ecosystem_config, random_edits_fail_cleanly)
{
	static const char pool[] = ":-[]{}\"'#&*!|>%@`,?\t\n 0123456789abcxyz.\\\x01\xff";
	unsigned seed = 2026;
	char yaml[sizeof BASE];
	int accepted = 0;
	for (int round = 0; round < 3000; round++) {
		memcpy(yaml, BASE, sizeof BASE);
		int edits = 1 + round % 3;
		for (int e = 0; e < edits; e++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = (seed >> 8) % (sizeof BASE - 1);
			seed = seed * 1103515245u + 12345u;
			yaml[at] = pool[(seed >> 8) % (sizeof pool - 1)];
		}
		if (parse_text(yaml)) {
			accepted++;
			continue;
		}
		cr_assert_eq(strncmp(err, "test.yaml:", 10), 0, "'%s'", err);
		cr_assert(err[10] >= '1' && err[10] <= '9', "'%s'", err);
		cr_assert_null(strchr(err, '\n'), "'%s'", err);
	}
	cr_assert_lt(accepted, 3000, "no edit was ever refused: the checks are not running");
}

Test(ecosystem_config, bins_must_fit_their_network)
{
	expect_error("\"41111111\"", "\"51111111\"", "banks[0].networks[1].bins[0]: '51111111' does not start with visa's major industry id 4", NULL);
	expect_error("51999100-51999199", "51051000-51051099", "banks[1].networks[0].bins[0]: '51051000-51051099' overlaps '51051000' of big_bank on mastercard", NULL);
	/* A longer BIN inside a shorter one is fine: the most specific wins. */
	char *yaml = base_with("51999100-51999199", "510510001");
	bool ok = parse_text(yaml);
	free(yaml);
	cr_assert(ok, "%s", err);
	/* An 11-digit BIN leaves 4 index digits: 1000 cards fit, 20000 do not. */
	yaml = base_with("51999100-51999199", "51999100123");
	cr_assert(parse_text(yaml), "%s", err);
	free(yaml);
	yaml = base_with("51999100-51999199", "51999100123");
	char *with_loadgen = concat(yaml, "loadgen:\n  cards_per_bank: 20000\n");
	free(yaml);
	cr_assert_not(parse_text(with_loadgen));
	free(with_loadgen);
	cr_assert_str_eq(err, "test.yaml:19: banks[1].networks[0].bins[0]: BIN '51999100123' leaves 4 digits for "
			      "generated card indexes, too few for loadgen.cards_per_bank 20000");
}

Test(ecosystem_config, bank_must_name_a_configured_network)
{
	expect_error("network: visa", "network: amex",
		     "test.yaml:10: banks[0].networks[1].network: 'amex' is not a configured network (networks: mastercard, visa)", NULL);
	expect_error("      - network: visa\n", "      - network: mastercard\n", "banks[0].networks[1].network: 'mastercard' is listed twice", NULL);
}

Test(ecosystem_config, out_of_range_numbers_and_probabilities)
{
	expect_error("major_industry_id: 4", "major_industry_id: 10", "test.yaml:26: networks[1].major_industry_id: '10' is out of range 0..9", NULL);
	expect_error("major_industry_id: 4", "major_industry_id: -4", "networks[1].major_industry_id: '-4' is not an unsigned decimal integer", NULL);
	expect_error("major_industry_id: 4", "major_industry_id: 99999999999999999999999", "networks[1].major_industry_id", "not an unsigned");
	expect_error("    durability: sync\n", "    durability: sync\n    faults:\n      drop_probability: 1.5\n",
		     "test.yaml:18: banks[1].faults.drop_probability: '1.5' is not a probability in [0, 1]", NULL);
	expect_error("    durability: sync\n", "    durability: sync\n    faults:\n      delay_probability: nan\n",
		     "banks[1].faults.delay_probability: 'nan'", NULL);
	expect_error("    durability: sync\n", "    durability: sync\n    batch_max: 0\n", "banks[1].batch_max: '0' is out of range", NULL);
	expect_error("    durability: sync\n", "    durability: sync\n    fraud: 5\n", "banks[1].fraud: expected a mapping", NULL);
	expect_error("  - name: visa\n", "  - name: visa\n    dataplane: xdp\n", "networks[1].dataplane: 'xdp' is not one of socket, dpdk", NULL);
	expect_error("  - name: visa\n", "  - name: visa\n    reversal_retry_ms: 500\n    reversal_retry_max_ms: 400\n",
		     "networks[1].reversal_retry_max_ms: 400 is below reversal_retry_ms (500)", NULL);
	expect_error("  - name: visa\n", "  - name: visa\n    reversal_window: 0\n", "networks[1].reversal_window: '0' is out of range", NULL);
}

Test(ecosystem_config, loadgen_is_checked)
{
	char yaml[sizeof BASE + 128];
	snprintf(yaml, sizeof yaml, "%sloadgen:\n  arrivals: bursty\n", BASE);
	cr_assert_not(parse_text(yaml));
	cr_assert_str_eq(err, "test.yaml:30: loadgen.arrivals: 'bursty' is not one of constant, poisson");
	snprintf(yaml, sizeof yaml, "%sloadgen:\n  min_amount: 500\n  max_amount: 100\n", BASE);
	cr_assert_not(parse_text(yaml));
	cr_assert_not_null(strstr(err, "test.yaml:31: loadgen.max_amount"), "%s", err);
	snprintf(yaml, sizeof yaml, "%sloadgen:\n  currency: \"97\"\n", BASE);
	cr_assert_not(parse_text(yaml));
	cr_assert_not_null(strstr(err, "loadgen.currency: '97' must be exactly 3 characters long"), "%s", err);
}

Test(ecosystem_config, malformed_yaml_names_its_line)
{
	/* A tab cannot indent YAML. */
	expect_error("    http: 127.0.0.1:8102\n", "\thttp: 127.0.0.1:8102\n", "test.yaml:14: invalid YAML", NULL);
	expect_error("        bins: [\"51999100-51999199\"]\n", "        bins: [\"51999100-51999199\"\n", "invalid YAML", NULL);
	cr_assert_not(parse_text(""));
	cr_assert_not_null(strstr(err, "test.yaml:1: the document is empty"), "%s", err);
	cr_assert_not(parse_text("banks: 5\nnetworks: []\n"));
	cr_assert_not_null(strstr(err, "networks: the list is empty"), "%s", err);
	cr_assert_not(parse_text("- a\n- b\n"));
	cr_assert_not_null(strstr(err, "expected a mapping"), "%s", err);
	char two_docs[sizeof BASE + 32];
	snprintf(two_docs, sizeof two_docs, "%s---\nbanks: []\n", BASE);
	cr_assert_not(parse_text(two_docs));
	cr_assert_not_null(strstr(err, "test.yaml:30: a second YAML document"), "%s", err);
	char nul_inside[] = "banks: \"a\\0b\"\n";
	cr_assert_not(parse_text(nul_inside));
}

Test(ecosystem_config, wrong_shapes)
{
	cr_assert_not(parse_text("networks:\n  - name: visa\n    major_industry_id: 4\n    http: 127.0.0.1:1\n    iso: 127.0.0.1:2\nbanks: 5\n"));
	cr_assert_str_eq(err, "test.yaml:6: banks: expected a list, found '5'");
}

Test(ecosystem_config, missing_file)
{
	cr_assert_not(ecosystem_config_load("/nonexistent/ecosystem.yaml", &cfg, err, sizeof err));
	cr_assert_str_eq(err, "/nonexistent/ecosystem.yaml: cannot open: No such file or directory");
}

Test(ecosystem_config, durability_names)
{
	cr_assert_str_eq(durability_name(DURABILITY_SYNC), "sync");
	cr_assert_str_eq(durability_name(DURABILITY_NOMETASYNC), "nometasync");
	cr_assert_str_eq(durability_name(DURABILITY_ASYNC), "async");
}

Test(ecosystem_config, pan_protection_key_file_global_and_per_agent)
{
	cr_assert(parse_text(BASE), "%s", err);
	cr_assert_str_eq(cfg.banks[0].pan_key_file, "", "no key file configured: empty (the agents refuse to start)");

	char *yaml = concat("pan_protection:\n  key_file: /etc/iso/pan.keys\n", BASE);
	cr_assert(parse_text(yaml), "%s", err);
	free(yaml);
	cr_assert_str_eq(cfg.pan_key_file, "/etc/iso/pan.keys");
	cr_assert_str_eq(cfg.banks[1].pan_key_file, "/etc/iso/pan.keys", "agents inherit the global key file");
	cr_assert_str_eq(cfg.networks[1].pan_key_file, "/etc/iso/pan.keys");

	char *own = base_with("    durability: sync\n", "    durability: sync\n    pan_protection: {key_file: lil.keys}\n");
	yaml = concat("pan_protection:\n  key_file: /etc/iso/pan.keys\n", own);
	free(own);
	cr_assert(parse_text(yaml), "%s", err);
	free(yaml);
	cr_assert_str_eq(cfg.banks[1].pan_key_file, "lil.keys", "a bank's own key file wins");
	cr_assert_str_eq(cfg.banks[0].pan_key_file, "/etc/iso/pan.keys");

	expect_error("    iso: 127.0.0.1:9201\n", "    iso: 127.0.0.1:9201\n    pan_protection: {key: abc}\n",
		     "networks[0].pan_protection", "key");
	expect_error("    iso: 127.0.0.1:9201\n", "    iso: 127.0.0.1:9201\n    pan_protection: {}\n",
		     "networks[0].pan_protection.key_file", "missing");
}
