/*
 * The real programs a test starts: spawned with their output in a log file,
 * stopped with a signal and a bounded wait (SIGKILL after it), reaped.
 * A pid of 0 (or below) means "not running"; these functions set it to 0 once
 * the process is reaped.
 */
#ifndef TEST_PROCESS_H
#define TEST_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct test_spawn {
	const char *log_path; /* stdout and stderr go there; NULL keeps the test's */
	bool truncate_log;    /* else appended to: a restarted program keeps one log */
	const char *workdir;  /* the program's working directory; NULL keeps the test's */
	bool die_with_parent; /* SIGKILL when the test process dies, so a crashed test leaves nothing behind */
};

/* $ISO_BUILD_DIR/relative (or ./relative) into out; returns out. */
const char *test_build_path(char *out, size_t size, const char *relative);
/* Forks and execs argv (NULL-terminated, argv[0] a path); the pid, or -1. */
pid_t test_process_spawn(const char *const argv[], const struct test_spawn *how);
/* True (and *status, *pid = 0) when the process has exited; never blocks. */
bool test_process_exited(pid_t *pid, int *status);
/* Waits up to timeout_ms for the process to exit by itself; true (and *status) when it did. */
bool test_process_wait(pid_t *pid, int timeout_ms, int *status);
/*
 * Sends sig, waits up to grace_ms for the exit, then SIGKILL (bounded: a
 * program that ignores sig cannot hang the test). Returns the wait status,
 * -1 when it was not running.
 */
int test_process_stop(pid_t *pid, int sig, int grace_ms);
/*
 * Runs a built program (a path under the build directory, as test_build_path
 * takes it) with args (NULL-terminated, at most TEST_RUN_MAX_ARGS) to its end,
 * its output in log_path (truncated first). Returns its exit code; -1 when it
 * could not start or died of a signal; -2 when it had not finished within
 * timeout_ms (then it is killed).
 */
#define TEST_RUN_MAX_ARGS 14
#define TEST_RUN_TIMED_OUT (-2)
int test_run_program(const char *program, const char *const *args, const char *log_path, int timeout_ms);
/* True when a wait status says "exited with 0". */
bool test_process_exited_cleanly(int status);

#endif
