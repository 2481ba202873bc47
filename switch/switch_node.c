#include "switch_node.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switch_dataplane.h"
#include "switch_http.h"
#include "switch_tcp.h"
#include "switch_telemetry.h"
#include "tcp_edge.h"

/* The start-up lines: tests parse them (with --iso-port or --tcp-port 0, for the ports picked). */
static void print_started(const struct switch_node *n)
{
	const char *network = n->options->network;
	char iso_host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &n->port->local.sin_addr, iso_host, sizeof(iso_host));
	fprintf(stderr, "switch %s: %u worker(s) on %s dataplane, ISO 8583 udp %s:%u, HTTP %s:%u\n", network,
		n->core->worker_count, n->dataplane, iso_host, ntohs(n->port->local.sin_port), n->http_host,
		n->http_port);
	struct dgram_port *tcp = tcp_edge_tcp_port(n->port);
	if (tcp && tcp->local.sin_port) {
		/* Tests with --tcp-port 0 read the port picked from this line. */
		inet_ntop(AF_INET, &tcp->local.sin_addr, iso_host, sizeof(iso_host));
		fprintf(stderr, "switch %s: ISO 8583 tcp %s:%u\n", network, iso_host, ntohs(tcp->local.sin_port));
	}
}

int switch_node_start(struct switch_node *n, const struct switch_options *o, struct ecosystem_config *config,
		      const struct cfg_network *net)
{
	memset(n, 0, sizeof(*n));
	n->options = o;
	n->config = config;
	char err[512];
	snprintf(n->dataplane, sizeof(n->dataplane), "%s", o->dataplane ? o->dataplane : net->dataplane);
	uint16_t iso_port = o->iso_port >= 0 ? (uint16_t)o->iso_port : net->iso.port;
	n->http_port = o->http_port >= 0 ? (uint16_t)o->http_port : net->http.port;

	/* Workers and the HTTP thread inherit this mask; signals are taken by sigwait in switch_node_run. */
	sigemptyset(&n->signals);
	sigaddset(&n->signals, SIGINT);
	sigaddset(&n->signals, SIGTERM);
	sigaddset(&n->signals, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &n->signals, NULL);

	n->port = calloc(1, sizeof(*n->port));
	if (!n->port || switch_dataplane_open(n->dataplane, net->iso.host, iso_port, (uint16_t)o->workers,
					      o->eal_argc, o->eal_argv, n->port, err, sizeof(err)) != 0) {
		fprintf(stderr, "switch: %s\n", n->port ? err : "out of memory");
		return 1;
	}
	n->port_open = true;
	/* Before the core takes the port: the workers poll the joined port from the start. */
	if (switch_tcp_wanted(config, net) &&
	    switch_tcp_attach(n->port, config, net, o->tcp_port, err, sizeof(err)) != 0) {
		fprintf(stderr, "switch: %s\n", err);
		return 1;
	}
	n->core = switch_core_create(config, o->config, o->network, n->port, (uint32_t)o->pending, err,
				     sizeof(err));
	if (!n->core) {
		fprintf(stderr, "switch: %s\n", err);
		return 1;
	}
	n->port_open = false; /* the core closes it */
	if (strcmp(n->dataplane, "dpdk") == 0 && !switch_telemetry_register(n->core, err, sizeof(err)))
		fprintf(stderr, "switch: %s (continuing without switch telemetry)\n", err);
	snprintf(n->http_host, sizeof(n->http_host), "%s", net->http.host);
	/* Before the lifecycle's threads: it configures the process's HTTP client (CA, own key). */
	if (!agent_security_setup(&n->security, config, o->network, err, sizeof(err))) {
		fprintf(stderr, "switch: %s\n", err);
		return 1;
	}
	/* The card lifecycle is off the fast path: without its store the switch still switches. */
	n->lifecycle = network_lifecycle_start(config, o->network, n->core, err, sizeof(err));
	/* Every piece has taken what it needs of the config (net points into it). */
	free(n->config);
	n->config = NULL;
	if (!n->lifecycle)
		fprintf(stderr, "switch: card lifecycle disabled: %s\n", err);

	struct http_route lifecycle_routes[SWITCH_HTTP_MAX_EXTRA_ROUTES];
	size_t lifecycle_route_count =
		n->lifecycle ? network_lifecycle_routes(n->lifecycle, lifecycle_routes, SWITCH_HTTP_MAX_EXTRA_ROUTES)
			     : 0;
	n->http = switch_http_start_with(n->core, n->http_host, n->http_port, lifecycle_routes,
					 lifecycle_route_count, &n->security.api, err, sizeof(err));
	if (!n->http) {
		fprintf(stderr, "switch: HTTP %s:%u: %s\n", n->http_host, n->http_port, err);
		return 1;
	}
	if (!switch_core_start(n->core, err, sizeof(err))) {
		fprintf(stderr, "switch: %s\n", err);
		return 1;
	}
	print_started(n);
	return 0;
}

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

/* Stops intake, then the workers (idempotent): HTTP, the card lifecycle, the worker threads. */
static void stop(struct switch_node *n)
{
	if (n->http) {
		http_api_stop(n->http);
		n->http = NULL;
	}
	network_lifecycle_stop(n->lifecycle);
	n->lifecycle = NULL;
	if (n->core)
		switch_core_stop(n->core);
}

int switch_node_run(struct switch_node *n)
{
	const struct switch_options *o = n->options;
	char err[512];
	for (;;) {
		int sig;
		if (sigwait(&n->signals, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			/* The MAC keys first and on their own: a bad config must not keep old keys alive. */
			if (switch_core_reload_mac_keys(n->core, err, sizeof(err)))
				fprintf(stderr, "switch %s: reloaded the MAC keys\n", o->network);
			else
				fprintf(stderr, "switch %s: MAC key reload failed, keeping the current keys: %s\n",
					o->network, err);
			if (switch_core_reload(n->core, err, sizeof(err)) &&
			    (!n->lifecycle || network_lifecycle_republish(n->lifecycle, err, sizeof(err))))
				fprintf(stderr, "switch %s: reloaded routes and cards from %s\n", o->network, o->config);
			else
				fprintf(stderr, "switch %s: reload failed, keeping the current routes: %s\n", o->network,
					err);
			continue;
		}
		break;
	}
	fprintf(stderr, "switch %s: stopping\n", o->network);
	stop(n);
	print_stats(n->core);
	return 0;
}

void switch_node_teardown(struct switch_node *n)
{
	stop(n);
	if (n->core)
		switch_core_destroy(n->core); /* closes the port it took over */
	else if (n->port_open)
		n->port->ops->close(n->port);
	agent_security_teardown(&n->security);
	free(n->port);
	free(n->config);
}
