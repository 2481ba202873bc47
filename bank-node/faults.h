/*
 * Fault injection for soak tests: drop a share of requests, answer a share
 * late. Decisions come from a seedable PRNG (one per thread, so a run with the
 * same seed and the same arrival order decides the same way). Late answers
 * wait in a bounded timer queue served by its own thread; when the queue is
 * full the answer leaves at once and the miss is counted.
 */
#ifndef BANK_FAULTS_H
#define BANK_FAULTS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bank_stats.h"
#include "dgram_port.h"
#include "udp_port.h"

struct fault_rng {
	uint64_t state;
};

void fault_rng_seed(struct fault_rng *r, uint64_t seed);
/* Uniform in [0, 1). */
double fault_rng_next(struct fault_rng *r);
/* True with probability p (never for p <= 0, always for p >= 1). */
bool fault_hit(struct fault_rng *r, double p);

#define DELAY_REPLY_MAX 512 /* answers are ~200 bytes; a larger one is never delayed */

struct delay_queue;

struct delay_queue *delay_queue_start(struct udp_port *port, size_t capacity, struct bank_stats *stats);
/* Delayed answers to TCP peers (tcp_edge.h mark) leave on queue q of this TCP port. */
void delay_queue_route_tcp(struct delay_queue *q, struct dgram_port *tcp, uint16_t queue);
/* Queues a framed answer to leave delay_ms from now; false if full or too large (send it now). */
bool delay_queue_push(struct delay_queue *q, const struct sockaddr_in *peer, const uint8_t *frame,
		      size_t length, uint32_t delay_ms);
/* Sends what is still queued (early) and stops the thread. */
void delay_queue_stop(struct delay_queue *q);

#endif
