/*
 * Loopback echo harness for the TCP port tests: one worker thread per queue
 * polls the dgram_port exactly as the agents' workers do (rx_burst, frames
 * with 2-byte headers, tx_burst to the peer, wait when idle) and answers each
 * 1100 with a 1110 (action 000, the request's matching fields echoed).
 */
#ifndef TCP_ECHO_HARNESS_H
#define TCP_ECHO_HARNESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dgram_port.h"

#define HARNESS_MAX_QUEUES 8

struct echo_harness {
	struct dgram_port *port;
	uint16_t queues;
	pthread_t threads[HARNESS_MAX_QUEUES];
	atomic_int stop;
	atomic_ulong answered;       /* 1100 answered */
	atomic_ulong answered_by_queue[HARNESS_MAX_QUEUES];
	atomic_ulong other_messages; /* anything else that reached a worker (1804 must not) */
	atomic_ulong malformed;
	atomic_ulong tx_refused;
	/* Messages the test asks queue 0's worker to send (one at a time). */
	pthread_mutex_t inject_lock;
	bool inject_ready;
	struct sockaddr_in inject_peer;
	uint8_t inject_frame[512];
	size_t inject_length;
	atomic_int inject_accepted; /* tx_burst's answer for the last injection, -1 until then */
};

void echo_harness_start(struct echo_harness *h, struct dgram_port *port);
void echo_harness_stop(struct echo_harness *h);
/* Queue 0's worker sends this framed datagram to peer; returns tx_burst's count (waits). */
int echo_harness_inject(struct echo_harness *h, const struct sockaddr_in *peer, const uint8_t *frame, size_t length);

/* A 1100 with 2-byte header for tests that send from C; returns the framed length. */
size_t build_framed_1100(uint8_t *out, size_t capacity, unsigned stan);

#endif
