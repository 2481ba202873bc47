#include "dpdk_frames.h"

#include <arpa/inet.h>
#include <string.h>

/*
 * The one's-complement sum does not depend on byte order (RFC 1071 2(B)), and a
 * 32-bit native word is worth the sum of its two 16-bit halves modulo 0xffff, so
 * we add native 32-bit words into 64-bit accumulators (no carry to track below
 * 2^32 words), fold, and store the result with memcpy: its bytes land in network
 * order without a swap per word. Four accumulators keep four additions in flight
 * instead of one carry chain.
 */
static inline uint32_t load32(const uint8_t *p)
{
	uint32_t w;
	memcpy(&w, p, 4);
	return w;
}

static uint64_t sum_native(const uint8_t *p, size_t n, uint64_t acc)
{
	uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
	/* 32-bit loads zero-extend for free: a load and an add a word, 32 bytes a turn. */
	while (n >= 32) {
		a0 += (uint64_t)load32(p) + load32(p + 16);
		a1 += (uint64_t)load32(p + 4) + load32(p + 20);
		a2 += (uint64_t)load32(p + 8) + load32(p + 24);
		a3 += (uint64_t)load32(p + 12) + load32(p + 28);
		p += 32;
		n -= 32;
	}
	if (n >= 16) {
		a0 += load32(p);
		a1 += load32(p + 4);
		a2 += load32(p + 8);
		a3 += load32(p + 12);
		p += 16;
		n -= 16;
	}
	while (n >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		a0 += w;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		a1 += w;
		p += 2;
		n -= 2;
	}
	if (n) {
		uint16_t w = 0;
		memcpy(&w, p, 1); /* the odd byte is the high byte of a zero-padded word */
		a2 += w;
	}
	/* Fold each before adding them up, so that the caller's acc cannot overflow. */
	uint64_t total = (acc & 0xffffffff) + (acc >> 32);
	total += (a0 & 0xffffffff) + (a0 >> 32) + (a1 & 0xffffffff) + (a1 >> 32);
	total += (a2 & 0xffffffff) + (a2 >> 32) + (a3 & 0xffffffff) + (a3 >> 32);
	return total;
}

static uint16_t fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

uint16_t pkt_ipv4_header_checksum(const uint8_t *ip_header, size_t header_length)
{
	return (uint16_t)~fold(sum_native(ip_header, header_length, 0));
}

static uint64_t pseudo_header_sum(uint32_t src_ip, uint32_t dst_ip, size_t udp_length)
{
	uint64_t acc = 0;
	acc += src_ip;
	acc += dst_ip;
	acc += htons(17);
	acc += htons((uint16_t)udp_length);
	return acc;
}

uint16_t pkt_udp_checksum(const uint8_t *udp, size_t udp_length, uint32_t src_ip, uint32_t dst_ip)
{
	uint16_t c = (uint16_t)~fold(sum_native(udp, udp_length, pseudo_header_sum(src_ip, dst_ip, udp_length)));
	/* 0 means "no checksum" in UDP over IPv4, so a computed 0 is sent as all ones. */
	return c == 0 ? 0xffff : c;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

bool pkt_mac_is_broadcast(const struct pkt_mac *m)
{
	static const struct pkt_mac all_ones = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	return pkt_mac_equal(m, &all_ones);
}

bool pkt_mac_equal(const struct pkt_mac *a, const struct pkt_mac *b)
{
	return memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

static enum pkt_verdict parse_arp(const uint8_t *arp, size_t length, struct pkt_arp *out)
{
	if (length < 28)
		return PKT_TRUNCATED;
	if (get_be16(arp) != 1 || get_be16(arp + 2) != PKT_ETHERTYPE_IPV4 || arp[4] != 6 || arp[5] != 4)
		return PKT_BAD_ARP;
	out->operation = get_be16(arp + 6);
	if (out->operation != PKT_ARP_REQUEST && out->operation != PKT_ARP_REPLY)
		return PKT_BAD_ARP;
	memcpy(out->sender_mac.bytes, arp + 8, 6);
	memcpy(&out->sender_ip, arp + 14, 4);
	memcpy(out->target_mac.bytes, arp + 18, 6);
	memcpy(&out->target_ip, arp + 24, 4);
	return PKT_ARP;
}

static enum pkt_verdict parse_ipv4_udp(const uint8_t *ip, size_t length, bool ip_checksum_verified,
					 bool udp_checksum_verified, struct pkt_udp *out)
{
	if (length < PKT_IPV4_HEADER)
		return PKT_TRUNCATED;
	if ((ip[0] >> 4) != 4)
		return PKT_BAD_IP_HEADER;
	size_t header_length = (size_t)(ip[0] & 0x0f) * 4;
	if (header_length < PKT_IPV4_HEADER)
		return PKT_BAD_IP_HEADER;
	size_t total_length = get_be16(ip + 2);
	/* Frames may carry Ethernet padding after the IP packet, never less than it claims. */
	if (header_length > length || total_length < header_length || total_length > length)
		return PKT_TRUNCATED;
	if (!ip_checksum_verified && fold(sum_native(ip, header_length, 0)) != 0xffff)
		return PKT_BAD_IP_CHECKSUM;
	uint16_t fragment = get_be16(ip + 6);
	if ((fragment & 0x2000) || (fragment & 0x1fff))
		return PKT_FRAGMENT;
	if (ip[9] != 17)
		return PKT_OTHER_PROTOCOL;

	const uint8_t *udp = ip + header_length;
	size_t ip_payload = total_length - header_length;
	if (ip_payload < PKT_UDP_HEADER)
		return PKT_TRUNCATED;
	size_t udp_length = get_be16(udp + 4);
	if (udp_length < PKT_UDP_HEADER || udp_length > ip_payload)
		return PKT_TRUNCATED;

	memcpy(&out->src_ip, ip + 12, 4);
	memcpy(&out->dst_ip, ip + 16, 4);
	uint16_t stored;
	memcpy(&stored, udp + 6, 2);
	if (!udp_checksum_verified && stored != 0 &&
	    fold(sum_native(udp, udp_length, pseudo_header_sum(out->src_ip, out->dst_ip, udp_length))) != 0xffff)
		return PKT_BAD_UDP_CHECKSUM;
	memcpy(&out->src_port, udp, 2);
	memcpy(&out->dst_port, udp + 2, 2);
	out->payload_offset = PKT_ETHER_HEADER + header_length + PKT_UDP_HEADER;
	out->payload_length = udp_length - PKT_UDP_HEADER;
	return PKT_UDP;
}

enum pkt_verdict pkt_parse(const uint8_t *frame, size_t length, bool ip_checksum_verified,
			       bool udp_checksum_verified, struct pkt_parsed *out)
{
	if (length < PKT_ETHER_HEADER)
		return PKT_TRUNCATED;
	memcpy(out->eth_dst.bytes, frame, 6);
	memcpy(out->eth_src.bytes, frame + 6, 6);
	uint16_t ethertype = get_be16(frame + 12);
	const uint8_t *l3 = frame + PKT_ETHER_HEADER;
	size_t l3_length = length - PKT_ETHER_HEADER;
	if (ethertype == PKT_ETHERTYPE_IPV4) {
		enum pkt_verdict v =
			parse_ipv4_udp(l3, l3_length, ip_checksum_verified, udp_checksum_verified, &out->udp);
		if (v == PKT_UDP) {
			out->udp.src_mac = out->eth_src;
			out->udp.dst_mac = out->eth_dst;
		}
		return v;
	}
	if (ethertype == PKT_ETHERTYPE_ARP)
		return parse_arp(l3, l3_length, &out->arp);
	return PKT_OTHER_ETHERTYPE;
}

const char *pkt_verdict_name(enum pkt_verdict v)
{
	switch (v) {
	case PKT_UDP: return "udp";
	case PKT_ARP: return "arp";
	case PKT_TRUNCATED: return "truncated";
	case PKT_BAD_IP_HEADER: return "bad_ip_header";
	case PKT_BAD_IP_CHECKSUM: return "bad_ip_checksum";
	case PKT_BAD_UDP_CHECKSUM: return "bad_udp_checksum";
	case PKT_FRAGMENT: return "ip_fragment";
	case PKT_OTHER_PROTOCOL: return "other_ip_protocol";
	case PKT_OTHER_ETHERTYPE: return "other_ethertype";
	case PKT_BAD_ARP: return "bad_arp";
	case PKT_VERDICT_COUNT: break;
	}
	return "unknown";
}

void pkt_set_dst_mac(uint8_t *frame, const struct pkt_mac *dst)
{
	memcpy(frame, dst->bytes, 6);
}

void pkt_build_udp_headers(uint8_t *frame, const struct pkt_udp_endpoints *e, size_t payload_length,
			     uint16_t ip_id, bool ip_checksum_offload, bool udp_checksum_offload)
{
	uint8_t *ip = frame + PKT_ETHER_HEADER;
	uint8_t *udp = ip + PKT_IPV4_HEADER;
	size_t udp_length = PKT_UDP_HEADER + payload_length;

	memcpy(frame, e->dst_mac.bytes, 6);
	memcpy(frame + 6, e->src_mac.bytes, 6);
	put_be16(frame + 12, PKT_ETHERTYPE_IPV4);

	ip[0] = 0x45; /* version 4, 5 words */
	ip[1] = 0;    /* DSCP/ECN */
	put_be16(ip + 2, (uint16_t)(PKT_IPV4_HEADER + udp_length));
	put_be16(ip + 4, ip_id);
	put_be16(ip + 6, 0x4000); /* don't fragment: we never send more than the MTU */
	ip[8] = 64;
	ip[9] = 17;
	put_be16(ip + 10, 0);
	memcpy(ip + 12, &e->src_ip, 4);
	memcpy(ip + 16, &e->dst_ip, 4);
	if (!ip_checksum_offload) {
		uint16_t c = pkt_ipv4_header_checksum(ip, PKT_IPV4_HEADER);
		memcpy(ip + 10, &c, 2);
	}

	memcpy(udp, &e->src_port, 2);
	memcpy(udp + 2, &e->dst_port, 2);
	put_be16(udp + 4, (uint16_t)udp_length);
	put_be16(udp + 6, 0);
	uint16_t c;
	if (udp_checksum_offload)
		c = fold(pseudo_header_sum(e->src_ip, e->dst_ip, udp_length));
	else
		c = pkt_udp_checksum(udp, udp_length, e->src_ip, e->dst_ip);
	memcpy(udp + 6, &c, 2);
}

size_t pkt_build_arp(uint8_t *frame, uint16_t operation, const struct pkt_mac *eth_dst,
		       const struct pkt_mac *sender_mac, uint32_t sender_ip, const struct pkt_mac *target_mac,
		       uint32_t target_ip)
{
	memset(frame, 0, PKT_MIN_LENGTH);
	memcpy(frame, eth_dst->bytes, 6);
	memcpy(frame + 6, sender_mac->bytes, 6);
	put_be16(frame + 12, PKT_ETHERTYPE_ARP);
	uint8_t *arp = frame + PKT_ETHER_HEADER;
	put_be16(arp, 1); /* Ethernet */
	put_be16(arp + 2, PKT_ETHERTYPE_IPV4);
	arp[4] = 6;
	arp[5] = 4;
	put_be16(arp + 6, operation);
	memcpy(arp + 8, sender_mac->bytes, 6);
	memcpy(arp + 14, &sender_ip, 4);
	memcpy(arp + 18, target_mac->bytes, 6);
	memcpy(arp + 24, &target_ip, 4);
	return PKT_MIN_LENGTH;
}
