/*
 * Packs framed answers into as few datagrams as possible (consecutive answers
 * to the same peer share one, up to a safe UDP payload) and sends them with
 * one sendmmsg per burst.
 */
#ifndef BANK_REPLY_SENDER_H
#define BANK_REPLY_SENDER_H

#include <stddef.h>
#include <stdint.h>

#include "bank_stats.h"
#include "dgram_port.h"
#include "udp_port.h"

#define REPLY_DATAGRAM_MAX 1472 /* fits an Ethernet MTU: no IP fragments on real links */

struct reply_sender {
	struct udp_port *port;
	/* Non-NULL: every answer not bound for TCP leaves on this queue of this port instead of
	 * port (a simulated network, tests/sim/). */
	struct dgram_port *dgram;
	uint16_t dgram_queue;
	/* Answers to peers marked as TCP (tcp_edge.h) go to this queue of the TCP port; NULL: none. */
	struct dgram_port *tcp;
	uint16_t tcp_queue;
	struct bank_stats *stats;
	int count; /* datagrams being filled */
	struct udp_datagram datagrams[UDP_BURST];
	uint8_t buffers[UDP_BURST][REPLY_DATAGRAM_MAX];
};

void reply_sender_init(struct reply_sender *s, struct udp_port *port, struct bank_stats *stats);
void reply_sender_add(struct reply_sender *s, const struct sockaddr_in *peer, const uint8_t *frame,
		      size_t length);
void reply_sender_flush(struct reply_sender *s);
/* From now on answers to TCP peers leave on queue q of the TCP port (the caller's own queue). */
void reply_sender_route_tcp(struct reply_sender *s, struct dgram_port *tcp, uint16_t q);
/* From now on the other answers leave on queue q of port instead of the UDP port. */
void reply_sender_route_dgram(struct reply_sender *s, struct dgram_port *port, uint16_t q);

#endif
