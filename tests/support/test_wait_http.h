/* Readiness of a started program: its HTTP endpoint answers 200, polled with a bound. */
#ifndef TEST_WAIT_HTTP_H
#define TEST_WAIT_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Polls GET path on 127.0.0.1:port until it answers 200 (true) or timeout_ms
 * passes. When pid is not NULL and the process exits meanwhile, it is reaped
 * (*pid = 0) and this fails at once instead of waiting out the timeout.
 */
bool test_wait_http(uint16_t port, const char *path, pid_t *pid, int timeout_ms);

#endif
