/*
 * The DPDK datagram port over ring-backed ethdevs: what comes in on the wire,
 * what the port answers, what it sends, and what it counts.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_telemetry.h>

#include "dpdk_port.h"
#include "ring_peer.h"
#include "wire_reference.h"

#define PORT_IP "198.18.10.1"
#define PORT_UDP 13500

static struct dgram_port port;
static uint8_t port_mac[6];
static const uint8_t port_ip[4] = {198, 18, 10, 1};
static const uint8_t peer_mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
static const uint8_t peer_ip[4] = {198, 18, 10, 2};
static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t message[] = "\x00\x1c" "1100 authorization request!";

static void start_one_queue(void)
{
	ring_peer_start(&port, 1, PORT_IP, PORT_UDP);
	dpdk_port_mac(&port, port_mac);
}

static void stop(void)
{
	ring_peer_stop(&port);
}

static struct ref_udp_frame to_port(void)
{
	return ref_udp_frame_between((struct ref_endpoint){peer_mac, peer_ip, 13501},
				     (struct ref_endpoint){port_mac, port_ip, PORT_UDP}, message, sizeof message - 1);
}

static void send_udp(uint16_t q, const struct ref_udp_frame *f)
{
	uint8_t frame[2048];
	size_t n = ref_build_udp(frame, f);
	ring_peer_send(q, frame, n);
}

static int receive(uint16_t q, uint8_t *buffer, size_t capacity, struct udp_datagram *d)
{
	*d = (struct udp_datagram){.data = buffer, .capacity = capacity};
	return dgram_rx_burst(&port, q, d, 1);
}

static struct sockaddr_in peer_address(uint16_t udp_port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(udp_port)};
	memcpy(&a.sin_addr, peer_ip, 4);
	return a;
}

Test(dpdk_port, rx_burst_delivers_a_crafted_udp_frame, .init = start_one_queue, .fini = stop)
{
	struct ref_udp_frame f = to_port();
	send_udp(0, &f);
	uint8_t buffer[512];
	struct udp_datagram d;
	cr_assert_eq(receive(0, buffer, sizeof buffer, &d), 1);
	cr_assert_eq(d.length, sizeof message - 1);
	cr_assert_eq(memcmp(buffer, message, d.length), 0);
	cr_assert_eq(d.peer.sin_family, AF_INET);
	cr_assert_eq(memcmp(&d.peer.sin_addr, peer_ip, 4), 0);
	cr_assert_eq(ntohs(d.peer.sin_port), 13501);
	struct dpdk_port_stats s;
	dpdk_port_stats(&port, -1, &s);
	cr_assert_eq(s.rx_frames, 1);
	cr_assert_eq(s.rx_datagrams, 1);
	cr_assert_eq(s.rx_bytes, sizeof message - 1);
	cr_assert_eq(dpdk_port_neighbour_count(&port), 1, "the sender's MAC is learned");
	cr_assert_eq(receive(0, buffer, sizeof buffer, &d), 0, "nothing more");
}

Test(dpdk_port, bad_and_foreign_frames_are_dropped_and_counted, .init = start_one_queue, .fini = stop)
{
	struct ref_udp_frame f;
	f = to_port(), f.corrupt_ip_checksum = true, send_udp(0, &f);
	f = to_port(), f.corrupt_udp_checksum = true, send_udp(0, &f);
	f = to_port(), f.fragment = 0x2000, send_udp(0, &f);
	f = to_port(), f.protocol = 6, send_udp(0, &f);
	f = to_port(), f.dst_port = PORT_UDP + 1, send_udp(0, &f);
	f = to_port(), f.dst_ip[3] = 99, send_udp(0, &f);
	f = to_port(), f.dst_mac[5] ^= 1, send_udp(0, &f);
	uint8_t frame[128];
	size_t n = ref_build_udp(frame, &(struct ref_udp_frame){.protocol = 17});
	frame[12] = 0x86, frame[13] = 0xdd;
	ring_peer_send(0, frame, n);
	ring_peer_send(0, frame, 10); /* runt */
	f = to_port(), send_udp(0, &f); /* good, but too big for a 10-byte buffer */

	uint8_t small[10], big[512];
	struct udp_datagram d = {.data = small, .capacity = sizeof small};
	int got = dgram_rx_burst(&port, 0, &d, 1);
	cr_assert_eq(got, 0, "the too-big datagram is dropped, never truncated");
	f = to_port(), send_udp(0, &f); /* and a good one that fits */
	cr_assert_eq(receive(0, big, sizeof big, &d), 1);
	cr_assert_eq(d.length, sizeof message - 1);

	struct dpdk_port_stats s;
	dpdk_port_stats(&port, 0, &s);
	cr_assert_eq(s.rx_frames, 11);
	cr_assert_eq(s.rx_bad_ip_checksum, 1);
	cr_assert_eq(s.rx_bad_udp_checksum, 1);
	cr_assert_eq(s.rx_ip_fragments, 1);
	cr_assert_eq(s.rx_other_ip_protocol, 1);
	cr_assert_eq(s.rx_not_for_us, 3, "wrong port, IPv4 address, MAC");
	cr_assert_eq(s.rx_other_ethertype, 1);
	cr_assert_eq(s.rx_truncated, 1);
	cr_assert_eq(s.rx_too_big, 1);
	cr_assert_eq(s.rx_datagrams, 1);
}

Test(dpdk_port, arp_request_for_our_address_gets_a_correct_reply, .init = start_one_queue, .fini = stop)
{
	uint8_t frame[128];
	static const uint8_t zero[6];
	uint8_t other_ip[4] = {198, 18, 10, 77};
	ref_build_arp(frame, 1, broadcast, peer_mac, peer_ip, zero, other_ip);
	ring_peer_send(0, frame, 60); /* for someone else: no answer */
	ref_build_arp(frame, 1, broadcast, peer_mac, peer_ip, zero, port_ip);
	ring_peer_send(0, frame, 60);
	uint8_t buffer[64];
	struct udp_datagram d;
	cr_assert_eq(receive(0, buffer, sizeof buffer, &d), 0, "ARP is not handed to the worker");

	uint8_t reply[128];
	size_t n = ring_peer_receive(0, reply, sizeof reply);
	cr_assert_geq(n, 42);
	cr_assert_eq(memcmp(reply, peer_mac, 6), 0, "unicast to the asker");
	cr_assert_eq(memcmp(reply + 6, port_mac, 6), 0);
	cr_assert_eq(ref_be16(reply + 12), 0x0806);
	const uint8_t *arp = reply + 14;
	cr_assert_eq(ref_be16(arp), 1);
	cr_assert_eq(ref_be16(arp + 2), 0x0800);
	cr_assert_eq(arp[4], 6);
	cr_assert_eq(arp[5], 4);
	cr_assert_eq(ref_be16(arp + 6), 2, "a reply");
	cr_assert_eq(memcmp(arp + 8, port_mac, 6), 0, "sender MAC is ours");
	cr_assert_eq(memcmp(arp + 14, port_ip, 4), 0, "sender IP is ours");
	cr_assert_eq(memcmp(arp + 18, peer_mac, 6), 0);
	cr_assert_eq(memcmp(arp + 24, peer_ip, 4), 0);
	cr_assert_eq(ring_peer_receive(0, reply, sizeof reply), 0, "exactly one reply");

	struct dpdk_port_stats s;
	dpdk_port_stats(&port, -1, &s);
	cr_assert_eq(s.rx_arp_requests, 1);
	cr_assert_eq(s.tx_arp_replies, 1);
	cr_assert_eq(s.rx_not_for_us, 1);
	cr_assert_eq(dpdk_port_neighbour_count(&port), 1, "the asker is learned");
}

static void check_udp_frame_to_peer(const uint8_t *frame, size_t n, uint16_t dst_port, const uint8_t *payload,
				    size_t payload_length)
{
	cr_assert_geq(n, 14 + 20 + 8 + payload_length);
	cr_assert_geq(n, 60, "padded to the Ethernet minimum");
	cr_assert_eq(memcmp(frame, peer_mac, 6), 0);
	cr_assert_eq(memcmp(frame + 6, port_mac, 6), 0);
	cr_assert_eq(ref_be16(frame + 12), 0x0800);
	const uint8_t *ip = frame + 14;
	cr_assert_eq(ip[0], 0x45);
	cr_assert_eq(ref_be16(ip + 2), 20 + 8 + payload_length);
	cr_assert_eq(ip[9], 17);
	cr_assert_eq(ref_be16(ip + 6) & 0x3fff, 0, "not a fragment");
	cr_assert_eq(memcmp(ip + 12, port_ip, 4), 0);
	cr_assert_eq(memcmp(ip + 16, peer_ip, 4), 0);
	cr_assert(ref_ip_checksum_ok(frame), "IPv4 header checksum");
	const uint8_t *udp = ip + 20;
	cr_assert_eq(ref_be16(udp), PORT_UDP);
	cr_assert_eq(ref_be16(udp + 2), dst_port);
	cr_assert_eq(ref_be16(udp + 4), 8 + payload_length);
	cr_assert_neq(ref_be16(udp + 6), 0, "UDP checksum present");
	cr_assert(ref_udp_checksum_ok(frame), "UDP checksum");
	cr_assert_eq(memcmp(udp + 8, payload, payload_length), 0);
}

Test(dpdk_port, tx_burst_builds_valid_headers_to_a_learned_peer, .init = start_one_queue, .fini = stop)
{
	struct ref_udp_frame f = to_port();
	send_udp(0, &f);
	uint8_t buffer[512];
	struct udp_datagram in;
	cr_assert_eq(receive(0, buffer, sizeof buffer, &in), 1);

	static uint8_t payloads[3][300];
	struct udp_datagram out[3];
	size_t lengths[3] = {5, 300, 17};
	for (int i = 0; i < 3; i++) {
		for (size_t j = 0; j < lengths[i]; j++)
			payloads[i][j] = (uint8_t)(i * 31 + j);
		out[i] = (struct udp_datagram){.peer = in.peer, .data = payloads[i], .length = lengths[i]};
	}
	cr_assert_eq(dgram_tx_burst(&port, 0, out, 3), 3);
	for (int i = 0; i < 3; i++) {
		uint8_t frame[2048];
		size_t n = ring_peer_receive(0, frame, sizeof frame);
		cr_assert_gt(n, 0, "frame %d", i);
		check_udp_frame_to_peer(frame, n, 13501, payloads[i], lengths[i]);
	}
	struct dpdk_port_stats s;
	dpdk_port_stats(&port, -1, &s);
	cr_assert_eq(s.tx_datagrams, 3);
	cr_assert_eq(s.tx_bytes, 5 + 300 + 17);
	cr_assert_eq(s.tx_arp_requests, 0, "the peer was learned from its datagram");
}

Test(dpdk_port, tx_burst_refuses_what_it_cannot_send_and_counts_it, .init = start_one_queue, .fini = stop)
{
	static uint8_t huge[2000];
	struct sockaddr_in nobody = {.sin_family = AF_INET};
	struct udp_datagram out[2] = {
		{.peer = peer_address(13501), .data = huge, .length = sizeof huge},
		{.peer = nobody, .data = huge, .length = 10},
	};
	cr_assert_eq(dgram_tx_burst(&port, 0, out, 2), 0);
	struct dpdk_port_stats s;
	dpdk_port_stats(&port, -1, &s);
	cr_assert_eq(s.tx_too_big, 1, "we do not fragment");
	cr_assert_eq(s.tx_bad_peer, 1);
	uint8_t frame[64];
	cr_assert_eq(ring_peer_receive(0, frame, sizeof frame), 0);
}

Test(dpdk_port, unknown_destination_is_resolved_by_arp_then_sent, .init = start_one_queue, .fini = stop)
{
	struct udp_datagram out = {.peer = peer_address(13502), .data = (uint8_t *)message,
				   .length = sizeof message - 1};
	cr_assert_eq(dgram_tx_burst(&port, 0, &out, 1), 1, "held, not refused");

	uint8_t frame[2048];
	size_t n = ring_peer_receive(0, frame, sizeof frame);
	cr_assert_eq(n, 60, "an ARP request comes first");
	cr_assert_eq(memcmp(frame, broadcast, 6), 0);
	cr_assert_eq(ref_be16(frame + 12), 0x0806);
	cr_assert_eq(ref_be16(frame + 14 + 6), 1);
	cr_assert_eq(memcmp(frame + 14 + 8, port_mac, 6), 0);
	cr_assert_eq(memcmp(frame + 14 + 14, port_ip, 4), 0);
	cr_assert_eq(memcmp(frame + 14 + 24, peer_ip, 4), 0);
	cr_assert_eq(ring_peer_receive(0, frame, sizeof frame), 0, "the datagram waits");

	uint8_t reply[64];
	ref_build_arp(reply, 2, port_mac, peer_mac, peer_ip, port_mac, port_ip);
	ring_peer_send(0, reply, 60);
	uint8_t buffer[64];
	struct udp_datagram in;
	cr_assert_eq(receive(0, buffer, sizeof buffer, &in), 0);
	n = ring_peer_receive(0, frame, sizeof frame);
	cr_assert_gt(n, 0, "released by the ARP reply");
	check_udp_frame_to_peer(frame, n, 13502, message, sizeof message - 1);

	struct dpdk_port_stats s;
	dpdk_port_stats(&port, -1, &s);
	cr_assert_eq(s.tx_held, 1);
	cr_assert_eq(s.tx_arp_requests, 1);
	cr_assert_eq(s.rx_arp_replies, 1);
	cr_assert_eq(s.tx_datagrams, 1);
	cr_assert_eq(s.tx_unresolved, 0);
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(dpdk_port, unresolved_destination_is_dropped_after_the_hold_time_and_asked_again, .init = start_one_queue, .fini = stop)
{
	struct udp_datagram out = {.peer = peer_address(13502), .data = (uint8_t *)message,
				   .length = sizeof message - 1};
	cr_assert_eq(dgram_tx_burst(&port, 0, &out, 1), 1);
	struct dpdk_port_stats s;
	double deadline = now_seconds() + 5.0;
	do {
		dgram_wait(&port, 0, 20000);
		dpdk_port_stats(&port, -1, &s);
	} while (s.tx_unresolved == 0 && now_seconds() < deadline);
	cr_assert_eq(s.tx_unresolved, 1, "dropped and counted once the hold time is over");
	cr_assert_geq(s.tx_arp_requests, 2, "the request was repeated while waiting");
	cr_assert_eq(s.tx_datagrams, 0);
}

Test(dpdk_port, queues_are_independent, .fini = stop)
{
	ring_peer_start(&port, 2, PORT_IP, PORT_UDP);
	dpdk_port_mac(&port, port_mac);
	cr_assert_eq(port.queue_count, 2);
	struct ref_udp_frame f = to_port();
	send_udp(1, &f);
	uint8_t buffer[512];
	struct udp_datagram d;
	cr_assert_eq(receive(0, buffer, sizeof buffer, &d), 0);
	cr_assert_eq(receive(1, buffer, sizeof buffer, &d), 1);
	struct udp_datagram out = {.peer = d.peer, .data = buffer, .length = d.length};
	cr_assert_eq(dgram_tx_burst(&port, 1, &out, 1), 1);
	uint8_t frame[2048];
	cr_assert_eq(ring_peer_receive(0, frame, sizeof frame), 0);
	cr_assert_gt(ring_peer_receive(1, frame, sizeof frame), 0);
	struct dpdk_port_stats s0, s1;
	dpdk_port_stats(&port, 0, &s0);
	dpdk_port_stats(&port, 1, &s1);
	cr_assert_eq(s0.rx_datagrams + s0.tx_datagrams, 0);
	cr_assert_eq(s1.rx_datagrams, 1);
	cr_assert_eq(s1.tx_datagrams, 1);
}

/* Asks the EAL telemetry socket, as dpdk-telemetry.py does. */
static void telemetry_query(const char *command, char *reply, size_t capacity)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int written = snprintf(path, sizeof path, "%s/dpdk_telemetry.v2", rte_eal_get_runtime_dir());
	cr_assert_lt((size_t)written, sizeof path, "runtime directory path too long");
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	memcpy(a.sun_path, path, sizeof path);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0, "connect %s", path);
	ssize_t n = read(fd, reply, capacity - 1); /* the greeting */
	cr_assert_gt(n, 0);
	cr_assert_eq(write(fd, command, strlen(command)), (ssize_t)strlen(command));
	n = read(fd, reply, capacity - 1);
	cr_assert_gt(n, 0);
	reply[n] = '\0';
	close(fd);
}

static int fill_switch_stats(struct rte_tel_data *d, void *ctx)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "approved", *(uint64_t *)ctx);
	return 0;
}

Test(dpdk_port, telemetry_serves_port_stats_and_registered_commands, .init = start_one_queue, .fini = stop)
{
	struct ref_udp_frame f = to_port();
	send_udp(0, &f);
	uint8_t buffer[512];
	struct udp_datagram d;
	cr_assert_eq(receive(0, buffer, sizeof buffer, &d), 1);

	char reply[16384];
	telemetry_query("/iso8583/port_stats", reply, sizeof reply);
	cr_assert(strstr(reply, "\"/iso8583/port_stats\""), "%s", reply);
	cr_assert(strstr(reply, "\"rx_datagrams\":1,"), "%s", reply);
	cr_assert(strstr(reply, "\"device\":\"net_ring_iso_port\""), "%s", reply);

	telemetry_query("/iso8583/neighbours", reply, sizeof reply);
	cr_assert(strstr(reply, "{\"/iso8583/neighbours\":[\"198.18.10.2 02:11:22:33:44:55\"]}"), "%s", reply);

	static uint64_t approved = 42;
	cr_assert_eq(dpdk_telemetry_register("/iso8583/test_stats", "test", fill_switch_stats, &approved), 0);
	cr_assert_lt(dpdk_telemetry_register("/iso8583/test_stats", "again", fill_switch_stats, &approved), 0,
		     "a command is registered once");
	cr_assert_lt(dpdk_telemetry_register("no_slash", "bad", fill_switch_stats, &approved), 0);
	telemetry_query("/iso8583/test_stats", reply, sizeof reply);
	cr_assert(strstr(reply, "{\"/iso8583/test_stats\":{\"approved\":42}}"), "%s", reply);
}

/*
 * Two worker threads, one queue each, send to eight peers none of them knows yet,
 * while the test plays the wire and answers every ARP request, half of them on the
 * other queue. Both workers learn the same neighbours at the same time (the shared table),
 * register themselves as DPDK threads on first use, and must deliver everything.
 */
#define WORKER_DATAGRAMS 2000
#define PEERS 8

struct worker_run {
	uint16_t queue;
	int sent;
	int refused;
	volatile int done;
};

static void peer_ip_of(int k, uint8_t ip[4])
{
	ip[0] = 198, ip[1] = 18, ip[2] = 10, ip[3] = (uint8_t)(10 + k);
}

static void *worker_main(void *arg)
{
	struct worker_run *r = arg;
	uint8_t payload[64];
	memset(payload, 'a' + r->queue, sizeof payload);
	uint8_t buffers[16][128];
	struct udp_datagram in[16];
	while (r->sent + r->refused < WORKER_DATAGRAMS) {
		struct udp_datagram out[16];
		int n = 0;
		for (; n < 16 && r->sent + r->refused + n < WORKER_DATAGRAMS; n++) {
			uint8_t ip[4];
			peer_ip_of((r->sent + n) % PEERS, ip);
			out[n] = (struct udp_datagram){.peer = {.sin_family = AF_INET, .sin_port = htons(14000)},
						       .data = payload, .length = sizeof payload};
			memcpy(&out[n].peer.sin_addr, ip, 4);
		}
		/* A full TX ring refuses the rest (counted as tx_dropped_full): send those again
		 * once the wire has drained, as a worker keeping its own backlog would. */
		int accepted = dgram_tx_burst(&port, r->queue, out, n);
		for (int tries = 0; accepted < n && tries < 10000; tries++) {
			dgram_wait(&port, r->queue, 100);
			accepted += dgram_tx_burst(&port, r->queue, out + accepted, n - accepted);
		}
		r->sent += accepted;
		r->refused += n - accepted;
		/* Let ARP replies in before the next burst, so that the hold list never fills. */
		for (int spins = 0; spins < 200000; spins++) {
			struct dpdk_port_stats s;
			dpdk_port_stats(&port, r->queue, &s);
			if (s.tx_datagrams + s.tx_unresolved >= (uint64_t)r->sent)
				break;
			for (int i = 0; i < 16; i++)
				in[i] = (struct udp_datagram){.data = buffers[i], .capacity = sizeof buffers[i]};
			dgram_rx_burst(&port, r->queue, in, 16);
			dgram_wait(&port, r->queue, 50);
		}
	}
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

Test(dpdk_port, two_worker_threads_resolve_and_send_concurrently, .fini = stop, .timeout = 60)
{
	ring_peer_start(&port, 2, PORT_IP, PORT_UDP);
	dpdk_port_mac(&port, port_mac);
	struct worker_run runs[2] = {{.queue = 0}, {.queue = 1}};
	pthread_t threads[2];
	for (int t = 0; t < 2; t++)
		cr_assert_eq(pthread_create(&threads[t], NULL, worker_main, &runs[t]), 0);

	int udp_seen[2] = {0, 0}, wrong_mac = 0;
	double deadline = now_seconds() + 30;
	while ((!__atomic_load_n(&runs[0].done, __ATOMIC_ACQUIRE) || !__atomic_load_n(&runs[1].done, __ATOMIC_ACQUIRE) ||
		udp_seen[0] + udp_seen[1] < runs[0].sent + runs[1].sent) &&
	       now_seconds() < deadline) {
		bool idle = true;
		for (uint16_t q = 0; q < 2; q++) {
			uint8_t frame[2048];
			size_t n;
			while ((n = ring_peer_receive(q, frame, sizeof frame)) > 0) {
				idle = false;
				if (ref_be16(frame + 12) == 0x0806 && ref_be16(frame + 14 + 6) == 1) {
					const uint8_t *target_ip = frame + 14 + 24;
					uint8_t mac[6] = {0x02, 0x77, 0, 0, 0, target_ip[3]};
					uint8_t reply[64];
					ref_build_arp(reply, 2, port_mac, mac, target_ip, port_mac, port_ip);
					/* Half the answers arrive on the other queue, as RSS may well do:
					 * the asking queue must still release what it holds. */
					ring_peer_send((uint16_t)((q + target_ip[3]) % 2), reply, 60);
				} else if (ref_be16(frame + 12) == 0x0800) {
					udp_seen[q]++;
					const uint8_t *dst_ip = frame + 14 + 16;
					uint8_t mac[6] = {0x02, 0x77, 0, 0, 0, dst_ip[3]};
					wrong_mac += memcmp(frame, mac, 6) != 0;
					wrong_mac += !ref_udp_checksum_ok(frame);
				}
			}
		}
		if (idle)
			usleep(100);
	}
	for (int t = 0; t < 2; t++)
		pthread_join(threads[t], NULL);

	for (int t = 0; t < 2; t++) {
		struct dpdk_port_stats s;
		dpdk_port_stats(&port, t, &s);
		cr_assert_eq(runs[t].sent, WORKER_DATAGRAMS, "queue %d: every datagram accepted (%d refused)", t,
			     runs[t].refused);
		cr_assert_eq(s.tx_unresolved, 0, "queue %d: nothing dropped waiting for ARP", t);
		cr_assert_eq(s.tx_datagrams, WORKER_DATAGRAMS, "queue %d (%llu refused while the ring was full)", t,
			     (unsigned long long)s.tx_dropped_full);
		cr_assert_eq(udp_seen[t], WORKER_DATAGRAMS, "queue %d: the wire got them all", t);
	}
	cr_assert_eq(wrong_mac, 0, "every frame went to its peer's MAC with a good checksum");
	cr_assert_eq(dpdk_port_neighbour_count(&port), PEERS);
}

/* The port keeps the last sender learned and destination resolved per queue: a
 * neighbour that changes its MAC must still be followed, both ways. */
Test(dpdk_port, a_neighbour_that_changes_its_mac_is_followed, .init = start_one_queue, .fini = stop)
{
	static const uint8_t other_mac[6] = {0x02, 0x66, 0x77, 0x88, 0x99, 0xaa};
	const uint8_t *macs[] = {peer_mac, other_mac, peer_mac, peer_mac, other_mac};
	for (size_t round = 0; round < sizeof macs / sizeof macs[0]; round++) {
		struct ref_udp_frame f = to_port();
		memcpy(f.src_mac, macs[round], 6);
		send_udp(0, &f);
		uint8_t buffer[512];
		struct udp_datagram in;
		cr_assert_eq(receive(0, buffer, sizeof buffer, &in), 1, "round %zu", round);
		uint8_t payload[] = "answer";
		struct udp_datagram out = {.peer = in.peer, .data = payload, .length = sizeof payload - 1};
		cr_assert_eq(dgram_tx_burst(&port, 0, &out, 1), 1, "round %zu", round);
		uint8_t frame[2048];
		size_t n = ring_peer_receive(0, frame, sizeof frame);
		cr_assert_gt(n, 14, "round %zu", round);
		cr_assert_eq(memcmp(frame, macs[round], 6), 0, "round %zu: sent to the MAC the peer last used", round);
	}
	struct dpdk_port_stats s;
	dpdk_port_stats(&port, -1, &s);
	cr_assert_eq(s.tx_datagrams, 5);
	cr_assert_eq(s.tx_arp_requests, 0);
}
