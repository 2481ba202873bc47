/*
 * A data-key rotation through the real programs, to its end
 * (docs/data-protection.md, "Rotating a data key"): an ecosystem whose cards
 * (the population and a card ordered through the lifecycle), payments and
 * queued reversal advices (lil_bank frozen, the switch stopped with its queue
 * full) were written under data key 1; the key file rotated, the agents
 * restarted without lil_bank (a card ordered and advices queued under key 2);
 * the agents stopped, pan-keys reseal over every store, key 1 retired
 * (refused before the re-seal); the agents started with a key file that no
 * longer has key 1: the switch forwards every queued advice, the old cards are
 * still found and still pay. The old key is no longer needed.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ecosystem_harness.h"
#include "test_clock.h"
#include "test_http.h"
#include "test_log_file.h"
#include "test_process.h"

static struct eco_env env;
static char keys[400], tool_log[400], stores[3][400];

static void cleanup(void)
{
	eco_cleanup(&env);
}

/* Runs pan-keys to its end (bounded); its exit code, its output in tool_log. */
static int pan_keys(const char *const *args)
{
	char bin[512];
	test_build_path(bin, sizeof(bin), "tools/pan-keys");
	const char *argv[16] = {bin};
	size_t n = 1;
	for (; args[n - 1] && n < 15; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	struct test_spawn how = {.log_path = tool_log, .truncate_log = true, .die_with_parent = true};
	pid_t pid = test_process_spawn(argv, &how);
	cr_assert_gt(pid, 0);
	int status = 0;
	cr_assert(test_process_wait(&pid, 60000, &status), "pan-keys did not finish within 60 s");
	test_log_dump("pan-keys", tool_log, 30);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool tool_said(const char *text)
{
	return test_log_mentions(tool_log, 0, text);
}

static long long approved(void)
{
	long long n = 0;
	for (int b = 0; b < 2; b++) {
		json_t *ledger = test_http_get_json(env.bank_http[b], "/ledger");
		cr_assert_not_null(ledger, "bank %d has no ledger", b);
		n += json_integer_value(json_object_get(ledger, "approved_count"));
		json_decref(ledger);
	}
	return n;
}

static const char *const load[] = {"--rate", "200", "--duration", "2", "--max-requests", "300", "--timeout-ms",
				   "2000", NULL};

/* Payments with the population's cards (made under key 1 at the banks' first start). */
static void pay(const char *name)
{
	long long before = approved();
	cr_assert_eq(eco_run_loadgen(&env, name, load, 60000), 0, "the load generator failed (%s)", name);
	cr_assert(eco_wait_switch_drained(&env, 60000), "the switch still owes advices");
	cr_expect_gt(approved(), before, "no payment approved (%s)", name);
}

/* Payments while lil_bank does not answer: each of its cards' times out and leaves an advice queued. */
static void pay_while_lil_bank_is_away(const char *name)
{
	long long queued = eco_switch_stat(&env, "saf.queued");
	cr_assert_eq(eco_run_loadgen(&env, name, load, 60000), 0, "the load generator failed (%s)", name);
	cr_assert(eco_wait_switch_stat(&env, "saf.queued", queued + 3, 10000), "no advices queued for lil_bank");
}

/* A card ordered through the lifecycle at a bank: its PAN into pan, once the bank has it produced. */
static void order_card(int bank, char pan[24])
{
	json_t *out = NULL;
	cr_assert_eq(test_http(env.bank_http[bank], "POST", "/create-account", "{\"name\":\"alice\",\"balance\":5000}",
			       &out),
		     201);
	char body[200], path[80];
	snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"network\":\"mastercard\"}",
		 json_string_value(json_object_get(out, "uuid")));
	json_decref(out);
	cr_assert_eq(test_http(env.bank_http[bank], "POST", "/order-card", body, &out), 201);
	snprintf(pan, 24, "%s", json_string_value(json_object_get(out, "pan")));
	json_decref(out);
	snprintf(path, sizeof(path), "/card/pan/%s", pan);
	bool produced = false;
	for (int i = 0; i < 300 && !produced; i++) { /* the network's outbox tells the bank */
		json_t *card = test_http_get_json(env.bank_http[bank], path);
		produced = card && strcmp(json_string_value(json_object_get(card, "state")) ?: "", "produced") == 0;
		json_decref(card);
		if (!produced)
			usleep(50000);
	}
	cr_assert(produced, "the ordered card was not produced within 15 s");
}

/* What still runs, stopped cleanly. */
static void stop_all(void)
{
	if (env.switch_pid)
		cr_assert_eq(eco_stop_switch(&env), 0);
	cr_assert_eq(eco_stop_bank(&env, 0), 0);
	if (env.bank_pid[1])
		cr_assert_eq(eco_stop_bank(&env, 1), 0);
}

/* Both the bank that issued it and the switch still know the card by its PAN. */
static void expect_card_found(int bank, const char *pan)
{
	char path[80];
	snprintf(path, sizeof(path), "/card/pan/%s", pan);
	json_t *out = NULL;
	cr_expect_eq(test_http(env.bank_http[bank], "GET", path, NULL, &out), 200, "bank %d lost %.6s...", bank, pan);
	json_decref(out);
	out = NULL;
	cr_expect_eq(test_http(env.switch_http, "GET", path, NULL, &out), 200, "the switch lost %.6s...", pan);
	json_decref(out);
}

static bool key_file_has(const char *prefix)
{
	FILE *f = fopen(keys, "r");
	cr_assert(f);
	char line[256];
	bool found = false;
	while (fgets(line, sizeof(line), f))
		found |= strncmp(line, prefix, strlen(prefix)) == 0;
	fclose(f);
	return found;
}

Test(pan_key_rotation, the_old_data_key_is_retired_and_old_cards_still_pay, .fini = cleanup, .timeout = 280)
{
	struct eco_settings settings = {
		.base_port = 19100,
		.bank_timeout_ms = 1000,
		.cards_per_bank = 12,
		.initial_balance = 1000000000,
		.tag = "pan-key-rotation",
	};
	cr_assert(eco_prepare(&env, &settings), "could not prepare the ecosystem");
	snprintf(keys, sizeof(keys), "%s/pan.keys", env.dir);
	snprintf(tool_log, sizeof(tool_log), "%s/pan-keys.log", env.dir);
	snprintf(stores[0], sizeof(stores[0]), "%s/big_bank", env.dir);
	snprintf(stores[1], sizeof(stores[1]), "%s/lil_bank", env.dir);
	snprintf(stores[2], sizeof(stores[2]), "%s/mastercard", env.dir); /* brings mastercard/saf along */

	/* Under data key 1: the population, a card ordered, payments, advices left queued. */
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start");
	char old_card[24], new_card[24];
	order_card(1, old_card);
	pay("load-key1");
	eco_freeze_bank(&env, 1, true);
	pay_while_lil_bank_is_away("load-key1-frozen");
	int code = eco_stop_switch(&env);
	cr_assert_eq(code, 0, "switch exit %d", code); /* its queue stays on disk, sealed under key 1 */
	eco_freeze_bank(&env, 1, false);
	stop_all();

	/* Rotated; the agents restarted (lil_bank still away) seal under key 2. */
	const char *const rotate[] = {"rotate", keys, NULL};
	cr_assert_eq(pan_keys(rotate), 0);
	cr_assert(eco_start_bank(&env, 0) && eco_start_switch(&env, 2), "the ecosystem did not start after the rotation");
	cr_expect_geq(eco_switch_stat(&env, "saf.loaded"), 3, "the key-1 advices were not reloaded");
	order_card(0, new_card);
	pay_while_lil_bank_is_away("load-key2");
	stop_all();

	const char *const usage[] = {"usage", keys, stores[0], stores[1], stores[2], NULL};
	cr_assert_eq(pan_keys(usage), 0);
	cr_expect(tool_said("kind=bank db=cards key=1 records=12 damaged=0"), "big_bank's population under key 1");
	cr_expect(tool_said("kind=network db=cards key=1"), "the network's cards under key 1");
	cr_expect(tool_said("kind=network db=cards key=2"), "the card ordered after the rotation under key 2");
	cr_expect(tool_said("kind=saf db=advices key=1"), "the switch's queue, counted with the network's directory");
	cr_expect(tool_said("kind=saf db=advices key=2"), "advices queued after the rotation under key 2");
	const char *const retire[] = {"retire", keys, "1", "--store", stores[0], stores[1], stores[2], NULL};
	cr_expect_eq(pan_keys(retire), 1, "key 1 still seals records: retire must refuse");
	cr_expect(tool_said("data key 1 still seals"));
	cr_expect(key_file_has("data 1 "));

	/* The agents stopped: re-seal everything, then retire key 1. */
	const char *const reseal[] = {"reseal", keys, stores[0], stores[1], stores[2], NULL};
	cr_assert_eq(pan_keys(reseal), 0);
	cr_expect(tool_said("; 0 damaged"));
	cr_assert_eq(pan_keys(usage), 0);
	cr_expect(tool_said("# in all: 0 records sealed under keys older than the current (2); 0 damaged"));
	cr_expect_not(tool_said(" key=1 "));
	cr_assert_eq(pan_keys(retire), 0);
	cr_expect(tool_said("retired data key 1"));
	cr_expect_not(key_file_has("data 1 "), "data key 1 is still in the key file");
	struct stat st;
	cr_assert_eq(stat(keys, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);

	/* Without key 1: the agents start, every advice reaches lil_bank, the old cards are found and pay. */
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start without data key 1");
	cr_assert(eco_wait_switch_drained(&env, 60000), "the switch could not forward its queue (%lld queued)",
		  eco_switch_stat(&env, "saf.queued"));
	cr_expect_eq(eco_switch_stat(&env, "saf.exceptions"), 0, "an advice became an exception");
	expect_card_found(1, old_card);
	expect_card_found(0, new_card);
	pay("load-after-retire");
	stop_all();
}
