/*
 * Store and forward, end to end with the real programs under load, big_bank
 * answering 3% of requests after the switch's bank timeout (each a debit the
 * network must reverse): a bank SIGKILLed and down for 30 s; the switch
 * SIGKILLed while its queue holds advices for a frozen bank, then restarted;
 * and both at once. After the
 * ecosystem drains, what the banks debited must equal what the cardholders
 * saw approved, to the minor unit (ledger_check.py --exact), and every
 * advice must have been acknowledged (the switch's queue empty, nothing in
 * its exception queue).
 *
 * The faults are timed with sleeps, the checks are not: whatever the timing,
 * money must be right at the end. Each run is bounded (the load generator by
 * count and time, every wait by a deadline).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "ecosystem_harness.h"
#include "test_clock.h"
#include "test_http.h"

static struct eco_env env;

static void cleanup(void)
{
	eco_cleanup(&env);
}

static void start(uint16_t base_port, const char *tag)
{
	struct eco_settings s = {
		.base_port = base_port,
		.bank_timeout_ms = 200,
		.cards_per_bank = 50,
		.initial_balance = 1000000000,
		.reversal_retry_max_ms = 2000,
		.tag = tag,
		.big_bank_slow_share = 0.03,
		.big_bank_slow_ms = 400,
	};
	cr_assert(eco_prepare(&env, &s), "could not prepare the ecosystem");
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start");
}

static void ledgers(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/%s.json", env.dir, name);
	cr_assert(eco_write_ledgers(&env, path), "a bank did not give its ledger");
}

/* After the load: the switch drains, then money is checked to the minor unit. */
static void check_money(const char *before, const char *report)
{
	cr_assert(eco_wait_switch_drained(&env, 90000), "the switch still owes advices after 90 s (queued %lld)",
		  eco_switch_stat(&env, "saf.queued"));
	char after[400];
	ledgers("after", after, sizeof(after));
	cr_expect_eq(eco_ledger_check_exact(&env, before, after, report), 0,
		     "customers charged for what they were not told was approved (ledger_check above)");
	cr_expect_eq(eco_switch_stat(&env, "saf.exceptions"), 0, "nothing may end in the exception queue");
	/* The late answers were debits: the network's advices must have credited them back. */
	json_t *ledger = test_http_get_json(env.bank_http[0], "/ledger");
	cr_assert_not_null(ledger);
	cr_expect_gt(json_integer_value(json_object_get(ledger, "reversed_count")), 0,
		     "no debit was reversed: the test did not exercise what it claims");
	json_decref(ledger);
}

static const char *const load[] = {"--rate", "300", "--duration", "45", "--max-requests", "13500",
				   "--timeout-ms", "1000", "--reversal-attempts", "8", NULL};

static char before[400];

/* The ecosystem up, its ledgers recorded, the load running for 3 s: then the faults. */
static pid_t under_load(uint16_t base_port, const char *tag)
{
	start(base_port, tag);
	ledgers("before", before, sizeof(before));
	pid_t loadgen = eco_start_loadgen(&env, "load", load);
	cr_assert_gt(loadgen, 0);
	test_sleep_ms(3000);
	return loadgen;
}

/* The load to its end, then the drain and the money. */
static void after_load(pid_t loadgen)
{
	cr_assert_eq(eco_wait_loadgen(&env, "load", loadgen, 120000), 0, "the load generator failed");
	check_money(before, "load");
}

Test(saf_e2e, a_bank_down_for_30_s_under_load_loses_no_reversal, .fini = cleanup, .timeout = 240)
{
	pid_t loadgen = under_load(16700, "saf-outage");
	eco_kill_bank(&env, 0);
	cr_assert(eco_wait_switch_stat(&env, "saf.stored", 1, 10000), "no advice was stored for the dead bank");
	test_sleep_ms(30000);
	cr_assert(eco_start_bank(&env, 0), "big_bank did not come back");
	after_load(loadgen);
	cr_expect_gt(eco_switch_stat(&env, "saf.acknowledged"), 0);
}

Test(saf_e2e, a_switch_killed_with_advices_queued_repeats_them_after_its_restart, .fini = cleanup, .timeout = 240)
{
	pid_t loadgen = under_load(16720, "saf-switch-kill");
	/* A bank that stops answering: its 1100s time out and their advices wait in the queue. */
	eco_freeze_bank(&env, 0, true);
	cr_assert(eco_wait_switch_stat(&env, "saf.queued", 5, 10000), "no advices queued for the frozen bank");
	eco_kill_switch(&env);
	test_sleep_ms(1000);
	cr_assert(eco_start_switch(&env, 2), "the switch did not restart");
	cr_expect_geq(eco_switch_stat(&env, "saf.loaded"), 5, "the queue was not reloaded at start");
	test_sleep_ms(3000);
	eco_freeze_bank(&env, 0, false);
	after_load(loadgen);
}

Test(saf_e2e, a_switch_killed_during_a_30_s_bank_outage_still_reverses_everything, .fini = cleanup,
     .timeout = 240)
{
	pid_t loadgen = under_load(16740, "saf-both");
	eco_kill_bank(&env, 0);
	cr_assert(eco_wait_switch_stat(&env, "saf.queued", 1, 10000), "no advice queued for the dead bank");
	test_sleep_ms(5000);
	eco_kill_switch(&env);
	test_sleep_ms(1000);
	cr_assert(eco_start_switch(&env, 2), "the switch did not restart");
	test_sleep_ms(24000);
	cr_assert(eco_start_bank(&env, 0), "big_bank did not come back");
	after_load(loadgen);
}
