/* Setting DPDK ports up and down: ethdev, queues, mbuf pool; the datagram work is in dpdk_port_io.c. */
#include "dpdk_port.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/epoll.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dpdk_port_impl.h"

pthread_mutex_t dpdk_port_registry_lock = PTHREAD_MUTEX_INITIALIZER;
struct dpdk_port_impl *dpdk_port_registry[MAX_PORTS];
static bool port_taken[RTE_MAX_ETHPORTS];

static struct dpdk_port_impl *impl_of(const struct dgram_port *p)
{
	return p->impl;
}
/*
 * One epoll set per queue holding its RX interrupt, for the worker's idle_wait
 * to sleep on (dpdk_port_io.c arms it). A PMD without RX interrupts (af_packet,
 * null, ring) refuses here: that queue keeps intr_epfd -1 and its worker naps.
 */
static void open_rx_interrupts(struct dpdk_port_impl *pt, bool asked)
{
	unsigned with = 0;
	for (uint16_t q = 0; q < pt->queue_count; q++) {
		struct dpdk_queue *qu = &pt->queues[q];
		qu->intr_epfd = -1;
		if (!asked)
			continue;
		int epfd = epoll_create1(EPOLL_CLOEXEC);
		if (epfd < 0)
			continue;
		if (rte_eth_dev_rx_intr_ctl_q(pt->port_id, q, epfd, RTE_INTR_EVENT_ADD, NULL) != 0) {
			close(epfd);
			continue;
		}
		(void)rte_eth_dev_rx_intr_disable(pt->port_id, q); /* enabled only around a sleep */
		qu->intr_epfd = epfd;
		with++;
	}
	fprintf(stderr, "dpdk_port: %s: RX interrupts on %u of %u queue(s)%s\n", pt->name, with, pt->queue_count,
		with < pt->queue_count ? " (the others nap when idle: the PMD has none)" : " (idle workers sleep)");
}

static void close_rx_interrupts(struct dpdk_port_impl *pt)
{
	for (uint16_t q = 0; q < pt->queue_count; q++) {
		struct dpdk_queue *qu = &pt->queues[q];
		if (qu->intr_epfd < 0)
			continue;
		(void)rte_eth_dev_rx_intr_ctl_q(pt->port_id, q, qu->intr_epfd, RTE_INTR_EVENT_DEL, NULL);
		close(qu->intr_epfd);
		qu->intr_epfd = -1;
	}
}

static void port_close(struct dgram_port *p)
{
	struct dpdk_port_impl *pt = impl_of(p);
	if (!pt)
		return;
	pthread_mutex_lock(&dpdk_port_registry_lock);
	for (int i = 0; i < MAX_PORTS; i++)
		if (dpdk_port_registry[i] == pt)
			dpdk_port_registry[i] = NULL;
	pthread_mutex_unlock(&dpdk_port_registry_lock);
	rte_eth_dev_stop(pt->port_id);
	dpdk_port_release_queue_mbufs(pt);
	close_rx_interrupts(pt);
	rte_eth_dev_close(pt->port_id);
	rte_mempool_free(pt->pool);
	free(pt);
	p->impl = NULL;
	pthread_mutex_lock(&dpdk_port_registry_lock);
	dpdk_eal_stop_if_ours();
	pthread_mutex_unlock(&dpdk_port_registry_lock);
}

static const struct dgram_port_ops dpdk_ops = {
	.rx_burst = dpdk_port_rx_burst,
	.tx_burst = dpdk_port_tx_burst,
	.wait = dpdk_port_wait,
	.close = port_close,
	.wait_fds = dpdk_port_wait_fds,
	.wait_arm = dpdk_port_wait_arm,
	.wait_disarm = dpdk_port_wait_disarm,
};

static int take_free_port(uint16_t *port_id)
{
	uint16_t id;
	RTE_ETH_FOREACH_DEV(id)
	{
		if (!port_taken[id]) {
			port_taken[id] = true;
			*port_id = id;
			return 0;
		}
	}
	return -1;
}

/* With --no-huge the pool is ordinary memory mapped on first touch: fault every page in
 * now, writing back what is there, so that no page fault lands on the fast path. */
static void touch_pages(struct rte_mempool *mp, void *opaque, struct rte_mempool_memhdr *memhdr, unsigned index)
{
	(void)mp;
	(void)opaque;
	(void)index;
	volatile uint8_t *bytes = memhdr->addr;
	long page = sysconf(_SC_PAGESIZE);
	for (size_t at = 0; at < memhdr->len; at += (size_t)(page > 0 ? page : 4096))
		bytes[at] = bytes[at];
}

static int configure_ethdev(struct dpdk_port_impl *pt, uint16_t wanted_queues, char *err, size_t err_size)
{
	struct rte_eth_dev_info info;
	int rc = rte_eth_dev_info_get(pt->port_id, &info);
	if (rc != 0) {
		dpdk_set_error(err, err_size, "rte_eth_dev_info_get(%u): %s", pt->port_id, rte_strerror(-rc));
		return -1;
	}
	uint16_t queues = wanted_queues;
	if (queues > info.max_rx_queues)
		queues = info.max_rx_queues;
	if (queues > info.max_tx_queues)
		queues = info.max_tx_queues;
	if (queues == 0) {
		dpdk_set_error(err, err_size, "%s offers no RX/TX queue", pt->name);
		return -1;
	}

	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof conf);
	uint64_t rss = (RTE_ETH_RSS_IPV4 | RTE_ETH_RSS_NONFRAG_IPV4_UDP) & info.flow_type_rss_offloads;
	if (queues > 1 && rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss;
	}
	pt->rx_ip_checksum = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	pt->rx_udp_checksum = info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	pt->tx_ip_checksum = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	pt->tx_udp_checksum = info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	if (pt->rx_ip_checksum)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_IPV4_CKSUM;
	if (pt->rx_udp_checksum)
		conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
	if (pt->tx_ip_checksum)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	if (pt->tx_udp_checksum)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;

	/* RX interrupts for idle workers (l3fwd-power's intr_conf.rxq); a PMD that refuses
	 * the request is configured again without: its workers nap when idle. */
	conf.intr_conf.rxq = 1;
	rc = rte_eth_dev_configure(pt->port_id, queues, queues, &conf);
	if (rc != 0) {
		conf.intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(pt->port_id, queues, queues, &conf);
	}
	pt->rx_interrupts_asked = conf.intr_conf.rxq == 1;
	if (rc != 0) {
		dpdk_set_error(err, err_size, "rte_eth_dev_configure(%s, %u queues): %s", pt->name, queues, rte_strerror(-rc));
		return -1;
	}
	uint16_t rx_descriptors = RX_DESCRIPTORS, tx_descriptors = TX_DESCRIPTORS;
	rte_eth_dev_adjust_nb_rx_tx_desc(pt->port_id, &rx_descriptors, &tx_descriptors);

	int socket = rte_eth_dev_socket_id(pt->port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	/* Every descriptor may hold an mbuf, plus a stash, the held frames and a
	 * mempool cache per queue, plus ARP and slack. */
	unsigned mbufs = (unsigned)queues * (rx_descriptors + tx_descriptors + BURST + HOLD_MAX + MEMPOOL_CACHE * 3 / 2) + 1024;
	char pool_name[RTE_MEMPOOL_NAMESIZE];
	snprintf(pool_name, sizeof pool_name, "iso_port%u", pt->port_id);
	pt->pool = rte_pktmbuf_pool_create(pool_name, mbufs, MEMPOOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (!pt->pool) {
		dpdk_set_error(err, err_size, "mbuf pool of %u for %s: %s (more memory: EAL -m)", mbufs, pt->name,
			  rte_strerror(rte_errno));
		return -1;
	}
	rte_mempool_mem_iter(pt->pool, touch_pages, NULL);
	for (uint16_t q = 0; q < queues; q++) {
		struct rte_eth_rxconf rxconf = info.default_rxconf;
		rxconf.offloads = conf.rxmode.offloads;
		rc = rte_eth_rx_queue_setup(pt->port_id, q, rx_descriptors, (unsigned)socket, &rxconf, pt->pool);
		if (rc != 0) {
			dpdk_set_error(err, err_size, "RX queue %u of %s: %s", q, pt->name, rte_strerror(-rc));
			return -1;
		}
		struct rte_eth_txconf txconf = info.default_txconf;
		txconf.offloads = conf.txmode.offloads;
		rc = rte_eth_tx_queue_setup(pt->port_id, q, tx_descriptors, (unsigned)socket, &txconf);
		if (rc != 0) {
			dpdk_set_error(err, err_size, "TX queue %u of %s: %s", q, pt->name, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(pt->port_id);
	if (rc != 0) {
		dpdk_set_error(err, err_size, "rte_eth_dev_start(%s): %s", pt->name, rte_strerror(-rc));
		return -1;
	}

	struct rte_ether_addr mac;
	rte_eth_macaddr_get(pt->port_id, &mac);
	if (!rte_is_valid_assigned_ether_addr(&mac)) {
		/* Ring-backed ports start with 00:00:00:00:00:00; peers need a real unicast MAC. */
		rte_eth_random_addr(mac.addr_bytes);
		(void)rte_eth_dev_default_mac_addr_set(pt->port_id, &mac); /* PMDs that cannot still deliver to us */
	}
	memcpy(pt->mac.bytes, mac.addr_bytes, 6);
	uint16_t mtu = RTE_ETHER_MTU;
	if (rte_eth_dev_get_mtu(pt->port_id, &mtu) != 0 || mtu < 576)
		mtu = RTE_ETHER_MTU;
	size_t room = RTE_MBUF_DEFAULT_BUF_SIZE - RTE_PKTMBUF_HEADROOM - PKT_UDP_HEADERS;
	pt->max_payload = (size_t)mtu - PKT_IPV4_HEADER - PKT_UDP_HEADER;
	if (pt->max_payload > room)
		pt->max_payload = room;
	pt->queue_count = queues;
	open_rx_interrupts(pt, pt->rx_interrupts_asked);

	fprintf(stderr, "dpdk_port: %s (ethdev %u) %u queue(s)%s%s, MAC %02x:%02x:%02x:%02x:%02x:%02x, mtu %u, checksums %s\n",
		pt->name, pt->port_id, queues, queues < wanted_queues ? " (fewer than asked: the PMD's maximum)" : "",
		queues > 1 ? (rss ? ", RSS on IPv4/UDP" : ", no RSS: the PMD decides which queue gets a frame") : "",
		mac.addr_bytes[0], mac.addr_bytes[1], mac.addr_bytes[2], mac.addr_bytes[3], mac.addr_bytes[4],
		mac.addr_bytes[5], mtu, pt->tx_udp_checksum ? "offloaded on TX" : "in software");
	return 0;
}

int dpdk_port_create(struct dgram_port *out, int eal_argc, char **eal_argv, uint16_t queues,
		     const char *ipv4_address, uint16_t udp_port, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	struct in_addr address;
	if (!ipv4_address || inet_pton(AF_INET, ipv4_address, &address) != 1 || address.s_addr == 0) {
		dpdk_set_error(err, err_size, "'%s' is not an IPv4 address", ipv4_address ? ipv4_address : "(null)");
		return -1;
	}
	if (udp_port == 0) {
		dpdk_set_error(err, err_size, "a DPDK port needs an explicit UDP port (there is no kernel to pick one)");
		return -1;
	}
	if (queues == 0 || queues > DPDK_PORT_MAX_QUEUES) {
		dpdk_set_error(err, err_size, "queue count %u out of 1..%d", queues, DPDK_PORT_MAX_QUEUES);
		return -1;
	}
	if (eal_argc < 0 || (eal_argc > 0 && !eal_argv)) {
		dpdk_set_error(err, err_size, "bad EAL argument vector");
		return -1;
	}

	pthread_mutex_lock(&dpdk_port_registry_lock);
	int slot = -1;
	for (int i = 0; i < MAX_PORTS && slot < 0; i++)
		if (!dpdk_port_registry[i])
			slot = i;
	if (slot < 0) {
		pthread_mutex_unlock(&dpdk_port_registry_lock);
		dpdk_set_error(err, err_size, "more than %d DPDK ports in one process", MAX_PORTS);
		return -1;
	}
	bool first = !dpdk_eal_started();
	if (dpdk_eal_start(eal_argc, eal_argv, err, err_size) != 0) {
		pthread_mutex_unlock(&dpdk_port_registry_lock);
		return -1;
	}
	if (first)
		dpdk_port_telemetry_register();

	uint16_t port_id;
	if (take_free_port(&port_id) != 0) {
		dpdk_eal_stop_if_ours();
		pthread_mutex_unlock(&dpdk_port_registry_lock);
		dpdk_set_error(err, err_size, "no (more) DPDK ethdev port: add one with --vdev or a PCI device (%u found)",
			  rte_eth_dev_count_avail());
		return -1;
	}

	size_t size = sizeof(struct dpdk_port_impl) + (size_t)queues * sizeof(struct dpdk_queue);
	size = (size + RTE_CACHE_LINE_SIZE - 1) & ~(size_t)(RTE_CACHE_LINE_SIZE - 1);
	struct dpdk_port_impl *pt = aligned_alloc(RTE_CACHE_LINE_SIZE, size);
	if (!pt) {
		pthread_mutex_unlock(&dpdk_port_registry_lock);
		dpdk_set_error(err, err_size, "out of memory");
		return -1;
	}
	memset(pt, 0, size);
	pt->port_id = port_id;
	pt->ip = address.s_addr;
	pt->udp_port = htons(udp_port);
	pt->hold_tsc = rte_get_tsc_hz() / 1000 * DPDK_PORT_HOLD_MS;
	pt->arp_retry_tsc = rte_get_tsc_hz() / 1000 * ARP_RETRY_MS;
	neighbour_table_init(&pt->neighbours);
	if (rte_eth_dev_get_name_by_port(port_id, pt->name) != 0)
		snprintf(pt->name, sizeof pt->name, "ethdev%u", port_id);

	if (configure_ethdev(pt, queues, err, err_size) != 0) {
		rte_eth_dev_stop(port_id);
		rte_mempool_free(pt->pool);
		free(pt);
		pthread_mutex_unlock(&dpdk_port_registry_lock);
		return -1;
	}
	dpdk_port_registry[slot] = pt;
	pthread_mutex_unlock(&dpdk_port_registry_lock);

	out->ops = &dpdk_ops;
	out->impl = pt;
	out->queue_count = pt->queue_count;
	out->local.sin_family = AF_INET;
	out->local.sin_addr = address;
	out->local.sin_port = htons(udp_port);
	return 0;
}

void dpdk_port_stats(const struct dgram_port *p, int q, struct dpdk_port_stats *out)
{
	dpdk_port_sum_stats(impl_of(p), q, out);
}

uint16_t dpdk_port_ethdev_id(const struct dgram_port *p)
{
	return impl_of(p)->port_id;
}

void dpdk_port_mac(const struct dgram_port *p, uint8_t mac[6])
{
	memcpy(mac, impl_of(p)->mac.bytes, 6);
}

unsigned dpdk_port_neighbour_count(const struct dgram_port *p)
{
	return neighbour_count(&impl_of(p)->neighbours);
}
