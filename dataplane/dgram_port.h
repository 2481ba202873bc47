/*
 * A datagram port as the agents' workers see it: bursts of UDP payloads with
 * their IPv4 peer, per queue. Two backends implement it: kernel UDP sockets
 * (udp_port.h, one SO_REUSEPORT socket per queue) and DPDK ethdev
 * (dpdk_port.h: Ethernet/IPv4/UDP/ARP handled in user space, one RX and one TX
 * queue per worker lcore). Workers are written once against this interface.
 */
#ifndef DGRAM_PORT_H
#define DGRAM_PORT_H

#include <netinet/in.h>
#include <stdint.h>

#include "udp_port.h" /* struct udp_datagram */

struct dgram_port;

struct dgram_port_ops {
	/* Up to n datagrams from queue q, copied into d[i].data (capacity d[i].capacity). */
	int (*rx_burst)(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n);
	/* Sends n datagrams on queue q; returns how many were accepted. */
	int (*tx_burst)(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n);
	/* Idle back-off: waits up to timeout_us for traffic on queue q (may return at once). */
	void (*wait)(struct dgram_port *p, uint16_t q, int timeout_us);
	void (*close)(struct dgram_port *p);
};

struct dgram_port {
	const struct dgram_port_ops *ops;
	void *impl;
	uint16_t queue_count;
	struct sockaddr_in local; /* address peers send to */
};

static inline int dgram_rx_burst(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	return p->ops->rx_burst(p, q, d, n);
}

static inline int dgram_tx_burst(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
{
	return p->ops->tx_burst(p, q, d, n);
}

static inline void dgram_wait(struct dgram_port *p, uint16_t q, int timeout_us)
{
	p->ops->wait(p, q, timeout_us);
}

#endif
