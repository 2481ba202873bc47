#include "client_process.h"

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__) && __has_include(<sanitizer/lsan_interface.h>)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif

extern char **environ;

void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static const char *script_path(void)
{
	static char path[4096];
	const char *src = getenv("ISO_SOURCE_DIR");
	snprintf(path, sizeof(path), "%s/tests/tcp/iso_client.py", src ? src : ".");
	return path;
}

pid_t client_spawn(const char *const *args)
{
	const char *argv[32];
	int n = 0;
	argv[n++] = "python3";
	argv[n++] = script_path();
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid;
	if (posix_spawnp(&pid, "python3", NULL, NULL, (char *const *)argv, environ) != 0)
		return -1;
	return pid;
}

int client_wait(pid_t pid, int timeout_ms)
{
	if (pid < 0)
		return -1;
	int status;
	for (int waited = 0;; waited += 5) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0)
			return -1;
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr, "iso_client.py did not finish in %d ms\n", timeout_ms);
			return -1;
		}
		sleep_ms(5);
	}
}

int client_run(const char *const *args, int timeout_ms)
{
	return client_wait(client_spawn(args), timeout_ms);
}

bool wait_until(bool (*cond)(void *), void *arg, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 5) {
		if (cond(arg))
			return true;
		sleep_ms(5);
	}
	return cond(arg);
}

bool no_leaks_now(void)
{
#ifdef HAVE_LSAN
	return __lsan_do_recoverable_leak_check() == 0;
#else
	return true;
#endif
}
