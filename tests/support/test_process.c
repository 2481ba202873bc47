#include "test_process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_clock.h"

const char *test_build_path(char *out, size_t size, const char *relative)
{
	const char *build = getenv("ISO_BUILD_DIR");
	snprintf(out, size, "%s/%s", build && *build ? build : ".", relative);
	return out;
}

pid_t test_process_spawn(const char *const argv[], const struct test_spawn *how)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (how->die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (how->log_path) {
		int fd = open(how->log_path, O_WRONLY | O_CREAT | (how->truncate_log ? O_TRUNC : O_APPEND), 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
	if (how->workdir && chdir(how->workdir) != 0) {
		fprintf(stderr, "chdir %s: %s\n", how->workdir, strerror(errno));
		_exit(126);
	}
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

bool test_process_exited(pid_t *pid, int *status)
{
	if (*pid <= 0)
		return true;
	int s;
	pid_t r = waitpid(*pid, &s, WNOHANG);
	if (r == *pid || (r < 0 && errno == ECHILD)) {
		if (status)
			*status = r == *pid ? s : -1;
		*pid = 0;
		return true;
	}
	return false;
}

bool test_process_wait(pid_t *pid, int timeout_ms, int *status)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	for (int pause_ms = 5;; pause_ms = pause_ms < 100 ? pause_ms * 2 : 100) {
		if (test_process_exited(pid, status))
			return true;
		if (test_now_ms() >= deadline)
			return false;
		test_sleep_ms(pause_ms);
	}
}

int test_process_stop(pid_t *pid, int sig, int grace_ms)
{
	if (*pid <= 0)
		return -1;
	int status = -1;
	kill(*pid, sig);
	if (test_process_wait(pid, grace_ms, &status))
		return status;
	kill(*pid, SIGKILL);
	while (waitpid(*pid, &status, 0) < 0 && errno == EINTR)
		;
	*pid = 0;
	return status;
}

bool test_process_exited_cleanly(int status)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int test_run_program(const char *program, const char *const *args, const char *log_path, int timeout_ms)
{
	char bin[512];
	test_build_path(bin, sizeof(bin), program);
	const char *argv[TEST_RUN_MAX_ARGS + 2] = {bin};
	size_t n = 0;
	for (; args[n] && n < TEST_RUN_MAX_ARGS; n++)
		argv[n + 1] = args[n];
	argv[n + 1] = NULL;
	struct test_spawn how = {.log_path = log_path, .truncate_log = true, .die_with_parent = true};
	pid_t pid = test_process_spawn(argv, &how);
	if (pid <= 0)
		return -1;
	int status = 0;
	if (!test_process_wait(&pid, timeout_ms, &status)) {
		test_process_stop(&pid, SIGKILL, 1000);
		return TEST_RUN_TIMED_OUT;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
