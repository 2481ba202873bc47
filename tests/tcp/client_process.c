#include "client_process.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "test_clock.h"
#include "test_process.h"

#if defined(__SANITIZE_ADDRESS__) && __has_include(<sanitizer/lsan_interface.h>)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif

/* test_process_spawn execs a path, not a name looked up in PATH. */
#define PYTHON "/usr/bin/python3"

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
	argv[n++] = PYTHON;
	argv[n++] = script_path();
	for (int i = 0; args[i] && n < 31; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	const struct test_spawn how = {.die_with_parent = true};
	return test_process_spawn(argv, &how);
}

int client_wait(pid_t pid, int timeout_ms)
{
	if (pid <= 0)
		return -1;
	int status = -1;
	if (!test_process_wait(&pid, timeout_ms, &status)) {
		test_process_stop(&pid, SIGKILL, 1000);
		fprintf(stderr, "iso_client.py did not finish in %d ms\n", timeout_ms);
		return -1;
	}
	return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int client_run(const char *const *args, int timeout_ms)
{
	return client_wait(client_spawn(args), timeout_ms);
}

bool wait_until(bool (*cond)(void *), void *arg, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	while (test_now_ms() < deadline) {
		if (cond(arg))
			return true;
		test_sleep_ms(5);
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
