/*
 * --link tcp: the generator reaches the switches over long-lived TCP links
 * (docs/tcp.md) instead of UDP, with the same workload. One TCP port with a
 * link per worker thread and network (outbound_link_per_queue), so that each
 * answer comes back to the thread that sent the request; the workers address
 * the switches' tcp.listen instead of their UDP iso endpoint.
 */
#ifndef LOADGEN_TCP_LINK_H
#define LOADGEN_TCP_LINK_H

#include <stdbool.h>
#include <stddef.h>

#include "dgram_port.h"
#include "ecosystem_config.h"
#include "loadgen_cards.h"

/* How long the run waits for every link before it gives up. */
#define LOADGEN_TCP_CONNECT_TIMEOUT_MS 10000

/*
 * Opens the TCP port (one queue per thread) towards every network's tcp.listen (only
 * only_network's when not NULL) and waits until every link is connected, so that no
 * request of the run is dropped for a link still connecting. Each link's output buffer holds
 * max_outstanding requests (0: the port's default), so that a switch that stops reading
 * slows the thread down instead of costing the link. Returns 0, or -1 with err.
 */
int loadgen_tcp_link_open(const struct ecosystem_config *c, const char *only_network, unsigned threads,
			  uint64_t max_outstanding, struct dgram_port *port, char *err, size_t err_size);

/* Points the deck's per-network switch addresses at the switches' TCP listeners. */
bool loadgen_tcp_link_address_switches(const struct ecosystem_config *c, struct loadgen_cards *cards, char *err,
				       size_t err_size);

/* The port's counters as one line on stdout (the run's report of the link level). */
void loadgen_tcp_link_print_stats(struct dgram_port *port);

#endif
