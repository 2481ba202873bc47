#include "switch_tcp.h"

#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "switch_messages.h"
#include "tcp_edge.h"
#include "tcp_port.h"

/* A bank that comes back is found within this; its cardholders get 911/912 meanwhile. */
#define BANK_RECONNECT_INITIAL_MS 100
#define BANK_RECONNECT_MAX_MS 2000
#define TCP_LINK_STATS_MAX 64

static enum frame_header framing_of(enum cfg_framing f)
{
	return f == CFG_FRAMING_ASCII4 ? FRAME_HEADER_ASCII4 : FRAME_HEADER_BINARY2;
}

static bool bank_is_member(const struct cfg_bank *b, const char *network)
{
	for (size_t m = 0; m < b->network_count; m++)
		if (strcmp(b->networks[m].network, network) == 0)
			return true;
	return false;
}

/* Member banks with link tcp, as endpoints; their address is the one the routes hold
 * (cfg_bank_switch_endpoint), so that relays to them leave on their link. */
static size_t bank_endpoints(const struct ecosystem_config *c, const struct cfg_network *net,
			     struct tcp_endpoint_config *out)
{
	size_t n = 0;
	for (size_t b = 0; b < c->bank_count; b++) {
		const struct cfg_bank *bank = &c->banks[b];
		if (bank->link != CFG_LINK_TCP || !bank_is_member(bank, net->name))
			continue;
		out[n++] = (struct tcp_endpoint_config){
			.host = bank->tcp.listen.host, .port = bank->tcp.listen.port, .framing = framing_of(bank->tcp.framing)};
	}
	return n;
}

bool switch_tcp_wanted(const struct ecosystem_config *c, const struct cfg_network *net)
{
	struct tcp_endpoint_config banks[CFG_MAX_BANKS];
	return net->tcp.enabled || bank_endpoints(c, net, banks) > 0;
}

int switch_tcp_attach(struct dgram_port *port, const struct ecosystem_config *c, const struct cfg_network *net,
		      long listen_port, char *err, size_t err_size)
{
	struct tcp_endpoint_config banks[CFG_MAX_BANKS];
	struct tcp_port_config tc;
	tcp_port_config_defaults(&tc);
	if (net->tcp.enabled) {
		tc.listen_host = net->tcp.listen.host;
		tc.listen_port = listen_port >= 0 ? (uint16_t)listen_port : net->tcp.listen.port;
		tc.listen_framing = framing_of(net->tcp.framing);
		tc.max_message = net->tcp.max_message;
		tc.keepalive_interval_ms = net->tcp.keepalive_s * 1000u;
		tc.idle_timeout_ms = net->tcp.idle_timeout_s * 1000u;
		/* Idle connections cannot lock acquirers out, and a full send ring pauses reading
		 * rather than dropping answers (docs/tcp.md, "Idle links", "Back-pressure"); the
		 * limits are the network's tcp config (docs/configuration.md, defaults there). */
		tc.max_inbound = net->tcp.max_inbound;
		tc.max_inbound_per_source = net->tcp.max_inbound_per_source;
		tc.evict_idle_ms = net->tcp.evict_idle_s * 1000u;
		tc.quiet_timeout_ms = net->tcp.quiet_timeout_s * 1000u;
		tc.ring_slots = net->tcp.ring_slots;
		tc.tx_full_wait_ms = net->tcp.send_wait_ms;
		/* Stale requests are judged by when the kernel took them in (stale_shedding.h). */
		tc.rx_arrival_stamps = net->tcp.shed_after_ms > 0;
	}
	tc.outbound = banks;
	tc.outbound_count = bank_endpoints(c, net, banks);
	tc.reconnect_initial_ms = BANK_RECONNECT_INITIAL_MS;
	tc.reconnect_max_ms = BANK_RECONNECT_MAX_MS;
	tc.queue_count = port->queue_count;
	tc.profile = SWITCH_PROFILE;

	struct dgram_port tcp, joined;
	char why[256];
	if (tcp_port_open(&tcp, &tc, why, sizeof(why)) != 0) {
		snprintf(err, err_size, "TCP edge: %s", why);
		return -1;
	}
	if (tcp_edge_join(&joined, port, &tcp, why, sizeof(why)) != 0) {
		tcp.ops->close(&tcp);
		snprintf(err, err_size, "TCP edge: %s", why);
		return -1;
	}
	*port = joined;
	return 0;
}

static json_t *link_json(const struct tcp_link_stats *l)
{
	static const char *const states[] = {"connected", "connecting", "waiting"};
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &l->peer.sin_addr, host, sizeof(host));
	json_t *o = json_object();
	json_object_set_new(o, "peer", json_sprintf("%s:%u", host, ntohs(l->peer.sin_port)));
	json_object_set_new(o, "direction", json_string(l->outbound ? "bank" : "acquirer"));
	json_object_set_new(o, "state", json_string(l->state < 3 ? states[l->state] : "unknown"));
	json_object_set_new(o, "frames_in", json_integer((json_int_t)l->frames_in));
	json_object_set_new(o, "frames_out", json_integer((json_int_t)l->frames_out));
	json_object_set_new(o, "keepalives_in", json_integer((json_int_t)l->keepalives_in));
	json_object_set_new(o, "echoes_answered", json_integer((json_int_t)l->echoes_answered));
	json_object_set_new(o, "connects", json_integer((json_int_t)l->connects));
	json_object_set_new(o, "output_buffered", json_integer((json_int_t)l->output_buffered));
	return o;
}

json_t *switch_tcp_stats_json(struct dgram_port *port)
{
	struct dgram_port *tcp = tcp_edge_tcp_port(port);
	if (!tcp)
		return NULL;
	struct tcp_port_stats t;
	struct tcp_link_stats links[TCP_LINK_STATS_MAX];
	size_t link_count = 0;
	json_t *o = json_object();
	if (tcp_port_stats(tcp, &t, links, TCP_LINK_STATS_MAX, &link_count) != 0) {
		json_object_set_new(o, "error", json_string("the TCP port's thread did not answer"));
		return o;
	}
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &tcp->local.sin_addr, host, sizeof(host));
	if (tcp->local.sin_port)
		json_object_set_new(o, "listen", json_sprintf("%s:%u", host, ntohs(tcp->local.sin_port)));
#define FIELD(name) json_object_set_new(o, #name, json_integer((json_int_t)t.name))
	FIELD(accepted); FIELD(rejected_full); FIELD(rejected_per_source); FIELD(evicted_idle); FIELD(quiet_timeouts);
	FIELD(rx_paused_tx_backlog); FIELD(accept_errors); FIELD(closed); FIELD(closed_by_peer);
	FIELD(closed_mid_frame); FIELD(idle_timeouts); FIELD(oversize); FIELD(bad_header);
	FIELD(slow_peer_disconnects); FIELD(connect_attempts); FIELD(connects); FIELD(connect_failures);
	FIELD(reconnects); FIELD(frames_in); FIELD(frames_out); FIELD(bytes_in); FIELD(bytes_out);
	FIELD(keepalives_in); FIELD(keepalives_out); FIELD(echoes_answered); FIELD(echoes_malformed);
	FIELD(dropped_unknown_peer); FIELD(dropped_not_connected); FIELD(closed_with_output); FIELD(tx_malformed);
	FIELD(tx_ring_full); FIELD(rx_truncated); FIELD(rx_stalls); FIELD(links_now); FIELD(connected_now);
#undef FIELD
	json_t *list = json_array();
	for (size_t i = 0; i < link_count && i < TCP_LINK_STATS_MAX; i++)
		json_array_append_new(list, link_json(&links[i]));
	json_object_set_new(o, "links", list);
	return o;
}
