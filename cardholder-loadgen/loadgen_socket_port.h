/*
 * The kernel-socket backend of dgram_port.h for the load generator: one
 * non-blocking UDP socket per queue (generator thread), each bound to its own
 * ephemeral port on the given host so that answers come back to the thread
 * that sent the request without any hand-over.
 */
#ifndef LOADGEN_SOCKET_PORT_H
#define LOADGEN_SOCKET_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "dgram_port.h"

/* 0, or -1 with a reason in err. */
int loadgen_socket_port_open(struct dgram_port *out, const char *host, uint16_t queues, int socket_buffer_bytes,
			   char *err, size_t err_size);
/* The local port of queue q (each queue has its own socket). */
uint16_t loadgen_socket_port_local_port(const struct dgram_port *p, uint16_t q);

#endif
