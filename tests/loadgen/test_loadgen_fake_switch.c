/*
 * The whole generator (options, cards, threads, matching, timeouts,
 * reversals, report) against a scripted fake switch whose every answer is
 * known, so each counter of the report can be checked exactly.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ecosystem_config.h"
#include "fake_switch.h"
#include "loadgen_options.h"
#include "loadgen_plan.h"
#include "loadgen_run.h"
#include "loadgen_test_support.h"
#include "test_mac_keys.h"
#include "test_ports.h"
#include "test_temp_dir.h"

/* Ten blocks of five ports from 14010: runs of this test from other build directories never share. */
static int claim_ports(void)
{
	int base = test_ports_claim(14010, 5, 10, 120);
	cr_assert(base > 0, "no free port block in 14010-14059 after 120 s");
	return base;
}

/* The switch endpoints are filled in per test so that tests never share a port. */
static const char config_template[] =
	"banks:\n"
	"  - name: big_bank\n"
	"    institution_id: \"10000000001\"\n"
	"    http: 127.0.0.1:14060\n"
	"    iso: 127.0.0.1:14061\n"
	"    networks:\n"
	"      - network: mastercard\n"
	"        bins: [\"51051000\"]\n"
	"      - network: visa\n"
	"        bins: [\"41111111\"]\n"
	"networks:\n"
	"  - name: mastercard\n"
	"    major_industry_id: 5\n"
	"    http: 127.0.0.1:14062\n"
	"    iso: 127.0.0.1:%u\n"
	"  - name: visa\n"
	"    major_industry_id: 4\n"
	"    http: 127.0.0.1:14063\n"
	"    iso: 127.0.0.1:%u\n"
	"loadgen:\n"
	"  rate: 4000\n"
	"  duration_s: 5\n"
	"  cards_per_bank: 100\n"
	"  min_amount: 100\n"
	"  max_amount: 900\n"
	"  timeout_ms: 200\n"
	"  acquirer_id: \"30000000003\"\n"
	TEST_MAC_UNPROTECTED_YAML; /* the fake switch does not sign */

static int run_loadgen(unsigned mastercard_port, unsigned visa_port, const char *report_dir, const char *extra1,
		       const char *extra2, const char *extra3)
{
	static struct ecosystem_config config;
	char err[512], yaml[2048];
	snprintf(yaml, sizeof yaml, config_template, mastercard_port, visa_port);
	cr_assert(ecosystem_config_parse(yaml, strlen(yaml), "test.yaml", &config, err, sizeof err), "%s", err);
	const char *argv[16] = {"cardholder-loadgen", "--config", "test.yaml", "--report-dir", report_dir,
				"--no-plots", "--no-progress"};
	int argc = 7;
	if (extra1)
		argv[argc++] = extra1;
	if (extra2)
		argv[argc++] = extra2;
	if (extra3)
		argv[argc++] = extra3;
	struct loadgen_options o;
	cr_assert_eq(loadgen_options_parse(argc, (char **)argv, &o, err, sizeof err), 0, "%s", err);
	return loadgen_run(&config, &o);
}

Test(loadgen_fake_switch, every_counter_matches_what_the_switch_did)
{
	struct fake_switch visa, mastercard;
	int base = claim_ports();
	cr_assert_eq(fake_switch_start(&visa, (uint16_t)(base + 1)), 0);
	cr_assert_eq(fake_switch_start(&mastercard, (uint16_t)(base + 2)), 0);
	char dir[256];
	test_temp_dir_make(dir, sizeof dir, "loadgen-fake");
	cr_assert(dir[0]);

	int rc = run_loadgen((unsigned)base + 2, (unsigned)base + 1, dir, "--max-requests=1500", "--threads=2", "--arrivals=constant");
	fake_switch_stop(&visa);
	fake_switch_stop(&mastercard);
	cr_assert_eq(rc, 0);

	json_t *s = test_load_summary(dir);
	cr_assert(s, "summary.json missing");
	uint64_t requests = visa.requests + mastercard.requests;
	uint64_t approved = visa.approved + mastercard.approved;
	uint64_t declined = visa.declined + mastercard.declined;
	uint64_t dropped = visa.dropped + mastercard.dropped;
	uint64_t failed = visa.issuer_timed_out + mastercard.issuer_timed_out;
	cr_expect_eq(test_count(s, "sent"), 1500);
	cr_expect_eq(requests, 1500, "the switches saw every request");
	cr_expect(visa.requests > 0 && mastercard.requests > 0, "cards of both networks are used");
	cr_expect(dropped > 0 && declined > 0 && failed > 0, "the script exercised every branch");
	cr_expect_eq(test_count(s, "answered"), approved + declined + failed);
	cr_expect_eq(test_count(s, "decided"), approved + declined, "a 911 is an answer, not a decision");
	cr_expect_eq(test_code(s, "action_codes", "000"), approved);
	cr_expect_eq(test_code(s, "action_codes", "116"), declined);
	cr_expect_eq(test_code(s, "action_codes", "911"), failed);
	cr_expect_eq(test_count(s, "approved_amount"), visa.approved_amount + mastercard.approved_amount);
	cr_expect_eq(test_count(s, "timeouts"), dropped);
	cr_expect_eq(test_count(s, "reversals_sent"), dropped);
	cr_expect_eq(visa.reversals + mastercard.reversals, dropped, "one 1420 per timeout reached the switch");
	cr_expect_eq(test_code(s, "reversal_action_codes", "400"), dropped);
	cr_expect_eq(test_count(s, "reversals_unanswered"), 0);
	uint64_t ignored = visa.reversals_ignored + mastercard.reversals_ignored;
	uint64_t busy = visa.reversals_busy + mastercard.reversals_busy;
	cr_expect(ignored > 0, "some 1420s went unanswered");
	cr_expect(busy > 0, "some 1420s were answered 909");
	cr_expect_eq(test_count(s, "reversal_unsettled_answers"), busy);
	cr_expect_eq(test_code(s, "reversal_action_codes", "909"), 0, "a 909 does not end a reversal");
	cr_expect_eq(test_count(s, "reversal_repeats"), ignored + busy,
		     "exactly the unanswered and the 909-answered 1420s were repeated");
	cr_expect_eq(visa.repeats + mastercard.repeats, ignored + busy, "as 1421s that reached the switch");
	cr_expect_eq(test_count(s, "duplicates"), visa.duplicated + mastercard.duplicated);
	/* Bad input is counted, never fatal, and never taken for an answer. */
	uint64_t garbage = visa.garbage_datagrams + mastercard.garbage_datagrams + visa.garbage_frames +
			   mastercard.garbage_frames;
	cr_expect(garbage > 0, "the bad-input script ran");
	cr_expect_eq(test_count(s, "malformed"), garbage);
	cr_expect_eq(test_count(s, "unmatched"), visa.strangers + mastercard.strangers);
	cr_expect_eq(visa.malformed + mastercard.malformed, 0, "the switches could decode everything");
	json_t *latency = json_object_get(s, "latency_us");
	cr_expect_eq((uint64_t)json_integer_value(json_object_get(latency, "count")), approved + declined + failed);
	json_decref(s);

	/* The per-second rows add up to the totals: no second lost or counted twice across threads. */
	char intervals[512];
	snprintf(intervals, sizeof intervals, "%s/intervals.tsv", dir);
	FILE *rows = fopen(intervals, "r");
	cr_assert(rows, "intervals.tsv missing");
	char line[256];
	unsigned long long second, row_sent, row_answered, row_timeouts, sum_sent = 0, sum_answered = 0, sum_timeouts = 0;
	long long previous_second = -1;
	while (fgets(line, sizeof line, rows)) {
		if (line[0] == '#')
			continue;
		cr_assert_eq(sscanf(line, "%llu %llu %llu %llu", &second, &row_sent, &row_answered, &row_timeouts), 4,
			     "bad row: %s", line);
		cr_expect((long long)second > previous_second, "seconds ascend");
		previous_second = (long long)second;
		sum_sent += row_sent;
		sum_answered += row_answered;
		sum_timeouts += row_timeouts;
	}
	fclose(rows);
	cr_expect_eq(sum_sent, 1500);
	cr_expect_eq(sum_answered, approved + declined + failed);
	cr_expect_eq(sum_timeouts, dropped);

	/* The other report files are there and not empty. */
	const char *files[] = {"latency.hgrm", "intervals.tsv", "summary.txt"};
	for (size_t i = 0; i < 3; i++) {
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		FILE *f = fopen(path, "r");
		cr_expect(f, "%s missing", files[i]);
		if (f) {
			fseek(f, 0, SEEK_END);
			cr_expect(ftell(f) > 20, "%s is empty", files[i]);
			fclose(f);
		}
	}
	test_temp_dir_remove(dir);
}

Test(loadgen_fake_switch, no_switch_means_timeouts_and_unanswered_reversals)
{
	/* Nothing listens on the switch ports: every request times out, every reversal too. */
	char dir[256];
	test_temp_dir_make(dir, sizeof dir, "loadgen-silent");
	cr_assert(dir[0]);
	int base = claim_ports();
	cr_assert_eq(run_loadgen((unsigned)base + 3, (unsigned)base + 4, dir, "--max-requests=50", "--timeout-ms=50", NULL), 0);
	json_t *s = test_load_summary(dir);
	cr_assert(s);
	cr_expect_eq(test_count(s, "sent"), 50);
	cr_expect_eq(test_count(s, "answered"), 0);
	cr_expect_eq(test_count(s, "timeouts"), 50);
	cr_expect_eq(test_count(s, "reversals_sent"), 50);
	cr_expect_eq(test_count(s, "reversal_repeats"), 100, "two 1421 repeats each (3 attempts by default)");
	cr_expect_eq(test_count(s, "reversals_unanswered"), 50);
	json_decref(s);
	test_temp_dir_remove(dir);
}

Test(loadgen_options, bad_values_are_refused_with_the_option_name)
{
	struct loadgen_options o;
	char err[256];
	const char *bad_rate[] = {"x", "--config", "c.yaml", "--rate", "-5"};
	cr_expect_eq(loadgen_options_parse(5, (char **)bad_rate, &o, err, sizeof err), -1);
	cr_expect(strstr(err, "--rate"), "%s", err);
	const char *bad_arrivals[] = {"x", "--config", "c.yaml", "--arrivals", "bursty"};
	cr_expect_eq(loadgen_options_parse(5, (char **)bad_arrivals, &o, err, sizeof err), -1);
	cr_expect(strstr(err, "--arrivals"), "%s", err);
	const char *no_config[] = {"x", "--rate", "10"};
	cr_expect_eq(loadgen_options_parse(3, (char **)no_config, &o, err, sizeof err), -1);
	const char *eal[] = {"x", "--config", "c.yaml", "--dataplane", "dpdk", "--dpdk-address", "198.18.0.2",
			     "--", "--no-huge", "--vdev", "net_null0"};
	cr_expect_eq(loadgen_options_parse(11, (char **)eal, &o, err, sizeof err), 0, "%s", err);
	cr_expect_eq(o.eal_argc, 3);
	cr_expect_str_eq(o.eal_argv[0], "--no-huge");
}

Test(loadgen_options, plan_takes_config_defaults_and_overrides)
{
	struct cfg_loadgen config = {.rate = 1000, .duration_s = 3, .max_requests = 0, .arrivals = ARRIVAL_POISSON,
				     .timeout_ms = 700, .min_amount = 1, .max_amount = 5};
	struct loadgen_options o;
	char err[256];
	const char *plain[] = {"x", "--config", "c.yaml"};
	cr_assert_eq(loadgen_options_parse(3, (char **)plain, &o, err, sizeof err), 0);
	struct loadgen_plan plan;
	cr_assert(loadgen_plan_make(&o, &config, &plan, err, sizeof err));
	cr_expect_eq(plan.max_requests, 3000, "0 means rate * duration");
	cr_expect_eq(plan.timeout_ms, 700);
	const char *over[] = {"x", "--config", "c.yaml", "--rate", "50", "--duration", "2", "--max-requests", "7",
			      "--arrivals", "constant"};
	cr_assert_eq(loadgen_options_parse(11, (char **)over, &o, err, sizeof err), 0);
	cr_assert(loadgen_plan_make(&o, &config, &plan, err, sizeof err));
	cr_expect_float_eq(plan.rate, 50, 1e-9);
	cr_expect_eq(plan.max_requests, 7);
	cr_expect_eq(plan.arrivals, ARRIVAL_CONSTANT);
	config.min_amount = 10;
	cr_expect_not(loadgen_plan_make(&o, &config, &plan, err, sizeof err), "min above max is refused");
}
