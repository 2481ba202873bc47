#include "dpdk_port.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_telemetry.h>

#include "dpdk_frames.h"
#include "dpdk_neighbours.h"

#define RX_DESCRIPTORS 512
#define TX_DESCRIPTORS 512
#define BURST 32
#define HOLD_MAX 64
#define MEMPOOL_CACHE 128
#define ARP_RETRY_MS 200
#define TX_ATTEMPTS 4
#define MAX_PORTS 8

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
	uint64_t hold_tsc, arp_retry_tsc;
	char name[RTE_ETH_NAME_MAX_LEN];
	struct neighbour_table neighbours;
	struct dpdk_queue queues[];
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct dpdk_port_impl *registry[MAX_PORTS];
static bool eal_started;
static char **eal_argv_kept; /* rte_eal_init may point into it for the life of the process */
static bool eal_prefix_is_ours; /* we named the runtime directory, so we remove it */
static bool eal_stopped;        /* rte_eal_cleanup done: the EAL cannot start again */
static bool port_taken[RTE_MAX_ETHPORTS];

static void set_error(char *err, size_t err_size, const char *fmt, ...)
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

static struct dpdk_port_impl *impl_of(const struct dgram_port *p)
{
	return p->impl;
}

/* Worker threads are the caller's pthreads, not EAL lcores; registering them gives
 * each its own mempool cache instead of every mbuf alloc/free hitting the shared ring. */
static void register_worker_thread(void)
{
	static _Thread_local bool checked;
	if (__builtin_expect(checked, 1))
		return;
	checked = true;
	if (rte_lcore_id() == LCORE_ID_ANY)
		(void)rte_thread_register(); /* no slot left: still correct, only slower */
}

/* ---- EAL ---------------------------------------------------------------- */

static bool has_option(int argc, char **argv, const char *option)
{
	size_t n = strlen(option);
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], option, n) == 0 && (argv[i][n] == '\0' || argv[i][n] == '='))
			return true;
	return false;
}

static int start_eal(int eal_argc, char **eal_argv, char *err, size_t err_size)
{
	if (eal_stopped) {
		set_error(err, err_size, "the EAL of this process was stopped with its last port; it cannot restart");
		return -1;
	}
	if (eal_started)
		return 0;
	/* rte_eal_init permutes argv and may keep pointers into it: give it a copy that lives forever. */
	static char prefix_option[64];
	char **argv = calloc((size_t)eal_argc + 3, sizeof *argv);
	if (!argv) {
		set_error(err, err_size, "out of memory");
		return -1;
	}
	int argc = 0;
	argv[argc++] = "iso8583-dpdk";
	/* DPDK 22.11 refuses --in-memory with --no-huge (legacy memory). What the caller wants
	 * from it, nothing shared left behind, --no-shconf and a prefix of our own give. */
	bool in_memory = has_option(eal_argc, eal_argv, "--in-memory");
	bool no_huge = has_option(eal_argc, eal_argv, "--no-huge");
	for (int i = 0; i < eal_argc; i++) {
		if (in_memory && no_huge && strcmp(eal_argv[i], "--in-memory") == 0) {
			argv[argc++] = "--no-shconf";
			fprintf(stderr, "dpdk_port: --in-memory with --no-huge: using --no-shconf instead\n");
		} else {
			argv[argc++] = eal_argv[i];
		}
	}
	if (!has_option(eal_argc, eal_argv, "--file-prefix") && !(in_memory && !no_huge)) {
		snprintf(prefix_option, sizeof prefix_option, "--file-prefix=iso8583-%ld", (long)getpid());
		argv[argc++] = prefix_option;
		eal_prefix_is_ours = true;
	}

	cpu_set_t affinity;
	bool have_affinity = pthread_getaffinity_np(pthread_self(), sizeof affinity, &affinity) == 0;
	int rc = rte_eal_init(argc, argv);
	if (rc < 0 && rte_errno != EALREADY) {
		set_error(err, err_size, "rte_eal_init failed: %s (check the EAL arguments)", rte_strerror(rte_errno));
		free(argv);
		return -1;
	}
	if (rc < 0) {
		free(argv); /* started by someone else: our copy was not used */
		eal_prefix_is_ours = false;
	} else {
		eal_argv_kept = argv;
	}
	if (have_affinity)
		pthread_setaffinity_np(pthread_self(), sizeof affinity, &affinity);
	eal_started = true;
	return 0;
}

/* ---- telemetry ----------------------------------------------------------- */

static void sum_stats(const struct dpdk_port_impl *pt, int q, struct dpdk_port_stats *out)
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

static int port_stats_command(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	int index = params && *params ? atoi(params) : 0;
	if (index < 0 || index >= MAX_PORTS)
		return -EINVAL;
	pthread_mutex_lock(&registry_lock);
	struct dpdk_port_impl *pt = registry[index];
	if (!pt) {
		pthread_mutex_unlock(&registry_lock);
		return -ENOENT;
	}
	struct dpdk_port_stats s;
	sum_stats(pt, -1, &s);
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
			sum_stats(pt, q, &qs);
			rte_tel_data_add_array_u64(rx, qs.rx_datagrams);
			rte_tel_data_add_array_u64(tx, qs.tx_datagrams);
		}
		rte_tel_data_add_dict_container(d, "rx_datagrams_per_queue", rx, 0);
		rte_tel_data_add_dict_container(d, "tx_datagrams_per_queue", tx, 0);
	} else {
		rte_tel_data_free(rx);
		rte_tel_data_free(tx);
	}
	pthread_mutex_unlock(&registry_lock);
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
	int index = params && *params ? atoi(params) : 0;
	if (index < 0 || index >= MAX_PORTS)
		return -EINVAL;
	pthread_mutex_lock(&registry_lock);
	struct dpdk_port_impl *pt = registry[index];
	if (!pt) {
		pthread_mutex_unlock(&registry_lock);
		return -ENOENT;
	}
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	neighbour_each(&pt->neighbours, add_neighbour, d);
	pthread_mutex_unlock(&registry_lock);
	return 0;
}

/* ---- sending ------------------------------------------------------------- */

/* Sends what the PMD takes within a few attempts; the caller frees the rest. */
static uint16_t send_frames(struct dpdk_port_impl *pt, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = 0;
	for (int attempt = 0; attempt < TX_ATTEMPTS && sent < n; attempt++)
		sent += rte_eth_tx_burst(pt->port_id, q, m + sent, n - sent);
	return sent;
}

static void send_arp(struct dpdk_port_impl *pt, uint16_t q, uint16_t operation, const struct pkt_mac *eth_dst,
		     const struct pkt_mac *target_mac, uint32_t target_ip)
{
	struct dpdk_queue *qu = &pt->queues[q];
	struct rte_mbuf *m = rte_pktmbuf_alloc(pt->pool);
	uint8_t *frame = m ? (uint8_t *)rte_pktmbuf_append(m, PKT_MIN_LENGTH) : NULL;
	if (!frame) {
		rte_pktmbuf_free(m);
		count(&qu->stats.tx_arp_dropped, 1);
		return;
	}
	pkt_build_arp(frame, operation, eth_dst, &pt->mac, pt->ip, target_mac, target_ip);
	if (send_frames(pt, q, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		count(&qu->stats.tx_arp_dropped, 1);
		return;
	}
	count(operation == PKT_ARP_REPLY ? &qu->stats.tx_arp_replies : &qu->stats.tx_arp_requests, 1);
}

static void send_arp_request(struct dpdk_port_impl *pt, uint16_t q, uint32_t ip)
{
	static const struct pkt_mac broadcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	static const struct pkt_mac unknown = {{0}};
	send_arp(pt, q, PKT_ARP_REQUEST, &broadcast, &unknown, ip);
}

/* Sends held frames whose neighbour is now known, drops the expired, re-asks the rest. */
static void service_held(struct dpdk_port_impl *pt, uint16_t q)
{
	struct dpdk_queue *qu = &pt->queues[q];
	if (qu->held_count == 0)
		return;
	uint64_t generation = neighbour_generation(&pt->neighbours);
	uint64_t now = rte_get_tsc_cycles();
	if (generation == qu->held_generation && now < qu->next_arp_tsc)
		return;
	qu->held_generation = generation;

	struct rte_mbuf *ready[HOLD_MAX];
	uint32_t ready_length[HOLD_MAX];
	uint16_t ready_count = 0, kept = 0;
	for (uint16_t i = 0; i < qu->held_count; i++) {
		struct held_frame *h = &qu->held[i];
		struct pkt_mac mac;
		if (neighbour_lookup(&pt->neighbours, h->ip, &mac)) {
			pkt_set_dst_mac(rte_pktmbuf_mtod(h->m, uint8_t *), &mac);
			ready_length[ready_count] = h->payload_length;
			ready[ready_count++] = h->m;
		} else if (now >= h->deadline_tsc) {
			rte_pktmbuf_free(h->m);
			count(&qu->stats.tx_unresolved, 1);
		} else {
			qu->held[kept++] = *h;
		}
	}
	qu->held_count = kept;
	if (ready_count) {
		uint16_t sent = send_frames(pt, q, ready, ready_count);
		uint64_t sent_bytes = 0;
		for (uint16_t i = 0; i < sent; i++)
			sent_bytes += ready_length[i];
		if (sent < ready_count) {
			rte_pktmbuf_free_bulk(ready + sent, ready_count - sent);
			count(&qu->stats.tx_dropped_full, ready_count - sent);
		}
		count(&qu->stats.tx_datagrams, sent);
		count(&qu->stats.tx_bytes, sent_bytes);
	}
	if (kept && now >= qu->next_arp_tsc) {
		for (uint16_t i = 0; i < kept; i++) {
			bool asked = false;
			for (uint16_t j = 0; j < i && !asked; j++)
				asked = qu->held[j].ip == qu->held[i].ip;
			if (!asked)
				send_arp_request(pt, q, qu->held[i].ip);
		}
		qu->next_arp_tsc = now + pt->arp_retry_tsc;
	}
}

static void hold_frame(struct dpdk_port_impl *pt, uint16_t q, uint32_t ip, struct rte_mbuf *m,
		       uint32_t payload_length)
{
	struct dpdk_queue *qu = &pt->queues[q];
	if (qu->held_count == HOLD_MAX) {
		rte_pktmbuf_free(m);
		count(&qu->stats.tx_unresolved, 1);
		return;
	}
	bool asked = false;
	for (uint16_t i = 0; i < qu->held_count && !asked; i++)
		asked = qu->held[i].ip == ip;
	uint64_t now = rte_get_tsc_cycles();
	if (qu->held_count == 0)
		qu->held_generation = neighbour_generation(&pt->neighbours);
	qu->held[qu->held_count++] =
		(struct held_frame){.ip = ip, .payload_length = payload_length, .m = m, .deadline_tsc = now + pt->hold_tsc};
	count(&qu->stats.tx_held, 1);
	if (!asked) {
		send_arp_request(pt, q, ip);
		qu->next_arp_tsc = now + pt->arp_retry_tsc;
	}
}

static int port_tx_burst(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
{
	struct dpdk_port_impl *pt = impl_of(p);
	struct dpdk_queue *qu = &pt->queues[q];
	register_worker_thread();
	service_held(pt, q);

	int accepted = 0;
	while (n > 0) {
		int chunk = n > BURST ? BURST : n;
		struct rte_mbuf *m[BURST], *ready[BURST];
		uint32_t ready_length[BURST];
		if (rte_pktmbuf_alloc_bulk(pt->pool, m, (unsigned)chunk) != 0) {
			count(&qu->stats.tx_no_mbuf, (uint64_t)n);
			break;
		}
		int used = 0;
		uint16_t ready_count = 0;
		for (int i = 0; i < chunk; i++) {
			const struct udp_datagram *g = &d[i];
			if (g->peer.sin_family != AF_INET || g->peer.sin_addr.s_addr == 0 || g->peer.sin_port == 0) {
				count(&qu->stats.tx_bad_peer, 1);
				continue;
			}
			if (g->length > pt->max_payload) {
				count(&qu->stats.tx_too_big, 1);
				continue;
			}
			struct rte_mbuf *mb = m[used++];
			size_t frame_length = PKT_UDP_HEADERS + g->length;
			if (frame_length < PKT_MIN_LENGTH)
				frame_length = PKT_MIN_LENGTH; /* pad: the IPv4 length says where data ends */
			uint8_t *frame = (uint8_t *)rte_pktmbuf_append(mb, (uint16_t)frame_length);
			memcpy(frame + PKT_UDP_HEADERS, g->data, g->length);
			memset(frame + PKT_UDP_HEADERS + g->length, 0, frame_length - PKT_UDP_HEADERS - g->length);
			struct pkt_udp_endpoints e = {
				.src_mac = pt->mac,
				.src_ip = pt->ip,
				.dst_ip = g->peer.sin_addr.s_addr,
				.src_port = pt->udp_port,
				.dst_port = g->peer.sin_port,
			};
			bool known = neighbour_lookup(&pt->neighbours, e.dst_ip, &e.dst_mac);
			pkt_build_udp_headers(frame, &e, g->length, qu->ip_id++, pt->tx_ip_checksum,
						pt->tx_udp_checksum);
			if (pt->tx_ip_checksum || pt->tx_udp_checksum) {
				mb->l2_len = PKT_ETHER_HEADER;
				mb->l3_len = PKT_IPV4_HEADER;
				mb->ol_flags |= RTE_MBUF_F_TX_IPV4;
				if (pt->tx_ip_checksum)
					mb->ol_flags |= RTE_MBUF_F_TX_IP_CKSUM;
				if (pt->tx_udp_checksum)
					mb->ol_flags |= RTE_MBUF_F_TX_UDP_CKSUM;
			}
			if (known) {
				ready_length[ready_count] = (uint32_t)g->length;
				ready[ready_count++] = mb;
			} else {
				hold_frame(pt, q, e.dst_ip, mb, (uint32_t)g->length);
				accepted++;
			}
		}
		if (used < chunk)
			rte_pktmbuf_free_bulk(m + used, (unsigned)(chunk - used));
		uint16_t sent = send_frames(pt, q, ready, ready_count);
		uint64_t sent_bytes = 0;
		for (uint16_t i = 0; i < sent; i++)
			sent_bytes += ready_length[i];
		if (sent < ready_count) {
			rte_pktmbuf_free_bulk(ready + sent, ready_count - sent);
			count(&qu->stats.tx_dropped_full, ready_count - sent);
		}
		count(&qu->stats.tx_datagrams, sent);
		count(&qu->stats.tx_bytes, sent_bytes);
		accepted += sent;
		d += chunk;
		n -= chunk;
	}
	return accepted;
}

/* ---- receiving ----------------------------------------------------------- */

static void take_arp(struct dpdk_port_impl *pt, uint16_t q, const struct pkt_arp *arp)
{
	struct dpdk_queue *qu = &pt->queues[q];
	if (arp->target_ip != pt->ip) {
		count(&qu->stats.rx_not_for_us, 1);
		return;
	}
	if (arp->sender_ip != 0) /* 0 is an address probe (RFC 5227): nothing to learn */
		neighbour_learn(&pt->neighbours, arp->sender_ip, &arp->sender_mac);
	if (arp->operation == PKT_ARP_REQUEST) {
		count(&qu->stats.rx_arp_requests, 1);
		send_arp(pt, q, PKT_ARP_REPLY, &arp->sender_mac, &arp->sender_mac, arp->sender_ip);
	} else {
		count(&qu->stats.rx_arp_replies, 1);
	}
}

/* Returns true when m carried a datagram for us, now copied into g. */
static bool take_frame(struct dpdk_port_impl *pt, uint16_t q, struct rte_mbuf *m, struct udp_datagram *g)
{
	struct dpdk_queue *qu = &pt->queues[q];
	struct dpdk_port_stats *s = &qu->stats;
	if (m->nb_segs != 1) {
		count(&s->rx_segmented, 1);
		return false;
	}
	uint64_t ip_flags = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	uint64_t l4_flags = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (pt->rx_ip_checksum && ip_flags == RTE_MBUF_F_RX_IP_CKSUM_BAD) {
		count(&s->rx_bad_ip_checksum, 1);
		return false;
	}
	if (pt->rx_udp_checksum && l4_flags == RTE_MBUF_F_RX_L4_CKSUM_BAD) {
		count(&s->rx_bad_udp_checksum, 1);
		return false;
	}
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	struct pkt_parsed f;
	/* GOOD: the NIC checked it. NONE: the checksum in the frame is not filled in but the
	 * data's integrity was checked (virtual NICs handing over local traffic). */
	bool ip_verified = pt->rx_ip_checksum &&
			   (ip_flags == RTE_MBUF_F_RX_IP_CKSUM_GOOD || ip_flags == RTE_MBUF_F_RX_IP_CKSUM_NONE);
	bool udp_verified = pt->rx_udp_checksum &&
			    (l4_flags == RTE_MBUF_F_RX_L4_CKSUM_GOOD || l4_flags == RTE_MBUF_F_RX_L4_CKSUM_NONE);
	enum pkt_verdict v = pkt_parse(frame, rte_pktmbuf_data_len(m), ip_verified, udp_verified, &f);
	switch (v) {
	case PKT_UDP:
		break;
	case PKT_ARP:
		take_arp(pt, q, &f.arp);
		return false;
	case PKT_TRUNCATED: count(&s->rx_truncated, 1); return false;
	case PKT_BAD_IP_HEADER: count(&s->rx_bad_ip_header, 1); return false;
	case PKT_BAD_IP_CHECKSUM: count(&s->rx_bad_ip_checksum, 1); return false;
	case PKT_BAD_UDP_CHECKSUM: count(&s->rx_bad_udp_checksum, 1); return false;
	case PKT_FRAGMENT: count(&s->rx_ip_fragments, 1); return false;
	case PKT_OTHER_PROTOCOL: count(&s->rx_other_ip_protocol, 1); return false;
	case PKT_OTHER_ETHERTYPE: count(&s->rx_other_ethertype, 1); return false;
	case PKT_BAD_ARP: count(&s->rx_bad_arp, 1); return false;
	case PKT_VERDICT_COUNT: return false;
	}
	const struct pkt_udp *u = &f.udp;
	if (!pkt_mac_equal(&u->dst_mac, &pt->mac) || u->dst_ip != pt->ip || u->dst_port != pt->udp_port) {
		count(&s->rx_not_for_us, 1);
		return false;
	}
	neighbour_learn(&pt->neighbours, u->src_ip, &u->src_mac);
	if (u->payload_length > g->capacity) {
		count(&s->rx_too_big, 1);
		return false;
	}
	memcpy(g->data, frame + u->payload_offset, u->payload_length);
	g->length = u->payload_length;
	memset(&g->peer, 0, sizeof g->peer);
	g->peer.sin_family = AF_INET;
	g->peer.sin_addr.s_addr = u->src_ip;
	g->peer.sin_port = u->src_port;
	count(&s->rx_datagrams, 1);
	count(&s->rx_bytes, u->payload_length);
	return true;
}

static uint16_t refill_stash(struct dpdk_port_impl *pt, uint16_t q)
{
	struct dpdk_queue *qu = &pt->queues[q];
	if (qu->stash_next < qu->stash_count)
		return qu->stash_count - qu->stash_next;
	qu->stash_next = 0;
	qu->stash_count = rte_eth_rx_burst(pt->port_id, q, qu->stash, BURST);
	count(&qu->stats.rx_frames, qu->stash_count);
	return qu->stash_count;
}

static int port_rx_burst(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	struct dpdk_port_impl *pt = impl_of(p);
	struct dpdk_queue *qu = &pt->queues[q];
	register_worker_thread();
	int taken = 0;
	/* What is left in the stash first, then at most one PMD poll: a queue that never runs
	 * dry (net_null, a flood of frames for others) must not keep the worker here. */
	for (bool polled = false; taken < n;) {
		if (qu->stash_next == qu->stash_count) {
			if (polled)
				break;
			polled = true;
			if (refill_stash(pt, q) == 0)
				break;
		}
		uint16_t first = qu->stash_next;
		while (taken < n && qu->stash_next < qu->stash_count) {
			struct rte_mbuf *m = qu->stash[qu->stash_next++];
			if (qu->stash_next < qu->stash_count)
				rte_prefetch0(rte_pktmbuf_mtod(qu->stash[qu->stash_next], void *));
			if (take_frame(pt, q, m, &d[taken]))
				taken++;
		}
		/* Every frame is consumed (payload copied out, ARP answered from a new mbuf). */
		rte_pktmbuf_free_bulk(qu->stash + first, qu->stash_next - first);
	}
	service_held(pt, q); /* an ARP reply just received may release held frames */
	return taken;
}

static void port_wait(struct dgram_port *p, uint16_t q, int timeout_us)
{
	struct dpdk_port_impl *pt = impl_of(p);
	register_worker_thread();
	service_held(pt, q);
	/* Vdevs have no RX interrupts: peek once, then sleep the caller's back-off step. */
	if (refill_stash(pt, q) > 0 || timeout_us <= 0)
		return;
	struct timespec ts = {.tv_sec = timeout_us / 1000000, .tv_nsec = (long)(timeout_us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

/* ---- setup and teardown -------------------------------------------------- */

/* The EAL leaves /var/run/dpdk/<prefix>/ behind; one per run would pile up. */
static void remove_runtime_dir(const char *path)
{
	DIR *dir = opendir(path);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char file[PATH_MAX];
		if (snprintf(file, sizeof file, "%s/%s", path, e->d_name) < (int)sizeof file)
			unlink(file);
	}
	closedir(dir);
	rmdir(path);
}

/* After the last port of a process whose EAL we started under our own prefix. */
static void stop_eal_if_unused(void)
{
	for (int i = 0; i < MAX_PORTS; i++)
		if (registry[i])
			return;
	if (!eal_started || !eal_prefix_is_ours)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	remove_runtime_dir(path);
	eal_prefix_is_ours = false;
	eal_stopped = true; /* the EAL cannot be started twice in a process */
}

static void port_close(struct dgram_port *p)
{
	struct dpdk_port_impl *pt = impl_of(p);
	if (!pt)
		return;
	pthread_mutex_lock(&registry_lock);
	for (int i = 0; i < MAX_PORTS; i++)
		if (registry[i] == pt)
			registry[i] = NULL;
	pthread_mutex_unlock(&registry_lock);
	rte_eth_dev_stop(pt->port_id);
	for (uint16_t q = 0; q < pt->queue_count; q++) {
		struct dpdk_queue *qu = &pt->queues[q];
		for (uint16_t i = qu->stash_next; i < qu->stash_count; i++)
			rte_pktmbuf_free(qu->stash[i]);
		for (uint16_t i = 0; i < qu->held_count; i++)
			rte_pktmbuf_free(qu->held[i].m);
	}
	rte_eth_dev_close(pt->port_id);
	rte_mempool_free(pt->pool);
	free(pt);
	p->impl = NULL;
	pthread_mutex_lock(&registry_lock);
	stop_eal_if_unused();
	pthread_mutex_unlock(&registry_lock);
}

static const struct dgram_port_ops dpdk_ops = {
	.rx_burst = port_rx_burst,
	.tx_burst = port_tx_burst,
	.wait = port_wait,
	.close = port_close,
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
		set_error(err, err_size, "rte_eth_dev_info_get(%u): %s", pt->port_id, rte_strerror(-rc));
		return -1;
	}
	uint16_t queues = wanted_queues;
	if (queues > info.max_rx_queues)
		queues = info.max_rx_queues;
	if (queues > info.max_tx_queues)
		queues = info.max_tx_queues;
	if (queues == 0) {
		set_error(err, err_size, "%s offers no RX/TX queue", pt->name);
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

	rc = rte_eth_dev_configure(pt->port_id, queues, queues, &conf);
	if (rc != 0) {
		set_error(err, err_size, "rte_eth_dev_configure(%s, %u queues): %s", pt->name, queues, rte_strerror(-rc));
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
		set_error(err, err_size, "mbuf pool of %u for %s: %s (more memory: EAL -m)", mbufs, pt->name,
			  rte_strerror(rte_errno));
		return -1;
	}
	rte_mempool_mem_iter(pt->pool, touch_pages, NULL);
	for (uint16_t q = 0; q < queues; q++) {
		struct rte_eth_rxconf rxconf = info.default_rxconf;
		rxconf.offloads = conf.rxmode.offloads;
		rc = rte_eth_rx_queue_setup(pt->port_id, q, rx_descriptors, (unsigned)socket, &rxconf, pt->pool);
		if (rc != 0) {
			set_error(err, err_size, "RX queue %u of %s: %s", q, pt->name, rte_strerror(-rc));
			return -1;
		}
		struct rte_eth_txconf txconf = info.default_txconf;
		txconf.offloads = conf.txmode.offloads;
		rc = rte_eth_tx_queue_setup(pt->port_id, q, tx_descriptors, (unsigned)socket, &txconf);
		if (rc != 0) {
			set_error(err, err_size, "TX queue %u of %s: %s", q, pt->name, rte_strerror(-rc));
			return -1;
		}
	}
	rc = rte_eth_dev_start(pt->port_id);
	if (rc != 0) {
		set_error(err, err_size, "rte_eth_dev_start(%s): %s", pt->name, rte_strerror(-rc));
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
		set_error(err, err_size, "'%s' is not an IPv4 address", ipv4_address ? ipv4_address : "(null)");
		return -1;
	}
	if (udp_port == 0) {
		set_error(err, err_size, "a DPDK port needs an explicit UDP port (there is no kernel to pick one)");
		return -1;
	}
	if (queues == 0 || queues > DPDK_PORT_MAX_QUEUES) {
		set_error(err, err_size, "queue count %u out of 1..%d", queues, DPDK_PORT_MAX_QUEUES);
		return -1;
	}
	if (eal_argc < 0 || (eal_argc > 0 && !eal_argv)) {
		set_error(err, err_size, "bad EAL argument vector");
		return -1;
	}

	pthread_mutex_lock(&registry_lock);
	int slot = -1;
	for (int i = 0; i < MAX_PORTS && slot < 0; i++)
		if (!registry[i])
			slot = i;
	if (slot < 0) {
		pthread_mutex_unlock(&registry_lock);
		set_error(err, err_size, "more than %d DPDK ports in one process", MAX_PORTS);
		return -1;
	}
	bool first = !eal_started;
	if (start_eal(eal_argc, eal_argv, err, err_size) != 0) {
		pthread_mutex_unlock(&registry_lock);
		return -1;
	}
	if (first && rte_telemetry_register_cmd("/iso8583/port_stats", port_stats_command,
						"Counters of an ISO 8583 DPDK port. Parameter: port index (default 0)") != 0)
		fprintf(stderr, "dpdk_port: could not register /iso8583/port_stats telemetry\n");
	if (first && rte_telemetry_register_cmd("/iso8583/neighbours", neighbours_command,
						"IPv4 neighbours an ISO 8583 DPDK port learned, as 'ip mac' strings. "
						"Parameter: port index (default 0)") != 0)
		fprintf(stderr, "dpdk_port: could not register /iso8583/neighbours telemetry\n");

	uint16_t port_id;
	if (take_free_port(&port_id) != 0) {
		stop_eal_if_unused();
		pthread_mutex_unlock(&registry_lock);
		set_error(err, err_size, "no (more) DPDK ethdev port: add one with --vdev or a PCI device (%u found)",
			  rte_eth_dev_count_avail());
		return -1;
	}

	size_t size = sizeof(struct dpdk_port_impl) + (size_t)queues * sizeof(struct dpdk_queue);
	size = (size + RTE_CACHE_LINE_SIZE - 1) & ~(size_t)(RTE_CACHE_LINE_SIZE - 1);
	struct dpdk_port_impl *pt = aligned_alloc(RTE_CACHE_LINE_SIZE, size);
	if (!pt) {
		pthread_mutex_unlock(&registry_lock);
		set_error(err, err_size, "out of memory");
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
		pthread_mutex_unlock(&registry_lock);
		return -1;
	}
	registry[slot] = pt;
	pthread_mutex_unlock(&registry_lock);

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
	sum_stats(impl_of(p), q, out);
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
