/* The port's telemetry commands: /iso8583/port_stats and /iso8583/neighbours. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_telemetry.h>

#include "dpdk_port_impl.h"

void dpdk_port_sum_stats(const struct dpdk_port_impl *pt, int q, struct dpdk_port_stats *out)
{
	memset(out, 0, sizeof *out);
	uint64_t *dst = (uint64_t *)out;
	size_t fields = sizeof *out / sizeof(uint64_t);
	for (uint16_t i = 0; i < pt->queue_count; i++) {
		if (q >= 0 && i != q)
			continue;
		const uint64_t *src = (const uint64_t *)&pt->queues[i].stats;
		for (size_t f = 0; f < fields; f++)
			dst[f] += __atomic_load_n(&src[f], __ATOMIC_RELAXED);
	}
}

/* Field names in struct order, so the telemetry dict needs no hand-kept list per field. */
static const char *const stat_names[] = {
	"rx_frames", "rx_datagrams", "rx_bytes", "rx_truncated", "rx_bad_ip_header", "rx_bad_ip_checksum",
	"rx_bad_udp_checksum", "rx_ip_fragments", "rx_other_ip_protocol", "rx_other_ethertype", "rx_bad_arp",
	"rx_not_for_us", "rx_too_big", "rx_segmented", "rx_arp_requests", "rx_arp_replies", "tx_datagrams",
	"tx_bytes", "tx_dropped_full", "tx_no_mbuf", "tx_too_big", "tx_bad_peer", "tx_held", "tx_unresolved",
	"tx_arp_replies", "tx_arp_requests", "tx_arp_dropped",
};
_Static_assert(sizeof stat_names / sizeof stat_names[0] == sizeof(struct dpdk_port_stats) / sizeof(uint64_t),
	       "one telemetry name per counter");

/* The port a command's parameter names (its index, default 0), with the registry
 * locked on success (the caller unlocks); a negative errno otherwise. */
static int lock_port_named_by(const char *params, struct dpdk_port_impl **out)
{
	int index = params && *params ? atoi(params) : 0;
	if (index < 0 || index >= MAX_PORTS)
		return -EINVAL;
	pthread_mutex_lock(&dpdk_port_registry_lock);
	*out = dpdk_port_registry[index];
	if (!*out) {
		pthread_mutex_unlock(&dpdk_port_registry_lock);
		return -ENOENT;
	}
	return 0;
}

static int port_stats_command(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	struct dpdk_port_impl *pt;
	int rc = lock_port_named_by(params, &pt);
	if (rc)
		return rc;
	struct dpdk_port_stats s;
	dpdk_port_sum_stats(pt, -1, &s);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "device", pt->name);
	rte_tel_data_add_dict_int(d, "ethdev_port", pt->port_id);
	rte_tel_data_add_dict_int(d, "queues", pt->queue_count);
	rte_tel_data_add_dict_int(d, "neighbours", (int)neighbour_count(&pt->neighbours));
	const uint64_t *values = (const uint64_t *)&s;
	for (size_t f = 0; f < sizeof stat_names / sizeof stat_names[0]; f++)
		rte_tel_data_add_dict_u64(d, stat_names[f], values[f]);
	struct rte_tel_data *rx = rte_tel_data_alloc(), *tx = rte_tel_data_alloc();
	if (rx && tx) {
		rte_tel_data_start_array(rx, RTE_TEL_U64_VAL);
		rte_tel_data_start_array(tx, RTE_TEL_U64_VAL);
		for (uint16_t q = 0; q < pt->queue_count; q++) {
			struct dpdk_port_stats qs;
			dpdk_port_sum_stats(pt, q, &qs);
			rte_tel_data_add_array_u64(rx, qs.rx_datagrams);
			rte_tel_data_add_array_u64(tx, qs.tx_datagrams);
		}
		rte_tel_data_add_dict_container(d, "rx_datagrams_per_queue", rx, 0);
		rte_tel_data_add_dict_container(d, "tx_datagrams_per_queue", tx, 0);
	} else {
		rte_tel_data_free(rx);
		rte_tel_data_free(tx);
	}
	pthread_mutex_unlock(&dpdk_port_registry_lock);
	return 0;
}

static void add_neighbour(uint32_t ip, const struct pkt_mac *mac, void *ctx)
{
	struct rte_tel_data *d = ctx;
	char address[INET_ADDRSTRLEN];
	char line[64];
	inet_ntop(AF_INET, &ip, address, sizeof address);
	snprintf(line, sizeof line, "%s %02x:%02x:%02x:%02x:%02x:%02x", address, mac->bytes[0], mac->bytes[1],
		 mac->bytes[2], mac->bytes[3], mac->bytes[4], mac->bytes[5]);
	rte_tel_data_add_array_string(d, line); /* past the array's limit it refuses, no harm */
}

/* "/iso8583/neighbours[,index]": the learned IPv4 -> MAC table, one "ip mac" string each. */
static int neighbours_command(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	struct dpdk_port_impl *pt;
	int rc = lock_port_named_by(params, &pt);
	if (rc)
		return rc;
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	neighbour_each(&pt->neighbours, add_neighbour, d);
	pthread_mutex_unlock(&dpdk_port_registry_lock);
	return 0;
}

void dpdk_port_telemetry_register(void)
{
	if (rte_telemetry_register_cmd("/iso8583/port_stats", port_stats_command,
				       "Counters of an ISO 8583 DPDK port. Parameter: port index (default 0)") != 0)
		fprintf(stderr, "dpdk_port: could not register /iso8583/port_stats telemetry\n");
	if (rte_telemetry_register_cmd("/iso8583/neighbours", neighbours_command,
				       "IPv4 neighbours an ISO 8583 DPDK port learned, as 'ip mac' strings. "
				       "Parameter: port index (default 0)") != 0)
		fprintf(stderr, "dpdk_port: could not register /iso8583/neighbours telemetry\n");
}
