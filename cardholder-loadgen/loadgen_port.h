/*
 * The port a run sends through: kernel UDP sockets, a DPDK port, or (--link
 * tcp) TCP links to the switches; one queue per generator thread. And the
 * port's own counters, printed after the report.
 */
#ifndef LOADGEN_PORT_H
#define LOADGEN_PORT_H

#include <stdbool.h>
#include <stddef.h>

#include "dgram_port.h"
#include "ecosystem_config.h"
#include "loadgen_options.h"

/*
 * Opens a port with a queue per thread: TCP links when over_tcp (returning once
 * every link is connected), else the --dataplane. 0, or -1 with a reason in err.
 */
int loadgen_port_open(const struct ecosystem_config *config, const struct loadgen_options *o, bool over_tcp,
		      unsigned threads, struct dgram_port *port, char *err, size_t err_size);

/* Kernel arrival stamps on a socket port (not DPDK, not TCP): true when every queue has them. */
bool loadgen_port_enable_rx_stamps(const struct loadgen_options *o, bool over_tcp, struct dgram_port *port);
/* The DPDK port's drop counters, or the TCP links' counters, on stdout; nothing for sockets. */
void loadgen_port_print_stats(const struct loadgen_options *o, bool over_tcp, struct dgram_port *port);

#endif
