#include "ring_peer.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "eal_runtime_dir.h"

static uint16_t peer_port;
static struct rte_mempool *peer_pool;
static char file_prefix[64];

const char *ring_peer_file_prefix(void)
{
	return file_prefix;
}

void ring_peer_start(struct dgram_port *port, uint16_t queues, const char *ip, uint16_t udp_port)
{
	snprintf(file_prefix, sizeof file_prefix, "iso-dpdk-test-%ld", (long)getpid());
	char prefix_option[96];
	snprintf(prefix_option, sizeof prefix_option, "--file-prefix=%s", file_prefix);
	char *eal[] = {"test", "--no-huge", "--no-pci", "-m", "256", "-l", "0", "--log-level", "lib.eal:warning",
		       prefix_option};
	int rc = rte_eal_init((int)(sizeof eal / sizeof eal[0]), eal);
	cr_assert_geq(rc, 0, "rte_eal_init: %s", rte_strerror(rte_errno));

	struct rte_ring *to_port[4], *from_port[4];
	cr_assert_leq(queues, 4);
	for (uint16_t q = 0; q < queues; q++) {
		char name[32];
		snprintf(name, sizeof name, "to_port%u", q);
		to_port[q] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof name, "from_port%u", q);
		from_port[q] = rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
		cr_assert(to_port[q] && from_port[q]);
	}
	/* Created first, so it is the first free ethdev that dpdk_port_create takes. */
	int port_id = rte_eth_from_rings("iso_port", to_port, queues, from_port, queues, SOCKET_ID_ANY);
	int peer_id = rte_eth_from_rings("iso_wire", from_port, queues, to_port, queues, SOCKET_ID_ANY);
	cr_assert_geq(port_id, 0);
	cr_assert_geq(peer_id, 0);
	peer_port = (uint16_t)peer_id;

	char err[256] = "";
	/* The EAL is already up: the port's own EAL arguments are not used. */
	rc = dpdk_port_create(port, 0, NULL, queues, ip, udp_port, err, sizeof err);
	cr_assert_eq(rc, 0, "dpdk_port_create: %s", err);
	cr_assert_eq(dpdk_port_ethdev_id(port), port_id);

	peer_pool = rte_pktmbuf_pool_create("wire_pool", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	cr_assert(peer_pool);
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof conf);
	cr_assert_eq(rte_eth_dev_configure(peer_port, queues, queues, &conf), 0);
	for (uint16_t q = 0; q < queues; q++) {
		cr_assert_eq(rte_eth_rx_queue_setup(peer_port, q, 256, SOCKET_ID_ANY, NULL, peer_pool), 0);
		cr_assert_eq(rte_eth_tx_queue_setup(peer_port, q, 256, SOCKET_ID_ANY, NULL), 0);
	}
	cr_assert_eq(rte_eth_dev_start(peer_port), 0);
}

void ring_peer_send(uint16_t q, const uint8_t *frame, size_t length)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(peer_pool);
	cr_assert(m);
	uint8_t *data = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)length);
	cr_assert(data);
	memcpy(data, frame, length);
	cr_assert_eq(rte_eth_tx_burst(peer_port, q, &m, 1), 1);
}

size_t ring_peer_receive(uint16_t q, uint8_t *frame, size_t capacity)
{
	struct rte_mbuf *m;
	if (rte_eth_rx_burst(peer_port, q, &m, 1) == 0)
		return 0;
	size_t length = rte_pktmbuf_pkt_len(m);
	cr_assert_leq(length, capacity);
	memcpy(frame, rte_pktmbuf_mtod(m, const uint8_t *), length);
	rte_pktmbuf_free(m);
	return length;
}

void ring_peer_stop(struct dgram_port *port)
{
	if (port->impl)
		port->ops->close(port);
	eal_cleanup_and_remove_runtime_dir();
}
