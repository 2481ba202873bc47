#include "test_wait_http.h"

#include "test_clock.h"
#include "test_http.h"
#include "test_process.h"

bool test_wait_http(uint16_t port, const char *path, pid_t *pid, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	/* Short pauses first (a program is often up in tens of ms), longer ones for a slow start. */
	for (int pause_ms = 10;; pause_ms = pause_ms < 100 ? pause_ms * 2 : 100) {
		if (pid && test_process_exited(pid, NULL))
			return false;
		if (test_http(port, "GET", path, NULL, NULL) == 200)
			return true;
		if (test_now_ms() >= deadline)
			return false;
		test_sleep_ms(pause_ms);
	}
}
