/*
 * Idle agents sleep (docs/architecture.md, "Idle"): the real switch (two
 * workers) and both bank nodes, left without traffic, use next to no CPU
 * (utime + stime from /proc/<pid>/stat over a few seconds), and still answer
 * the first requests that come after the idle spell. Not a timing test: the
 * CPU bound is many times what a sleeping agent uses and far below what a
 * poll loop that spins, yields or naps costs (about 6% of a vCPU per switch
 * worker before event-driven waiting). Ports 17840-17859.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ecosystem_harness.h"
#include "test_http.h"

#define IDLE_SECONDS 3
/* CPU the three agents together may use in IDLE_SECONDS: 3% of one vCPU (ASan included). */
#define IDLE_CPU_BOUND_MS 90

static struct eco_env env;

static void cleanup(void)
{
	eco_cleanup(&env);
}

/* utime + stime of a process in milliseconds, -1 when it cannot be read. */
static long long cpu_ms(pid_t pid)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(line, 1, sizeof(line) - 1, f);
	fclose(f);
	line[n] = '\0';
	/* The command may hold spaces and parentheses: fields count from the last ')'. */
	char *p = strrchr(line, ')');
	if (!p)
		return -1;
	unsigned long long utime = 0, stime = 0;
	/* After ')': state(3) ... utime is field 14, stime 15. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
		return -1;
	long ticks = sysconf(_SC_CLK_TCK);
	return (long long)((utime + stime) * 1000u / (unsigned long long)(ticks > 0 ? ticks : 100));
}

static long long agents_cpu_ms(void)
{
	long long total = 0;
	pid_t pids[] = {env.switch_pid, env.bank_pid[0], env.bank_pid[1]};
	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
		long long ms = cpu_ms(pids[i]);
		cr_assert_geq(ms, 0, "cannot read the CPU time of pid %d", (int)pids[i]);
		total += ms;
	}
	return total;
}

static void sleep_seconds(int s)
{
	struct timespec ts = {.tv_sec = s};
	while (nanosleep(&ts, &ts) != 0)
		;
}

Test(idle_agents, sleep_when_idle_and_answer_the_first_request_after, .fini = cleanup, .timeout = 180)
{
	struct eco_settings s = {.base_port = 17840, .cards_per_bank = 20, .initial_balance = 100000000};
	cr_assert(eco_prepare(&env, &s), "cannot prepare %s", env.dir);
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start");
	/* Some traffic first, so that every loop has been busy and gone idle again. */
	const char *warm[] = {"--rate", "200", "--duration", "1", "--max-requests", "200", "--timeout-ms", "2000", NULL};
	cr_assert_eq(eco_run_loadgen(&env, "warm", warm, 60000), 0, "the warm-up load failed");
	sleep_seconds(1);

	long long before = agents_cpu_ms();
	sleep_seconds(IDLE_SECONDS);
	long long used = agents_cpu_ms() - before;
	fprintf(stderr, "idle_agents: switch + 2 banks used %lld ms of CPU in %d s idle\n", used, IDLE_SECONDS);
	cr_expect_leq(used, IDLE_CPU_BOUND_MS, "idle agents used %lld ms of CPU in %d s (bound %d ms): a poll loop spins",
		      used, IDLE_SECONDS, IDLE_CPU_BOUND_MS);

	/* The first requests after the idle spell are answered, none timed out. */
	long long approved = eco_switch_stat(&env, "totals.approved");
	const char *after[] = {"--rate", "50", "--duration", "1", "--max-requests", "20", "--timeout-ms", "2000", NULL};
	cr_assert_eq(eco_run_loadgen(&env, "after", after, 60000), 0, "the load after idling failed");
	char path[400];
	snprintf(path, sizeof(path), "%s/after/summary.json", env.dir);
	json_error_t jerr;
	json_t *summary = json_load_file(path, 0, &jerr);
	cr_assert_not_null(summary, "%s: %s", path, jerr.text);
	json_t *counts = json_object_get(summary, "counts");
	cr_expect_eq(json_integer_value(json_object_get(counts, "sent")), 20);
	cr_expect_eq(json_integer_value(json_object_get(counts, "answered")), 20, "a request after idling went unanswered");
	cr_expect_eq(json_integer_value(json_object_get(counts, "timeouts")), 0);
	json_decref(summary);
	cr_expect_eq(eco_switch_stat(&env, "totals.approved"), approved + 20);
	cr_assert_eq(eco_stop_switch(&env), 0, "the switch did not exit 0");
	cr_assert_eq(eco_stop_bank(&env, 0), 0);
	cr_assert_eq(eco_stop_bank(&env, 1), 0);
}
