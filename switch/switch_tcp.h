/*
 * The switch's TCP edge (docs/tcp.md): acquirer hosts connect to the network's
 * tcp.listen, and the switch keeps a link to every member bank whose link is
 * tcp (reconnecting with backoff). The TCP port is joined with the datagram
 * port (tcp_edge.h), so the workers poll one port with unchanged code: the same
 * checks, routing, timeouts and reversals, answers on the link they came from.
 */
#ifndef SWITCH_TCP_H
#define SWITCH_TCP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "dgram_port.h"
#include "ecosystem_config.h"

/* True when the network has a TCP listener or a member bank is reached over TCP. */
bool switch_tcp_wanted(const struct ecosystem_config *c, const struct cfg_network *net);

/*
 * Opens the TCP port for the network (queue count = port->queue_count) and joins it
 * with *port, which then is the joined port (the datagram port inside it). listen_port
 * overrides the listener's port when >= 0 (0 picks one). Returns 0, or -1 with err
 * (*port then unchanged and still open).
 */
int switch_tcp_attach(struct dgram_port *port, const struct ecosystem_config *c, const struct cfg_network *net,
		      long listen_port, char *err, size_t err_size);

/* The TCP port's counters and links as JSON, or NULL when the port has no TCP edge. */
json_t *switch_tcp_stats_json(struct dgram_port *port);

#endif
