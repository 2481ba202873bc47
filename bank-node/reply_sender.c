#include "reply_sender.h"

#include <string.h>

void reply_sender_init(struct reply_sender *s, struct udp_port *port, struct bank_stats *stats)
{
	s->port = port;
	s->stats = stats;
	s->count = 0;
	for (int i = 0; i < UDP_BURST; i++) {
		s->datagrams[i].data = s->buffers[i];
		s->datagrams[i].capacity = REPLY_DATAGRAM_MAX;
		s->datagrams[i].length = 0;
	}
}

static bool same_peer(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

void reply_sender_flush(struct reply_sender *s)
{
	if (s->count == 0)
		return;
	int sent = udp_port_tx_burst(s->port, s->datagrams, s->count);
	if (sent < 0)
		sent = 0;
	if (sent < s->count)
		stat_add(&s->stats->tx_dropped, (uint64_t)(s->count - sent));
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
	struct udp_datagram *d = s->count ? &s->datagrams[s->count - 1] : NULL;
	if (!d || !same_peer(&d->peer, peer) || d->length + length > REPLY_DATAGRAM_MAX) {
		if (s->count == UDP_BURST)
			reply_sender_flush(s);
		d = &s->datagrams[s->count++];
		d->peer = *peer;
		d->length = 0;
	}
	memcpy(d->data + d->length, frame, length);
	d->length += length;
}
