/*
 * An in-memory dgram_port for driving switch workers step by step in tests:
 * the test queues datagrams on a queue, polls the worker, and reads what the
 * worker sent. Single-threaded use only.
 */
#ifndef SWITCH_TEST_MEMORY_PORT_H
#define SWITCH_TEST_MEMORY_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dgram_port.h"

#define MEMORY_PORT_QUEUES 4
#define MEMORY_PORT_DEPTH 64
#define MEMORY_PORT_BYTES 2048

struct memory_datagram {
	struct sockaddr_in peer;
	uint64_t rx_realtime_ns; /* handed to the worker as the arrival stamp (0: none) */
	size_t length;
	uint8_t data[MEMORY_PORT_BYTES];
};

struct memory_queue {
	size_t count, next;
	struct memory_datagram in[MEMORY_PORT_DEPTH];
};

struct memory_port {
	struct memory_queue queues[MEMORY_PORT_QUEUES];
	size_t sent_count;
	size_t datagrams_sent; /* how many datagrams the worker handed to tx, however many frames each held */
	struct memory_datagram sent[256];
};

/* Fills port (queue_count queues) over mem. */
void memory_port_init(struct dgram_port *port, struct memory_port *mem, uint16_t queues);
bool memory_port_inject(struct memory_port *mem, uint16_t q, const struct sockaddr_in *from, const void *data,
			size_t length);
/* Gives the datagram injected last on queue q an arrival stamp, as a TCP edge would. */
void memory_port_stamp_last(struct memory_port *mem, uint16_t q, uint64_t rx_realtime_ns);
/* Removes and returns the oldest sent frame, as a datagram of its own (false when none). */
bool memory_port_take_sent(struct memory_port *mem, struct memory_datagram *out);

#endif
