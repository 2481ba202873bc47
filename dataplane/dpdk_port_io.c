/* Moving datagrams: RX parse and ARP answers, TX headers, neighbours, frames held for ARP. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <rte_epoll.h>

#include "dpdk_port_impl.h"

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

/* Sends what the PMD takes within a few attempts; the caller frees the rest. */
static uint16_t send_frames(struct dpdk_port_impl *pt, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	uint16_t sent = 0;
	for (int attempt = 0; attempt < TX_ATTEMPTS && sent < n; attempt++)
		sent += rte_eth_tx_burst(pt->port_id, q, m + sent, n - sent);
	return sent;
}

/* Sends built datagrams, frees and counts what the PMD refused; returns how many left. */
static uint16_t send_and_count(struct dpdk_port_impl *pt, uint16_t q, struct rte_mbuf **ready,
			       const uint32_t *ready_length, uint16_t ready_count)
{
	struct dpdk_queue *qu = &pt->queues[q];
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
	if (ready_count)
		send_and_count(pt, q, ready, ready_length, ready_count);
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

/*
 * neighbour_lookup, answered from the queue's last answer while the table has
 * not changed since that lookup began (its generation was read first, so a
 * change during the lookup makes the next call look again).
 */
static bool resolve(struct dpdk_port_impl *pt, struct dpdk_queue *qu, uint32_t ip, struct pkt_mac *mac)
{
	uint64_t generation = neighbour_generation(&pt->neighbours);
	if (ip == qu->resolved_ip && ip != 0 && generation == qu->resolved_generation) {
		*mac = qu->resolved_mac;
		return true;
	}
	if (!neighbour_lookup(&pt->neighbours, ip, mac))
		return false;
	qu->resolved_ip = ip;
	qu->resolved_mac = *mac;
	qu->resolved_generation = generation;
	return true;
}

int dpdk_port_tx_burst(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
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
			if (frame_length > PKT_UDP_HEADERS + g->length) /* only short datagrams are padded */
				memset(frame + PKT_UDP_HEADERS + g->length, 0, frame_length - PKT_UDP_HEADERS - g->length);
			struct pkt_udp_endpoints e = {
				.src_mac = pt->mac,
				.src_ip = pt->ip,
				.dst_ip = g->peer.sin_addr.s_addr,
				.src_port = pt->udp_port,
				.dst_port = g->peer.sin_port,
			};
			bool known = resolve(pt, qu, e.dst_ip, &e.dst_mac);
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
		uint16_t sent = send_and_count(pt, q, ready, ready_length, ready_count);
		accepted += sent;
		d += chunk;
		n -= chunk;
	}
	return accepted;
}

/* Receiving. */

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

/*
 * neighbour_learn, skipped when the queue learned the same sender and MAC last
 * and the table has not changed since (generation read before that learn).
 */
static void learn(struct dpdk_port_impl *pt, struct dpdk_queue *qu, uint32_t ip, const struct pkt_mac *mac)
{
	uint64_t generation = neighbour_generation(&pt->neighbours);
	if (ip == qu->learned_ip && ip != 0 && generation == qu->learned_generation &&
	    pkt_mac_equal(mac, &qu->learned_mac))
		return;
	if (!neighbour_learn(&pt->neighbours, ip, mac))
		return;
	qu->learned_ip = ip;
	qu->learned_mac = *mac;
	qu->learned_generation = generation;
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
	learn(pt, qu, u->src_ip, &u->src_mac);
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

int dpdk_port_rx_burst(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
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

void dpdk_port_wait(struct dgram_port *p, uint16_t q, int timeout_us)
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

/*
 * RX interrupts, as examples/l3fwd-power sleeps: the queue's interrupt is
 * enabled only around the worker's sleep, so the busy path never takes one.
 * Where the PMD has none, the queue has no descriptor and idle_wait naps.
 */
int dpdk_port_wait_fds(struct dgram_port *p, uint16_t q, int *fds, int max)
{
	struct dpdk_port_impl *pt = impl_of(p);
	if (q >= pt->queue_count || pt->queues[q].intr_epfd < 0 || max < 1)
		return -1;
	fds[0] = pt->queues[q].intr_epfd;
	return 1;
}

int dpdk_port_wait_arm(struct dgram_port *p, uint16_t q)
{
	struct dpdk_port_impl *pt = impl_of(p);
	struct dpdk_queue *qu = &pt->queues[q];
	register_worker_thread();
	service_held(pt, q);
	/* Frames waiting for an ARP reply need their retries on time: nap while there are any. */
	if (qu->held_count > 0)
		return -1;
	/* As l3fwd-power: a PMD without an enable (net_tap, whose descriptor is the queue's own
	 * file) signals on its own once its descriptor is wired, which open_rx_interrupts did. */
	int rc = rte_eth_dev_rx_intr_enable(pt->port_id, q);
	if (rc != 0 && rc != -ENOTSUP)
		return -1;
	qu->intr_armed = rc == 0;
	/* Enabled first, then one more look: a frame that came before the interrupt was armed
	 * would raise none, and sleep with us. */
	return refill_stash(pt, q) > 0 ? 1 : 0;
}

void dpdk_port_wait_disarm(struct dgram_port *p, uint16_t q)
{
	struct dpdk_port_impl *pt = impl_of(p);
	struct dpdk_queue *qu = &pt->queues[q];
	if (qu->intr_epfd < 0)
		return;
	if (qu->intr_armed)
		(void)rte_eth_dev_rx_intr_disable(pt->port_id, q);
	qu->intr_armed = false;
	/* Consumes the interrupt (DPDK reads the descriptor the way its type needs). */
	struct rte_epoll_event events[4];
	(void)rte_epoll_wait(qu->intr_epfd, events, 4, 0);
}

void dpdk_port_release_queue_mbufs(struct dpdk_port_impl *pt)
{
	for (uint16_t q = 0; q < pt->queue_count; q++) {
		struct dpdk_queue *qu = &pt->queues[q];
		for (uint16_t i = qu->stash_next; i < qu->stash_count; i++)
			rte_pktmbuf_free(qu->stash[i]);
		qu->stash_next = qu->stash_count = 0;
		for (uint16_t i = 0; i < qu->held_count; i++)
			rte_pktmbuf_free(qu->held[i].m);
		qu->held_count = 0;
	}
}
