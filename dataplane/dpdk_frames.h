/*
 * Ethernet II / IPv4 / UDP / ARP packets as the DPDK port sees them, over plain
 * byte buffers: no mbufs and no EAL here, so that parsing and building can be
 * tested (and fuzzed) without starting DPDK. Addresses and ports are kept in
 * network byte order throughout, as they sit on the wire.
 */
#ifndef DPDK_FRAMES_H
#define DPDK_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_ETHER_HEADER 14
#define PKT_IPV4_HEADER 20 /* without options; we never send options */
#define PKT_UDP_HEADER 8
#define PKT_UDP_HEADERS (PKT_ETHER_HEADER + PKT_IPV4_HEADER + PKT_UDP_HEADER)
#define PKT_ARP_LENGTH 42
#define PKT_MIN_LENGTH 60 /* Ethernet minimum without the FCS; short frames are padded */

#define PKT_ETHERTYPE_IPV4 0x0800
#define PKT_ETHERTYPE_ARP 0x0806
#define PKT_ARP_REQUEST 1
#define PKT_ARP_REPLY 2

struct pkt_mac {
	uint8_t bytes[6];
};

/* Why a received frame was or was not taken; one port counter per value. */
enum pkt_verdict {
	PKT_UDP,             /* IPv4/UDP, checksums good: payload filled in */
	PKT_ARP,             /* well-formed Ethernet/IPv4 ARP: arp filled in */
	PKT_TRUNCATED,       /* shorter than its headers or its IPv4 total length claim */
	PKT_BAD_IP_HEADER,   /* version not 4, header length < 20 */
	PKT_BAD_IP_CHECKSUM,
	PKT_BAD_UDP_CHECKSUM,
	PKT_FRAGMENT,        /* IPv4 fragment: we do not reassemble */
	PKT_OTHER_PROTOCOL,  /* IPv4 but not UDP (ICMP, TCP, ...) */
	PKT_OTHER_ETHERTYPE, /* not IPv4 nor ARP (IPv6, VLAN tags, LLDP, ...) */
	PKT_BAD_ARP,         /* ARP that is not Ethernet/IPv4 or not a request/reply */
	PKT_VERDICT_COUNT
};

struct pkt_udp {
	struct pkt_mac src_mac, dst_mac;
	uint32_t src_ip, dst_ip;     /* network order */
	uint16_t src_port, dst_port; /* network order */
	size_t payload_offset;       /* into the frame */
	size_t payload_length;
};

struct pkt_arp {
	uint16_t operation; /* PKT_ARP_REQUEST or PKT_ARP_REPLY */
	struct pkt_mac sender_mac, target_mac;
	uint32_t sender_ip, target_ip; /* network order */
};

struct pkt_parsed {
	struct pkt_mac eth_dst, eth_src;
	union {
		struct pkt_udp udp;
		struct pkt_arp arp;
	};
};

/*
 * Classifies one received frame. Checksums are verified in software unless the
 * caller says the NIC already did (ip_checksum_verified / udp_checksum_verified).
 */
enum pkt_verdict pkt_parse(const uint8_t *frame, size_t length, bool ip_checksum_verified,
			       bool udp_checksum_verified, struct pkt_parsed *out);

const char *pkt_verdict_name(enum pkt_verdict v);

struct pkt_udp_endpoints {
	struct pkt_mac src_mac, dst_mac;
	uint32_t src_ip, dst_ip;     /* network order */
	uint16_t src_port, dst_port; /* network order */
};

/*
 * Writes Ethernet + IPv4 + UDP headers for payload_length bytes in front of the
 * payload that the caller has already placed at frame + PKT_UDP_HEADERS.
 * With checksum offload the IPv4 checksum is left 0 and the UDP checksum holds
 * the pseudo-header sum, as NICs expect; otherwise both are computed here.
 */
void pkt_build_udp_headers(uint8_t *frame, const struct pkt_udp_endpoints *e, size_t payload_length,
			     uint16_t ip_id, bool ip_checksum_offload, bool udp_checksum_offload);

/* Rewrites the destination MAC of a frame built before its neighbour was known. */
void pkt_set_dst_mac(uint8_t *frame, const struct pkt_mac *dst);

/* Builds an ARP request or reply padded to PKT_MIN_LENGTH; returns its length. */
size_t pkt_build_arp(uint8_t *frame, uint16_t operation, const struct pkt_mac *eth_dst,
		       const struct pkt_mac *sender_mac, uint32_t sender_ip, const struct pkt_mac *target_mac,
		       uint32_t target_ip);

/* Internet checksum helpers (RFC 1071), exposed for tests. */
uint16_t pkt_ipv4_header_checksum(const uint8_t *ip_header, size_t header_length);
uint16_t pkt_udp_checksum(const uint8_t *udp, size_t udp_length, uint32_t src_ip, uint32_t dst_ip);

bool pkt_mac_is_broadcast(const struct pkt_mac *m);
bool pkt_mac_equal(const struct pkt_mac *a, const struct pkt_mac *b);

#endif
