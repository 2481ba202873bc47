/*
 * The port on EAL-created vdevs, the way programs use it: EAL arguments passed
 * through dpdk_port_create. net_ring0 without arguments is a loopback (its TX
 * ring is its RX ring), so a datagram sent to our own address must come back
 * after the port has ARPed for itself and answered itself.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "dpdk_port.h"

static const uint8_t message[] = "\x00\x04" "1100";

static void create(struct dgram_port *p, const char *vdev, uint16_t queues)
{
	char *eal[] = {"--no-huge", "--no-pci", "-m", "256", "-l", "0", "--vdev", (char *)vdev,
		       "--log-level", "lib.eal:warning"};
	char err[256] = "";
	int rc = dpdk_port_create(p, (int)(sizeof eal / sizeof eal[0]), eal, queues, "198.18.10.1", 13500, err,
				  sizeof err);
	cr_assert_eq(rc, 0, "dpdk_port_create: %s", err);
}

Test(dpdk_vdev, net_ring_loopback_delivers_a_datagram_sent_to_ourselves)
{
	struct dgram_port p;
	create(&p, "net_ring0", 1);
	cr_assert_eq(p.queue_count, 1);
	struct udp_datagram out = {.peer = p.local, .data = (uint8_t *)message, .length = sizeof message - 1};
	cr_assert_eq(dgram_tx_burst(&p, 0, &out, 1), 1);

	uint8_t buffer[64];
	struct udp_datagram in = {.data = buffer, .capacity = sizeof buffer};
	int got = 0;
	for (int i = 0; i < 1000 && got == 0; i++) {
		got = dgram_rx_burst(&p, 0, &in, 1);
		if (!got)
			dgram_wait(&p, 0, 1000);
	}
	cr_assert_eq(got, 1);
	cr_assert_eq(in.length, sizeof message - 1);
	cr_assert_eq(memcmp(buffer, message, in.length), 0);
	cr_assert_eq(in.peer.sin_addr.s_addr, p.local.sin_addr.s_addr);
	cr_assert_eq(in.peer.sin_port, p.local.sin_port);
	struct dpdk_port_stats s;
	dpdk_port_stats(&p, -1, &s);
	cr_assert_eq(s.tx_arp_requests, 1);
	cr_assert_eq(s.rx_arp_requests, 1);
	cr_assert_eq(s.tx_arp_replies, 1);
	cr_assert_eq(s.rx_arp_replies, 1);
	p.ops->close(&p);
}

Test(dpdk_vdev, net_null_port_sends_and_receives_nothing_harmful)
{
	struct dgram_port p;
	create(&p, "net_null0", 2);
	cr_assert_geq(p.queue_count, 1);
	uint8_t buffer[64];
	struct udp_datagram in = {.data = buffer, .capacity = sizeof buffer};
	/* net_null hands out zero-filled frames: every one is counted as a foreign ethertype. */
	cr_assert_eq(dgram_rx_burst(&p, 0, &in, 1), 0);
	struct dpdk_port_stats s;
	dpdk_port_stats(&p, 0, &s);
	cr_assert_gt(s.rx_frames, 0);
	cr_assert_eq(s.rx_frames, s.rx_other_ethertype + s.rx_truncated);
	p.ops->close(&p);
}

Test(dpdk_vdev, bad_arguments_give_clear_errors)
{
	struct dgram_port p;
	char err[256] = "";
	char *eal[] = {"--no-huge"};
	cr_assert_eq(dpdk_port_create(&p, 1, eal, 1, "not-an-ip", 13500, err, sizeof err), -1);
	cr_assert(strstr(err, "IPv4"), "%s", err);
	cr_assert_eq(dpdk_port_create(&p, 1, eal, 1, "198.18.10.1", 0, err, sizeof err), -1);
	cr_assert(strstr(err, "UDP port"), "%s", err);
	cr_assert_eq(dpdk_port_create(&p, 1, eal, 0, "198.18.10.1", 13500, err, sizeof err), -1);
	char *bad_eal[] = {"--no-such-eal-option"};
	cr_assert_eq(dpdk_port_create(&p, 1, bad_eal, 1, "198.18.10.1", 13500, err, sizeof err), -1);
	cr_assert(strstr(err, "rte_eal_init"), "%s", err);
}

Test(dpdk_vdev, no_ethdev_is_a_clear_error)
{
	struct dgram_port p;
	char err[256] = "";
	char *eal[] = {"--no-huge", "--no-pci", "-m", "128", "-l", "0", "--log-level", "lib.eal:warning"};
	cr_assert_eq(dpdk_port_create(&p, 8, eal, 1, "198.18.10.1", 13500, err, sizeof err), -1);
	cr_assert(strstr(err, "ethdev"), "%s", err);
}

Test(dpdk_vdev, in_memory_with_no_huge_starts_and_leaves_no_runtime_directory)
{
	struct dgram_port p;
	char *eal[] = {"--no-huge", "--in-memory", "--no-pci", "-m", "128", "-l", "0", "--vdev", "net_null0",
		       "--log-level", "lib.eal:warning"};
	char err[256] = "";
	int rc = dpdk_port_create(&p, (int)(sizeof eal / sizeof eal[0]), eal, 1, "198.18.10.1", 13500, err,
				  sizeof err);
	cr_assert_eq(rc, 0, "dpdk_port_create: %s", err);
	char runtime[128];
	snprintf(runtime, sizeof runtime, "/var/run/dpdk/iso8583-%ld", (long)getpid());
	cr_assert_eq(access(runtime, F_OK), 0, "the port named its own runtime directory %s", runtime);
	p.ops->close(&p);
	cr_assert_neq(access(runtime, F_OK), 0, "%s is removed with the last port", runtime);
}
