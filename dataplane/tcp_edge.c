#include "tcp_edge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_peer_map.h"
#include "tcp_port.h"

/* sin_zero is padding to the kernel: free to carry where a peer came from. */
static const unsigned char TCP_MARK[8] = {'i', 's', 'o', '-', 't', 'c', 'p', 0};

struct tcp_edge {
	struct dgram_port dgram;
	struct dgram_port tcp;
	struct tcp_peer_map endpoints; /* built at join, read-only after: safe from every worker */
	uint8_t first[TCP_PORT_MAX_QUEUES]; /* per queue: which side rx serves first (workers own theirs) */
};

bool tcp_edge_peer_is_tcp(const struct sockaddr_in *peer)
{
	return memcmp(peer->sin_zero, TCP_MARK, sizeof(TCP_MARK)) == 0;
}

void tcp_edge_mark_peer(struct sockaddr_in *peer)
{
	memcpy(peer->sin_zero, TCP_MARK, sizeof(TCP_MARK));
}

static bool goes_to_tcp(const struct tcp_edge *e, const struct sockaddr_in *peer)
{
	return tcp_edge_peer_is_tcp(peer) ||
	       (e->endpoints.count > 0 && tcp_peer_map_get(&e->endpoints, tcp_peer_key(peer)) != TCP_PEER_MAP_NONE);
}

static int edge_rx(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	struct tcp_edge *e = p->impl;
	bool tcp_first = q < TCP_PORT_MAX_QUEUES && (e->first[q] ^= 1);
	struct dgram_port *a = tcp_first ? &e->tcp : &e->dgram;
	struct dgram_port *b = tcp_first ? &e->dgram : &e->tcp;
	int got = dgram_rx_burst(a, q, d, n);
	if (got < 0)
		got = 0;
	int from_a = got;
	if (got < n) {
		int more = dgram_rx_burst(b, q, d + got, n - got);
		if (more > 0)
			got += more;
	}
	int tcp_from = tcp_first ? 0 : from_a, tcp_to = tcp_first ? from_a : got;
	for (int i = tcp_from; i < tcp_to; i++)
		memcpy(d[i].peer.sin_zero, TCP_MARK, sizeof(TCP_MARK));
	/* A DPDK port leaves rx_realtime_ns alone: what a TCP message left in that buffer on an
	 * earlier burst must not pass for the datagram's arrival (stamps judge a request's age). */
	int dgram_from = tcp_first ? from_a : 0, dgram_to = tcp_first ? got : from_a;
	for (int i = dgram_from; i < dgram_to; i++)
		d[i].rx_realtime_ns = 0;
	return got;
}

static int edge_tx(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
{
	struct tcp_edge *e = p->impl;
	int done = 0;
	while (done < n) {
		bool to_tcp = goes_to_tcp(e, &d[done].peer);
		int run = 1;
		while (done + run < n && goes_to_tcp(e, &d[done + run].peer) == to_tcp)
			run++;
		int sent = dgram_tx_burst(to_tcp ? &e->tcp : &e->dgram, q, d + done, run);
		if (sent < 0)
			sent = 0;
		done += sent;
		if (sent < run)
			break;
	}
	return done;
}

static void edge_wait(struct dgram_port *p, uint16_t q, int timeout_us)
{
	struct tcp_edge *e = p->impl;
	if (tcp_port_rx_pending(&e->tcp, q))
		return;
	int half = timeout_us / 2;
	dgram_wait(&e->dgram, q, timeout_us - half);
	if (half > 0 && !tcp_port_rx_pending(&e->tcp, q))
		dgram_wait(&e->tcp, q, half);
}

/* Event-driven idling: both ports' descriptors, both armed (-1 when either cannot notify). */
static int edge_wait_fds(struct dgram_port *p, uint16_t q, int *fds, int max)
{
	struct tcp_edge *e = p->impl;
	if (!e->dgram.ops->wait_fds || !e->tcp.ops->wait_fds)
		return -1;
	int a = e->dgram.ops->wait_fds(&e->dgram, q, fds, max);
	if (a < 0)
		return -1;
	int b = e->tcp.ops->wait_fds(&e->tcp, q, fds + a, max - a);
	return b < 0 ? -1 : a + b;
}

static int edge_wait_arm(struct dgram_port *p, uint16_t q)
{
	struct tcp_edge *e = p->impl;
	int a = e->dgram.ops->wait_arm(&e->dgram, q);
	int b = e->tcp.ops->wait_arm(&e->tcp, q);
	return a < 0 || b < 0 ? -1 : (a > 0 || b > 0);
}

static void edge_wait_disarm(struct dgram_port *p, uint16_t q)
{
	struct tcp_edge *e = p->impl;
	e->dgram.ops->wait_disarm(&e->dgram, q);
	e->tcp.ops->wait_disarm(&e->tcp, q);
}

static void edge_close(struct dgram_port *p)
{
	struct tcp_edge *e = p->impl;
	if (!e)
		return;
	e->tcp.ops->close(&e->tcp);
	e->dgram.ops->close(&e->dgram);
	tcp_peer_map_destroy(&e->endpoints);
	free(e);
	p->impl = NULL;
}

static const struct dgram_port_ops edge_ops = {
	.rx_burst = edge_rx,
	.tx_burst = edge_tx,
	.wait = edge_wait,
	.close = edge_close,
	.wait_fds = edge_wait_fds,
	.wait_arm = edge_wait_arm,
	.wait_disarm = edge_wait_disarm,
};

int tcp_edge_join(struct dgram_port *out, struct dgram_port *dgram, struct dgram_port *tcp, char *err,
		  size_t err_size)
{
	if (!tcp_port_is(tcp)) {
		snprintf(err, err_size, "the second port is not a TCP port");
		return -1;
	}
	if (dgram->queue_count != tcp->queue_count) {
		snprintf(err, err_size, "queue counts differ: %u datagram, %u TCP", dgram->queue_count,
			 tcp->queue_count);
		return -1;
	}
	struct tcp_edge *e = calloc(1, sizeof(*e));
	struct sockaddr_in addrs[TCP_PORT_MAX_ENDPOINTS];
	size_t count = tcp_port_endpoints(tcp, addrs, TCP_PORT_MAX_ENDPOINTS);
	if (!e || !tcp_peer_map_init(&e->endpoints, count ? (uint32_t)count : 1)) {
		free(e);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < count; i++)
		tcp_peer_map_put(&e->endpoints, tcp_peer_key(&addrs[i]), (uint32_t)i);
	e->dgram = *dgram;
	e->tcp = *tcp;
	memset(out, 0, sizeof(*out));
	out->ops = &edge_ops;
	out->impl = e;
	out->queue_count = dgram->queue_count;
	out->local = dgram->local;
	return 0;
}

struct dgram_port *tcp_edge_tcp_port(struct dgram_port *edge)
{
	if (!edge || edge->ops != &edge_ops || !edge->impl)
		return NULL;
	return &((struct tcp_edge *)edge->impl)->tcp;
}
