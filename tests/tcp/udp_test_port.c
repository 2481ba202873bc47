#include "udp_test_port.h"

#include <stdlib.h>
#include <string.h>

#include "udp_port.h"

static int rx(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	(void)q;
	int got = udp_port_rx_burst(p->impl, d, n);
	return got < 0 ? 0 : got;
}

static int tx(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
{
	(void)q;
	return udp_port_tx_burst(p->impl, d, n);
}

static void wait_rx(struct dgram_port *p, uint16_t q, int timeout_us)
{
	(void)q;
	udp_port_wait(p->impl, timeout_us);
}

static void close_port(struct dgram_port *p)
{
	udp_port_close(p->impl);
	free(p->impl);
	p->impl = NULL;
}

static const struct dgram_port_ops ops = {.rx_burst = rx, .tx_burst = tx, .wait = wait_rx, .close = close_port};

int udp_test_port_open(struct dgram_port *out, const char *host, uint16_t port)
{
	struct udp_port *u = calloc(1, sizeof(*u));
	if (!u)
		return -12;
	int rc = udp_port_open(u, host, port, 0);
	if (rc != 0) {
		free(u);
		return rc;
	}
	memset(out, 0, sizeof(*out));
	out->ops = &ops;
	out->impl = u;
	out->queue_count = 1;
	out->local = u->local;
	return 0;
}
