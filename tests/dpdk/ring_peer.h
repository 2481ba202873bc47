/*
 * Test harness for the DPDK port: starts the EAL (--no-huge, no NIC), makes two
 * ethdevs from a pair of rte_rings wired back to back, and gives the first to
 * dpdk_port_create while the test drives the second as the "wire": frames the
 * test sends there arrive at the port, frames the port sends come out there.
 */
#ifndef RING_PEER_H
#define RING_PEER_H

#include <stddef.h>
#include <stdint.h>

#include "dpdk_port.h"

/* Starts the EAL and the ring pair; the port under test serves ip:udp_port with `queues`. */
void ring_peer_start(struct dgram_port *port, uint16_t queues, const char *ip, uint16_t udp_port);
/* Puts one frame on the wire towards the port (queue q of the peer's TX = port's RX queue q). */
void ring_peer_send(uint16_t q, const uint8_t *frame, size_t length);
/* Takes one frame the port sent on queue q; returns its length or 0 when none is waiting. */
size_t ring_peer_receive(uint16_t q, uint8_t *frame, size_t capacity);
/* Closes the port, stops the EAL and removes its runtime directory. */
void ring_peer_stop(struct dgram_port *port);
/* EAL runtime directory prefix used (for the telemetry socket). */
const char *ring_peer_file_prefix(void);

#endif
