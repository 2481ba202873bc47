/*
 * The load generator reloads its MAC keys on SIGHUP, like the agents
 * (docs/loadgen.md, "MACs"): the real switch and two banks, the real
 * cardholder-loadgen under a steady load. The acquirers' key is rotated in the
 * key file and the switch reloads; once the grace period (1 s) is over, the
 * generator's requests under the old key are refused (916, counted by the
 * switch) and the switch's answers under the new one are refused by the
 * generator. After its SIGHUP the generator signs and checks with the new key:
 * its requests reach the bank again and no more are refused. Ports 13200-13219.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ecosystem_harness.h"
#include "test_clock.h"
#include "test_log_file.h"
#include "test_mac_keys.h"

#define ACQUIRER "acquirer:mastercard"
#define MAC_WRONG "iso_mac." ACQUIRER ".mac_wrong"

static struct eco_env env;

static void cleanup(void)
{
	eco_cleanup(&env);
}

static void wait_for_line(const char *log, long offset, const char *line, const char *what)
{
	int64_t deadline = test_now_ms() + 10000;
	while (!test_log_mentions(log, offset, line)) {
		cr_assert(test_now_ms() < deadline, "%s did not log '%s' within 10 s", what, line);
		test_sleep_ms(20);
	}
}

Test(loadgen_mac_reload, sighup_picks_up_a_rotated_key, .fini = cleanup, .timeout = 180)
{
	struct eco_settings s = {.base_port = 13200, .keepalive_s = 30, .idle_timeout_s = 90, .bank_timeout_ms = 2000,
				 .cards_per_bank = 10, .initial_balance = 10000000, .mac_grace_s = 1,
				 .tag = "loadgen-mac"};
	cr_assert(eco_prepare(&env, &s), "cannot prepare %s", env.dir);
	cr_assert(eco_start_all(&env, 1), "the ecosystem did not start");
	char key_file[400], load_log[400];
	snprintf(key_file, sizeof(key_file), "%s/iso_mac.keys", env.dir);
	snprintf(load_log, sizeof(load_log), "%s/load.log", env.dir);

	/* Bounded: 50/s for at most 60 s (the test stops it earlier with SIGTERM). */
	const char *load[] = {"--rate", "50", "--duration", "60", "--max-requests", "3000", "--timeout-ms", "1000",
			      NULL};
	pid_t loadgen = eco_start_loadgen(&env, "load", load);
	cr_assert_gt(loadgen, 0);
	cr_assert(eco_wait_switch_stat(&env, "totals.forwarded", 5, 20000), "the load does not reach the banks");
	cr_assert_eq(eco_switch_stat(&env, MAC_WRONG), 0);

	/* The acquirers' key rotates; the switch reloads. After the 1 s grace, the old key is refused. */
	cr_assert(test_mac_rotate_link(key_file, ACQUIRER));
	long offset = test_log_size(env.switch_log);
	cr_assert_eq(kill(env.switch_pid, SIGHUP), 0);
	wait_for_line(env.switch_log, offset, "reloaded the MAC keys", "the switch");
	cr_assert(eco_wait_switch_stat(&env, MAC_WRONG, 3, 15000),
		  "the generator's requests under the old key were not refused after the grace period");

	/* The generator reloads: from its next poll on, it signs with the new key. */
	offset = test_log_size(load_log);
	cr_assert_eq(kill(loadgen, SIGHUP), 0, "the load generator is gone");
	wait_for_line(load_log, offset, "cardholder-loadgen: reloaded the MAC keys", "the load generator");
	long long wrong = eco_switch_stat(&env, MAC_WRONG);
	long long forwarded = eco_switch_stat(&env, "totals.forwarded");
	cr_assert(eco_wait_switch_stat(&env, "totals.forwarded", forwarded + 50, 15000),
		  "the generator's requests do not reach the banks after its reload");
	/* At most the messages of the poll in progress at the reload went out under the old key. */
	cr_assert_leq(eco_switch_stat(&env, MAC_WRONG), wrong + 2, "requests under the old key after the reload");

	cr_assert_eq(kill(loadgen, SIGTERM), 0);
	cr_assert_eq(eco_wait_loadgen(&env, "load", loadgen, 60000), 0, "the load generator failed");
	char path[400];
	snprintf(path, sizeof(path), "%s/load/summary.json", env.dir);
	json_error_t jerr;
	json_t *summary = json_load_file(path, 0, &jerr);
	cr_assert_not_null(summary, "%s: %s", path, jerr.text);
	json_t *counts = json_object_get(summary, "counts");
	/* Before its reload it refused the switch's answers signed with the new key. */
	cr_expect_gt(json_integer_value(json_object_get(counts, "mac_refused")), 0);
	cr_expect_geq(json_integer_value(json_object_get(counts, "approved")), 50);
	json_decref(summary);
}
