/*
 * Stale requests shed at the real switch's TCP edge (switch/stale_shedding.h,
 * docs/tcp.md "Past saturation"): a 1100 that waited longer than
 * networks[].tcp.shed_after_ms in the switch's socket is answered 909 at once,
 * never reaches its bank (no balance moves), and its reversal is answered
 * 1430/400 by the switch without going to the bank either.
 *
 * The wait is made, not hoped for: iso_client.py's "stale" scenario stops the
 * switch (SIGSTOP) before it sends the 1100 and resumes it freeze_ms later;
 * the kernel stamped the request on arrival, so it is at least that old when
 * the switch reads it. Ports: 19000-19099 (claimed, tests/support/test_ports.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "client_process.h"
#include "ecosystem_harness.h"

#define CLIENT_TIMEOUT_MS 30000
#define SHED_AFTER_MS 300
#define FREEZE_MS 1200 /* 4x the limit: the request is stale whatever the scheduling */

static struct eco_env env;

static void cleanup(void)
{
	eco_cleanup(&env);
}

static int client(const char *scenario, size_t card, int stan, const char *const *more)
{
	struct population_card c;
	eco_card(&env, 0, card, &c);
	char port[8], stan_text[16];
	snprintf(port, sizeof(port), "%u", env.switch_tcp);
	snprintf(stan_text, sizeof(stan_text), "%d", stan);
	const char *args[16] = {scenario, "--port", port, "--pan", c.pan, "--expiry", c.expiry, "--stan", stan_text};
	size_t n = 9;
	for (; more && *more && n < 15; more++)
		args[n++] = *more;
	args[n] = NULL;
	return client_run(args, CLIENT_TIMEOUT_MS);
}

Test(tcp_shedding, a_stale_request_is_shed_and_its_reversal_stays_at_the_switch, .fini = cleanup, .timeout = 180)
{
	struct eco_settings s = {.base_port = 19000, .banks_over_tcp = true, .keepalive_s = 30, .idle_timeout_s = 90,
				 .initial_balance = 100000, .acquirer_without_mac = true /* iso_client.py cannot sign */,
				 .shed_after_ms = SHED_AFTER_MS, .tag = "tcp-shed"};
	cr_assert(eco_prepare(&env, &s), "cannot prepare %s", env.dir);
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start");
	cr_assert(eco_wait_switch_stat(&env, "tcp.connected_now", 2, 10000), "the switch did not reach both banks");

	/* A fresh request goes to the bank as ever (and turns the kernel's arrival stamping on). */
	cr_assert_eq(client("auth", 0, 100, NULL), 0, "a fresh 1100 was not approved");
	cr_assert_eq(eco_balance(&env, 0, 0), 100000 - 1000);
	long long reversals_to_banks = eco_switch_stat(&env, "totals.cardholder_reversals_forwarded");
	long long forwarded = eco_switch_stat(&env, "totals.forwarded");

	/* Card 1's 1100 waits 1.2 s in the stopped switch's socket: 909, then its 1420 hears 400. */
	char pid[16], freeze[16];
	snprintf(pid, sizeof(pid), "%d", (int)env.switch_pid);
	snprintf(freeze, sizeof(freeze), "%d", FREEZE_MS);
	const char *stale[] = {"--freeze-pid", pid, "--freeze-ms", freeze, "--expect", "909", NULL};
	cr_assert_eq(client("stale", 1, 200, stale), 0, "the stale request was not shed (log above)");

	cr_assert_eq(eco_switch_stat(&env, "totals.shed_stale"), 1);
	cr_assert_eq(eco_switch_stat(&env, "totals.forwarded"), forwarded, "the stale 1100 went to its bank");
	cr_assert_eq(eco_switch_stat(&env, "totals.cardholder_reversals_forwarded"), reversals_to_banks,
		     "the reversal of a shed request was propagated to the bank");
	cr_assert_geq(eco_switch_stat(&env, "totals.cardholder_reversals_answered"), 1);
	cr_assert(eco_wait_switch_drained(&env, 10000), "the switch still owes the bank something");
	cr_assert_eq(eco_balance(&env, 0, 1), 100000, "a shed request moved money");

	/* The same card right after: a fresh request is not shed. */
	cr_assert_eq(client("auth", 1, 300, NULL), 0, "a fresh 1100 after the shed one was not approved");
	cr_assert_eq(eco_balance(&env, 0, 1), 100000 - 1000);
	cr_assert_eq(eco_switch_stat(&env, "totals.shed_stale"), 1);

	cr_assert_eq(eco_stop_switch(&env), 0, "the switch did not exit 0");
	cr_assert_eq(eco_stop_bank(&env, 0), 0);
	cr_assert_eq(eco_stop_bank(&env, 1), 0);
}
