#include "loadgen_tcp_link.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tcp_port.h"

/* The generator's messages are small: smaller slots let the rings be deeper for bursts. */
#define LINK_MAX_MESSAGE 2048
#define LINK_RING_SLOTS 2048
#define CONNECT_POLL_MS 10
/* Output buffer per outstanding request: a 1100 or 1420 with its MAC is under 300 bytes. */
#define LINK_BYTES_PER_OUTSTANDING 512
#define LINK_OUTPUT_MAX (64u << 20)

static enum frame_header framing_of(enum cfg_framing f)
{
	return f == CFG_FRAMING_ASCII4 ? FRAME_HEADER_ASCII4 : FRAME_HEADER_BINARY2;
}

static bool wanted(const struct cfg_network *n, const char *only_network)
{
	return !only_network || strcmp(n->name, only_network) == 0;
}

int loadgen_tcp_link_open(const struct ecosystem_config *c, const char *only_network, unsigned threads,
			  uint64_t max_outstanding, struct dgram_port *port, char *err, size_t err_size)
{
	struct tcp_endpoint_config switches[CFG_MAX_NETWORKS];
	size_t count = 0;
	for (size_t n = 0; n < c->network_count; n++) {
		const struct cfg_network *net = &c->networks[n];
		if (!wanted(net, only_network))
			continue;
		if (!net->tcp.enabled) {
			snprintf(err, err_size, "--link tcp: networks[%zu] (%s) has no tcp.listen in %s", n, net->name,
				 c->source);
			return -1;
		}
		switches[count++] = (struct tcp_endpoint_config){
			.host = net->tcp.listen.host, .port = net->tcp.listen.port, .framing = framing_of(net->tcp.framing)};
	}
	if (threads == 0 || threads > TCP_PORT_MAX_QUEUES) {
		snprintf(err, err_size, "--link tcp: %u threads, 1 to %d are possible", threads, TCP_PORT_MAX_QUEUES);
		return -1;
	}
	struct tcp_port_config tc;
	tcp_port_config_defaults(&tc);
	tc.outbound = switches;
	tc.outbound_count = count;
	tc.outbound_link_per_queue = true;
	tc.queue_count = (uint16_t)threads;
	tc.max_message = LINK_MAX_MESSAGE;
	tc.ring_slots = LINK_RING_SLOTS;
	tc.reconnect_max_ms = 1000;
	tc.idle_timeout_ms = 0; /* the generator does not judge the switch by its silence */
	/*
	 * The port closes a link whose output buffer fills (a peer that stopped reading), and
	 * everything queued on it is lost. Past saturation the switch does stop reading: with
	 * room for every request the thread may have outstanding, the link stays up and the
	 * outstanding limit, not a disconnect, is what holds the thread back.
	 */
	if (max_outstanding && max_outstanding <= LINK_OUTPUT_MAX / LINK_BYTES_PER_OUTSTANDING &&
	    max_outstanding * LINK_BYTES_PER_OUTSTANDING > tc.output_buffer_bytes)
		tc.output_buffer_bytes = max_outstanding * LINK_BYTES_PER_OUTSTANDING;
	else if (max_outstanding > LINK_OUTPUT_MAX / LINK_BYTES_PER_OUTSTANDING)
		tc.output_buffer_bytes = LINK_OUTPUT_MAX;
	char why[256];
	if (tcp_port_open(port, &tc, why, sizeof(why)) != 0) {
		snprintf(err, err_size, "--link tcp: %s", why);
		return -1;
	}
	uint64_t links = (uint64_t)count * threads;
	struct tcp_port_stats s = {0};
	for (int waited = 0; waited <= LOADGEN_TCP_CONNECT_TIMEOUT_MS; waited += CONNECT_POLL_MS) {
		if (tcp_port_stats(port, &s, NULL, 0, NULL) == 0 && s.connected_now >= links)
			return 0;
		nanosleep(&(struct timespec){.tv_nsec = CONNECT_POLL_MS * 1000000L}, NULL);
	}
	snprintf(err, err_size, "--link tcp: %llu of %llu links to the switches connected after %d ms (%llu connect failures)",
		 (unsigned long long)s.connected_now, (unsigned long long)links, LOADGEN_TCP_CONNECT_TIMEOUT_MS,
		 (unsigned long long)s.connect_failures);
	port->ops->close(port);
	return -1;
}

bool loadgen_tcp_link_address_switches(const struct ecosystem_config *c, struct loadgen_cards *cards, char *err,
				       size_t err_size)
{
	for (size_t n = 0; n < c->network_count && n < CFG_MAX_NETWORKS; n++) {
		const struct cfg_tcp *t = &c->networks[n].tcp;
		if (!t->enabled)
			continue; /* its cards are not played (only_network) or the port refused to open */
		struct sockaddr_in *a = &cards->switch_address[n];
		memset(a, 0, sizeof(*a));
		a->sin_family = AF_INET;
		a->sin_port = htons(t->listen.port);
		if (inet_pton(AF_INET, t->listen.host, &a->sin_addr) != 1) {
			snprintf(err, err_size, "networks[%zu].tcp.listen: '%s' is not an IPv4 address", n, t->listen.host);
			return false;
		}
	}
	return true;
}

void loadgen_tcp_link_print_stats(struct dgram_port *port)
{
	struct tcp_port_stats s;
	if (tcp_port_stats(port, &s, NULL, 0, NULL) != 0)
		return;
	printf("tcp links: %llu connected; frames out %llu, in %llu; reconnects %llu; dropped: not connected %llu, "
	       "ring full %llu, malformed %llu; closed by peer %llu; closed with the output buffer full %llu "
	       "(unsent bytes lost on %llu)\n",
	       (unsigned long long)s.connected_now, (unsigned long long)s.frames_out, (unsigned long long)s.frames_in,
	       (unsigned long long)s.reconnects, (unsigned long long)s.dropped_not_connected,
	       (unsigned long long)s.tx_ring_full, (unsigned long long)s.tx_malformed,
	       (unsigned long long)s.closed_by_peer, (unsigned long long)s.slow_peer_disconnects,
	       (unsigned long long)s.closed_with_output);
}
