/*
 * A full disk, end to end with the real switch, banks and load generator: an
 * agent's LMDB directory is a small file system of its own (a tmpfs in a
 * private mount namespace, so nothing outside this test's processes sees
 * it), filled to its last byte while payments run, then freed again.
 *
 * - big_bank's disk: the bank stays up (no signal: a store written through a
 *   shared map would die of SIGBUS on the first page the disk cannot back),
 *   refuses what it cannot store with 909 and says why in its log, and
 *   approves again by itself once there is room.
 * - the switch's disk, while big_bank stops answering: the reversal advices
 *   the switch owes cannot be stored; it keeps them in memory, refuses new
 *   authorizations (909) rather than take on debts it could not keep, stores
 *   and delivers every advice once there is room.
 *
 * Either way, what the banks debited equals what the cardholders saw
 * approved, to the minor unit, once the ecosystem has drained.
 *
 * Mounting needs CAP_SYS_ADMIN: CI runs as root. Without it the test says
 * so and is skipped.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ecosystem_harness.h"
#include "test_clock.h"
#include "test_http.h"
#include "test_log_file.h"

/* Ports of these tests: 19300-19339 (two blocks of ECO_PORT_BLOCK). */
#define BANK_TEST_PORTS 19300
#define SWITCH_TEST_PORTS 19320
/* Room for an agent's store at start (50 accounts and cards) and some minutes of journal. */
#define AGENT_DISK_OPTIONS "size=8m,mode=0700"

static struct eco_env env;
static char disk[400]; /* the mounted directory */
static bool mounted;

static void cleanup(void)
{
	if (mounted)
		umount2(disk, MNT_DETACH);
	eco_cleanup(&env);
}

/* This process and its children get mounts of their own; false when not permitted. */
static bool private_mounts(void)
{
	if (unshare(CLONE_NEWNS) != 0)
		return false;
	return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
}

static long long bank_stat(const char *name)
{
	json_t *stats = test_http_get_json(env.bank_http[0], "/stats");
	if (!stats)
		return -1;
	json_t *v = json_object_get(stats, name);
	long long n = json_is_integer(v) ? json_integer_value(v) : -1;
	json_decref(stats);
	return n;
}

static bool wait_bank_stat_above(const char *name, long long floor, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	while (test_now_ms() < deadline) {
		if (bank_stat(name) > floor)
			return true;
		test_sleep_ms(50);
	}
	return false;
}

/* Fails the test, with the signal's name, if the agent has died. */
static void assert_alive(pid_t *pid, const char *agent, const char *when)
{
	int status;
	cr_assert_gt(*pid, 0, "%s is not running %s", agent, when);
	if (waitpid(*pid, &status, WNOHANG) == *pid) {
		*pid = 0;
		cr_assert_fail("%s died %s: %s %d (%s)", agent, when, WIFSIGNALED(status) ? "signal" : "exit status",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
			       WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "");
	}
}

/* Writes zeros into path until the file system has no byte left; returns the bytes written. */
static long long fill_disk(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0, "cannot create %s: %s", path, strerror(errno));
	static const char zeros[4096];
	long long written = 0;
	for (int i = 0; i < 64 * 256; i++) { /* bounded: 64 MiB, eight times the disk */
		ssize_t n = write(fd, zeros, sizeof zeros);
		if (n < 0) {
			cr_assert_eq(errno, ENOSPC, "filling %s: %s", path, strerror(errno));
			break;
		}
		written += n;
	}
	close(fd);
	return written;
}

static void ledgers(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/%s.json", env.dir, name);
	cr_assert(eco_write_ledgers(&env, path), "a bank did not give its ledger");
}

/* The ecosystem with `agent`'s LMDB directory on a small disk of its own, up and running. */
static void start_with_small_disk(uint16_t base_port, const char *tag, const char *agent)
{
	if (!private_mounts())
		cr_skip_test("needs CAP_SYS_ADMIN for a private mount namespace (%s)", strerror(errno));
	struct eco_settings s = {
		.base_port = base_port,
		.bank_timeout_ms = 250,
		.cards_per_bank = 50,
		.initial_balance = 1000000000,
		.reversal_retry_max_ms = 1000,
		.tag = tag,
	};
	cr_assert(eco_prepare(&env, &s), "could not prepare the ecosystem");
	snprintf(disk, sizeof disk, "%s/%s", env.dir, agent);
	cr_assert(mkdir(disk, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", disk, strerror(errno));
	if (mount("iso8583-disk-full", disk, "tmpfs", MS_NOSUID | MS_NODEV, AGENT_DISK_OPTIONS) != 0) {
		cr_assert(errno == EPERM || errno == EACCES, "mount tmpfs on %s: %s", disk, strerror(errno));
		cr_skip_test("not permitted to mount a tmpfs here (%s)", strerror(errno));
	}
	mounted = true;
	cr_assert(eco_start_all(&env, 2), "the ecosystem did not start");
}

static const char *const load[] = {"--rate", "200", "--duration", "40", "--max-requests", "8000", "--timeout-ms", "1000",
				   "--reversal-attempts", "8", NULL};

/* The load to its end, the switch drained, then money to the minor unit. */
static void check_money(pid_t loadgen, const char *before)
{
	cr_assert_eq(eco_wait_loadgen(&env, "load", loadgen, 120000), 0, "the load generator failed");
	cr_assert(eco_wait_switch_drained(&env, 90000), "the switch still owes advices after 90 s (queued %lld)",
		  eco_switch_stat(&env, "saf.queued"));
	char after[400];
	ledgers("after", after, sizeof after);
	cr_expect_eq(eco_ledger_check_exact(&env, before, after, "load"), 0,
		     "customers charged for what they were not told was approved (ledger_check above)");
	cr_expect_eq(eco_switch_stat(&env, "saf.exceptions"), 0, "nothing may end in the exception queue");
}

Test(disk_full, a_bank_whose_disk_fills_up_refuses_stays_up_recovers_and_charges_only_approvals, .fini = cleanup,
     .timeout = 240)
{
	start_with_small_disk(BANK_TEST_PORTS, "disk-full-bank", "big_bank");

	char before[400];
	ledgers("before", before, sizeof before);
	pid_t loadgen = eco_start_loadgen(&env, "load", load);
	cr_assert_gt(loadgen, 0);
	cr_assert(wait_bank_stat_above("approved", 50, 20000), "big_bank approved nothing before its disk filled up");

	/* The disk fills up under load: refusals, not a crash. */
	char filler[460];
	snprintf(filler, sizeof filler, "%s/filler", disk);
	long long filled = fill_disk(filler);
	fprintf(stderr, "disk_full: %lld bytes of filler left the bank's file system full\n", filled);
	long long refused = bank_stat("system_errors");
	cr_assert(wait_bank_stat_above("system_errors", refused, 20000),
		  "big_bank answered no 909 with its disk full: the test did not fill what the bank writes");
	test_sleep_ms(3000); /* three seconds of payments against the full disk */
	assert_alive(&env.bank_pid[0], "big_bank", "with its disk full");
	cr_expect(test_log_mentions(env.bank_log[0], 0, "big_bank is full"),
		  "big_bank's log does not say that its disk is full (its lines: below)");

	/* Room again: the bank approves by itself, no restart. */
	cr_assert_eq(unlink(filler), 0);
	long long approved = bank_stat("approved");
	cr_assert(wait_bank_stat_above("approved", approved + 20, 20000),
		  "big_bank did not approve again after its disk had room");
	assert_alive(&env.bank_pid[0], "big_bank", "after its disk had room again");

	check_money(loadgen, before);
	assert_alive(&env.bank_pid[0], "big_bank", "at the end");
	cr_expect_eq(eco_stop_bank(&env, 0), 0, "big_bank did not stop cleanly");
}

Test(disk_full, a_switch_whose_disk_fills_up_in_a_bank_outage_keeps_every_reversal_and_delivers_it_later,
     .fini = cleanup, .timeout = 240)
{
	start_with_small_disk(SWITCH_TEST_PORTS, "disk-full-switch", "mastercard");
	char before[400];
	ledgers("before", before, sizeof before);
	pid_t loadgen = eco_start_loadgen(&env, "load", load);
	cr_assert_gt(loadgen, 0);
	cr_assert(eco_wait_switch_stat(&env, "totals.approved", 50, 20000), "nothing approved before the disk filled up");

	/* The switch's disk full, then big_bank stops answering: every timeout owes an advice. */
	char filler[460];
	snprintf(filler, sizeof filler, "%s/filler", disk);
	long long filled = fill_disk(filler);
	fprintf(stderr, "disk_full: %lld bytes of filler left the switch's file system full\n", filled);
	eco_freeze_bank(&env, 0, true);
	cr_assert(eco_wait_switch_stat(&env, "saf.not_durable", 1, 20000),
		  "no advice failed to be stored: the test did not fill what the switch writes");
	test_sleep_ms(3000);
	assert_alive(&env.switch_pid, "the switch", "with its disk full");
	cr_expect_gt(eco_switch_stat(&env, "saf.store_failures"), 0);

	/* The bank back first (it gets the advices held in memory), then room on the disk. */
	eco_freeze_bank(&env, 0, false);
	test_sleep_ms(2000);
	long long stored = eco_switch_stat(&env, "saf.stored");
	cr_assert_eq(unlink(filler), 0);
	cr_assert(eco_wait_switch_stat(&env, "saf.stored", stored + 1, 20000),
		  "no advice was stored after the disk had room");
	assert_alive(&env.switch_pid, "the switch", "after its disk had room again");

	check_money(loadgen, before);
	cr_expect_gt(eco_switch_stat(&env, "saf.acknowledged"), 0, "no advice reached the bank");
	assert_alive(&env.switch_pid, "the switch", "at the end");
	cr_expect_eq(eco_stop_switch(&env), 0, "the switch did not stop cleanly");
}
