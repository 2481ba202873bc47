/*
 * DPDK ethdev backend of the datagram port (dgram_port.h): Ethernet, IPv4,
 * UDP and ARP handled in user space over any PMD the EAL arguments name
 * (net_af_packet, net_memif, net_ring, net_null, real NICs). See docs/dpdk.md.
 *
 * One RX and one TX queue per worker (queue index = worker index). With more
 * than one queue the port asks the PMD for RSS on IPv4/UDP; a PMD that offers
 * fewer queues than asked gets as many as it has, and queue_count says so.
 * A port answers ARP for its own IPv4 address, learns the MAC of every IPv4
 * peer that sends to it and of every ARP sender addressed to it, and asks with
 * an ARP request for a destination it does not know yet (holding the
 * datagram for up to DPDK_PORT_HOLD_MS). Peers must be on the same link: there
 * is no gateway.
 */
#ifndef DPDK_PORT_H
#define DPDK_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "dgram_port.h"

#define DPDK_PORT_MAX_QUEUES 16
#define DPDK_PORT_HOLD_MS 1000

/*
 * Starts the EAL (once per process) with eal_argv[0 .. eal_argc): EAL options
 * only, no program name, e.g. {"--no-huge", "--no-pci", "-l", "0",
 * "--vdev", "net_af_packet0,iface=veth0"}. When neither --file-prefix nor
 * --in-memory is given, "--file-prefix=iso8583-<pid>" is added so that several
 * DPDK processes coexist on one host, and its runtime directory is removed
 * when the last port closes (the EAL then stops for good in this process).
 * --in-memory with --no-huge, which DPDK 22.11 refuses, becomes --no-shconf
 * under that prefix. The calling thread's CPU affinity is
 * restored after rte_eal_init (which pins it to the main lcore), so threads the
 * caller creates later are not all piled on one core.
 *
 * Then takes the first ethdev port this process has not taken yet, configures
 * `queues` RX/TX queue pairs (see above), and serves ipv4_address:udp_port
 * (udp_port must not be 0: there is no kernel to pick one).
 *
 * Returns 0, or -1 with a message in err. out->queue_count holds the number of
 * queues actually configured; out->local the served address.
 */
int dpdk_port_create(struct dgram_port *out, int eal_argc, char **eal_argv, uint16_t queues,
		     const char *ipv4_address, uint16_t udp_port, char *err, size_t err_size);

/* Per-queue counters, summed by dpdk_port_stats. Every drop has a counter. */
struct dpdk_port_stats {
	uint64_t rx_frames;        /* taken from the PMD */
	uint64_t rx_datagrams;     /* handed to the worker */
	uint64_t rx_bytes;         /* UDP payload bytes handed to the worker */
	uint64_t rx_truncated;     /* frame shorter than its headers claim */
	uint64_t rx_bad_ip_header;
	uint64_t rx_bad_ip_checksum;
	uint64_t rx_bad_udp_checksum;
	uint64_t rx_ip_fragments;
	uint64_t rx_other_ip_protocol;
	uint64_t rx_other_ethertype;
	uint64_t rx_bad_arp;
	uint64_t rx_not_for_us;    /* other MAC, IPv4 address or UDP port */
	uint64_t rx_too_big;       /* payload larger than the worker's buffer */
	uint64_t rx_segmented;     /* multi-segment mbuf (we never enable scatter) */
	uint64_t rx_arp_requests;  /* for our address */
	uint64_t rx_arp_replies;   /* to us */
	uint64_t tx_datagrams;     /* accepted by the PMD */
	uint64_t tx_bytes;         /* UDP payload bytes accepted by the PMD */
	uint64_t tx_dropped_full;  /* the PMD's TX queue stayed full */
	uint64_t tx_no_mbuf;       /* mempool empty */
	uint64_t tx_too_big;       /* payload beyond the MTU (we do not fragment) */
	uint64_t tx_bad_peer;      /* not AF_INET, or address 0 */
	uint64_t tx_held;          /* waited for an ARP reply */
	uint64_t tx_unresolved;    /* dropped: no ARP reply in time, or hold list full */
	uint64_t tx_arp_replies;
	uint64_t tx_arp_requests;
	uint64_t tx_arp_dropped;   /* ARP we could not send (no mbuf, queue full) */
};

/* Sums the counters of every queue (q < 0) or of queue q. Safe from any thread. */
void dpdk_port_stats(const struct dgram_port *p, int q, struct dpdk_port_stats *out);

/* The ethdev port id behind p (tests inject frames through it). */
uint16_t dpdk_port_ethdev_id(const struct dgram_port *p);
/* Our MAC address (6 bytes). */
void dpdk_port_mac(const struct dgram_port *p, uint8_t mac[6]);
/* Number of learned neighbours. */
unsigned dpdk_port_neighbour_count(const struct dgram_port *p);

/*
 * Telemetry: the port registers "/iso8583/port_stats" (readable with
 * dpdk-telemetry.py -f <file-prefix>). Other modules add their own commands
 * through this hook, e.g. the switch's "/iso8583/switch_stats": `fill` is
 * called on the telemetry thread with ctx and an empty rte_tel_data to fill
 * (rte_tel_data_start_dict, rte_tel_data_add_dict_u64, ...; see
 * rte_telemetry.h) and returns 0 or a negative errno. The command must start
 * with '/' and be registered once; up to 16 commands. Returns 0 or -errno.
 */
struct rte_tel_data;
typedef int (*dpdk_telemetry_fill_fn)(struct rte_tel_data *d, void *ctx);
int dpdk_telemetry_register(const char *command, const char *help, dpdk_telemetry_fill_fn fill, void *ctx);

#endif
