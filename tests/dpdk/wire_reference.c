#include "wire_reference.h"

#include <string.h>

struct ref_udp_frame ref_udp_frame_between(struct ref_endpoint src, struct ref_endpoint dst, const uint8_t *payload,
					   size_t payload_length)
{
	struct ref_udp_frame f = {.src_port = src.port, .dst_port = dst.port, .protocol = 17,
				  .payload = payload, .payload_length = payload_length};
	memcpy(f.dst_mac, dst.mac, 6);
	memcpy(f.src_mac, src.mac, 6);
	memcpy(f.src_ip, src.ip, 4);
	memcpy(f.dst_ip, dst.ip, 4);
	return f;
}

uint16_t ref_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] * 256 + p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v / 256);
	p[1] = (uint8_t)(v % 256);
}

uint16_t ref_sum(const uint8_t *p, size_t n, uint32_t initial)
{
	uint32_t s = initial;
	for (size_t i = 0; i < n; i += 2) {
		uint32_t word = (uint32_t)p[i] * 256 + (i + 1 < n ? p[i + 1] : 0);
		s += word;
		s = (s & 0xffff) + (s >> 16);
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static uint32_t pseudo(const uint8_t *src_ip, const uint8_t *dst_ip, size_t udp_length)
{
	return (uint32_t)ref_be16(src_ip) + ref_be16(src_ip + 2) + ref_be16(dst_ip) + ref_be16(dst_ip + 2) + 17 +
	       (uint32_t)udp_length;
}

size_t ref_build_udp(uint8_t *out, const struct ref_udp_frame *f)
{
	size_t udp_length = 8 + f->payload_length;
	size_t length = 14 + 20 + udp_length;
	memset(out, 0, length < 60 ? 60 : length);
	memcpy(out, f->dst_mac, 6);
	memcpy(out + 6, f->src_mac, 6);
	put16(out + 12, 0x0800);
	uint8_t *ip = out + 14;
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + udp_length));
	put16(ip + 4, 0x1234);
	put16(ip + 6, f->fragment);
	ip[8] = 64;
	ip[9] = f->protocol;
	memcpy(ip + 12, f->src_ip, 4);
	memcpy(ip + 16, f->dst_ip, 4);
	uint16_t ipsum = (uint16_t)~ref_sum(ip, 20, 0);
	if (f->corrupt_ip_checksum)
		ipsum ^= 0x0101;
	put16(ip + 10, ipsum);
	uint8_t *udp = ip + 20;
	put16(udp, f->src_port);
	put16(udp + 2, f->dst_port);
	put16(udp + 4, (uint16_t)udp_length);
	if (f->payload_length)
		memcpy(udp + 8, f->payload, f->payload_length);
	uint16_t usum = (uint16_t)~ref_sum(udp, udp_length, pseudo(f->src_ip, f->dst_ip, udp_length));
	if (usum == 0)
		usum = 0xffff;
	if (f->corrupt_udp_checksum)
		usum ^= 0x0404;
	if (f->zero_udp_checksum)
		usum = 0;
	put16(udp + 6, usum);
	return length < 60 ? 60 : length;
}

size_t ref_build_arp(uint8_t *out, uint16_t operation, const uint8_t eth_dst[6], const uint8_t sender_mac[6],
		     const uint8_t sender_ip[4], const uint8_t target_mac[6], const uint8_t target_ip[4])
{
	memset(out, 0, 60);
	memcpy(out, eth_dst, 6);
	memcpy(out + 6, sender_mac, 6);
	put16(out + 12, 0x0806);
	uint8_t *a = out + 14;
	put16(a, 1);
	put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, operation);
	memcpy(a + 8, sender_mac, 6);
	memcpy(a + 14, sender_ip, 4);
	memcpy(a + 18, target_mac, 6);
	memcpy(a + 24, target_ip, 4);
	return 60;
}

bool ref_ip_checksum_ok(const uint8_t *frame)
{
	const uint8_t *ip = frame + 14;
	return ref_sum(ip, (size_t)(ip[0] & 15) * 4, 0) == 0xffff;
}

bool ref_udp_checksum_ok(const uint8_t *frame)
{
	const uint8_t *ip = frame + 14;
	const uint8_t *udp = ip + (ip[0] & 15) * 4;
	size_t udp_length = ref_be16(udp + 4);
	if (ref_be16(udp + 6) == 0)
		return true;
	return ref_sum(udp, udp_length, pseudo(ip + 12, ip + 16, udp_length)) == 0xffff;
}
