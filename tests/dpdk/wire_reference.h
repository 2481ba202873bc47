/*
 * An independent, deliberately naive reading of the wire formats for the DPDK
 * tests: big-endian 16-bit word sums and byte offsets straight from RFC 791,
 * 768 and 826, so that the port's own code is checked against something that
 * does not share its shortcuts.
 */
#ifndef WIRE_REFERENCE_H
#define WIRE_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ref_udp_frame {
	uint8_t dst_mac[6], src_mac[6];
	uint8_t src_ip[4], dst_ip[4];
	uint16_t src_port, dst_port; /* host order */
	uint8_t protocol;            /* 17 for UDP */
	uint16_t fragment;           /* flags+offset field, host order */
	bool corrupt_ip_checksum, corrupt_udp_checksum, zero_udp_checksum;
	const uint8_t *payload;
	size_t payload_length;
};

/* One side of a UDP exchange on the wire. */
struct ref_endpoint {
	const uint8_t *mac; /* 6 bytes */
	const uint8_t *ip;  /* 4 bytes */
	uint16_t port;      /* host order */
};

/* A well-formed UDP datagram from src to dst (checksums right, not fragmented); payload is not copied. */
struct ref_udp_frame ref_udp_frame_between(struct ref_endpoint src, struct ref_endpoint dst, const uint8_t *payload,
					   size_t payload_length);
/* Writes the frame; returns its length (padded to 60). */
size_t ref_build_udp(uint8_t *out, const struct ref_udp_frame *f);
/* Writes an ARP frame; returns 60. */
size_t ref_build_arp(uint8_t *out, uint16_t operation, const uint8_t eth_dst[6], const uint8_t sender_mac[6],
		     const uint8_t sender_ip[4], const uint8_t target_mac[6], const uint8_t target_ip[4]);

uint16_t ref_be16(const uint8_t *p);
/* RFC 1071 sum of big-endian words, plus `initial`, folded (not complemented). */
uint16_t ref_sum(const uint8_t *p, size_t n, uint32_t initial);
/* True when the IPv4 header checksum of the frame's header verifies. */
bool ref_ip_checksum_ok(const uint8_t *frame);
/* True when the UDP checksum verifies (or is 0, i.e. absent). */
bool ref_udp_checksum_ok(const uint8_t *frame);

#endif
