/* The kernel UDP port on loopback: bursts both ways, peers, empty polls, truncation, addresses. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "udp_port.h"

/* Ports of this engineer's test range (15000-15099). */
#define PORT_A 15010
#define PORT_B 15011

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Receives until `want` datagrams have arrived or 2 s passed. */
static int receive_all(struct udp_port *p, struct udp_datagram *d, int want)
{
	int got = 0;
	uint64_t deadline = now_ms() + 2000;
	while (got < want && now_ms() < deadline) {
		int n = udp_port_rx_burst(p, d + got, want - got);
		cr_assert_geq(n, 0, "rx error %d", n);
		got += n;
		if (n == 0)
			udp_port_wait(p, 10000);
	}
	return got;
}

Test(udp_port, burst_round_trip_on_loopback)
{
	struct udp_port a, b;
	cr_assert_eq(udp_port_open(&a, "127.0.0.1", PORT_A, 1 << 20), 0);
	cr_assert_eq(udp_port_open(&b, "127.0.0.1", PORT_B, 1 << 20), 0);
	cr_assert_eq(ntohs(a.local.sin_port), PORT_A);

	static uint8_t tx_buf[UDP_BURST][64], rx_buf[UDP_BURST][64];
	struct udp_datagram tx[UDP_BURST], rx[UDP_BURST];
	for (int i = 0; i < UDP_BURST; i++) {
		tx[i] = (struct udp_datagram){.peer = b.local, .data = tx_buf[i], .capacity = sizeof tx_buf[i]};
		tx[i].length = (size_t)snprintf((char *)tx_buf[i], sizeof tx_buf[i], "datagram %d", i);
		rx[i] = (struct udp_datagram){.data = rx_buf[i], .capacity = sizeof rx_buf[i]};
	}
	cr_assert_eq(udp_port_rx_burst(&b, rx, UDP_BURST), 0, "nothing sent yet");
	cr_assert_eq(udp_port_tx_burst(&a, tx, UDP_BURST), UDP_BURST);
	cr_assert_eq(receive_all(&b, rx, UDP_BURST), UDP_BURST);
	for (int i = 0; i < UDP_BURST; i++) {
		char expected[32];
		snprintf(expected, sizeof expected, "datagram %d", i);
		cr_assert_eq(rx[i].length, strlen(expected));
		cr_assert_eq(memcmp(rx[i].data, expected, rx[i].length), 0);
		cr_assert_eq(ntohs(rx[i].peer.sin_port), PORT_A, "peer is the sender");
	}
	/* And back, to the peer the datagram came from. */
	struct udp_datagram reply = {.peer = rx[0].peer, .data = (uint8_t *)"pong", .length = 4};
	cr_assert_eq(udp_port_tx_burst(&b, &reply, 1), 1);
	cr_assert_eq(receive_all(&a, rx, 1), 1);
	cr_assert_eq(memcmp(rx[0].data, "pong", 4), 0);
	cr_assert_eq(udp_port_rx_burst(&a, rx, UDP_BURST), 0);
	udp_port_close(&a);
	udp_port_close(&b);
	cr_assert_eq(a.fd, -1);
}

Test(udp_port, more_than_a_burst_is_sent_in_several_calls)
{
	struct udp_port a, b;
	cr_assert_eq(udp_port_open(&a, "127.0.0.1", 0, 1 << 20), 0);
	cr_assert_eq(udp_port_open(&b, "127.0.0.1", 0, 1 << 20), 0);
	cr_assert_neq(ntohs(a.local.sin_port), 0, "port 0 picks one");
	enum { N = 3 * UDP_BURST + 5 };
	static struct udp_datagram tx[N];
	static uint8_t rx_buf[N][8];
	static struct udp_datagram rx[N];
	for (int i = 0; i < N; i++) {
		tx[i] = (struct udp_datagram){.peer = b.local, .data = (uint8_t *)"x", .length = 1};
		rx[i] = (struct udp_datagram){.data = rx_buf[i], .capacity = sizeof rx_buf[i]};
	}
	cr_assert_eq(udp_port_tx_burst(&a, tx, N), N);
	int got = 0;
	uint64_t deadline = now_ms() + 2000;
	while (got < N && now_ms() < deadline) {
		int n = udp_port_rx_burst(&b, rx + got, N - got);
		cr_assert_leq(n, UDP_BURST, "one call returns at most a burst");
		got += n;
		if (n == 0)
			udp_port_wait(&b, 10000);
	}
	cr_assert_eq(got, N);
	udp_port_close(&a);
	udp_port_close(&b);
}

Test(udp_port, oversize_datagram_arrives_empty)
{
	struct udp_port a, b;
	cr_assert_eq(udp_port_open(&a, "127.0.0.1", 0, 0), 0);
	cr_assert_eq(udp_port_open(&b, "127.0.0.1", 0, 0), 0);
	uint8_t big[100] = {0};
	struct udp_datagram tx = {.peer = b.local, .data = big, .length = sizeof big};
	cr_assert_eq(udp_port_tx_burst(&a, &tx, 1), 1);
	uint8_t small[10];
	struct udp_datagram rx = {.data = small, .capacity = sizeof small, .length = 99};
	cr_assert_eq(receive_all(&b, &rx, 1), 1);
	cr_assert_eq(rx.length, 0, "a cut datagram must not pass for a short one");
	udp_port_close(&a);
	udp_port_close(&b);
}

Test(udp_port, socket_buffers_are_set)
{
	struct udp_port p;
	int asked = 1 << 20;
	cr_assert_eq(udp_port_open(&p, "127.0.0.1", 0, asked), 0);
	int rmem_max = 0;
	FILE *f = fopen("/proc/sys/net/core/rmem_max", "r");
	if (f) {
		cr_assert_eq(fscanf(f, "%d", &rmem_max), 1);
		fclose(f);
	}
	int value = 0;
	socklen_t len = sizeof value;
	cr_assert_eq(getsockopt(p.fd, SOL_SOCKET, SO_RCVBUF, &value, &len), 0);
	/* The kernel reports twice what it grants; without CAP_NET_ADMIN it grants at most rmem_max. */
	int floor = asked < rmem_max || rmem_max == 0 ? asked : rmem_max;
	cr_assert_geq(value, floor, "SO_RCVBUF %d < %d", value, floor);
	udp_port_close(&p);
}

Test(udp_port, addresses)
{
	struct sockaddr_in sa;
	cr_assert_eq(endpoint_to_sockaddr("127.0.0.1", 9101, &sa), 0);
	cr_assert_eq(sa.sin_family, AF_INET);
	cr_assert_eq(ntohs(sa.sin_port), 9101);
	cr_assert_eq(ntohl(sa.sin_addr.s_addr), 0x7f000001u);
	cr_assert_eq(endpoint_to_sockaddr("localhost", 1, &sa), -EINVAL);
	cr_assert_eq(endpoint_to_sockaddr("1.2.3", 1, &sa), -EINVAL);
	cr_assert_eq(endpoint_to_sockaddr(NULL, 1, &sa), -EINVAL);
	struct udp_port p;
	cr_assert_eq(udp_port_open(&p, "not-an-ip", 0, 0), -EINVAL);
	cr_assert_eq(p.fd, -1);
	cr_assert_eq(udp_port_open(&p, "192.0.2.1", 15012, 0), -EADDRNOTAVAIL, "an address this host does not have");
}

Test(udp_port, wait_returns_when_data_arrives)
{
	struct udp_port a, b;
	cr_assert_eq(udp_port_open(&a, "127.0.0.1", 0, 0), 0);
	cr_assert_eq(udp_port_open(&b, "127.0.0.1", 0, 0), 0);
	struct udp_datagram tx = {.peer = b.local, .data = (uint8_t *)"x", .length = 1};
	cr_assert_eq(udp_port_tx_burst(&a, &tx, 1), 1);
	/* Data is pending, so a 10 s wait must come back at once (well within the test timeout). */
	uint64_t t0 = now_ms();
	udp_port_wait(&b, 10 * 1000 * 1000);
	cr_assert_lt(now_ms() - t0, 5000);
	udp_port_close(&a);
	udp_port_close(&b);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The load generator reads answers late on purpose and counts them from these stamps. */
Test(udp_port, rx_stamps_say_when_the_kernel_took_each_datagram_in)
{
	struct udp_port a, b;
	cr_assert_eq(udp_port_open(&a, "127.0.0.1", 0, 1 << 20), 0);
	cr_assert_eq(udp_port_open(&b, "127.0.0.1", 0, 1 << 20), 0);
	uint8_t tx_buf[2][16] = {"first", "second"}, rx_buf[2][16];
	struct udp_datagram tx[2], rx[2];
	for (int i = 0; i < 2; i++) {
		tx[i] = (struct udp_datagram){.peer = b.local, .data = tx_buf[i], .length = 6, .capacity = 16};
		rx[i] = (struct udp_datagram){.data = rx_buf[i], .capacity = 16, .rx_realtime_ns = 12345};
	}
	/* Without stamps asked for, the field says "unknown". */
	cr_assert_eq(udp_port_tx_burst(&a, tx, 1), 1);
	cr_assert_eq(receive_all(&b, rx, 1), 1);
	cr_assert_eq(rx[0].rx_realtime_ns, 0);

	/* Right after the call, even when this is the first socket in the kernel to want stamps
	 * (stamping then goes live through deferred work: udp_port.h). */
	cr_assert_eq(udp_port_enable_rx_stamps(&b), 0);
	uint64_t before = realtime_ns();
	cr_assert_eq(udp_port_tx_burst(&a, tx, 2), 2);
	/* Read well after the arrival: the stamps still say when the datagrams came. Loopback
	 * usually delivers inside the send call, but the kernel may defer that to its softirq
	 * thread on a busy machine: a stamp is only required to come well before the read. */
	struct timespec pause = {0, 40000000};
	nanosleep(&pause, NULL);
	uint64_t read_at = realtime_ns();
	cr_assert_eq(receive_all(&b, rx, 2), 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_geq(rx[i].rx_realtime_ns, before, "stamped before it was sent");
		cr_assert_leq(rx[i].rx_realtime_ns + 20000000u, read_at, "stamped when read, not when it came");
	}
	udp_port_close(&a);
	udp_port_close(&b);
}
