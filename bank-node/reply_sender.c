#include "reply_sender.h"

#include <string.h>
#include <time.h>

#include "tcp_edge.h"

/* A full TCP ring means the port's I/O thread is behind: wait for it this long at most
 * before an answer is counted as dropped (the money has moved; the switch would reverse). */
#define TCP_RING_FULL_TRIES 2000
#define TCP_RING_FULL_PAUSE_NS 50000

void reply_sender_init(struct reply_sender *s, struct udp_port *port, struct bank_stats *stats)
{
	s->port = port;
	s->dgram = NULL;
	s->dgram_queue = 0;
	s->tcp = NULL;
	s->tcp_queue = 0;
	s->stats = stats;
	s->count = 0;
	for (int i = 0; i < UDP_BURST; i++) {
		s->datagrams[i].data = s->buffers[i];
		s->datagrams[i].capacity = REPLY_DATAGRAM_MAX;
		s->datagrams[i].length = 0;
	}
}

void reply_sender_route_tcp(struct reply_sender *s, struct dgram_port *tcp, uint16_t q)
{
	s->tcp = tcp;
	s->tcp_queue = q;
}

void reply_sender_route_dgram(struct reply_sender *s, struct dgram_port *port, uint16_t q)
{
	s->dgram = port;
	s->dgram_queue = q;
}

static int send_udp(struct reply_sender *s, const struct udp_datagram *d, int n)
{
	if (s->dgram)
		return dgram_tx_burst(s->dgram, s->dgram_queue, d, n);
	return udp_port_tx_burst(s->port, d, n);
}

static bool same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port &&
	       tcp_edge_peer_is_tcp(a) == tcp_edge_peer_is_tcp(b);
}

static bool goes_to_tcp(const struct reply_sender *s, const struct udp_datagram *d)
{
	return s->tcp && tcp_edge_peer_is_tcp(&d->peer);
}

static int send_tcp(struct reply_sender *s, const struct udp_datagram *d, int n)
{
	int done = 0;
	for (int tries = 0; done < n && tries < TCP_RING_FULL_TRIES; tries++) {
		int sent = dgram_tx_burst(s->tcp, s->tcp_queue, d + done, n - done);
		done += sent > 0 ? sent : 0;
		if (done < n)
			nanosleep(&(struct timespec){.tv_nsec = TCP_RING_FULL_PAUSE_NS}, NULL);
	}
	return done;
}

void reply_sender_flush(struct reply_sender *s)
{
	if (s->count == 0)
		return;
	/* Runs of consecutive datagrams for one side go in one burst. */
	for (int at = 0; at < s->count;) {
		bool tcp = goes_to_tcp(s, &s->datagrams[at]);
		int run = 1;
		while (at + run < s->count && goes_to_tcp(s, &s->datagrams[at + run]) == tcp)
			run++;
		int sent = tcp ? send_tcp(s, s->datagrams + at, run) : send_udp(s, s->datagrams + at, run);
		if (sent < 0)
			sent = 0;
		if (sent < run)
			stat_add(&s->stats->tx_dropped, (uint64_t)(run - sent));
		at += run;
	}
	for (int i = 0; i < s->count; i++)
		s->datagrams[i].length = 0;
	s->count = 0;
}

void reply_sender_add(struct reply_sender *s, const struct sockaddr_in *peer, const uint8_t *frame,
		      size_t length)
{
	if (length > REPLY_DATAGRAM_MAX) {
		stat_add(&s->stats->tx_dropped, 1);
		return;
	}
	/*
	 * Answers to both switches interleave in a batch: a frame joins the latest
	 * pending datagram of its peer, not only the one just before, so that each
	 * peer gets as few datagrams as fit (its frames stay in order).
	 */
	struct udp_datagram *d = NULL;
	for (int i = s->count - 1; i >= 0; i--)
		if (same_peer(&s->datagrams[i].peer, peer)) {
			d = &s->datagrams[i];
			break;
		}
	if (!d || d->length + length > REPLY_DATAGRAM_MAX) {
		if (s->count == UDP_BURST)
			reply_sender_flush(s);
		d = &s->datagrams[s->count++];
		d->peer = *peer;
		d->length = 0;
	}
	memcpy(d->data + d->length, frame, length);
	d->length += length;
}
