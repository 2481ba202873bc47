/*
 * Ethernet II / IPv4 / UDP / ARP frames as the DPDK port sees them, over plain
 * byte buffers: no mbufs and no EAL here, so that parsing and building can be
 * tested (and fuzzed) without starting DPDK. Addresses and ports are kept in
 * network byte order throughout, as they sit on the wire.
 */
#ifndef DPDK_FRAMES_H
#define DPDK_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_ETHER_HEADER 14
#define FRAME_IPV4_HEADER 20 /* without options; we never send options */
#define FRAME_UDP_HEADER 8
#define FRAME_UDP_HEADERS (FRAME_ETHER_HEADER + FRAME_IPV4_HEADER + FRAME_UDP_HEADER)
#define FRAME_ARP_LENGTH 42
#define FRAME_MIN_LENGTH 60 /* Ethernet minimum without the FCS; short frames are padded */

#define FRAME_ETHERTYPE_IPV4 0x0800
#define FRAME_ETHERTYPE_ARP 0x0806
#define FRAME_ARP_REQUEST 1
#define FRAME_ARP_REPLY 2

struct frame_mac {
	uint8_t bytes[6];
};

/* Why a received frame was or was not taken; one port counter per value. */
enum frame_verdict {
	FRAME_UDP,             /* IPv4/UDP, checksums good: payload filled in */
	FRAME_ARP,             /* well-formed Ethernet/IPv4 ARP: arp filled in */
	FRAME_TRUNCATED,       /* shorter than its headers or its IPv4 total length claim */
	FRAME_BAD_IP_HEADER,   /* version not 4, header length < 20 */
	FRAME_BAD_IP_CHECKSUM,
	FRAME_BAD_UDP_CHECKSUM,
	FRAME_FRAGMENT,        /* IPv4 fragment: we do not reassemble */
	FRAME_OTHER_PROTOCOL,  /* IPv4 but not UDP (ICMP, TCP, ...) */
	FRAME_OTHER_ETHERTYPE, /* not IPv4 nor ARP (IPv6, VLAN tags, LLDP, ...) */
	FRAME_BAD_ARP,         /* ARP that is not Ethernet/IPv4 or not a request/reply */
	FRAME_VERDICT_COUNT
};

struct frame_udp {
	struct frame_mac src_mac, dst_mac;
	uint32_t src_ip, dst_ip;     /* network order */
	uint16_t src_port, dst_port; /* network order */
	size_t payload_offset;       /* into the frame */
	size_t payload_length;
};

struct frame_arp {
	uint16_t operation; /* FRAME_ARP_REQUEST or FRAME_ARP_REPLY */
	struct frame_mac sender_mac, target_mac;
	uint32_t sender_ip, target_ip; /* network order */
};

struct frame_parsed {
	struct frame_mac eth_dst, eth_src;
	union {
		struct frame_udp udp;
		struct frame_arp arp;
	};
};

/*
 * Classifies one received frame. Checksums are verified in software unless the
 * caller says the NIC already did (ip_checksum_verified / udp_checksum_verified).
 */
enum frame_verdict frame_parse(const uint8_t *frame, size_t length, bool ip_checksum_verified,
			       bool udp_checksum_verified, struct frame_parsed *out);

const char *frame_verdict_name(enum frame_verdict v);

struct frame_udp_endpoints {
	struct frame_mac src_mac, dst_mac;
	uint32_t src_ip, dst_ip;     /* network order */
	uint16_t src_port, dst_port; /* network order */
};

/*
 * Writes Ethernet + IPv4 + UDP headers for payload_length bytes in front of the
 * payload that the caller has already placed at frame + FRAME_UDP_HEADERS.
 * With checksum offload the IPv4 checksum is left 0 and the UDP checksum holds
 * the pseudo-header sum, as NICs expect; otherwise both are computed here.
 */
void frame_build_udp_headers(uint8_t *frame, const struct frame_udp_endpoints *e, size_t payload_length,
			     uint16_t ip_id, bool ip_checksum_offload, bool udp_checksum_offload);

/* Rewrites the destination MAC of a frame built before its neighbour was known. */
void frame_set_dst_mac(uint8_t *frame, const struct frame_mac *dst);

/* Builds an ARP request or reply padded to FRAME_MIN_LENGTH; returns its length. */
size_t frame_build_arp(uint8_t *frame, uint16_t operation, const struct frame_mac *eth_dst,
		       const struct frame_mac *sender_mac, uint32_t sender_ip, const struct frame_mac *target_mac,
		       uint32_t target_ip);

/* Internet checksum helpers (RFC 1071), exposed for tests. */
uint16_t frame_ipv4_header_checksum(const uint8_t *ip_header, size_t header_length);
uint16_t frame_udp_checksum(const uint8_t *udp, size_t udp_length, uint32_t src_ip, uint32_t dst_ip);

bool frame_mac_is_broadcast(const struct frame_mac *m);
bool frame_mac_equal(const struct frame_mac *a, const struct frame_mac *b);

#endif
