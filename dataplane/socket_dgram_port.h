/*
 * The kernel-socket backend of dgram_port.h: one UDP socket per queue.
 *
 * Servers (switch, bank) bind every queue's socket to the same address with
 * SO_REUSEPORT, so the kernel spreads peers over the workers by address and
 * port and each peer always lands on one queue. Clients (the load generator)
 * give each queue its own ephemeral port instead, so that answers come back
 * to the thread that sent the request without any hand-over.
 */
#ifndef SOCKET_DGRAM_PORT_H
#define SOCKET_DGRAM_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "dgram_port.h"

#define SOCKET_DGRAM_MAX_QUEUES 64

enum socket_dgram_binding {
	SOCKET_DGRAM_SHARED_PORT,    /* all queues on host:port (0: the first socket picks one) */
	SOCKET_DGRAM_PORT_PER_QUEUE, /* each queue on its own ephemeral port of host */
};

/* Opens `queues` sockets. Returns 0, or -1 with a reason in err. */
int socket_dgram_port_open(struct dgram_port *out, const char *host, uint16_t port, uint16_t queues,
			   enum socket_dgram_binding binding, int socket_buffer_bytes, char *err,
			   size_t err_size);
/* Kernel arrival stamps on every queue's socket (udp_port_enable_rx_stamps): rx then fills
 * each datagram's rx_realtime_ns. Returns 0, or -errno (the port works on, without stamps). */
int socket_dgram_port_enable_rx_stamps(struct dgram_port *port);
#endif
