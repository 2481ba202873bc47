/*
 * The kernel-socket backend of dgram_port.h: one SO_REUSEPORT UDP socket per
 * queue, all bound to the same address, so the kernel spreads peers over the
 * workers by their address and port (each peer always lands on one queue).
 */
#ifndef SOCKET_DGRAM_PORT_H
#define SOCKET_DGRAM_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "dgram_port.h"

#define SOCKET_DGRAM_MAX_QUEUES 16

/* Opens `queues` sockets on host:port (0 picks a port for all). Returns 0, or -1 with err. */
int socket_dgram_port_open(struct dgram_port *out, const char *host, uint16_t port, uint16_t queues,
			   char *err, size_t err_size);

#endif
