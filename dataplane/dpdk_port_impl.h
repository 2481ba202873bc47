/*
 * Inside the DPDK port: the state its files share (dpdk_port.c sets ports up and
 * down, dpdk_port_io.c moves datagrams, dpdk_eal.c starts and stops the EAL,
 * dpdk_port_telemetry.c answers telemetry). Not for users of the port.
 */
#ifndef DPDK_PORT_IMPL_H
#define DPDK_PORT_IMPL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dpdk_frames.h"
#include "dpdk_neighbours.h"
#include "dpdk_port.h"

#define RX_DESCRIPTORS 512
#define TX_DESCRIPTORS 512
#define BURST 32
#define HOLD_MAX 64
#define MEMPOOL_CACHE 128
#define ARP_RETRY_MS 200
#define TX_ATTEMPTS 4
#define MAX_PORTS 8 /* DPDK ports in one process */

struct held_frame {
	uint32_t ip; /* network order */
	uint32_t payload_length;
	struct rte_mbuf *m;
	uint64_t deadline_tsc;
};

/* Everything one worker touches, on its own cache lines. */
struct dpdk_queue {
	struct dpdk_port_stats stats;
	struct rte_mbuf *stash[BURST]; /* received but not yet handed over */
	uint16_t stash_next, stash_count;
	uint16_t held_count;
	uint16_t ip_id;
	uint64_t held_generation; /* neighbour generation at the last look at held frames */
	uint64_t next_arp_tsc;
	/* RX interrupts (idle_wait.h): an epoll set holding the queue's interrupt descriptor, or -1
	 * when the PMD has none (net_af_packet, net_null): the worker then naps instead. */
	int intr_epfd;
	bool intr_armed;
	/* The last sender learned and the last destination resolved, each valid while the
	 * neighbour table's generation is the one read before it was learned or looked up:
	 * most datagrams of a burst come from, and go to, the same few neighbours. */
	uint32_t learned_ip, resolved_ip;
	struct pkt_mac learned_mac, resolved_mac;
	uint64_t learned_generation, resolved_generation;
	struct held_frame held[HOLD_MAX];
} __rte_cache_aligned;

struct dpdk_port_impl {
	uint16_t port_id;
	uint16_t queue_count;
	struct rte_mempool *pool;
	struct pkt_mac mac;
	uint32_t ip;       /* network order */
	uint16_t udp_port; /* network order */
	size_t max_payload;
	bool rx_ip_checksum, rx_udp_checksum, tx_ip_checksum, tx_udp_checksum;
	bool rx_interrupts_asked; /* configured with intr_conf.rxq */
	uint64_t hold_tsc, arp_retry_tsc;
	char name[RTE_ETH_NAME_MAX_LEN];
	struct neighbour_table neighbours;
	struct dpdk_queue queues[];
};

/* Open ports by index (the telemetry commands' parameter), under the lock. */
extern pthread_mutex_t dpdk_port_registry_lock;
extern struct dpdk_port_impl *dpdk_port_registry[MAX_PORTS];

/* Datagram operations (dpdk_port_io.c), see struct dgram_port_ops. */
int dpdk_port_rx_burst(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n);
int dpdk_port_tx_burst(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n);
void dpdk_port_wait(struct dgram_port *p, uint16_t q, int timeout_us);
int dpdk_port_wait_fds(struct dgram_port *p, uint16_t q, int *fds, int max);
int dpdk_port_wait_arm(struct dgram_port *p, uint16_t q);
void dpdk_port_wait_disarm(struct dgram_port *p, uint16_t q);
/* Frees the mbufs a queue still holds (stash, frames waiting for ARP), at close. */
void dpdk_port_release_queue_mbufs(struct dpdk_port_impl *pt);

/* The EAL (dpdk_eal.c): started once per process; stopped with the last port when we named it. */
int dpdk_eal_start(int eal_argc, char **eal_argv, char *err, size_t err_size);
bool dpdk_eal_started(void);
/* Call with the registry lock held and no port left. */
void dpdk_eal_stop_if_ours(void);

/* Telemetry commands of the port (dpdk_port_telemetry.c), registered once. */
void dpdk_port_telemetry_register(void);
void dpdk_port_sum_stats(const struct dpdk_port_impl *pt, int q, struct dpdk_port_stats *out);

static inline void dpdk_set_error(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void dpdk_set_error(char *err, size_t err_size, const char *fmt, ...)
{
	if (!err || !err_size)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
}

/* Single writer per queue; telemetry reads concurrently with relaxed loads. */
static inline void count(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED);
}

#endif
