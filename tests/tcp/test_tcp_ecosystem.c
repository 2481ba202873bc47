/*
 * The real switch and bank-node over TCP (docs/tcp.md, "wiring"): a payment
 * from an ISO 8583 host on a TCP link to the switch, relayed to a bank reached
 * over TCP, answered 000 with the balance debited; split and merged frames; a
 * peer that drops mid-frame while another keeps being served; 1804 and
 * keep-alives against the switch; a bank that goes away (cardholders get
 * 911/912, not silence) and comes back (the switch reconnects).
 * Python peers: tests/tcp/iso_client.py. Ports 16500-16999.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "client_process.h"
#include "ecosystem_harness.h"
#include "test_clock.h"
#include "test_http.h"

#define CLIENT_TIMEOUT_MS 30000

static struct eco_env env;

static void cleanup(void)
{
	eco_cleanup(&env);
}

/* Both banks and the switch, banks reached over TCP unless said otherwise. */
static void start(uint16_t base, bool banks_over_tcp, uint32_t keepalive_s, uint32_t idle_timeout_s)
{
	struct eco_settings s = {.base_port = base, .banks_over_tcp = banks_over_tcp, .keepalive_s = keepalive_s,
				 .idle_timeout_s = idle_timeout_s, .initial_balance = 100000,
				 .acquirer_without_mac = true /* iso_client.py cannot compute AES-CMAC */};
	cr_assert(eco_prepare(&env, &s), "cannot prepare %s", env.dir);
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start");
	if (banks_over_tcp)
		cr_assert(eco_wait_switch_stat(&env, "tcp.connected_now", 2, 10000),
			  "the switch did not connect to both banks (connected_now %lld)",
			  eco_switch_stat(&env, "tcp.connected_now"));
}

/* iso_client.py <scenario> against the switch's TCP listener with card k of big_bank. */
static int client(const char *scenario, size_t card, int stan, const char *more1, const char *more2)
{
	struct population_card c;
	eco_card(&env, 0, card, &c);
	char port[8], stan_text[16];
	snprintf(port, sizeof(port), "%u", env.switch_tcp);
	snprintf(stan_text, sizeof(stan_text), "%d", stan);
	const char *args[] = {scenario, "--port", port, "--pan", c.pan, "--expiry", c.expiry,
			      "--stan", stan_text, more1, more2, NULL};
	return client_run(args, CLIENT_TIMEOUT_MS);
}

static void stop_all_cleanly(void)
{
	cr_assert_eq(eco_stop_switch(&env), 0, "the switch did not exit 0");
	cr_assert_eq(eco_stop_bank(&env, 0), 0, "big_bank did not exit 0");
	cr_assert_eq(eco_stop_bank(&env, 1), 0, "lil_bank did not exit 0");
}

Test(tcp_ecosystem, payment_over_tcp_to_a_bank_over_tcp, .fini = cleanup, .timeout = 120)
{
	start(16500, true, 30, 90);
	long long before = eco_balance(&env, 0, 0);
	cr_assert_eq(before, 100000);
	/* 3 x 10.00 from card 0: the 1110s carry 000 (checked by the client). */
	cr_assert_eq(client("auth", 0, 100, "--count", "3"), 0);
	cr_assert_eq(eco_balance(&env, 0, 0), before - 3000, "balance %lld", eco_balance(&env, 0, 0));
	/* Over the bank's limit of funds: a decline still comes back on the link. */
	char amount[] = "--amount=200000";
	cr_assert_eq(client("auth", 0, 200, amount, "--expect=116"), 0);
	cr_assert_eq(eco_balance(&env, 0, 0), before - 3000);
	cr_assert_geq(eco_switch_stat(&env, "tcp.accepted"), 2);
	cr_assert_geq(eco_switch_stat(&env, "tcp.frames_in"), 8, "4 from the acquirer, 4 answers from the bank");
	cr_assert_eq(eco_switch_stat(&env, "tcp.dropped_unknown_peer"), 0);
	cr_assert_eq(eco_switch_stat(&env, "totals.approved"), 3);
	stop_all_cleanly();
}

Test(tcp_ecosystem, split_and_merged_frames_to_the_real_switch, .fini = cleanup, .timeout = 120)
{
	start(16520, true, 30, 90);
	cr_assert_eq(client("split", 1, 300, NULL, NULL), 0);
	cr_assert_eq(client("merged", 1, 400, "--count", "8"), 0);
	cr_assert_eq(eco_balance(&env, 0, 1), 100000 - 9 * 1000);
	stop_all_cleanly();
}

Test(tcp_ecosystem, a_peer_dropping_mid_frame_does_not_stop_the_others, .fini = cleanup, .timeout = 120)
{
	start(16540, true, 30, 90);
	struct population_card c;
	eco_card(&env, 0, 2, &c);
	char port[8];
	snprintf(port, sizeof(port), "%u", env.switch_tcp);
	const char *steady[] = {"auth", "--port", port, "--pan", c.pan, "--expiry", c.expiry, "--stan", "500",
				"--count", "40", NULL};
	pid_t busy = client_spawn(steady);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(client("midframe", 3, 600 + i, NULL, NULL), 0);
	cr_assert_eq(client_wait(busy, CLIENT_TIMEOUT_MS), 0, "the steady link was not served to the end");
	cr_assert(eco_wait_switch_stat(&env, "tcp.closed_mid_frame", 5, 5000), "closed_mid_frame %lld",
		  eco_switch_stat(&env, "tcp.closed_mid_frame"));
	cr_assert_eq(eco_balance(&env, 0, 2), 100000 - 40 * 1000);
	cr_assert_eq(eco_balance(&env, 0, 3), 100000, "half a request must never move money");
	stop_all_cleanly();
}

Test(tcp_ecosystem, echo_and_keepalive_against_the_real_switch, .fini = cleanup, .timeout = 120)
{
	/* Keep-alive every second, links silent for 3 s closed: the idle client sees both. */
	start(16560, false, 1, 3);
	cr_assert_eq(client("echo", 4, 700, NULL, NULL), 0, "1804 -> 1814, then a payment on the same link");
	cr_assert_eq(client("idle", 4, 710, "--timeout", "10"), 0);
	cr_assert_geq(eco_switch_stat(&env, "tcp.echoes_answered"), 1);
	cr_assert_geq(eco_switch_stat(&env, "tcp.keepalives_in"), 1);
	cr_assert_geq(eco_switch_stat(&env, "tcp.keepalives_out"), 1);
	cr_assert_geq(eco_switch_stat(&env, "tcp.idle_timeouts"), 1);
	stop_all_cleanly();
}

Test(tcp_ecosystem, a_bank_that_goes_away_and_comes_back, .fini = cleanup, .timeout = 180)
{
	start(16580, true, 30, 90);
	cr_assert_eq(client("auth", 5, 800, NULL, NULL), 0);
	cr_assert_eq(eco_stop_bank(&env, 0), 0);
	cr_assert(eco_wait_switch_stat(&env, "tcp.connected_now", 1, 5000) &&
			  eco_switch_stat(&env, "tcp.connected_now") == 1,
		  "the switch still counts big_bank's link as connected");
	/* No bank: every cardholder gets an answer, 911 (timed out) or 912 (marked down). */
	for (int i = 0; i < 3; i++)
		cr_assert_eq(client("auth", 5, 810 + i, "--expect=911,912", "--timeout=10"), 0);
	long long reconnects = eco_switch_stat(&env, "tcp.reconnects");
	cr_assert(eco_start_bank(&env, 0), "big_bank did not restart");
	cr_assert(eco_wait_switch_stat(&env, "tcp.reconnects", reconnects + 1, 10000), "no reconnect");
	cr_assert(eco_wait_switch_stat(&env, "tcp.connected_now", 2, 10000));
	/* 912 "down" lasts a while after the timeouts: wait for an approval, bounded. */
	int rc = 1;
	for (int i = 0; i < 40 && rc != 0; i++) {
		rc = client("auth", 6, 900 + i, NULL, NULL);
		if (rc != 0)
			test_sleep_ms(250);
	}
	cr_assert_eq(rc, 0, "no approval after the bank came back");
	cr_assert_geq(eco_switch_stat(&env, "tcp.dropped_not_connected"), 1);
	stop_all_cleanly();
}

/* A short bounded load run of the real loadgen over TCP, then money conservation across the banks. */
static void load_run_conserves_money(const char *name)
{
	char before[400], after[400];
	snprintf(before, sizeof(before), "%s/ledgers_before.json", env.dir);
	snprintf(after, sizeof(after), "%s/ledgers_after.json", env.dir);
	cr_assert(eco_write_ledgers(&env, before));
	long long frames_before = eco_switch_stat(&env, "tcp.frames_in");
	const char *extra[] = {"--link", "tcp", "--rate", "1500", "--duration", "2", "--threads", "2",
			       "--timeout-ms", "3000", "--seed", "7", NULL};
	cr_assert_eq(eco_run_loadgen(&env, name, extra, 60000), 0, "the loadgen failed");
	/* Late answers and the switch's reversal advices settle within the bank timeout and retries. */
	cr_assert(eco_wait_switch_settled(&env, 10000), "the switch still has transactions or reversals in flight");
	cr_assert(eco_write_ledgers(&env, after));
	cr_assert_eq(eco_ledger_check(&env, before, after, name), 0, "money is not conserved (log above)");
	char path[400];
	snprintf(path, sizeof(path), "%s/%s/summary.json", env.dir, name);
	json_t *summary = json_load_file(path, 0, NULL);
	cr_assert_not_null(summary, "no %s", path);
	json_t *counts = json_object_get(summary, "counts");
	long long sent = json_integer_value(json_object_get(counts, "sent"));
	long long answered = json_integer_value(json_object_get(counts, "answered"));
	json_decref(summary);
	cr_assert_gt(sent, 2000, "a 2 s run at 1500/s sent only %lld", sent);
	cr_assert_eq(answered, sent, "%lld of %lld answered in time", answered, sent);
	/* Every request arrived on a cardholder's TCP link (bank answers over TCP add to it). */
	cr_assert_geq(eco_switch_stat(&env, "tcp.frames_in") - frames_before, sent);
	cr_assert_eq(eco_switch_stat(&env, "tcp.dropped_unknown_peer"), 0);
}

Test(tcp_ecosystem, all_tcp_loadgen_switch_and_banks, .fini = cleanup, .timeout = 180)
{
	struct eco_settings s = {.base_port = 16600, .banks_over_tcp = true, .keepalive_s = 30, .idle_timeout_s = 90,
				 .cards_per_bank = 50, .initial_balance = 100000, .loadgen_tcp = true};
	cr_assert(eco_prepare(&env, &s));
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start");
	cr_assert(eco_wait_switch_stat(&env, "tcp.connected_now", 2, 10000));
	load_run_conserves_money("all_tcp");
	stop_all_cleanly();
}

Test(tcp_ecosystem, mixed_tcp_and_udp_links, .fini = cleanup, .timeout = 180)
{
	/* Cardholders over TCP; big_bank reached over TCP, lil_bank over UDP. */
	struct eco_settings s = {.base_port = 16620, .banks_over_tcp = true, .lil_bank_over_udp = true,
				 .keepalive_s = 30, .idle_timeout_s = 90, .cards_per_bank = 50,
				 .initial_balance = 100000, .loadgen_tcp = true};
	cr_assert(eco_prepare(&env, &s));
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start");
	cr_assert(eco_wait_switch_stat(&env, "tcp.connected_now", 1, 10000));
	load_run_conserves_money("mixed");
	json_t *lil = test_http_get_json(env.bank_http[1], "/ledger");
	cr_assert_not_null(lil);
	cr_assert_gt(json_integer_value(json_object_get(lil, "approved_count")) +
			     json_integer_value(json_object_get(lil, "declined_count")),
		     0, "lil_bank (over UDP) saw no authorization");
	json_decref(lil);
	stop_all_cleanly();
}
