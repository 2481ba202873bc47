#include "switch_dataplane.h"

#include <stdio.h>
#include <string.h>

#include "socket_dgram_port.h"
#ifdef SWITCH_HAVE_DPDK_PORT
#include "dpdk_port.h"
#endif

/* Room for bursts from many cardholders while a worker is descheduled. */
#define SWITCH_SOCKET_BUFFER_BYTES (4 << 20)

bool switch_dataplane_known(const char *kind)
{
	return strcmp(kind, "socket") == 0 || strcmp(kind, "dpdk") == 0;
}

int switch_dataplane_open(const char *kind, const char *host, uint16_t port, uint16_t queues, int eal_argc,
			  char **eal_argv, struct dgram_port *out, char *err, size_t err_size)
{
	if (strcmp(kind, "socket") == 0) {
		if (eal_argc > 0) {
			snprintf(err, err_size, "EAL arguments given but the dataplane is 'socket'");
			return -1;
		}
		return socket_dgram_port_open(out, host, port, queues, SOCKET_DGRAM_SHARED_PORT, SWITCH_SOCKET_BUFFER_BYTES,
					      err, err_size);
	}
	if (strcmp(kind, "dpdk") == 0) {
#ifdef SWITCH_HAVE_DPDK_PORT
		if (port == 0) {
			snprintf(err, err_size, "the DPDK dataplane needs an explicit UDP port");
			return -1;
		}
		return dpdk_port_create(out, eal_argc, eal_argv, queues, host, port, err, err_size);
#else
		(void)eal_argv;
		snprintf(err, err_size, "this build has no DPDK port (dataplane/dpdk_port.c); use --dataplane socket");
		return -1;
#endif
	}
	snprintf(err, err_size, "unknown dataplane '%s' (socket or dpdk)", kind);
	return -1;
}
