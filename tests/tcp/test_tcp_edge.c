/*
 * tcp_edge: a UDP port and a TCP port joined into one dgram_port, polled by
 * the same echo harness: answers go back on the transport their request came
 * by, and requests to a TCP endpoint leave on its link. Also rx_queues: inbound
 * links spread over the first queues only. Ports 16020-16029, claimed with
 * test_ports.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_process.h"
#include "echo_harness.h"
#include "framing.h"
#include "iso8583.h"
#include "tcp_edge.h"
#include "socket_dgram_port.h"
#include "tcp_port.h"
#include "test_ports.h"
#include "test_udp_peer.h"

static struct dgram_port edge;
static struct echo_harness harness;
static bool running;

static void teardown(void)
{
	if (running) {
		echo_harness_stop(&harness);
		edge.ops->close(&edge);
		running = false;
	}
}

/* Each test runs in its own process, which holds the ports until it exits. */
static void claim_ports(void)
{
	cr_assert_eq(test_ports_claim(16020, 10, 1, 120), 16020, "ports 16020-16029 stayed claimed");
}

TestSuite(tcp_edge, .init = claim_ports, .fini = teardown, .timeout = 60);

/* The UDP half of the edge: one queue, as the TCP half of these tests has. */
static void open_udp(struct dgram_port *udp, uint16_t port)
{
	char err[256] = "";
	cr_assert_eq(socket_dgram_port_open(udp, "127.0.0.1", port, 1, SOCKET_DGRAM_SHARED_PORT, 0, err, sizeof(err)),
		     0, "udp port %u: %s", port, err);
}

/* The end of every test that opened ports (see test_tcp_port.c). */
static void close_and_check(void)
{
	teardown();
	cr_expect(no_leaks_now(), "the ports leaked (LeakSanitizer report above)");
}

static bool stat_connected(void *arg)
{
	struct tcp_port_stats s;
	return tcp_port_stats(arg, &s, NULL, 0, NULL) == 0 && s.connects >= 1;
}

static bool answered_at_least(void *arg)
{
	return atomic_load(&harness.answered) >= *(unsigned long *)arg;
}

/* One 1100 over UDP from a test peer; true when its 1110 comes back to it. */
static bool udp_round_trip(uint16_t to_port, unsigned stan)
{
	struct test_udp_peer peer;
	if (!test_udp_peer_open(&peer, 0))
		return false;
	uint8_t frame[512], answer[1024];
	size_t len = build_framed_1100(frame, sizeof(frame), stan);
	bool sent = test_udp_peer_send(&peer, to_port, frame, len);
	size_t n = sent ? test_udp_peer_receive(&peer, answer, sizeof(answer), 5000, NULL) : 0;
	test_udp_peer_close(&peer);
	if (n < 2)
		return false;
	struct iso_msg m;
	struct iso_error err;
	return iso_decode(&iso_profile_ascii, answer + 2, n - 2, &m, &err) == ISO_OK && m.mti == 1110 &&
	       iso_field_equals(&m, 39, "000");
}

Test(tcp_edge, answers_leave_by_the_transport_they_came_by)
{
	struct dgram_port udp, tcp;
	open_udp(&udp, 16020);
	struct tcp_endpoint_config bank = {.host = "127.0.0.1", .port = 16022, .framing = FRAME_HEADER_BINARY2};
	struct tcp_port_config cfg;
	tcp_port_config_defaults(&cfg);
	cfg.listen_host = "127.0.0.1";
	cfg.listen_port = 16021;
	cfg.outbound = &bank;
	cfg.outbound_count = 1;
	cfg.reconnect_initial_ms = 50;
	cfg.reconnect_max_ms = 200;
	char err[256];
	cr_assert_eq(tcp_port_open(&tcp, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tcp_edge_join(&edge, &udp, &tcp, err, sizeof(err)), 0, "%s", err);
	running = true;
	echo_harness_start(&harness, &edge);
	struct dgram_port *inner = tcp_edge_tcp_port(&edge);
	cr_assert_not_null(inner);

	const char *auth[] = {"auth", "--port", "16021", "--count", "10", "--stan", "2000", NULL};
	cr_expect_eq(client_run(auth, 20000), 0, "TCP answers did not come back over TCP");
	cr_expect(udp_round_trip(16020, 2100), "the UDP answer did not come back over UDP");
	cr_expect(udp_round_trip(16020, 2101));

	const char *server[] = {"server", "--port", "16022", "--count", "2", "--stan", "2200", "--expect-request",
				"--timeout", "15", NULL};
	pid_t pid = client_spawn(server);
	cr_assert(wait_until(stat_connected, inner, 10000));
	unsigned long want = 10 + 2 + 2;
	cr_assert(wait_until(answered_at_least, &want, 10000));
	/* A request the program addresses to the bank host's endpoint, without any mark. */
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(16022)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	uint8_t frame[512];
	size_t len = build_framed_1100(frame, sizeof(frame), 2300);
	cr_expect_eq(echo_harness_inject(&harness, &to, frame, len), 1);
	cr_expect_eq(client_wait(pid, 20000), 0, "the request to the TCP endpoint did not leave over TCP");

	struct tcp_port_stats s;
	cr_assert_eq(tcp_port_stats(inner, &s, NULL, 0, NULL), 0);
	cr_expect_eq(s.frames_in, 12);
	cr_expect_eq(s.frames_out, 13);
	cr_expect_eq(s.dropped_unknown_peer, 0);
	close_and_check();
}

Test(tcp_edge, join_refuses_mismatched_ports)
{
	struct dgram_port udp, tcp, out;
	open_udp(&udp, 16023);
	struct tcp_port_config cfg;
	tcp_port_config_defaults(&cfg);
	cfg.listen_host = "127.0.0.1";
	cfg.listen_port = 16024;
	cfg.queue_count = 2;
	char err[256];
	cr_assert_eq(tcp_port_open(&tcp, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(tcp_edge_join(&out, &udp, &tcp, err, sizeof(err)), -1);
	cr_expect(strstr(err, "queue counts differ"), "%s", err);
	cr_expect_eq(tcp_edge_join(&out, &udp, &udp, err, sizeof(err)), -1);
	cr_expect(strstr(err, "not a TCP port"), "%s", err);
	tcp.ops->close(&tcp);
	udp.ops->close(&udp);
	cr_expect(no_leaks_now(), "the ports leaked (LeakSanitizer report above)");
}

Test(tcp_edge, rx_queues_keeps_inbound_on_the_first_queues)
{
	struct tcp_port_config cfg;
	tcp_port_config_defaults(&cfg);
	cfg.listen_host = "127.0.0.1";
	cfg.listen_port = 16025;
	cfg.queue_count = 3;
	cfg.rx_queues = 1;
	char err[256];
	cr_assert_eq(tcp_port_open(&edge, &cfg, err, sizeof(err)), 0, "%s", err);
	running = true;
	echo_harness_start(&harness, &edge);
	for (int i = 0; i < 6; i++) {
		char stan[16];
		snprintf(stan, sizeof(stan), "%d", 2500 + 10 * i);
		const char *auth[] = {"auth", "--port", "16025", "--count", "2", "--stan", stan, NULL};
		cr_assert_eq(client_run(auth, 20000), 0);
	}
	cr_expect_eq(atomic_load(&harness.answered_by_queue[0]), 12);
	cr_expect_eq(atomic_load(&harness.answered_by_queue[1]) + atomic_load(&harness.answered_by_queue[2]), 0);

	struct dgram_port other;
	cfg.rx_queues = 4;
	cr_expect_eq(tcp_port_open(&other, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "rx_queues 4 is above queue_count 3"), "%s", err);
	close_and_check();
}
