/* The test-support library itself: each helper does what the tests rely on, including its failure paths. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_clock.h"
#include "test_http.h"
#include "test_log_file.h"
#include "test_ports.h"
#include "test_process.h"
#include "test_rng.h"
#include "test_temp_dir.h"
#include "test_udp_peer.h"
#include "test_wait_http.h"

/* Only lock files: these "ports" are never bound, so they need no place in anyone's port range. */
#define LOCK_ONLY_FIRST 65100

/* What a claim gets in another process (the claims of a process are its own). */
static int claim_in_child(int first, int size, int blocks)
{
	pid_t pid = fork();
	if (pid == 0) {
		int got = test_ports_claim(first, size, blocks, 0);
		_exit(got < 0 ? 0 : got - first + 1); /* 0 for none, else 1 + the block's offset */
	}
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status) == 0 ? -1 : first + WEXITSTATUS(status) - 1;
}

/* The same self-test run from another build directory at once would hold the blocks below: take turns. */
static void take_turns(void)
{
	cr_assert_eq(test_ports_claim(LOCK_ONLY_FIRST - 1, 1, 1, 60), LOCK_ONLY_FIRST - 1);
}

Test(support_ports, a_claimed_block_is_skipped_by_other_processes_until_released, .init = take_turns)
{
	cr_assert_eq(test_ports_claim(LOCK_ONLY_FIRST, 5, 2, 0), LOCK_ONLY_FIRST);
	cr_assert_eq(test_ports_claim(LOCK_ONLY_FIRST, 5, 2, 0), LOCK_ONLY_FIRST, "a process's own claim is not in its way");
	cr_assert_eq(claim_in_child(LOCK_ONLY_FIRST, 5, 2), LOCK_ONLY_FIRST + 5, "the next free block");
	cr_assert_eq(claim_in_child(LOCK_ONLY_FIRST, 5, 1), -1, "no block free");
	test_ports_release(LOCK_ONLY_FIRST);
	cr_assert_eq(claim_in_child(LOCK_ONLY_FIRST, 5, 1), LOCK_ONLY_FIRST, "free again once released");
}

Test(support_ports, a_claim_waits_only_as_long_as_it_is_told, .init = take_turns)
{
	cr_assert_eq(test_ports_claim(LOCK_ONLY_FIRST + 20, 1, 1, 0), LOCK_ONLY_FIRST + 20);
	pid_t pid = fork();
	if (pid == 0) {
		int64_t start = test_now_ms();
		int got = test_ports_claim(LOCK_ONLY_FIRST + 20, 1, 1, 1);
		int64_t waited = test_now_ms() - start;
		_exit(got == -1 && waited >= 900 && waited < 3000 ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a 1 s wait for a held block gives -1 after about 1 s");
}

Test(support_process, a_program_that_ignores_sigterm_is_killed_after_the_grace)
{
	const char *argv[] = {"/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30", NULL};
	char dir[256], log[300];
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "selftest"));
	snprintf(log, sizeof(log), "%s/sh.log", dir);
	pid_t pid = test_process_spawn(argv, &(struct test_spawn){.log_path = log});
	cr_assert_gt(pid, 0);
	for (int64_t deadline = test_now_ms() + 5000; !test_log_mentions(log, 0, "ready");) {
		cr_assert_lt(test_now_ms(), deadline, "the shell never started");
		test_sleep_ms(10);
	}
	int64_t start = test_now_ms();
	int status = test_process_stop(&pid, SIGTERM, 300);
	cr_assert_eq(pid, 0);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %d", status);
	cr_assert_lt(test_now_ms() - start, 5000);
	cr_assert_not(test_process_exited_cleanly(status));
	cr_assert_eq(test_process_stop(&pid, SIGTERM, 300), -1, "nothing left to stop");
	cr_assert(test_temp_dir_remove(dir));
}

Test(support_process, exit_statuses_and_working_directory)
{
	char dir[256], log[300];
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "selftest"));
	snprintf(log, sizeof(log), "%s/pwd.log", dir);
	const char *pwd[] = {"/bin/sh", "-c", "pwd", NULL};
	pid_t pid = test_process_spawn(pwd, &(struct test_spawn){.log_path = log, .workdir = dir});
	int status = -1;
	cr_assert(test_process_wait(&pid, 5000, &status));
	cr_assert(test_process_exited_cleanly(status));
	cr_assert(test_log_mentions(log, 0, dir), "ran in %s", dir);
	long size = test_log_size(log);
	cr_assert_gt(size, 0);

	const char *fail[] = {"/bin/sh", "-c", "echo second; exit 3", NULL};
	pid = test_process_spawn(fail, &(struct test_spawn){.log_path = log});
	cr_assert(test_process_wait(&pid, 5000, &status));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	cr_assert_not(test_process_exited_cleanly(status));
	cr_assert(test_log_mentions(log, size, "second"), "appended after the first run");
	cr_assert_not(test_log_mentions(log, size, dir), "the offset skips the first run");

	const char *missing[] = {"/nonexistent/program", NULL};
	pid = test_process_spawn(missing, &(struct test_spawn){.log_path = log});
	cr_assert(test_process_wait(&pid, 5000, &status));
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 127);
	cr_assert(test_log_mentions(log, 0, "/nonexistent/program"), "the exec failure is in the log");
	cr_assert(test_temp_dir_remove(dir));
}

Test(support_wait_http, a_program_that_dies_fails_the_wait_at_once)
{
	const char *argv[] = {"/bin/sh", "-c", "exit 1", NULL};
	pid_t pid = test_process_spawn(argv, &(struct test_spawn){0});
	int64_t start = test_now_ms();
	/* Port 1 on loopback: nothing listens, the connection is refused. */
	cr_assert_not(test_wait_http(1, "/stats", &pid, 10000));
	cr_assert_eq(pid, 0, "reaped");
	cr_assert_lt(test_now_ms() - start, 5000, "did not wait out the timeout");
	cr_assert_eq(test_http(1, "GET", "/stats", NULL, NULL), 0, "no answer is status 0");
	cr_assert_null(test_http_get_json(1, "/stats"));
	cr_assert_eq(test_http_int(1, "/stats", "x"), -1);
}

Test(support_temp_dir, removes_its_own_trees_and_nothing_else)
{
	char dir[256], sub[300], file[320];
	cr_assert(test_temp_dir_make(dir, sizeof(dir), "selftest"));
	cr_assert(strstr(dir, "/iso-test-selftest-"));
	snprintf(sub, sizeof(sub), "%s/a", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	snprintf(file, sizeof(file), "%s/f", sub);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert(test_temp_dir_remove(dir));
	cr_assert_neq(access(dir, F_OK), 0);
	cr_assert_not(test_temp_dir_remove("/tmp"), "a path it did not make is refused");
	cr_assert_not(test_temp_dir_remove(""));
	cr_assert_eq(access("/tmp", F_OK), 0);
	char small[8];
	cr_assert_not(test_temp_dir_make(small, sizeof(small), "selftest"), "a path that does not fit");
	cr_assert_str_eq(small, "");
}

Test(support_udp_peer, datagrams_arrive_whole_and_waits_end)
{
	struct test_udp_peer a, b;
	cr_assert(test_udp_peer_open(&a, 0));
	cr_assert(test_udp_peer_open(&b, 0));
	uint16_t b_port = ntohs(b.local.sin_port);
	cr_assert_gt(b_port, 0);
	struct test_udp_peer taken;
	cr_assert_not(test_udp_peer_open(&taken, b_port), "a bound port is refused");
	cr_assert_eq(taken.fd, -1);

	uint8_t frame[] = {0x00, 0x04, '1', '8', '0', '4'};
	cr_assert(test_udp_peer_send(&a, b_port, frame, sizeof(frame)));
	uint8_t buf[64];
	struct sockaddr_in from;
	cr_assert_eq(test_udp_peer_receive(&b, buf, sizeof(buf), 2000, &from), sizeof(frame));
	cr_assert_eq(memcmp(buf, frame, sizeof(frame)), 0);
	cr_assert_eq(from.sin_port, a.local.sin_port, "the sender is reported");

	int64_t start = test_now_ms();
	cr_assert_eq(test_udp_peer_receive(&b, buf, sizeof(buf), 50, NULL), 0);
	cr_assert_geq(test_now_ms() - start, 40, "the timeout is waited");
	cr_assert_eq(test_udp_peer_receive(&b, buf, sizeof(buf), 0, NULL), 0, "0: only what is there");
	test_udp_peer_close(&a);
	test_udp_peer_close(&b);
	cr_assert_eq(a.fd, -1);
}

Test(support_rng, a_seed_gives_the_same_sequence_every_run)
{
	struct test_rng one = {0x9E3779B97F4A7C15ull}, two = {0x9E3779B97F4A7C15ull}, other = {1};
	uint64_t first = test_rng_next(&one);
	cr_assert_eq(first, test_rng_next(&two));
	cr_assert_neq(first, test_rng_next(&one), "it moves on");
	cr_assert_neq(test_rng_next(&other), first);
	/* xorshift64* of seed 1: 1 ^ (1 << 25) = 0x2000001, ^ (>> 27) = same, times the multiplier. */
	struct test_rng known = {1};
	cr_assert_eq(test_rng_next(&known), 0x2000001ull * 2685821657736338717ull);
}
