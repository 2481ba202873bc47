/*
 * One exit-status convention for every program: 2 when the command line or
 * the config is wrong (nothing started), 1 when something fails at run time.
 * Each program is started for real with a missing config, a config with an
 * unknown key and a name the config does not have, and must exit 2 with a
 * line that says what is wrong.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "test_log_file.h"
#include "test_process.h"
#include "test_temp_dir.h"

static char dir[256];

static void setup(void)
{
	cr_assert(test_temp_dir_make(dir, sizeof dir, "exit-codes"));
}

static void teardown(void)
{
	test_temp_dir_remove(dir);
}

TestSuite(exit_codes, .init = setup, .fini = teardown);

/* Runs program (relative to the build directory) with args; its exit status, output in log. */
static int run(const char *program, const char *const args[], const char *log)
{
	char path[512];
	test_build_path(path, sizeof path, program);
	const char *argv[12] = {path};
	size_t n = 1;
	for (; args[n - 1] && n < 11; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	struct test_spawn how = {.log_path = log, .truncate_log = true, .die_with_parent = true};
	pid_t pid = test_process_spawn(argv, &how);
	cr_assert_gt(pid, 0);
	int status;
	cr_assert(test_process_wait(&pid, 10000, &status), "%s did not exit", program);
	cr_assert(WIFEXITED(status), "%s died of a signal", program);
	return WEXITSTATUS(status);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

struct program {
	const char *path;
	const char *name_option; /* how it is told which agent to play */
	const char *name;
};

static const struct program programs[] = {
	{"switch/switch", "--network", "mastercard"},
	{"bank-node/bank-node", "--bank", "big_bank"},
	{"cardholder-loadgen/cardholder-loadgen", "--network", "mastercard"},
};

static void expect_config_error(const char *config, const char *name, const char *mentioned)
{
	char log[300];
	snprintf(log, sizeof log, "%s/out.log", dir);
	for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
		const struct program *p = &programs[i];
		const char *args[] = {"--config", config, p->name_option, name ? name : p->name, NULL};
		int status = run(p->path, args, log);
		cr_assert_eq(status, 2, "%s exited %d for %s", p->path, status, mentioned);
		cr_assert(test_log_mentions(log, 0, mentioned), "%s: no '%s' in its output", p->path, mentioned);
	}
}

Test(exit_codes, a_missing_config_is_2_everywhere)
{
	char config[300];
	snprintf(config, sizeof config, "%s/none.yaml", dir);
	expect_config_error(config, NULL, "cannot open");
	char log[300];
	snprintf(log, sizeof log, "%s/tool.log", dir);
	const char *args[] = {"check", config, NULL};
	cr_assert_eq(run("tools/iso8583-config", args, log), 2);
}

Test(exit_codes, an_unknown_key_is_2_everywhere)
{
	char config[300], source[512], text[8192];
	snprintf(source, sizeof source, "%s/config/ecosystem.yaml", getenv("ISO_SOURCE_DIR"));
	FILE *f = fopen(source, "r");
	cr_assert_not_null(f, "%s", source);
	size_t n = fread(text, 1, sizeof text - 64, f);
	fclose(f);
	text[n] = '\0';
	strcat(text, "colour: blue\n");
	snprintf(config, sizeof config, "%s/typo.yaml", dir);
	write_file(config, text);
	expect_config_error(config, NULL, "colour: unknown key");
}

struct edit {
	const char *replace, *with; /* replace must be in the text */
};

/* The shipped config with each edit made, written to dir/name; its path in path. */
static void shipped_config_with(const char *name, const struct edit *edits, size_t count, char *path, size_t size)
{
	char source[512], text[8704], out[8704];
	snprintf(source, sizeof source, "%s/config/ecosystem.yaml", getenv("ISO_SOURCE_DIR"));
	FILE *f = fopen(source, "r");
	cr_assert_not_null(f, "%s", source);
	size_t n = fread(text, 1, 8192, f);
	fclose(f);
	text[n] = '\0';
	for (size_t i = 0; i < count; i++) {
		char *at = strstr(text, edits[i].replace);
		cr_assert_not_null(at, "'%s' is not in the shipped config", edits[i].replace);
		snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, edits[i].with, at + strlen(edits[i].replace));
		memcpy(text, out, sizeof text);
	}
	snprintf(path, size, "%s/%s", dir, name);
	write_file(path, text);
}

Test(exit_codes, a_missing_key_file_is_2_everywhere)
{
	char config[300], log[300];
	const struct edit no_mac_keys[] = {{"key_file: iso_mac.keys", "key_file: /nonexistent/iso_mac.keys"}};
	shipped_config_with("no-mac-keys.yaml", no_mac_keys, 1, config, sizeof config);
	expect_config_error(config, NULL, "/nonexistent/iso_mac.keys");

	/* PAN keys: the switch and the banks (the cardholders' generator keeps no PAN). */
	const struct edit no_pan_keys[] = {{"key_file: iso_mac.keys\n  grace_s: 300", "allow_unprotected: true"},
					   {"key_file: var/keys/pan.keys", "key_file: /nonexistent/pan.keys"}};
	shipped_config_with("no-pan-keys.yaml", no_pan_keys, 2, config, sizeof config);
	snprintf(log, sizeof log, "%s/out.log", dir);
	for (size_t i = 0; i < 2; i++) {
		const struct program *p = &programs[i];
		const char *args[] = {"--config", config, p->name_option, p->name, NULL};
		int status = run(p->path, args, log);
		cr_assert_eq(status, 2, "%s exited %d for a missing PAN key file", p->path, status);
		cr_assert(test_log_mentions(log, 0, "/nonexistent/pan.keys"), "%s does not name the file", p->path);
	}
}

/* The TCP edge's limits (networks[].tcp): a wrong one stops every program; check shows them. */
Test(exit_codes, a_bad_tcp_edge_limit_is_2_everywhere)
{
	char config[300], log[300], source[512];
	const struct edit slots[] = {{"      ring_slots: 1024 ", "      ring_slots: 1000 "}};
	shipped_config_with("ring.yaml", slots, 1, config, sizeof config);
	expect_config_error(config, NULL, "ring_slots: '1000' is not a power of two");
	snprintf(log, sizeof log, "%s/tool.log", dir);
	const char *check[] = {"check", config, NULL};
	cr_assert_eq(run("tools/iso8583-config", check, log), 2);
	cr_assert(test_log_mentions(log, 0, "ring_slots: '1000' is not a power of two"));

	snprintf(source, sizeof source, "%s/config/ecosystem.yaml", getenv("ISO_SOURCE_DIR"));
	const char *shipped[] = {"check", source, NULL};
	cr_assert_eq(run("tools/iso8583-config", shipped, log), 0);
	cr_assert(test_log_mentions(log, 0, "tcp 127.0.0.1:9211 max_inbound 256 per_source 64 evict_idle_s 5 "
					    "quiet_timeout_s 900 ring_slots 1024 send_wait_ms 1000 shed_after_ms 500"));
}

Test(exit_codes, the_seeds_config_checks_clean)
{
	char seed[512], log[300];
	snprintf(seed, sizeof seed, "%s/config/examples/seed-ecosystem.yaml", getenv("ISO_SOURCE_DIR"));
	snprintf(log, sizeof log, "%s/tool.log", dir);
	const char *check[] = {"check", seed, NULL};
	cr_assert_eq(run("tools/iso8583-config", check, log), 0);
	cr_assert(test_log_mentions(log, 0, "bank lil_bank institution 20000000002 http 127.0.0.1:8102"));
	const char *convert[] = {"convert", seed, NULL};
	cr_assert_eq(run("tools/iso8583-config", convert, log), 0);
	cr_assert(test_log_mentions(log, 0, "major_industry_id: 4"));
	char native[512];
	snprintf(native, sizeof native, "%s/config/ecosystem.yaml", getenv("ISO_SOURCE_DIR"));
	const char *not_seed[] = {"convert", native, NULL};
	cr_assert_eq(run("tools/iso8583-config", not_seed, log), 2);
	cr_assert(test_log_mentions(log, 0, "not in the seed's layout"));
}

Test(exit_codes, an_agent_the_config_lacks_is_2_everywhere)
{
	char source[512];
	snprintf(source, sizeof source, "%s/config/ecosystem.yaml", getenv("ISO_SOURCE_DIR"));
	expect_config_error(source, "amex", "amex");
}
