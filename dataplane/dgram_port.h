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
	/*
	 * Event-driven idling (idle_wait.h); all three NULL when the backend cannot tell
	 * when traffic comes (its users then nap with wait()).
	 *   wait_fds     fills fds (at most max) with descriptors that turn readable when
	 *                queue q may have traffic; stable for the port's life. Returns how
	 *                many, or -1 when q cannot notify (a PMD without RX interrupts).
	 *   wait_arm     just before sleeping on them: 0 armed, 1 traffic is already there
	 *                (do not sleep), -1 notification failed this time (nap instead).
	 *   wait_disarm  after the sleep, whatever wait_arm returned.
	 * Arming may cost (an interrupt enabled, a flag the producer reads): only loops
	 * that found nothing for a while arm, so the busy path never pays it.
	 */
	int (*wait_fds)(struct dgram_port *p, uint16_t q, int *fds, int max);
	int (*wait_arm)(struct dgram_port *p, uint16_t q);
	void (*wait_disarm)(struct dgram_port *p, uint16_t q);
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
