/*
 * The agents refuse to start, with a clear reason, when their PAN protection
 * keys are missing, open to group or others, or not the ones their stores were
 * written with; and the pan-keys tool creates (0600) and rotates a key file
 * that the agents then use, old data still readable. The real bank-node and
 * switch binaries, on a claimed port block.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>

#include "test_log_file.h"
#include "test_mac_keys.h"
#include "test_ports.h"
#include "test_process.h"
#include "test_temp_dir.h"
#include "test_wait_http.h"

static char dir[256], config[320], keys[320], log_path[320];
static int base;

static void setup(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "pan-keys-startup"));
	snprintf(config, sizeof(config), "%s/ecosystem.yaml", dir);
	snprintf(keys, sizeof(keys), "%s/pan.keys", dir);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", dir);
	base = test_ports_claim(16840, 10, 4, 120);
	cr_assert_gt(base, 0, "no free port block in 16840-16879");
	FILE *f = fopen(config, "w");
	cr_assert(f);
	fprintf(f,
		"pan_protection:\n  key_file: %s\n"
		"banks:\n  - name: big_bank\n    institution_id: \"10000000001\"\n    http: 127.0.0.1:%d\n"
		"    iso: 127.0.0.1:%d\n    lmdb_path: %s/big_bank\n    lmdb_map_size: 16777216\n"
		"    networks:\n      - network: mastercard\n        bins: [\"51051000\"]\n"
		"networks:\n  - name: mastercard\n    major_industry_id: 5\n    http: 127.0.0.1:%d\n"
		"    iso: 127.0.0.1:%d\n    lmdb_path: %s/mastercard\n"
		"loadgen:\n  cards_per_bank: 3\n"
		TEST_MAC_UNPROTECTED_YAML, /* about the PAN keys: the links' MACs have their own tests */
		keys, base, base + 1, dir, base + 2, base + 3, dir);
	fclose(f);
}

static void teardown(void)
{
	test_temp_dir_remove(dir);
}

TestSuite(pan_keys_startup, .init = setup, .fini = teardown, .timeout = 60);

/* Runs a program to its end (bounded); its exit code, its output in log_path. */
static int run(const char *program, const char *const *args)
{
	int rc = test_run_program(program, args, log_path, 30000);
	cr_assert_neq(rc, TEST_RUN_TIMED_OUT, "%s did not stop by itself within 30 s", program);
	return rc;
}

static void expect_refused(const char *program, const char *const *args, const char *reason)
{
	cr_expect_neq(run(program, args), 0, "%s started", program);
	if (!test_log_mentions(log_path, 0, reason))
		test_log_dump(program, log_path, 20);
	cr_expect(test_log_mentions(log_path, 0, reason), "%s's output does not say '%s'", program, reason);
}

static const char *const bank_args[] = {"--config", config, "--bank", "big_bank", NULL};
static const char *const switch_args[] = {"--config", config, "--network", "mastercard", NULL};

Test(pan_keys_startup, a_missing_key_file_is_a_clear_startup_error)
{
	expect_refused("bank-node/bank-node", bank_args, "pan.keys: No such file or directory");
	expect_refused("switch/switch", switch_args, "pan.keys: No such file or directory");
}

Test(pan_keys_startup, a_key_file_open_to_group_or_others_is_refused)
{
	const char *const create[] = {"create", keys, NULL};
	cr_assert_eq(run("tools/pan-keys", create), 0);
	struct stat st;
	cr_assert_eq(stat(keys, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600, "pan-keys creates 0600");
	chmod(keys, 0644);
	expect_refused("bank-node/bank-node", bank_args, "mode 0644 lets group or others in");
	expect_refused("switch/switch", switch_args, "mode 0644 lets group or others in");
	/* The key material never shows in what the agents say. */
	FILE *f = fopen(keys, "r");
	char line[200], hex[80] = "";
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "lookup %79s", hex) == 1)
			break;
	fclose(f);
	cr_assert_gt(strlen(hex), 32);
	cr_expect_not(test_log_mentions(log_path, 0, hex + 32));
}

Test(pan_keys_startup, a_store_written_with_other_keys_is_refused_and_rotation_keeps_old_data)
{
	const char *const create[] = {"create", keys, NULL};
	cr_assert_eq(run("tools/pan-keys", create), 0);
	/* bank-node creates its store and population and serves; then it is stopped. */
	char bin[512];
	test_build_path(bin, sizeof(bin), "bank-node/bank-node");
	const char *argv[] = {bin, "--config", config, "--bank", "big_bank", NULL};
	struct test_spawn how = {.log_path = log_path, .truncate_log = true, .die_with_parent = true};
	pid_t pid = test_process_spawn(argv, &how);
	cr_assert_gt(pid, 0);
	cr_assert(test_wait_http((uint16_t)base, "/stats", &pid, 20000), "bank-node did not start");
	cr_assert(test_process_exited_cleanly(test_process_stop(&pid, SIGTERM, 10000)));
	char data[400];
	snprintf(data, sizeof(data), "%s/big_bank/data.mdb", dir);
	cr_assert_eq(access(data, F_OK), 0, "bank-node wrote no store");

	/* A rotated key file still opens it: the lookup key stays, the old data key stays. */
	const char *const rotate[] = {"rotate", keys, NULL};
	cr_assert_eq(run("tools/pan-keys", rotate), 0);
	const char *const check[] = {"check", keys, NULL};
	cr_assert_eq(run("tools/pan-keys", check), 0);
	cr_expect(test_log_mentions(log_path, 0, "data key 2 is current"));
	pid = test_process_spawn(argv, &how);
	cr_assert_gt(pid, 0);
	cr_assert(test_wait_http((uint16_t)base, "/stats", &pid, 20000), "the rotated key file must open the store");
	cr_assert(test_process_exited_cleanly(test_process_stop(&pid, SIGTERM, 10000)));

	/* Another key file: refused, with the reason. */
	char old[400];
	snprintf(old, sizeof(old), "%s.old", keys);
	cr_assert_eq(rename(keys, old), 0); /* pan-keys create never overwrites */
	cr_assert_eq(run("tools/pan-keys", create), 0);
	expect_refused("bank-node/bank-node", bank_args, "was written with another PAN lookup key");
}
