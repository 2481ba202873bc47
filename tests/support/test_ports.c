#include "test_ports.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/types.h>
#include <unistd.h>

#include "test_clock.h"

/* The blocks this process holds: a second flock on a new descriptor would block against our own. */
#define MAX_HELD 16
static struct {
	int first, fd;
} held[MAX_HELD];
static int held_count;

static pid_t held_by; /* a forked child inherits the table, not the claims: they stay the parent's */

static int held_index(int first)
{
	if (held_by != getpid()) {
		held_by = getpid();
		held_count = 0;
	}
	for (int i = 0; i < held_count; i++)
		if (held[i].first == first)
			return i;
	return -1;
}

static bool try_block(int first)
{
	if (held_index(first) >= 0)
		return true;
	if (held_count == MAX_HELD)
		return false;
	char path[128];
	snprintf(path, sizeof path, "/tmp/iso8583-test-ports-%d.lock", first);
	int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0666);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return false;
	}
	held[held_count].first = first;
	held[held_count].fd = fd; /* stays open: the claim lasts until release or exit */
	held_count++;
	return true;
}

int test_ports_claim(int first, int size, int blocks, int wait_seconds)
{
	int64_t deadline = test_now_ms() + (int64_t)wait_seconds * 1000;
	for (int pause_ms = 50;; pause_ms = pause_ms < 400 ? pause_ms * 2 : 400) {
		for (int b = 0; b < blocks; b++)
			if (try_block(first + b * size))
				return first + b * size;
		if (test_now_ms() >= deadline)
			return -1;
		test_sleep_ms(pause_ms);
	}
}

void test_ports_release(int first)
{
	int i = held_index(first);
	if (i < 0)
		return;
	close(held[i].fd);
	held[i] = held[--held_count];
}
