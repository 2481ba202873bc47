/*
 * Claims of loopback port blocks, so that the same tests run from several
 * build directories at once never share ports: UDP sockets bind with
 * SO_REUSEPORT, so two runs on one port would silently split each other's
 * traffic instead of failing. A claim is an flock on
 * /tmp/iso8583-test-ports-<first port of the block>.lock (always /tmp: every
 * build directory must see the same file); it lasts until released or until
 * the process exits (criterion runs each test in its own process).
 */
#ifndef TEST_PORTS_H
#define TEST_PORTS_H

/*
 * Claims one of `blocks` blocks of `size` ports starting at `first` (the
 * caller's own range), the first one free; waits up to wait_seconds, polling,
 * for a free block. Returns the block's first port, or -1. A block this
 * process already holds is returned at once.
 */
int test_ports_claim(int first, int size, int blocks, int wait_seconds);
/* Gives back the block starting at first (nothing when this process does not hold it). */
void test_ports_release(int first);

#endif
