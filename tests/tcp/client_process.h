/*
 * Runs tests/tcp/iso_client.py (Python 3, standard library only) as a child
 * process through tests/support's test_process, and waits for conditions with
 * bounded polling.
 */
#ifndef TCP_CLIENT_PROCESS_H
#define TCP_CLIENT_PROCESS_H

#include <stdbool.h>
#include <sys/types.h>

/* Starts `python3 iso_client.py <args...>` (NULL-terminated); returns the pid or -1. */
pid_t client_spawn(const char *const *args);
/* Waits up to timeout_ms; returns the exit status, or -1 (killed after the timeout, or a signal). */
int client_wait(pid_t pid, int timeout_ms);
/* client_spawn + client_wait. */
int client_run(const char *const *args, int timeout_ms);

/* Polls cond(arg), pausing 5 ms between tries, for at most timeout_ms; true as soon as it holds. */
bool wait_until(bool (*cond)(void *), void *arg, int timeout_ms);

/* In sanitizer builds: true when LeakSanitizer finds nothing unreachable now (criterion
 * ignores LeakSanitizer's exit code, so tests must ask). Elsewhere: always true. */
bool no_leaks_now(void);

#endif
