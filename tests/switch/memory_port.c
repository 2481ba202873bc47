#include "memory_port.h"

#include <string.h>

static int memory_rx(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	struct memory_queue *queue = &((struct memory_port *)p->impl)->queues[q];
	int got = 0;
	while (got < n && queue->next < queue->count) {
		struct memory_datagram *m = &queue->in[queue->next++];
		if (m->length > d[got].capacity)
			continue;
		memcpy(d[got].data, m->data, m->length);
		d[got].length = m->length;
		d[got].peer = m->peer;
		d[got].rx_realtime_ns = m->rx_realtime_ns;
		got++;
	}
	if (queue->next == queue->count)
		queue->next = queue->count = 0;
	return got;
}

static int memory_tx(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
{
	(void)q;
	struct memory_port *mem = p->impl;
	int sent = 0;
	for (; sent < n && mem->sent_count < sizeof(mem->sent) / sizeof(mem->sent[0]); sent++) {
		struct memory_datagram *m = &mem->sent[mem->sent_count++];
		m->peer = d[sent].peer;
		m->length = d[sent].length < MEMORY_PORT_BYTES ? d[sent].length : MEMORY_PORT_BYTES;
		memcpy(m->data, d[sent].data, m->length);
		mem->datagrams_sent++;
	}
	return sent;
}

static void memory_wait(struct dgram_port *p, uint16_t q, int timeout_us)
{
	(void)p;
	(void)q;
	(void)timeout_us;
}

static void memory_close(struct dgram_port *p)
{
	(void)p;
}

static const struct dgram_port_ops memory_ops = {
	.rx_burst = memory_rx, .tx_burst = memory_tx, .wait = memory_wait, .close = memory_close};

void memory_port_init(struct dgram_port *port, struct memory_port *mem, uint16_t queues)
{
	memset(mem, 0, sizeof(*mem));
	memset(port, 0, sizeof(*port));
	port->ops = &memory_ops;
	port->impl = mem;
	port->queue_count = queues;
}

bool memory_port_inject(struct memory_port *mem, uint16_t q, const struct sockaddr_in *from, const void *data,
			size_t length)
{
	struct memory_queue *queue = &mem->queues[q];
	if (queue->count == MEMORY_PORT_DEPTH || length > MEMORY_PORT_BYTES)
		return false;
	struct memory_datagram *m = &queue->in[queue->count++];
	m->peer = *from;
	m->rx_realtime_ns = 0;
	m->length = length;
	memcpy(m->data, data, length);
	return true;
}

void memory_port_stamp_last(struct memory_port *mem, uint16_t q, uint64_t rx_realtime_ns)
{
	struct memory_queue *queue = &mem->queues[q];
	if (queue->count > 0)
		queue->in[queue->count - 1].rx_realtime_ns = rx_realtime_ns;
}

bool memory_port_take_sent(struct memory_port *mem, struct memory_datagram *out)
{
	if (mem->sent_count == 0)
		return false;
	*out = mem->sent[0];
	/* A datagram of several frames is handed out a frame at a time; bytes that do not split come out whole. */
	struct memory_datagram *first = &mem->sent[0];
	if (first->length >= 2) {
		size_t framed = 2 + (((size_t)first->data[0] << 8) | first->data[1]);
		if (framed < first->length) {
			out->length = framed;
			memmove(first->data, first->data + framed, first->length - framed);
			first->length -= framed;
			return true;
		}
	}
	memmove(&mem->sent[0], &mem->sent[1], (mem->sent_count - 1) * sizeof(mem->sent[0]));
	mem->sent_count--;
	return true;
}
