/*
 * switch: the card network of one network of the ecosystem config.
 *
 *   switch --config FILE --network NAME [--workers N] [--dataplane socket|dpdk]
 *          [--iso-port N] [--tcp-port N] [--http-port N] [--pending N] [-- EAL args]
 *
 * SIGHUP reloads routes and cards from the config; SIGINT/SIGTERM stop the
 * workers and print the final counters as JSON on stdout.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecosystem_config.h"
#include "network_lifecycle.h"
#include "switch_core.h"
#include "switch_dataplane.h"
#include "switch_http.h"
#include "switch_options.h"
#include "switch_tcp.h"
#include "switch_telemetry.h"
#include "tcp_edge.h"

static void print_stats(struct switch_core *s)
{
	json_t *stats = switch_stats_json(s);
	char *text = json_dumps(stats, JSON_COMPACT | JSON_SORT_KEYS);
	if (text) {
		printf("%s\n", text);
		free(text);
	}
	json_decref(stats);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct switch_options o;
	switch (switch_options_parse(argc, argv, &o)) {
	case SWITCH_OPTIONS_OK:
		break;
	case SWITCH_OPTIONS_HELP:
		switch_options_usage(stdout);
		return 0;
	case SWITCH_OPTIONS_INVALID:
		return 2;
	}

	char err[512];
	struct ecosystem_config *config = malloc(sizeof(*config));
	if (!config || !ecosystem_config_load(o.config, config, err, sizeof(err))) {
		fprintf(stderr, "switch: %s\n", config ? err : "out of memory");
		free(config);
		return 1;
	}
	const struct cfg_network *net = ecosystem_find_network(config, o.network);
	if (!net) {
		fprintf(stderr, "switch: network '%s' is not in %s\n", o.network, o.config);
		free(config);
		return 1;
	}
	char dataplane[16];
	snprintf(dataplane, sizeof(dataplane), "%s", o.dataplane ? o.dataplane : net->dataplane);
	uint16_t iso_port = o.iso_port >= 0 ? (uint16_t)o.iso_port : net->iso.port;
	uint16_t http_port = o.http_port >= 0 ? (uint16_t)o.http_port : net->http.port;

	/* Workers and the HTTP thread inherit this mask; signals are taken by sigwait below. */
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	sigaddset(&signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);

	struct dgram_port *port = calloc(1, sizeof(*port));
	if (!port || switch_dataplane_open(dataplane, net->iso.host, iso_port, (uint16_t)o.workers, o.eal_argc,
					   o.eal_argv, port, err, sizeof(err)) != 0) {
		fprintf(stderr, "switch: %s\n", port ? err : "out of memory");
		free(port);
		free(config);
		return 1;
	}
	/* Before the core takes the port: the workers poll the joined port from the start. */
	if (switch_tcp_wanted(config, net) && switch_tcp_attach(port, config, net, o.tcp_port, err, sizeof(err)) != 0) {
		fprintf(stderr, "switch: %s\n", err);
		port->ops->close(port);
		free(port);
		free(config);
		return 1;
	}
	struct switch_core *s = switch_core_create(config, o.config, o.network, port, (uint32_t)o.pending, err,
						   sizeof(err));
	if (!s) {
		fprintf(stderr, "switch: %s\n", err);
		port->ops->close(port);
		free(port);
		free(config);
		return 1;
	}
	if (strcmp(dataplane, "dpdk") == 0 && !switch_telemetry_register(s, err, sizeof(err)))
		fprintf(stderr, "switch: %s (continuing without switch telemetry)\n", err);
	char http_host[64];
	snprintf(http_host, sizeof(http_host), "%s", net->http.host);
	/* The card lifecycle is off the fast path: without its store the switch still switches. */
	struct network_lifecycle *lifecycle = network_lifecycle_start(config, o.network, s, err, sizeof(err));
	free(config);
	if (!lifecycle)
		fprintf(stderr, "switch: card lifecycle disabled: %s\n", err);

	struct http_route lifecycle_routes[SWITCH_HTTP_MAX_EXTRA_ROUTES];
	size_t lifecycle_route_count =
		lifecycle ? network_lifecycle_routes(lifecycle, lifecycle_routes, SWITCH_HTTP_MAX_EXTRA_ROUTES) : 0;
	struct http_api *http = switch_http_start_with(s, http_host, http_port, lifecycle_routes, lifecycle_route_count,
						       err, sizeof(err));
	if (!http) {
		fprintf(stderr, "switch: HTTP %s:%u: %s\n", http_host, http_port, err);
		network_lifecycle_stop(lifecycle);
		switch_core_destroy(s);
		free(port);
		return 1;
	}
	if (!switch_core_start(s, err, sizeof(err))) {
		fprintf(stderr, "switch: %s\n", err);
		http_api_stop(http);
		network_lifecycle_stop(lifecycle);
		switch_core_destroy(s);
		free(port);
		return 1;
	}
	char iso_host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &port->local.sin_addr, iso_host, sizeof(iso_host));
	fprintf(stderr, "switch %s: %u worker(s) on %s dataplane, ISO 8583 udp %s:%u, HTTP %s:%u\n", o.network,
		s->worker_count, dataplane, iso_host, ntohs(port->local.sin_port), http_host, http_port);
	struct dgram_port *tcp = tcp_edge_tcp_port(port);
	if (tcp && tcp->local.sin_port) {
		/* Tests with --tcp-port 0 read the port picked from this line. */
		inet_ntop(AF_INET, &tcp->local.sin_addr, iso_host, sizeof(iso_host));
		fprintf(stderr, "switch %s: ISO 8583 tcp %s:%u\n", o.network, iso_host, ntohs(tcp->local.sin_port));
	}

	for (;;) {
		int sig;
		if (sigwait(&signals, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (switch_core_reload(s, err, sizeof(err)) &&
			    (!lifecycle || network_lifecycle_republish(lifecycle, err, sizeof(err))))
				fprintf(stderr, "switch %s: reloaded routes and cards from %s\n", o.network, o.config);
			else
				fprintf(stderr, "switch %s: reload failed, keeping the current routes: %s\n", o.network,
					err);
			continue;
		}
		break;
	}
	fprintf(stderr, "switch %s: stopping\n", o.network);
	http_api_stop(http);
	network_lifecycle_stop(lifecycle);
	switch_core_stop(s);
	print_stats(s);
	switch_core_destroy(s);
	free(port);
	return 0;
}
