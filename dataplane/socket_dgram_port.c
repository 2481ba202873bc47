#include "socket_dgram_port.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udp_port.h"

struct socket_ports {
	uint16_t count;
	struct udp_port ports[SOCKET_DGRAM_MAX_QUEUES];
};

static int socket_rx(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	struct socket_ports *s = p->impl;
	int got = udp_port_rx_burst(&s->ports[q], d, n);
	return got < 0 ? 0 : got; /* errors such as ICMP refusals surface as "nothing received" */
}

static int socket_tx(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
{
	struct socket_ports *s = p->impl;
	return udp_port_tx_burst(&s->ports[q], d, n);
}

static void socket_wait(struct dgram_port *p, uint16_t q, int timeout_us)
{
	struct socket_ports *s = p->impl;
	udp_port_wait(&s->ports[q], timeout_us);
}

/* A socket is level-triggered readable while a datagram waits: nothing to arm, no race. */
static int socket_wait_fds(struct dgram_port *p, uint16_t q, int *fds, int max)
{
	struct socket_ports *s = p->impl;
	if (q >= s->count || max < 1)
		return -1;
	fds[0] = s->ports[q].fd;
	return 1;
}

static int socket_wait_arm(struct dgram_port *p, uint16_t q)
{
	(void)p;
	(void)q;
	return 0;
}

static void socket_wait_disarm(struct dgram_port *p, uint16_t q)
{
	(void)p;
	(void)q;
}

static void socket_close(struct dgram_port *p)
{
	struct socket_ports *s = p->impl;
	if (!s)
		return;
	for (uint16_t i = 0; i < s->count; i++)
		udp_port_close(&s->ports[i]);
	free(s);
	p->impl = NULL;
}

static const struct dgram_port_ops socket_ops = {
	.rx_burst = socket_rx,
	.tx_burst = socket_tx,
	.wait = socket_wait,
	.close = socket_close,
	.wait_fds = socket_wait_fds,
	.wait_arm = socket_wait_arm,
	.wait_disarm = socket_wait_disarm,
};

int socket_dgram_port_enable_rx_stamps(struct dgram_port *port)
{
	struct socket_ports *s = port->impl;
	for (uint16_t q = 0; q < s->count; q++) {
		int rc = udp_port_enable_rx_stamps(&s->ports[q]);
		if (rc != 0) {
			for (uint16_t i = 0; i < s->count; i++)
				s->ports[i].rx_stamps = false; /* all or none: a reader relies on them per port */
			return rc;
		}
	}
	return 0;
}

int socket_dgram_port_open(struct dgram_port *out, const char *host, uint16_t port, uint16_t queues,
			   enum socket_dgram_binding binding, int socket_buffer_bytes, char *err,
			   size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (queues == 0 || queues > SOCKET_DGRAM_MAX_QUEUES) {
		snprintf(err, err_size, "%u queues asked; 1 to %d are possible", queues, SOCKET_DGRAM_MAX_QUEUES);
		return -1;
	}
	struct socket_ports *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	out->ops = &socket_ops;
	out->impl = s;
	for (uint16_t i = 0; i < queues; i++) {
		uint16_t bind_port = 0;
		if (binding == SOCKET_DGRAM_SHARED_PORT)
			/* The first socket fixes the port when 0 was asked; the others join it. */
			bind_port = i == 0 ? port : ntohs(s->ports[0].local.sin_port);
		int rc = udp_port_open(&s->ports[i], host, bind_port, socket_buffer_bytes);
		if (rc != 0) {
			snprintf(err, err_size, "cannot bind UDP %s:%u (socket %u): %s", host, bind_port, i, strerror(-rc));
			socket_close(out);
			return -1;
		}
		s->count++;
	}
	out->queue_count = queues;
	out->local = s->ports[0].local;
	return 0;
}
