/*
 * The switch program's pieces around the core, started in order and released
 * by one teardown: the dataplane port (with the TCP edge joined to it), the
 * core and its workers, the DPDK telemetry command, the card lifecycle and
 * the HTTP control plane. Then the signal loop: SIGHUP reloads, SIGINT and
 * SIGTERM stop.
 */
#ifndef SWITCH_NODE_H
#define SWITCH_NODE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "dgram_port.h"
#include "ecosystem_config.h"
#include "agent_security.h"
#include "http_api.h"
#include "network_lifecycle.h"
#include "switch_core.h"
#include "switch_options.h"

struct switch_node {
	const struct switch_options *options;
	/* Taken from the caller; freed once the pieces have what they need of it. */
	struct ecosystem_config *config;
	sigset_t signals; /* taken by sigwait in switch_node_run, blocked in every other thread */
	char dataplane[16];
	char http_host[64];
	uint16_t http_port;
	struct dgram_port *port;
	bool port_open;              /* until the core takes it over */
	struct switch_core *core;
	struct network_lifecycle *lifecycle; /* NULL: started without the card lifecycle */
	struct http_api *http;
	struct agent_security security; /* TLS files, API keys, own token (http_security) */
};

/*
 * Starts every piece for network net of config (which the node takes over:
 * freed by the node) and prints the start-up lines on stderr. Returns 0, or
 * the exit status after printing why; either way switch_node_teardown then
 * releases whatever was started.
 */
int switch_node_start(struct switch_node *n, const struct switch_options *o, struct ecosystem_config *config,
		      const struct cfg_network *net);

/*
 * Waits for signals: SIGHUP reloads the routes and cards from the config,
 * SIGINT or SIGTERM stops the HTTP API, the card lifecycle and the workers and
 * prints the final counters as one JSON line on stdout. Returns the exit status.
 */
int switch_node_run(struct switch_node *n);

/* Releases whatever switch_node_start started (stopping it first when still running). */
void switch_node_teardown(struct switch_node *n);

#endif
