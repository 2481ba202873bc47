/*
 * End to end with the real programs: two bank nodes and two switches from a
 * temporary config (a free block of ports in 14200-14299), then the real cardholder-loadgen for a
 * short bounded run; the report's counts are checked against the banks'
 * journals (/ledger) and money must be conserved.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loadgen_test_support.h"
#include "test_mac_keys.h"
#include "test_pan_keys.h"
#include "test_clock.h"
#include "test_http.h"
#include "test_ports.h"
#include "test_process.h"
#include "test_security.h"
#include "test_temp_dir.h"
#include "test_wait_http.h"

#define MAX_AGENTS 5

struct agent {
	const char *name;
	pid_t pid;
	uint16_t http_port;
};

static struct agent agents[MAX_AGENTS];
static int agent_count;
static char temp_dir[256];

/* Starts argv in the temp dir with output to <temp>/<log>; the child dies with the test process. */
static pid_t spawn(const char *const argv[], const char *log)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", temp_dir, log);
	return test_process_spawn(argv, &(struct test_spawn){.log_path = path, .truncate_log = true,
							   .workdir = temp_dir, .die_with_parent = true});
}

static void stop_agents(void)
{
	/* All told at once, so that their shutdowns overlap; then each gets 10 s before SIGKILL. */
	for (int i = 0; i < agent_count; i++)
		if (agents[i].pid > 0)
			kill(agents[i].pid, SIGTERM);
	for (int i = 0; i < agent_count; i++)
		if (!test_process_wait(&agents[i].pid, 10000, NULL))
			test_process_stop(&agents[i].pid, SIGKILL, 0);
	agent_count = 0;
}

/* Every agent's /stats next to its log, for the post-mortem of a failed run. */
static void save_stats(void)
{
	for (int i = 0; i < agent_count; i++) {
		json_t *stats = agents[i].pid > 0 ? test_http_get_json(agents[i].http_port, "/stats") : NULL;
		if (!stats)
			continue;
		char path[512];
		snprintf(path, sizeof path, "%s/stats-%s.json", temp_dir, agents[i].name);
		json_dump_file(stats, path, JSON_INDENT(1));
		json_decref(stats);
	}
}

static void teardown(void)
{
	save_stats();
	stop_agents();
	if (getenv("LOADGEN_E2E_KEEP") == NULL)
		test_temp_dir_remove(temp_dir);
}

static int64_t get_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

static const char config_template[] =
	"banks:\n"
	"  - name: big_bank\n"
	"    institution_id: \"10000000001\"\n"
	"    http: 127.0.0.1:%d\n"
	"    iso: 127.0.0.1:%d\n"
	"    lmdb_path: var/big_bank\n"
	"    lmdb_map_size: 67108864\n"
	"    durability: async\n"
	"    faults:\n"
	"      delay_probability: %s\n"
	"      delay_ms: 300\n"
	"      drop_probability: %s\n"
	"    networks:\n"
	"      - network: mastercard\n"
	"        bins: [\"51051000\"]\n"
	"      - network: visa\n"
	"        bins: [\"41111111\"]\n"
	"  - name: lil_bank\n"
	"    institution_id: \"20000000002\"\n"
	"    http: 127.0.0.1:%d\n"
	"    iso: 127.0.0.1:%d\n"
	"    lmdb_path: var/lil_bank\n"
	"    lmdb_map_size: 67108864\n"
	"    durability: sync\n"
	"    networks:\n"
	"      - network: mastercard\n"
	"        bins: [\"51999100-51999199\"]\n"
	"networks:\n"
	"  - name: mastercard\n"
	"    major_industry_id: 5\n"
	"    http: 127.0.0.1:%d\n"
	"    iso: 127.0.0.1:%d\n"
	"    lmdb_path: var/mastercard\n"
	"    bank_timeout_ms: %s\n"
	"    reversal_retry_ms: 100\n"
	"    reversal_retry_max_ms: 1000\n"
	"  - name: visa\n"
	"    major_industry_id: 4\n"
	"    http: 127.0.0.1:%d\n"
	"    iso: 127.0.0.1:%d\n"
	"    lmdb_path: var/visa\n"
	"    bank_timeout_ms: %s\n"
	"    reversal_retry_ms: 100\n"
	"    reversal_retry_max_ms: 1000\n"
	"loadgen:\n"
	"  cards_per_bank: 200\n"
	"  initial_balance: 100000000\n"
	"  min_amount: 100\n"
	"  max_amount: 20000\n"
	"  timeout_ms: 500\n"
	"  acquirer_id: \"30000000003\"\n";

/* HTTP ports of the banks and switches: base + 1, 3 (banks), 5, 7 (switches); ISO ports one above each. */
static uint16_t bank_ports[2], switch_ports[2];

static void start_ecosystem(const char *delay_probability, const char *drop_probability, const char *bank_timeout_ms)
{
	/* Ten blocks of ten ports (14200-14299): concurrent runs of this test from other build directories never share. */
	int base = test_ports_claim(14200, 10, 10, 120);
	cr_assert(base > 0, "no free port block in 14200-14299 after 120 s");
	bank_ports[0] = (uint16_t)(base + 1);
	bank_ports[1] = (uint16_t)(base + 3);
	switch_ports[0] = (uint16_t)(base + 5);
	switch_ports[1] = (uint16_t)(base + 7);
	test_temp_dir_make(temp_dir, sizeof temp_dir, "loadgen-e2e");
	cr_assert(temp_dir[0], "no temp dir");
	char config[512];
	snprintf(config, sizeof config, "%s/ecosystem.yaml", temp_dir);
	FILE *f = fopen(config, "w");
	cr_assert(f);
	cr_assert(test_pan_keys_config(f, temp_dir));
	fprintf(f, config_template, base + 1, base + 2, delay_probability, drop_probability, base + 3, base + 4, base + 5,
		base + 6, bank_timeout_ms, base + 7, base + 8, bank_timeout_ms);
	test_mac_write_yaml(f, temp_dir, 0, false);
	fclose(f);
	cr_assert(test_security_append(config, NULL), "cannot make the test's certificates and keys");
	cr_assert(test_mac_create_keys(config));

	char bank[512], sw[512];
	test_build_path(bank, sizeof bank, "bank-node/bank-node");
	test_build_path(sw, sizeof sw, "switch/switch");
	cr_assert(access(bank, X_OK) == 0 && access(sw, X_OK) == 0, "bank-node and switch must be built in %s",
		  getenv("ISO_BUILD_DIR"));
	static const char *bank_names[] = {"big_bank", "lil_bank"}, *network_names[] = {"mastercard", "visa"};
	for (int i = 0; i < 2; i++) {
		char log[64];
		snprintf(log, sizeof log, "bank-%s.log", bank_names[i]);
		const char *argv[] = {bank, "--config", config, "--bank", bank_names[i], NULL};
		agents[agent_count++] = (struct agent){bank_names[i], spawn(argv, log), bank_ports[i]};
	}
	for (int i = 0; i < 2; i++) {
		char log[64];
		snprintf(log, sizeof log, "switch-%s.log", network_names[i]);
		const char *argv[] = {sw, "--config", config, "--network", network_names[i], NULL};
		agents[agent_count++] = (struct agent){network_names[i], spawn(argv, log), switch_ports[i]};
	}
	/* Ready when /stats answers; bounded, and a crashed agent fails at once. */
	for (int i = 0; i < agent_count; i++) {
		bool ready = test_wait_http(agents[i].http_port, "/stats", &agents[i].pid, 30000);
		cr_assert_gt(agents[i].pid, 0, "%s exited at start (logs in %s)", agents[i].name, temp_dir);
		cr_assert(ready, "%s not ready after 30 s", agents[i].name);
	}
}

struct ledger_sums {
	int64_t balance, created, approved_count, approved_amount, reversed_count, reversed_amount;
};

static struct ledger_sums ledgers(void)
{
	struct ledger_sums s = {0};
	for (int i = 0; i < 2; i++) {
		json_t *l = test_http_get_json(bank_ports[i], "/ledger");
		cr_assert(l, "no /ledger from bank %d", i);
		s.balance += get_int(l, "total_balance");
		s.created += get_int(l, "created_total");
		s.approved_count += get_int(l, "approved_count");
		s.approved_amount += get_int(l, "approved_amount");
		s.reversed_count += get_int(l, "reversed_count");
		s.reversed_amount += get_int(l, "reversed_amount");
		/* Inside each bank: what left the balances is exactly what is still debited. */
		cr_expect_eq(get_int(l, "created_total") - get_int(l, "total_balance"), get_int(l, "approved_amount"),
			     "bank %d: balances and journal disagree", i);
		json_decref(l);
	}
	return s;
}

static int64_t switches_pending(void)
{
	int64_t pending = 0;
	for (int i = 0; i < 2; i++) {
		json_t *s = test_http_get_json(switch_ports[i], "/stats");
		cr_assert(s);
		pending += get_int(json_object_get(s, "gauges"), "pending");
		/* Advices still owed to a bank are pending too: settled means drained. */
		pending += get_int(json_object_get(s, "saf"), "queued");
		json_decref(s);
	}
	return pending;
}

/* Runs the real load generator to completion (bounded) and returns its summary.json. */
static json_t *run_loadgen(const char *rate, const char *requests, const char *timeout_ms)
{
	char loadgen[512], config[512], report[512];
	test_build_path(loadgen, sizeof loadgen, "cardholder-loadgen/cardholder-loadgen");
	snprintf(config, sizeof config, "%s/ecosystem.yaml", temp_dir);
	snprintf(report, sizeof report, "%s/report", temp_dir);
	const char *argv[] = {loadgen, "--config", config, "--rate", rate, "--max-requests", requests,
			      "--duration", "10", "--report-dir", report, "--no-plots", "--no-progress", "--timeout-ms",
			      timeout_ms, NULL};
	pid_t pid = spawn(argv, "loadgen.log");
	int status = 0;
	bool done = test_process_wait(&pid, 60000, &status);
	if (!done)
		test_process_stop(&pid, SIGKILL, 0);
	cr_assert(done, "loadgen did not finish within 60 s");
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "loadgen failed (log in %s)", temp_dir);
	json_t *summary = test_load_summary(report);
	cr_assert(summary, "no summary.json");
	return summary;
}

/* Network reversals may still be retrying: wait (bounded) until nothing is pending and ledgers are still. */
static struct ledger_sums settled_ledgers(void)
{
	struct ledger_sums previous = {-1, 0, 0, 0, 0, 0};
	for (int t = 0; t < 100; t++) {
		struct ledger_sums now = ledgers();
		if (switches_pending() == 0 && memcmp(&now, &previous, sizeof now) == 0)
			return now;
		previous = now;
		test_sleep_ms(200);
	}
	return ledgers();
}

Test(loadgen_e2e, report_counts_match_the_banks_journals, .fini = teardown, .timeout = 110)
{
	/* A bank timeout well under the cardholders' 500 ms but long enough for a slow shared disk. */
	start_ecosystem("0", "0", "400");
	struct ledger_sums before = ledgers();
	json_t *s = run_loadgen("2000", "2000", "500");
	struct ledger_sums after = settled_ledgers();

	uint64_t sent = test_count(s, "sent"), approved = test_count(s, "approved");
	cr_expect_eq(sent, 2000);
	cr_expect_eq(test_count(s, "answered") + test_count(s, "timeouts"), sent, "every request has an outcome");
	/* Exact counts are checked against the journals below; this only catches a dead path. */
	cr_expect(approved > 1000, "a healthy ecosystem approves most requests (%llu)", (unsigned long long)approved);
	cr_expect_eq(test_count(s, "malformed") + test_count(s, "unmatched"), 0);
	/*
	 * What the cardholders saw approved is what the banks still hold debited;
	 * only a reversal whose outcome nobody learnt may leave a debit more.
	 */
	int64_t extra = (after.approved_count - before.approved_count) - (int64_t)approved;
	int64_t unknown = (int64_t)test_count(s, "reversals_unanswered");
	cr_expect(extra >= 0 && extra <= unknown, "banks hold %lld debits, cardholders saw %llu approved, %lld unknown",
		  (long long)(after.approved_count - before.approved_count), (unsigned long long)approved,
		  (long long)unknown);
	if (unknown == 0)
		cr_expect_eq(after.approved_amount - before.approved_amount, (int64_t)test_count(s, "approved_amount"));
	/* Money conservation: balance before = after + gross approved - reversed. */
	int64_t reversed = after.reversed_amount - before.reversed_amount;
	int64_t gross = (after.approved_amount - before.approved_amount) + reversed;
	cr_expect_eq(before.balance, after.balance + gross - reversed);
	json_decref(s);
}

Test(loadgen_e2e, bank_delays_and_drops_still_conserve_money, .fini = teardown, .timeout = 110)
{
	/*
	 * big_bank answers 3% of requests 300 ms late (after the network's 100 ms
	 * timeout: 911 to the cardholder, 1420 advice to the bank) and drops 2%.
	 */
	start_ecosystem("0.03", "0.02", "100");
	struct ledger_sums before = ledgers();
	json_t *s = run_loadgen("1000", "1500", "500");
	struct ledger_sums after = settled_ledgers();

	uint64_t approved = test_count(s, "approved");
	uint64_t issuer_timeouts = test_code(s, "action_codes", "911");
	cr_expect_eq(test_count(s, "sent"), 1500);
	cr_expect(issuer_timeouts > 0, "the faults must show as 911 answers");
	cr_expect_eq(test_count(s, "answered") + test_count(s, "timeouts"), 1500);
	int64_t extra = (after.approved_count - before.approved_count) - (int64_t)approved;
	int64_t unknown = (int64_t)test_count(s, "reversals_unanswered");
	cr_expect(extra >= 0, "cardholders saw %llu approvals, banks hold only %lld", (unsigned long long)approved,
		  (long long)(after.approved_count - before.approved_count));
	cr_expect(extra <= unknown, "%lld debits nobody saw approved, only %lld reversals with unknown outcome",
		  (long long)extra, (long long)unknown);
	if (extra == 0)
		cr_expect_eq(after.approved_amount - before.approved_amount, (int64_t)test_count(s, "approved_amount"));
	cr_expect(after.reversed_count - before.reversed_count > 0, "late approvals were reversed by the network");
	cr_expect_eq(before.balance - after.balance, after.approved_amount - before.approved_amount);
	json_decref(s);
}

Test(loadgen_e2e, cardholder_reversals_travel_through_the_network, .fini = teardown, .timeout = 110)
{
	/*
	 * The cardholders give up after 50 ms, before the network's 100 ms bank
	 * timeout, while big_bank answers 5% of requests 300 ms late: those
	 * cardholders send their own 1420 through the network to the bank.
	 */
	start_ecosystem("0.05", "0", "100");
	struct ledger_sums before = ledgers();
	json_t *s = run_loadgen("1000", "1000", "50");
	struct ledger_sums after = settled_ledgers();

	uint64_t approved = test_count(s, "approved");
	cr_expect_eq(test_count(s, "sent"), 1000);
	cr_expect(test_count(s, "timeouts") > 0, "the late answers must time the cardholders out");
	cr_expect_eq(test_count(s, "reversals_sent"), test_count(s, "timeouts"), "one 1420 per timeout");
	cr_expect_eq(test_count(s, "reversals_answered") + test_count(s, "reversals_unanswered"),
		     test_count(s, "reversals_sent"));
	int64_t extra = (after.approved_count - before.approved_count) - (int64_t)approved;
	int64_t unknown = (int64_t)test_count(s, "reversals_unanswered");
	cr_expect(extra >= 0 && extra <= unknown, "banks hold %lld debits, cardholders saw %llu approved, %lld unknown",
		  (long long)(after.approved_count - before.approved_count), (unsigned long long)approved,
		  (long long)unknown);
	if (unknown == 0)
		cr_expect_eq(after.approved_amount - before.approved_amount, (int64_t)test_count(s, "approved_amount"));
	cr_expect_eq(before.balance - after.balance, after.approved_amount - before.approved_amount);
	json_decref(s);
}
