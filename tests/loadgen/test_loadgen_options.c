/*
 * cardholder-loadgen's command line: the option table's ranges, defaults and
 * errors (unknown option, missing value, value out of range), and a --help
 * that names every option the parser takes.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen_messages.h"
#include "loadgen_options.h"

static struct loadgen_options o;
static char err[256];

/* Parses {"x", "--config", "c.yaml", more...}. */
static int parse_with(const char *const *more, int more_count)
{
	const char *argv[64] = {"x", "--config", "c.yaml"};
	cr_assert_leq(more_count, 61);
	for (int i = 0; i < more_count; i++)
		argv[3 + i] = more[i];
	err[0] = '\0';
	return loadgen_options_parse(3 + more_count, (char **)argv, &o, err, sizeof err);
}

#define PARSE(...)                                                                                                    \
	parse_with((const char *const[]){__VA_ARGS__}, (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *)))

static void expect_bad(int rc, const char *message)
{
	cr_expect_eq(rc, -1, "accepted, expected: %s", message);
	cr_expect_str_eq(err, message);
}

Test(loadgen_option_table, defaults_when_nothing_is_given)
{
	cr_assert_eq(parse_with(NULL, 0), 0, "%s", err);
	cr_expect_str_eq(o.config_path, "c.yaml");
	cr_expect_eq(o.threads, 1);
	cr_expect_eq(o.terminals_per_thread, 16);
	cr_expect_eq(o.batch, 8);
	cr_expect_eq(o.reversal_attempts, 3);
	cr_expect_eq(o.seed, 1);
	cr_expect_eq(o.dpdk_udp_port, 7000);
	cr_expect_str_eq(o.bind_host, "127.0.0.1");
	cr_expect_str_eq(o.dataplane, "socket");
	cr_expect(o.progress && o.plots && !o.list_agents);
	cr_expect_null(o.link);
	cr_expect_null(o.report_dir);
	cr_expect_null(o.outcomes_path);
	cr_expect_null(o.only_network);
	cr_expect(!o.has_rate && !o.has_duration && !o.has_max_requests && !o.has_arrivals && !o.has_timeout,
		  "the config decides what was not given");
}

Test(loadgen_option_table, every_option_lands_in_its_field)
{
	cr_assert_eq(PARSE("--rate", "2.5", "--duration", "86400", "--max-requests", "18446744073709551615",
			   "--arrivals", "constant", "--timeout-ms", "600000", "--threads", "64", "--terminals", "99999",
			   "--batch", "64", "--reversal-attempts", "8", "--spin-polls", "0", "--network", "visa",
			   "--seed", "42", "--bind", "10.0.0.1", "--report-dir", "r", "--outcomes", "o.txt",
			   "--no-progress", "--no-plots", "--list-agents", "--dpdk-port", "65535", "--link", "tcp"),
		     0, "%s", err);
	cr_expect_float_eq(o.rate, 2.5, 1e-12);
	cr_expect_float_eq(o.duration_s, 86400, 1e-9);
	cr_expect_eq(o.max_requests, UINT64_MAX);
	cr_expect_eq(o.arrivals, ARRIVAL_CONSTANT);
	cr_expect_eq(o.timeout_ms, 600000);
	cr_expect(o.has_rate && o.has_duration && o.has_max_requests && o.has_arrivals && o.has_timeout);
	cr_expect_eq(o.threads, LOADGEN_MAX_THREADS);
	cr_expect_eq(o.terminals_per_thread, 99999);
	cr_expect_eq(o.batch, 64);
	cr_expect_eq(o.reversal_attempts, LOADGEN_MAX_REVERSAL_ATTEMPTS);
	cr_expect_eq(o.spin_polls, 0);
	cr_expect_str_eq(o.only_network, "visa");
	cr_expect_eq(o.seed, 42);
	cr_expect_str_eq(o.bind_host, "10.0.0.1");
	cr_expect_str_eq(o.report_dir, "r");
	cr_expect_str_eq(o.outcomes_path, "o.txt");
	cr_expect(!o.progress && !o.plots && o.list_agents);
	cr_expect_eq(o.dpdk_udp_port, 65535);
	cr_expect_str_eq(o.link, "tcp");
	cr_expect_eq(PARSE("--arrivals", "poisson"), 0);
	cr_expect_eq(o.arrivals, ARRIVAL_POISSON);
}

Test(loadgen_option_table, values_out_of_range_name_the_option)
{
	expect_bad(PARSE("--threads", "0"), "bad value '0' for --threads");
	expect_bad(PARSE("--threads", "65"), "bad value '65' for --threads");
	expect_bad(PARSE("--terminals", "100000"), "bad value '100000' for --terminals");
	expect_bad(PARSE("--batch", "65"), "bad value '65' for --batch");
	expect_bad(PARSE("--reversal-attempts", "9"), "bad value '9' for --reversal-attempts");
	expect_bad(PARSE("--spin-polls", "1000001"), "bad value '1000001' for --spin-polls");
	expect_bad(PARSE("--timeout-ms", "0"), "bad value '0' for --timeout-ms");
	expect_bad(PARSE("--timeout-ms", "600001"), "bad value '600001' for --timeout-ms");
	expect_bad(PARSE("--dpdk-port", "65536"), "bad value '65536' for --dpdk-port");
	expect_bad(PARSE("--max-requests", "18446744073709551616"), "bad value '18446744073709551616' for --max-requests");
	expect_bad(PARSE("--seed", "-1"), "bad value '-1' for --seed");
	expect_bad(PARSE("--rate", "0"), "bad value '0' for --rate");
	expect_bad(PARSE("--rate", "inf"), "bad value 'inf' for --rate");
	expect_bad(PARSE("--duration", "86401"), "bad value '86401' for --duration");
	expect_bad(PARSE("--threads", "4x"), "bad value '4x' for --threads");
	expect_bad(PARSE("--arrivals", "bursty"), "bad value 'bursty' for --arrivals");
	expect_bad(PARSE("--dataplane", "xdp"), "bad value 'xdp' for --dataplane");
	expect_bad(PARSE("--link", "sctp"), "bad value 'sctp' for --link");
}

Test(loadgen_option_table, unknown_options_and_missing_values_are_refused)
{
	expect_bad(PARSE("--bogus"), "unknown option '--bogus' (see --help)");
	expect_bad(PARSE("--no-plots=yes"), "unknown option '--no-plots=yes' (see --help)");
	expect_bad(PARSE("-x"), "unknown option '-x' (see --help)");
	/* getopt_long reports a missing value like an unknown option; the message names the option. */
	expect_bad(PARSE("--rate"), "unknown option '--rate' (see --help)");
	expect_bad(PARSE("stray"), "unexpected argument 'stray' (EAL arguments go after --)");
	const char *no_config[] = {"x", "--threads", "2"};
	cr_expect_eq(loadgen_options_parse(3, (char **)no_config, &o, err, sizeof err), -1);
	cr_expect_str_eq(err, "--config FILE is required");
	expect_bad(PARSE("--dataplane", "dpdk"), "--dataplane dpdk needs --dpdk-address (our IPv4 address on that link)");
	expect_bad(PARSE("--dataplane", "dpdk", "--dpdk-address", "198.18.0.2", "--link", "tcp"),
		   "--link tcp runs over kernel sockets: it cannot be combined with --dataplane dpdk");
}

Test(loadgen_option_table, unambiguous_prefixes_are_taken)
{
	cr_expect_eq(PARSE("--thr", "3", "--no-pro"), 0, "%s", err);
	cr_expect_eq(o.threads, 3);
	cr_expect_not(o.progress);
	expect_bad(PARSE("--d", "1"), "unknown option '--d' (see --help)"); /* --duration, --dataplane, --dpdk-... */
}

Test(loadgen_option_table, help_names_every_option_with_its_range_and_default)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	cr_assert_not_null(out);
	loadgen_options_usage(out);
	fclose(out);
	static const char *const options[] = {
		"--config FILE", "--rate N", "--duration S", "--max-requests N", "--arrivals poisson|constant",
		"--timeout-ms N", "--threads N", "--terminals N", "--batch N", "--reversal-attempts N", "--spin-polls N",
		"--network NAME", "--seed N", "--bind HOST", "--report-dir DIR", "--outcomes FILE", "--no-progress",
		"--no-plots", "--list-agents", "--dataplane socket|dpdk", "--dpdk-address IPV4", "--dpdk-port N",
		"--link udp|tcp", "--help",
	};
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
		cr_expect(strstr(text, options[i]), "--help does not list %s:\n%s", options[i], text);
	cr_expect(strstr(text, "(1..64, default 1)"), "threads' range and default:\n%s", text);
	cr_expect(strstr(text, "(1..65535, default 7000)"), "dpdk-port's range and default:\n%s", text);
	cr_expect(strstr(text, "default: config loadgen.rate"), "%s", text);
	free(text);

	const char *help[] = {"x", "--help"};
	cr_redirect_stdout();
	cr_expect_eq(loadgen_options_parse(2, (char **)help, &o, err, sizeof err), 1, "--help is not an error");
}
