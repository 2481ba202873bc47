#include "loadgen_socket_port.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct udp_port *sockets_of(struct dgram_port *p)
{
	return (struct udp_port *)p->impl;
}

static int socket_rx_burst(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	int got = udp_port_rx_burst(&sockets_of(p)[q], d, n);
	return got < 0 ? 0 : got; /* errors such as ICMP refusals surface as "nothing received" */
}

static int socket_tx_burst(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
{
	return udp_port_tx_burst(&sockets_of(p)[q], d, n);
}

static void socket_wait(struct dgram_port *p, uint16_t q, int timeout_us)
{
	udp_port_wait(&sockets_of(p)[q], timeout_us);
}

static void socket_close(struct dgram_port *p)
{
	struct udp_port *sockets = sockets_of(p);
	if (!sockets)
		return;
	for (uint16_t q = 0; q < p->queue_count; q++)
		udp_port_close(&sockets[q]);
	free(sockets);
	p->impl = NULL;
}

static const struct dgram_port_ops socket_ops = {
	.rx_burst = socket_rx_burst,
	.tx_burst = socket_tx_burst,
	.wait = socket_wait,
	.close = socket_close,
};

int loadgen_socket_port_open(struct dgram_port *out, const char *host, uint16_t queues, int socket_buffer_bytes,
			   char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (queues == 0)
		queues = 1;
	struct udp_port *sockets = calloc(queues, sizeof(*sockets));
	if (!sockets) {
		snprintf(err, err_size, "no memory for %u sockets", queues);
		return -1;
	}
	for (uint16_t q = 0; q < queues; q++) {
		int rc = udp_port_open(&sockets[q], host, 0, socket_buffer_bytes);
		if (rc != 0) {
			snprintf(err, err_size, "cannot open a UDP socket on %s: %s", host, strerror(-rc));
			for (uint16_t k = 0; k < q; k++)
				udp_port_close(&sockets[k]);
			free(sockets);
			return -1;
		}
	}
	out->ops = &socket_ops;
	out->impl = sockets;
	out->queue_count = queues;
	out->local = sockets[0].local;
	return 0;
}

uint16_t loadgen_socket_port_local_port(const struct dgram_port *p, uint16_t q)
{
	const struct udp_port *sockets = (const struct udp_port *)p->impl;
	return ntohs(sockets[q].local.sin_port);
}
