#include "loadgen_port.h"

#include <stdio.h>
#include <string.h>

#include "dpdk_port.h"
#include "loadgen_tcp_link.h"
#include "socket_dgram_port.h"

#define SOCKET_BUFFER_BYTES (8 << 20)

static int open_port(const struct loadgen_options *o, unsigned threads, struct dgram_port *port, char *err,
		     size_t err_size)
{
	if (strcmp(o->dataplane, "dpdk") == 0) {
		int rc = dpdk_port_create(port, o->eal_argc, o->eal_argv, (uint16_t)threads, o->dpdk_address,
					  o->dpdk_udp_port, err, err_size);
		if (rc == 0 && port->queue_count < threads) {
			snprintf(err, err_size, "the DPDK port offers %u queue(s), %u thread(s) asked: use --threads %u",
				 port->queue_count, threads, port->queue_count);
			port->ops->close(port);
			return -1;
		}
		return rc;
	}
	return socket_dgram_port_open(port, o->bind_host, 0, (uint16_t)threads, SOCKET_DGRAM_PORT_PER_QUEUE,
				      SOCKET_BUFFER_BYTES, err, err_size);
}

int loadgen_port_open(const struct ecosystem_config *config, const struct loadgen_options *o, bool over_tcp,
		      unsigned threads, struct dgram_port *port, char *err, size_t err_size)
{
	/* Over TCP the port returns once every link is connected: no request waits for a connect. */
	uint64_t outstanding = o->has_max_outstanding ? o->max_outstanding : LOADGEN_TCP_MAX_OUTSTANDING;
	return over_tcp ? loadgen_tcp_link_open(config, o->only_network, threads, outstanding, port, err, err_size)
			: open_port(o, threads, port, err, err_size);
}

bool loadgen_port_enable_rx_stamps(const struct loadgen_options *o, bool over_tcp, struct dgram_port *port)
{
	if (over_tcp || strcmp(o->dataplane, "dpdk") == 0)
		return false;
	return socket_dgram_port_enable_rx_stamps(port) == 0;
}

/* The DPDK port's own drop counters: where datagrams went missing below the generator. */
static void print_dpdk_stats(const struct dgram_port *port)
{
	struct dpdk_port_stats st;
	dpdk_port_stats(port, -1, &st);
	printf("dpdk port: rx %llu datagrams (%llu frames), tx %llu; dropped: bad udp checksum %llu, bad ip checksum %llu, "
	       "not for us %llu, too big %llu, tx queue full %llu, no mbuf %llu, unresolved %llu\n",
	       (unsigned long long)st.rx_datagrams, (unsigned long long)st.rx_frames,
	       (unsigned long long)st.tx_datagrams, (unsigned long long)st.rx_bad_udp_checksum,
	       (unsigned long long)st.rx_bad_ip_checksum, (unsigned long long)st.rx_not_for_us,
	       (unsigned long long)st.rx_too_big, (unsigned long long)st.tx_dropped_full,
	       (unsigned long long)st.tx_no_mbuf, (unsigned long long)st.tx_unresolved);
}

void loadgen_port_print_stats(const struct loadgen_options *o, bool over_tcp, struct dgram_port *port)
{
	if (strcmp(o->dataplane, "dpdk") == 0)
		print_dpdk_stats(port);
	if (over_tcp)
		loadgen_tcp_link_print_stats(port);
}
