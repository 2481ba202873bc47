#include "bank_tcp.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bank_io.h"
#include "reply_sender.h"
#include "tcp_edge.h"
#include "tcp_port.h"

#define IDLE_WAIT_US 100000 /* how often an idle thread looks at the stop flag */

struct bank_tcp {
	struct dgram_port port;
	bool port_open;
	struct bank_io io;
	struct reply_sender sender;
	pthread_t thread;
	bool running;
	volatile sig_atomic_t stop;
};

struct bank_tcp *bank_tcp_open(const struct cfg_tcp *tcp, long listen_port, char *err, size_t err_size)
{
	struct bank_tcp *t = calloc(1, sizeof(*t));
	if (!t) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	struct tcp_port_config tc;
	tcp_port_config_defaults(&tc);
	tc.listen_host = tcp->listen.host;
	tc.listen_port = listen_port >= 0 ? (uint16_t)listen_port : tcp->listen.port;
	tc.listen_framing = tcp->framing == CFG_FRAMING_ASCII4 ? FRAME_HEADER_ASCII4 : FRAME_HEADER_BINARY2;
	tc.max_message = tcp->max_message;
	tc.keepalive_interval_ms = tcp->keepalive_s * 1000u;
	tc.idle_timeout_ms = tcp->idle_timeout_s * 1000u;
	tc.queue_count = 3;
	tc.rx_queues = 1; /* only the I/O thread polls */
	char why[256];
	if (tcp_port_open(&t->port, &tc, why, sizeof(why)) != 0) {
		snprintf(err, err_size, "TCP %s:%u: %s", tc.listen_host, tc.listen_port, why);
		free(t);
		return NULL;
	}
	t->port_open = true;
	return t;
}

struct dgram_port *bank_tcp_port(struct bank_tcp *t)
{
	return t ? &t->port : NULL;
}

static void *io_main(void *arg)
{
	struct bank_tcp *t = arg;
	struct udp_datagram rx[UDP_BURST];
	uint8_t *buffers = malloc((size_t)UDP_BURST * UDP_DATAGRAM_MAX);
	if (!buffers) {
		fprintf(stderr, "bank-node: TCP I/O thread: out of memory\n");
		return NULL;
	}
	for (int i = 0; i < UDP_BURST; i++) {
		rx[i].data = buffers + (size_t)i * UDP_DATAGRAM_MAX;
		rx[i].capacity = UDP_DATAGRAM_MAX;
	}
	while (!t->stop) {
		int n = dgram_rx_burst(&t->port, BANK_TCP_QUEUE_IO, rx, UDP_BURST);
		if (n <= 0) {
			dgram_wait(&t->port, BANK_TCP_QUEUE_IO, IDLE_WAIT_US);
			continue;
		}
		for (int i = 0; i < n; i++) {
			/* The senders tell TCP peers from UDP ones by this mark. */
			tcp_edge_mark_peer(&rx[i].peer);
			bank_io_datagram(&t->io, &rx[i].peer, rx[i].data, rx[i].length);
		}
		bank_io_flush(&t->io);
	}
	bank_io_flush(&t->io);
	free(buffers);
	return NULL;
}

int bank_tcp_start(struct bank_tcp *t, struct group_commit *writer, struct bank_stats *stats, struct bank_mac *mac,
		   const struct iso_profile *profile, double drop_probability, uint64_t seed, char *err,
		   size_t err_size)
{
	reply_sender_init(&t->sender, NULL, stats);
	reply_sender_route_tcp(&t->sender, &t->port, BANK_TCP_QUEUE_IO);
	t->io.writer = writer;
	t->io.stats = stats;
	t->io.profile = profile;
	t->io.sender = &t->sender;
	t->io.drop_probability = drop_probability;
	fault_rng_seed(&t->io.rng, seed);
	if (mac && !bank_io_mac_init(&t->io, mac)) {
		snprintf(err, err_size, "TCP I/O thread: out of memory for MAC contexts");
		return -1;
	}
	int rc = pthread_create(&t->thread, NULL, io_main, t);
	if (rc != 0) {
		snprintf(err, err_size, "TCP I/O thread: %s", strerror(rc));
		return -1;
	}
	t->running = true;
	return 0;
}

void bank_tcp_stop(struct bank_tcp *t)
{
	if (!t || !t->running)
		return;
	t->stop = 1;
	pthread_join(t->thread, NULL);
	t->running = false;
}

void bank_tcp_close(struct bank_tcp *t)
{
	if (!t)
		return;
	bank_tcp_stop(t);
	if (t->port_open) {
		struct tcp_port_stats s;
		if (tcp_port_stats(&t->port, &s, NULL, 0, NULL) == 0)
			fprintf(stderr,
				"bank-node tcp: {\"accepted\":%llu,\"closed\":%llu,\"closed_mid_frame\":%llu,"
				"\"frames_in\":%llu,\"frames_out\":%llu,\"keepalives_in\":%llu,\"echoes_answered\":%llu,"
				"\"dropped_unknown_peer\":%llu,\"closed_with_output\":%llu,\"tx_ring_full\":%llu,"
				"\"tx_malformed\":%llu,\"rx_stalls\":%llu,\"slow_peer_disconnects\":%llu}\n",
				(unsigned long long)s.accepted, (unsigned long long)s.closed,
				(unsigned long long)s.closed_mid_frame, (unsigned long long)s.frames_in,
				(unsigned long long)s.frames_out, (unsigned long long)s.keepalives_in,
				(unsigned long long)s.echoes_answered, (unsigned long long)s.dropped_unknown_peer,
				(unsigned long long)s.closed_with_output, (unsigned long long)s.tx_ring_full,
				(unsigned long long)s.tx_malformed, (unsigned long long)s.rx_stalls,
				(unsigned long long)s.slow_peer_disconnects);
		t->port.ops->close(&t->port);
	}
	bank_io_mac_destroy(&t->io);
	free(t);
}
