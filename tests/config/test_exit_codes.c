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

/* The TCP edge's limits (networks[].tcp): a wrong one stops every program; check shows them. */
Test(exit_codes, a_bad_tcp_edge_limit_is_2_everywhere)
{
	char config[300], source[512], text[8192], log[300];
	snprintf(source, sizeof source, "%s/config/ecosystem.yaml", getenv("ISO_SOURCE_DIR"));
	FILE *f = fopen(source, "r");
	cr_assert_not_null(f, "%s", source);
	size_t n = fread(text, 1, sizeof text - 64, f);
	fclose(f);
	text[n] = '\0';
	char *slots = strstr(text, "      ring_slots: 1024 ");
	cr_assert_not_null(slots, "the shipped config has no mastercard tcp.ring_slots 1024");
	memcpy(slots + strlen("      ring_slots: 10"), "00", 2);
	const char *edited = text;
	snprintf(config, sizeof config, "%s/ring.yaml", dir);
	write_file(config, edited);
	expect_config_error(config, NULL, "ring_slots: '1000' is not a power of two");
	snprintf(log, sizeof log, "%s/tool.log", dir);
	const char *check[] = {"check", config, NULL};
	cr_assert_eq(run("tools/iso8583-config", check, log), 2);
	cr_assert(test_log_mentions(log, 0, "ring_slots: '1000' is not a power of two"));

	const char *shipped[] = {"check", source, NULL};
	cr_assert_eq(run("tools/iso8583-config", shipped, log), 0);
	cr_assert(test_log_mentions(log, 0, "tcp 127.0.0.1:9211 max_inbound 256 per_source 64 evict_idle_s 5 "
					    "quiet_timeout_s 900 ring_slots 1024 send_wait_ms 1000"));
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
