/*
 * A TCP edge for a program that already polls a datagram port: joins that
 * port (kernel UDP sockets or DPDK) and a TCP port (tcp_port.h) into one
 * dgram_port, so the workers keep polling a single port with unchanged code.
 *
 *   rx    both ports, alternating which is served first. A message from a TCP
 *         link gets a mark in its peer's sin_zero; programs copy peers whole
 *         (struct assignment), so the mark rides along into pending tables and
 *         comes back on the answer. rx_realtime_ns is the TCP port's arrival
 *         stamp (tcp_port.h, rx_arrival_stamps) on TCP messages, 0 on datagrams.
 *   tx    a datagram goes to the TCP port when its peer carries the mark or is
 *         one of the TCP port's outbound endpoints (a bank host reached over
 *         TCP); to the datagram port otherwise. Consecutive datagrams for the
 *         same side go in one burst; the count returned stays a prefix.
 *   wait  splits the time between the two ports and returns as soon as the TCP
 *         port has messages: when idle, a message waits at most half the
 *         caller's timeout more than it would on one port.
 *   close closes both ports.
 *
 * Both ports must have the same queue count (one queue per worker).
 */
#ifndef TCP_EDGE_H
#define TCP_EDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "dgram_port.h"

/* Takes ownership of *dgram and *tcp (both already open). Returns 0, or -1 with err
 * (the two ports are then left open, still the caller's). */
int tcp_edge_join(struct dgram_port *out, struct dgram_port *dgram, struct dgram_port *tcp, char *err,
		  size_t err_size);

/* The TCP port inside a joined port (for tcp_port_stats), or NULL. */
struct dgram_port *tcp_edge_tcp_port(struct dgram_port *edge);

/* True when a peer was received from a TCP link (carries the mark). */
bool tcp_edge_peer_is_tcp(const struct sockaddr_in *peer);
/* Puts the mark on a peer: for a program that polls a TCP port on its own thread and shares
 * its senders with a datagram port (the bank node), so that answers find their link. */
void tcp_edge_mark_peer(struct sockaddr_in *peer);

#endif
