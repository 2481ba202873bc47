/* Ethernet/IPv4/UDP/ARP parsing and building, checked against wire_reference.c. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "dpdk_frames.h"
#include "dpdk_neighbours.h"
#include "wire_reference.h"

static const uint8_t mac_a[6] = {0x02, 0, 0, 0, 0, 0xa1};
static const uint8_t mac_b[6] = {0x02, 0, 0, 0, 0, 0xb2};
static const uint8_t ip_a[4] = {198, 18, 10, 1};
static const uint8_t ip_b[4] = {198, 18, 10, 2};
static const uint8_t payload[] = "\x00\x0b" "1100 hello!"; /* odd length on purpose */

static struct ref_udp_frame base_frame(void)
{
	return ref_udp_frame_between((struct ref_endpoint){mac_b, ip_b, 13501}, (struct ref_endpoint){mac_a, ip_a, 13500},
				     payload, sizeof payload - 1);
}

static enum pkt_verdict parse(const struct ref_udp_frame *f, struct pkt_parsed *out)
{
	uint8_t frame[256];
	size_t n = ref_build_udp(frame, f);
	return pkt_parse(frame, n, false, false, out);
}

Test(dpdk_frames, good_udp_frame_yields_payload_and_endpoints)
{
	struct ref_udp_frame f = base_frame();
	uint8_t frame[256];
	size_t n = ref_build_udp(frame, &f);
	struct pkt_parsed p;
	cr_assert_eq(pkt_parse(frame, n, false, false, &p), PKT_UDP);
	cr_assert_eq(p.udp.payload_length, sizeof payload - 1);
	cr_assert_eq(memcmp(frame + p.udp.payload_offset, payload, sizeof payload - 1), 0);
	cr_assert_eq(ntohs(p.udp.src_port), 13501);
	cr_assert_eq(ntohs(p.udp.dst_port), 13500);
	cr_assert_eq(memcmp(&p.udp.src_ip, ip_b, 4), 0);
	cr_assert_eq(memcmp(&p.udp.dst_ip, ip_a, 4), 0);
	cr_assert_eq(memcmp(p.udp.src_mac.bytes, mac_b, 6), 0);
	cr_assert_eq(memcmp(p.udp.dst_mac.bytes, mac_a, 6), 0);
}

Test(dpdk_frames, every_kind_of_bad_frame_has_its_verdict)
{
	struct pkt_parsed p;
	struct ref_udp_frame f = base_frame();
	f.corrupt_ip_checksum = true;
	cr_assert_eq(parse(&f, &p), PKT_BAD_IP_CHECKSUM);
	f = base_frame();
	f.corrupt_udp_checksum = true;
	cr_assert_eq(parse(&f, &p), PKT_BAD_UDP_CHECKSUM);
	f = base_frame();
	f.zero_udp_checksum = true; /* absent UDP checksum is legal over IPv4 */
	cr_assert_eq(parse(&f, &p), PKT_UDP);
	f = base_frame();
	f.fragment = 0x2000; /* more fragments */
	cr_assert_eq(parse(&f, &p), PKT_FRAGMENT);
	f = base_frame();
	f.fragment = 0x0010; /* later fragment */
	cr_assert_eq(parse(&f, &p), PKT_FRAGMENT);
	f = base_frame();
	f.protocol = 1; /* ICMP */
	cr_assert_eq(parse(&f, &p), PKT_OTHER_PROTOCOL);

	uint8_t frame[256];
	f = base_frame();
	size_t n = ref_build_udp(frame, &f);
	/* Cut inside the UDP payload: the IPv4 total length claims more than the frame holds. */
	size_t real = 14 + 20 + 8 + f.payload_length;
	cr_assert_eq(pkt_parse(frame, real - 1, false, false, &p), PKT_TRUNCATED);
	cr_assert_eq(pkt_parse(frame, 13, false, false, &p), PKT_TRUNCATED);
	cr_assert_eq(pkt_parse(frame, 20, false, false, &p), PKT_TRUNCATED);
	frame[12] = 0x86;
	frame[13] = 0xdd; /* IPv6 */
	cr_assert_eq(pkt_parse(frame, n, false, false, &p), PKT_OTHER_ETHERTYPE);
	n = ref_build_udp(frame, &f);
	frame[14] = 0x65; /* IP version 6 in an IPv4 ethertype */
	cr_assert_eq(pkt_parse(frame, n, false, false, &p), PKT_BAD_IP_HEADER);
	n = ref_build_udp(frame, &f);
	frame[14] = 0x44; /* header length 16 */
	cr_assert_eq(pkt_parse(frame, n, false, false, &p), PKT_BAD_IP_HEADER);
}

Test(dpdk_frames, nic_verified_checksums_are_trusted)
{
	struct ref_udp_frame f = base_frame();
	f.corrupt_udp_checksum = true;
	uint8_t frame[256];
	size_t n = ref_build_udp(frame, &f);
	struct pkt_parsed p;
	cr_assert_eq(pkt_parse(frame, n, false, true, &p), PKT_UDP);
}

Test(dpdk_frames, built_udp_headers_verify_with_the_reference)
{
	for (size_t len = 0; len < 80; len++) {
		uint8_t frame[256];
		uint8_t data[80];
		for (size_t i = 0; i < len; i++)
			data[i] = (uint8_t)(i * 37 + len);
		memcpy(frame + PKT_UDP_HEADERS, data, len);
		struct pkt_udp_endpoints e = {.src_port = htons(13500), .dst_port = htons(40000)};
		memcpy(e.src_mac.bytes, mac_a, 6);
		memcpy(e.dst_mac.bytes, mac_b, 6);
		memcpy(&e.src_ip, ip_a, 4);
		memcpy(&e.dst_ip, ip_b, 4);
		pkt_build_udp_headers(frame, &e, len, 7, false, false);
		cr_assert(ref_ip_checksum_ok(frame), "IPv4 checksum, payload %zu", len);
		cr_assert(ref_udp_checksum_ok(frame), "UDP checksum, payload %zu", len);
		cr_assert_neq(ref_be16(frame + 14 + 20 + 6), 0, "a computed checksum is never sent as 0");
		cr_assert_eq(ref_be16(frame + 12), 0x0800);
		cr_assert_eq(ref_be16(frame + 14 + 2), 20 + 8 + len);
		cr_assert_eq(ref_be16(frame + 14 + 20 + 4), 8 + len);
		cr_assert_eq(ref_be16(frame + 14 + 20), 13500);
		cr_assert_eq(ref_be16(frame + 14 + 20 + 2), 40000);
		cr_assert_eq(memcmp(frame + 14 + 12, ip_a, 4), 0);
		cr_assert_eq(memcmp(frame + 14 + 16, ip_b, 4), 0);
		cr_assert_eq(memcmp(frame, mac_b, 6), 0);
		cr_assert_eq(memcmp(frame + 6, mac_a, 6), 0);
		struct pkt_parsed p;
		cr_assert_eq(pkt_parse(frame, PKT_UDP_HEADERS + len, false, false, &p), PKT_UDP);
		cr_assert_eq(p.udp.payload_length, len);
	}
}

Test(dpdk_frames, offloaded_udp_checksum_holds_the_pseudo_header_sum)
{
	uint8_t frame[128] = {0};
	struct pkt_udp_endpoints e = {.src_port = htons(1), .dst_port = htons(2)};
	memcpy(&e.src_ip, ip_a, 4);
	memcpy(&e.dst_ip, ip_b, 4);
	pkt_build_udp_headers(frame, &e, 10, 1, true, true);
	cr_assert_eq(ref_be16(frame + 14 + 10), 0, "IPv4 checksum left to the NIC");
	uint32_t pseudo = ref_be16(ip_a) + ref_be16(ip_a + 2) + ref_be16(ip_b) + ref_be16(ip_b + 2) + 17 + 18;
	cr_assert_eq(ref_be16(frame + 14 + 20 + 6), ref_sum(NULL, 0, pseudo));
}

Test(dpdk_frames, arp_round_trip)
{
	uint8_t frame[64];
	struct pkt_mac a, b, zero = {{0}};
	memcpy(a.bytes, mac_a, 6);
	memcpy(b.bytes, mac_b, 6);
	uint32_t ipa, ipb;
	memcpy(&ipa, ip_a, 4);
	memcpy(&ipb, ip_b, 4);
	size_t n = pkt_build_arp(frame, PKT_ARP_REQUEST, &b, &a, ipa, &zero, ipb);
	cr_assert_eq(n, 60);
	uint8_t expected[64];
	ref_build_arp(expected, 1, mac_b, mac_a, ip_a, zero.bytes, ip_b);
	cr_assert_eq(memcmp(frame, expected, 60), 0);
	struct pkt_parsed p;
	cr_assert_eq(pkt_parse(frame, n, false, false, &p), PKT_ARP);
	cr_assert_eq(p.arp.operation, PKT_ARP_REQUEST);
	cr_assert_eq(p.arp.sender_ip, ipa);
	cr_assert_eq(p.arp.target_ip, ipb);
	cr_assert(pkt_mac_equal(&p.arp.sender_mac, &a));
	frame[14 + 7] = 9; /* operation 9 */
	cr_assert_eq(pkt_parse(frame, n, false, false, &p), PKT_BAD_ARP);
	cr_assert_eq(pkt_parse(frame, 30, false, false, &p), PKT_TRUNCATED);
}

Test(dpdk_neighbours, learn_lookup_update_and_full)
{
	static struct neighbour_table t;
	neighbour_table_init(&t);
	struct pkt_mac m1 = {{2, 0, 0, 0, 0, 1}}, m2 = {{2, 0, 0, 0, 0, 2}}, out;
	uint32_t ip = htonl(0xc6120a02);
	cr_assert_not(neighbour_lookup(&t, ip, &out));
	cr_assert(neighbour_learn(&t, ip, &m1));
	uint64_t g = neighbour_generation(&t);
	cr_assert(neighbour_lookup(&t, ip, &out));
	cr_assert(pkt_mac_equal(&out, &m1));
	cr_assert(neighbour_learn(&t, ip, &m1));
	cr_assert_eq(neighbour_generation(&t), g, "relearning the same MAC changes nothing");
	cr_assert(neighbour_learn(&t, ip, &m2));
	cr_assert_gt(neighbour_generation(&t), g);
	cr_assert(neighbour_lookup(&t, ip, &out));
	cr_assert(pkt_mac_equal(&out, &m2));
	cr_assert_not(neighbour_learn(&t, 0, &m1), "0.0.0.0 is never a neighbour");
	unsigned learned = 1;
	for (uint32_t i = 1; i <= 2 * NEIGHBOUR_SLOTS; i++)
		learned += neighbour_learn(&t, htonl(0xc6130000 + i * 3), &m1);
	cr_assert_leq(learned, NEIGHBOUR_SLOTS);
	cr_assert_gt(t.full, 0, "a full table is counted");
	cr_assert_eq(neighbour_count(&t), learned);
	cr_assert(neighbour_lookup(&t, ip, &out), "old entries survive");
}

/* Any byte string gets a verdict and never a read outside it (ASan watches the heap copy). */
Test(dpdk_frames, random_and_mutated_frames_never_crash_the_parser)
{
	uint32_t seed = 12345;
	struct ref_udp_frame f = base_frame();
	uint8_t good[256];
	size_t good_length = ref_build_udp(good, &f);
	unsigned counts[PKT_VERDICT_COUNT] = {0};
	for (int round = 0; round < 200000; round++) {
		seed = seed * 1103515245u + 12345u;
		size_t length = (seed >> 8) % (good_length + 8);
		uint8_t *frame = malloc(length ? length : 1);
		cr_assert(frame);
		if (round % 2) {
			for (size_t i = 0; i < length; i++) {
				seed = seed * 1103515245u + 12345u;
				frame[i] = (uint8_t)(seed >> 16);
			}
		} else {
			memcpy(frame, good, length < good_length ? length : good_length);
			for (size_t i = good_length; i < length; i++)
				frame[i] = 0;
			for (int flips = 0; flips < 3 && length; flips++) {
				seed = seed * 1103515245u + 12345u;
				frame[(seed >> 8) % length] ^= (uint8_t)(1u << (seed % 8));
			}
		}
		struct pkt_parsed p;
		enum pkt_verdict v = pkt_parse(frame, length, false, false, &p);
		cr_assert_lt((unsigned)v, PKT_VERDICT_COUNT);
		counts[v]++;
		if (v == PKT_UDP)
			cr_assert_leq(p.udp.payload_offset + p.udp.payload_length, length);
		free(frame);
	}
	cr_assert_gt(counts[PKT_UDP], 0, "some mutated frames stay valid");
	cr_assert_gt(counts[PKT_BAD_UDP_CHECKSUM] + counts[PKT_BAD_IP_CHECKSUM], 0, "flipped bits are caught");
	cr_assert_gt(counts[PKT_TRUNCATED], 0);
}
