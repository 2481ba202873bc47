/*
 * Builds the datagram port the switch's workers poll, by dataplane kind:
 *   "socket"  kernel UDP sockets (socket_dgram_port.h), always available;
 *   "dpdk"    DPDK ethdev (dataplane/dpdk_port.h) with the EAL arguments given
 *             after "--" on the command line; available when the build has
 *             the DPDK port (SWITCH_HAVE_DPDK_PORT).
 */
#ifndef SWITCH_DATAPLANE_H
#define SWITCH_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dgram_port.h"

bool switch_dataplane_known(const char *kind);

/* Returns 0 and fills out (out->queue_count may be below queues for DPDK), or -1 with err. */
int switch_dataplane_open(const char *kind, const char *host, uint16_t port, uint16_t queues, int eal_argc,
			  char **eal_argv, struct dgram_port *out, char *err, size_t err_size);

#endif
