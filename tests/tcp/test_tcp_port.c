/*
 * The TCP port end to end on loopback: a Python peer (iso_client.py, its own
 * hand-built encoder) talks to the port, and the echo harness's workers poll
 * the port as a dgram_port and answer 1100 with 1110. Ports 16000-16019,
 * claimed with test_ports (16499 is only an address nobody listens on).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_process.h"
#include "echo_harness.h"
#include "test_clock.h"
#include "test_ports.h"
#include "framing.h"
#include "iso8583.h"
#include "tcp_port.h"

#define CLIENT_TIMEOUT_MS 20000

static struct dgram_port port;
static struct echo_harness harness;
static bool port_open;
static bool harness_running;

static void open_port(struct tcp_port_config *cfg)
{
	char err[256] = "";
	int rc = tcp_port_open(&port, cfg, err, sizeof(err));
	cr_assert_eq(rc, 0, "tcp_port_open: %s", err);
	port_open = true;
	echo_harness_start(&harness, &port);
	harness_running = true;
}

static void listen_config(struct tcp_port_config *cfg, uint16_t listen_port)
{
	tcp_port_config_defaults(cfg);
	cfg->listen_host = "127.0.0.1";
	cfg->listen_port = listen_port;
	cfg->queue_count = 2;
}

static void teardown(void)
{
	if (harness_running) {
		echo_harness_stop(&harness);
		harness_running = false;
	}
	if (port_open) {
		port.ops->close(&port);
		port_open = false;
	}
}

/* Each test runs in its own process, which holds the ports until it exits. */
static void claim_ports(void)
{
	cr_assert_eq(test_ports_claim(16000, 20, 1, 120), 16000, "ports 16000-16019 stayed claimed");
}

TestSuite(tcp_port, .init = claim_ports, .fini = teardown, .timeout = 60);

/* The end of every test that opened the port: a clean close frees everything (criterion
 * ignores LeakSanitizer's exit code, so ask it here; a failure in .fini would not count). */
static void close_and_check(void)
{
	teardown();
	cr_expect(no_leaks_now(), "the port leaked (LeakSanitizer report above)");
}

static struct tcp_port_stats stats_now(void)
{
	struct tcp_port_stats s;
	cr_assert_eq(tcp_port_stats(&port, &s, NULL, 0, NULL), 0, "stats");
	return s;
}

/* Conditions for wait_until: a counter at least a value. */
struct at_least {
	size_t offset; /* of the uint64_t in struct tcp_port_stats */
	uint64_t value;
};

static bool stat_reached(void *arg)
{
	struct at_least *a = arg;
	struct tcp_port_stats s;
	if (tcp_port_stats(&port, &s, NULL, 0, NULL) != 0)
		return false;
	uint64_t v;
	memcpy(&v, (const uint8_t *)&s + a->offset, sizeof(v));
	return v >= a->value;
}

#define WAIT_STAT(field, at_least_value, ms)                                                              \
	do {                                                                                              \
		struct at_least a_ = {offsetof(struct tcp_port_stats, field), (at_least_value)};          \
		cr_assert(wait_until(stat_reached, &a_, (ms)), #field " did not reach %llu (is %llu)",   \
			  (unsigned long long)(at_least_value), (unsigned long long)stats_now().field);   \
	} while (0)

static bool answered_reached(void *arg)
{
	return atomic_load(&harness.answered) >= *(unsigned long *)arg;
}

static int run(const char *scenario, uint16_t p, const char *framing, int count, int stan)
{
	char port_text[16], count_text[16], stan_text[16];
	snprintf(port_text, sizeof(port_text), "%u", p);
	snprintf(count_text, sizeof(count_text), "%d", count);
	snprintf(stan_text, sizeof(stan_text), "%d", stan);
	const char *args[] = {scenario, "--port", port_text, "--framing", framing, "--count", count_text,
			      "--stan", stan_text, NULL};
	return client_run(args, CLIENT_TIMEOUT_MS);
}

Test(tcp_port, authorizations_round_trip)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16001);
	open_port(&cfg);
	cr_assert_eq(ntohs(port.local.sin_port), 16001);
	cr_assert_eq(run("auth", 16001, "binary2", 20, 100), 0);
	cr_assert_eq(atomic_load(&harness.answered), 20);
	WAIT_STAT(closed, 1, 5000);
	struct tcp_port_stats s = stats_now();
	cr_expect_eq(s.accepted, 1);
	cr_expect_eq(s.frames_in, 20);
	cr_expect_eq(s.frames_out, 20);
	cr_expect_eq(s.closed_by_peer, 1);
	cr_expect_eq(s.closed_mid_frame, 0);
	cr_expect_eq(s.connected_now, 0);
	cr_expect_eq(s.dropped_unknown_peer, 0);
	close_and_check();
}

Test(tcp_port, frame_split_byte_by_byte)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16002);
	open_port(&cfg);
	cr_assert_eq(run("split", 16002, "binary2", 1, 200), 0);
	cr_expect_eq(atomic_load(&harness.answered), 1);
	cr_expect_eq(atomic_load(&harness.malformed), 0);
	close_and_check();
}

Test(tcp_port, merged_frames_in_one_send)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16003);
	open_port(&cfg);
	cr_assert_eq(run("merged", 16003, "binary2", 6, 300), 0);
	cr_expect_eq(atomic_load(&harness.answered), 6);
	cr_expect_eq(stats_now().frames_in, 6);
	close_and_check();
}

Test(tcp_port, peer_disconnecting_mid_frame)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16004);
	open_port(&cfg);
	cr_assert_eq(run("midframe", 16004, "binary2", 1, 400), 0);
	WAIT_STAT(closed_mid_frame, 1, 5000);
	cr_expect_eq(atomic_load(&harness.answered), 0, "half a message reached a worker");
	/* The port carries on. */
	cr_assert_eq(run("auth", 16004, "binary2", 3, 410), 0);
	cr_expect_eq(atomic_load(&harness.answered), 3);
	cr_expect_eq(stats_now().closed_mid_frame, 1);
	close_and_check();
}

Test(tcp_port, keepalive_in_and_echo_answered_by_the_port)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16005);
	cfg.keepalive_interval_ms = 60000; /* none of ours in the way */
	open_port(&cfg);
	cr_assert_eq(run("echo", 16005, "binary2", 1, 500), 0);
	struct tcp_port_stats s = stats_now();
	cr_expect_eq(s.keepalives_in, 1);
	cr_expect_eq(s.echoes_answered, 1);
	cr_expect_eq(s.echoes_malformed, 0);
	cr_expect_eq(s.frames_in, 1, "only the 1100 is a message for the workers");
	cr_expect_eq(atomic_load(&harness.other_messages), 0, "the 1804 reached a worker");
	cr_expect_eq(atomic_load(&harness.answered), 1);
	close_and_check();
}

Test(tcp_port, keepalive_out_and_idle_timeout)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16006);
	cfg.keepalive_interval_ms = 100;
	cfg.idle_timeout_ms = 600;
	open_port(&cfg);
	cr_assert_eq(run("idle", 16006, "binary2", 1, 600), 0);
	struct tcp_port_stats s = stats_now();
	cr_expect_geq(s.keepalives_out, 1);
	cr_expect_eq(s.idle_timeouts, 1);
	cr_expect_eq(s.closed, 1);
	close_and_check();
}

Test(tcp_port, oversize_length_closes_the_link)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16007);
	open_port(&cfg);
	cr_assert_eq(run("oversize", 16007, "binary2", 1, 700), 0);
	WAIT_STAT(oversize, 1, 5000);
	cr_assert_eq(run("auth", 16007, "binary2", 2, 710), 0);
	cr_expect_eq(atomic_load(&harness.answered), 2);
	cr_expect_eq(stats_now().oversize, 1);
	close_and_check();
}

Test(tcp_port, ascii4_framing)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16008);
	cfg.listen_framing = FRAME_HEADER_ASCII4;
	open_port(&cfg);
	cr_assert_eq(run("auth", 16008, "ascii4", 5, 800), 0);
	cr_assert_eq(run("merged", 16008, "ascii4", 4, 810), 0);
	cr_assert_eq(run("echo", 16008, "ascii4", 1, 820), 0);
	cr_assert_eq(run("oversize", 16008, "ascii4", 1, 830), 0); /* "9999" > 4096 */
	WAIT_STAT(oversize, 1, 5000);
	cr_assert_eq(run("badheader", 16008, "ascii4", 1, 840), 0);
	WAIT_STAT(bad_header, 1, 5000);
	cr_expect_eq(atomic_load(&harness.answered), 5 + 4 + 1);
	cr_expect_eq(stats_now().echoes_answered, 1);
	close_and_check();
}

Test(tcp_port, unknown_peer_is_dropped_and_counted)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16009);
	cfg.ring_slots = 8;
	open_port(&cfg);
	struct sockaddr_in nobody = {.sin_family = AF_INET, .sin_port = htons(16499)};
	inet_pton(AF_INET, "127.0.0.1", &nobody.sin_addr);
	uint8_t frame[512];
	size_t len = build_framed_1100(frame, sizeof(frame), 900);
	cr_assert_gt(len, 0);
	cr_expect_eq(echo_harness_inject(&harness, &nobody, frame, len), 1, "taken, like a UDP send");
	WAIT_STAT(dropped_unknown_peer, 1, 5000);
	/* A datagram that does not split into frames is the caller's bug: counted too. */
	frame[0] = 0xFF;
	cr_expect_eq(echo_harness_inject(&harness, &nobody, frame, len), 1);
	WAIT_STAT(tx_malformed, 1, 5000);
	/* More frames in one datagram than the ring has slots (8): dropped for good, not refused. */
	uint8_t keepalives_and_more[40];
	for (size_t i = 0; i < sizeof(keepalives_and_more); i += 4) {
		frame_write_header(FRAME_HEADER_BINARY2, 2, keepalives_and_more + i);
		keepalives_and_more[i + 2] = keepalives_and_more[i + 3] = '0';
	}
	cr_expect_eq(echo_harness_inject(&harness, &nobody, keepalives_and_more, sizeof(keepalives_and_more)), 1);
	WAIT_STAT(tx_malformed, 2, 5000);
	close_and_check();
}

Test(tcp_port, message_longer_than_the_workers_buffer_arrives_empty)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16016);
	cfg.max_message = 8000; /* the port takes it; the harness's buffers hold 4098 bytes */
	cfg.ring_slots = 64;
	open_port(&cfg);
	const char *args[] = {"big", "--port", "16016", "--size", "5000", "--stan", "1600", NULL};
	cr_assert_eq(client_run(args, CLIENT_TIMEOUT_MS), 0);
	cr_expect_eq(stats_now().rx_truncated, 1);
	cr_expect_eq(atomic_load(&harness.malformed), 1);
	cr_expect_eq(atomic_load(&harness.answered), 1);
	close_and_check();
}

Test(tcp_port, worker_behind_stalls_the_link_without_losing_messages)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16017);
	cfg.queue_count = 1;
	cfg.ring_slots = 4;
	char err[256];
	cr_assert_eq(tcp_port_open(&port, &cfg, err, sizeof(err)), 0, "%s", err);
	port_open = true;
	/* No worker polls yet: 4 messages fill the ring, the link stops being read. */
	const char *args[] = {"merged", "--port", "16017", "--count", "40", "--stan", "1700", "--timeout", "15", NULL};
	pid_t pid = client_spawn(args);
	WAIT_STAT(rx_stalls, 1, 10000);
	cr_expect_eq(stats_now().frames_in, 4);
	echo_harness_start(&harness, &port);
	harness_running = true;
	cr_expect_eq(client_wait(pid, CLIENT_TIMEOUT_MS), 0, "messages were lost or never answered");
	cr_expect_eq(atomic_load(&harness.answered), 40);
	cr_expect_eq(atomic_load(&harness.tx_refused), 0);
	struct tcp_port_stats s = stats_now();
	cr_expect_eq(s.frames_in, 40);
	cr_expect_eq(s.frames_out, 40);
	close_and_check();
}

Test(tcp_port, outbound_reconnects_with_backoff_and_carries_both_ways)
{
	struct tcp_endpoint_config bank = {.host = "127.0.0.1", .port = 16010, .framing = FRAME_HEADER_BINARY2};
	struct tcp_port_config cfg;
	tcp_port_config_defaults(&cfg);
	cfg.outbound = &bank;
	cfg.outbound_count = 1;
	cfg.queue_count = 2;
	cfg.reconnect_initial_ms = 50;
	cfg.reconnect_max_ms = 400;
	int64_t started = test_now_ms();
	open_port(&cfg);

	/* Nobody listens yet: attempts fail, further and further apart. 50+100+200+400 ms, each
	 * at least 75% of it with the jitter, lie between the first and the fifth attempt. */
	WAIT_STAT(connect_failures, 5, 10000);
	uint64_t took = (uint64_t)(test_now_ms() - started);
	cr_expect_geq(took, 500, "5 failed attempts in %llu ms: no exponential backoff", (unsigned long long)took);
	struct tcp_port_stats s = stats_now();
	cr_expect_eq(s.connects, 0);

	/* A send while the link is down is dropped and counted, like UDP to a dead host. */
	uint8_t frame[512];
	size_t len = build_framed_1100(frame, sizeof(frame), 1000);
	struct sockaddr_in endpoint = {.sin_family = AF_INET, .sin_port = htons(16010)};
	inet_pton(AF_INET, "127.0.0.1", &endpoint.sin_addr);
	cr_expect_eq(echo_harness_inject(&harness, &endpoint, frame, len), 1);
	WAIT_STAT(dropped_not_connected, 1, 5000);

	/* The bank host comes up after the port: the port connects on its next attempt. */
	const char *args[] = {"server", "--port", "16010", "--count", "3", "--stan", "1010", "--expect-request",
			      "--timeout", "15", NULL};
	pid_t server = client_spawn(args);
	cr_assert_gt(server, 0);
	WAIT_STAT(connects, 1, 10000);
	unsigned long three = 3;
	cr_assert(wait_until(answered_reached, &three, 10000), "the server's requests were not answered");
	WAIT_STAT(echoes_answered, 1, 10000);
	/* Now the worker side starts a request of its own towards the endpoint. */
	len = build_framed_1100(frame, sizeof(frame), 1020);
	cr_expect_eq(echo_harness_inject(&harness, &endpoint, frame, len), 1);
	cr_assert_eq(client_wait(server, CLIENT_TIMEOUT_MS), 0, "the server scenario failed");

	struct tcp_link_stats links[4];
	size_t count = 0;
	cr_assert_eq(tcp_port_stats(&port, &s, links, 4, &count), 0);
	cr_assert_eq(count, 1);
	cr_expect(links[0].outbound);
	cr_expect_eq(ntohs(links[0].peer.sin_port), 16010);
	cr_expect_eq(links[0].frames_in, 3);
	cr_expect_eq(links[0].frames_out, 4);
	cr_expect_eq(links[0].echoes_answered, 1);
	cr_expect_eq(s.connects, 1);
	cr_expect_eq(s.reconnects, 0);
	close_and_check();
}

Test(tcp_port, outbound_link_lost_is_reconnected)
{
	struct tcp_endpoint_config bank = {.host = "127.0.0.1", .port = 16012, .framing = FRAME_HEADER_ASCII4};
	struct tcp_port_config cfg;
	tcp_port_config_defaults(&cfg);
	cfg.outbound = &bank;
	cfg.outbound_count = 1;
	cfg.reconnect_initial_ms = 50;
	cfg.reconnect_max_ms = 200;
	open_port(&cfg);
	for (int round = 0; round < 2; round++) {
		const char *args[] = {"server", "--port", "16012", "--framing", "ascii4", "--count", "2",
				      "--stan", round ? "1210" : "1200", NULL};
		cr_assert_eq(client_run(args, CLIENT_TIMEOUT_MS), 0, "round %d", round);
	}
	WAIT_STAT(connects, 2, 5000);
	struct tcp_port_stats s = stats_now();
	cr_expect_eq(s.reconnects, 1);
	cr_expect_eq(s.frames_in, 4);
	cr_expect_eq(atomic_load(&harness.answered), 4);
	close_and_check();
}

static bool all_links_connected(void *arg)
{
	struct tcp_port_stats s;
	return tcp_port_stats(&port, &s, NULL, 0, NULL) == 0 && s.connected_now >= *(uint64_t *)arg;
}

Test(tcp_port, outbound_link_per_queue_keeps_each_queues_traffic_on_its_link)
{
	struct tcp_endpoint_config sw = {.host = "127.0.0.1", .port = 16018, .framing = FRAME_HEADER_BINARY2};
	struct tcp_port_config cfg;
	tcp_port_config_defaults(&cfg);
	cfg.outbound = &sw;
	cfg.outbound_count = 1;
	cfg.outbound_link_per_queue = true;
	cfg.queue_count = 3;
	cfg.reconnect_initial_ms = 50;
	cfg.reconnect_max_ms = 200;
	open_port(&cfg);
	const char *args[] = {"servers", "--port", "16018", "--links", "3", "--stan", "1800", "--expect-request",
			      "--timeout", "15", NULL};
	pid_t pid = client_spawn(args);
	uint64_t three = 3;
	cr_assert(wait_until(all_links_connected, &three, 10000));
	unsigned long want = 3;
	cr_assert(wait_until(answered_reached, &want, 10000));
	/* Each link's request reached the worker of its own queue. */
	for (int q = 0; q < 3; q++)
		cr_expect_eq(atomic_load(&harness.answered_by_queue[q]), 1, "queue %d", q);
	/* Queue 0's worker sends to the endpoint: it leaves on queue 0's link only. */
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(16018)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	uint8_t frame[512];
	size_t len = build_framed_1100(frame, sizeof(frame), 1890);
	cr_expect_eq(echo_harness_inject(&harness, &to, frame, len), 1);
	cr_expect_eq(client_wait(pid, CLIENT_TIMEOUT_MS), 0);
	struct tcp_link_stats links[4];
	size_t count = 0;
	struct tcp_port_stats s;
	cr_assert_eq(tcp_port_stats(&port, &s, links, 4, &count), 0);
	cr_assert_eq(count, 3);
	for (size_t i = 0; i < count; i++) {
		cr_expect_eq(links[i].queue, i);
		cr_expect_eq(links[i].frames_in, 1);
		cr_expect_eq(links[i].frames_out, links[i].queue == 0 ? 2 : 1, "link of queue %u", links[i].queue);
	}
	close_and_check();
}

/* A connection to 127.0.0.1:p from fd (bound or not), with a 5 s receive timeout; -1 on failure. */
static int connect_fd_to(int fd, uint16_t p)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(p)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_to(uint16_t p)
{
	return connect_fd_to(socket(AF_INET, SOCK_STREAM, 0), p);
}

/* One 1100 on fd; true when a 1110 with its STAN comes back. */
static bool round_trip(int fd, unsigned stan)
{
	uint8_t frame[512], in[1024];
	size_t len = build_framed_1100(frame, sizeof(frame), stan);
	if (send(fd, frame, len, MSG_NOSIGNAL) != (ssize_t)len)
		return false;
	size_t have = 0;
	const uint8_t *msg;
	size_t msg_len, consumed;
	while (frame_next(FRAME_HEADER_BINARY2, in, have, ISO_MAX_MESSAGE, &msg, &msg_len, &consumed) != FRAME_OK) {
		ssize_t n = recv(fd, in + have, sizeof(in) - have, 0);
		if (n <= 0)
			return false;
		have += (size_t)n;
	}
	struct iso_msg m;
	struct iso_error err;
	char want[7];
	snprintf(want, sizeof(want), "%06u", stan);
	return iso_decode(&iso_profile_ascii, msg, msg_len, &m, &err) == ISO_OK && m.mti == 1110 &&
	       iso_field_equals(&m, 11, want);
}

static bool no_links_left(void *arg)
{
	(void)arg;
	struct tcp_port_stats s;
	return tcp_port_stats(&port, &s, NULL, 0, NULL) == 0 && s.links_now == 0;
}

Test(tcp_port, connection_churn_and_the_inbound_limit)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16019);
	cfg.max_inbound = 8;
	open_port(&cfg);
	/* 12 at once: 8 are served, 4 are closed at once. */
	int fds[12];
	for (int i = 0; i < 12; i++)
		cr_assert_geq(fds[i] = connect_to(16019), 0);
	WAIT_STAT(rejected_full, 4, 5000);
	int served = 0;
	for (int i = 0; i < 12; i++)
		served += round_trip(fds[i], 1900u + (unsigned)i);
	cr_expect_eq(served, 8);
	for (int i = 0; i < 12; i++)
		close(fds[i]);
	cr_assert(wait_until(no_links_left, NULL, 5000), "links were not freed");
	/* Slots and map entries are reused: many short connections, a few open at a time. */
	int ok = 0;
	for (int round = 0; round < 100; round++) {
		int a = connect_to(16019), b = connect_to(16019);
		ok += a >= 0 && b >= 0 && round_trip(a, 10000u + 2u * (unsigned)round) &&
		      round_trip(b, 10001u + 2u * (unsigned)round);
		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
	}
	cr_expect_eq(ok, 100);
	cr_assert(wait_until(no_links_left, NULL, 5000), "links were not freed");
	struct tcp_port_stats s = stats_now();
	cr_expect_eq(s.accepted, 8 + 200);
	cr_expect_eq(s.frames_in, 8 + 200);
	cr_expect_eq(s.rejected_full, 4);
	cr_expect_eq(s.dropped_unknown_peer, 0);
	close_and_check();
}

/* ---- a peer that never reads ---- */

struct stuck_peer {
	int fd;
	atomic_int stop;
	atomic_ulong sent;
	int last_errno;
};

static void *stuck_peer_main(void *arg)
{
	struct stuck_peer *p = arg;
	uint8_t frame[512];
	size_t len = build_framed_1100(frame, sizeof(frame), 7);
	int64_t started = test_now_ms();
	/* Bounded in count and time: enough answers to fill every buffer on the way several times. */
	while (!atomic_load(&p->stop) && atomic_load(&p->sent) < 20000 && test_now_ms() - started < 15000) {
		ssize_t n = send(p->fd, frame, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == (ssize_t)len) {
			atomic_fetch_add(&p->sent, 1);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			test_sleep_ms(1);
			continue;
		}
		p->last_errno = n < 0 ? errno : 0;
		break; /* reset by the port, or a short write that would break framing: stop */
	}
	return NULL;
}

static bool stuck_link_backed_up(void *arg)
{
	(void)arg;
	struct tcp_port_stats s;
	struct tcp_link_stats links[8];
	size_t count = 0;
	if (tcp_port_stats(&port, &s, links, 8, &count) != 0)
		return false;
	if (s.slow_peer_disconnects > 0)
		return true;
	for (size_t i = 0; i < count && i < 8; i++)
		if (links[i].output_buffered > 4096)
			return true;
	return false;
}

Test(tcp_port, stuck_peer_does_not_block_other_links)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16011);
	cfg.output_buffer_bytes = 16 * 1024;
	cfg.socket_buffer_bytes = 4096;
	open_port(&cfg);

	struct stuck_peer peer = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
	int small = 4096;
	setsockopt(peer.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(16011)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	cr_assert_eq(connect(peer.fd, (struct sockaddr *)&to, sizeof(to)), 0, "connect: %s", strerror(errno));
	pthread_t thread;
	pthread_create(&thread, NULL, stuck_peer_main, &peer);

	/* While the stuck link's answers pile up, another link is served at once. */
	cr_assert(wait_until(stuck_link_backed_up, NULL, 10000), "the stuck link never backed up");
	cr_expect_eq(run("auth", 16011, "binary2", 50, 1100), 0, "a healthy link was held up by a stuck one");
	WAIT_STAT(slow_peer_disconnects, 1, 10000);

	atomic_store(&peer.stop, 1);
	pthread_join(thread, NULL);
	close(peer.fd);
	struct tcp_port_stats s = stats_now();
	cr_expect_eq(s.slow_peer_disconnects, 1);
	cr_expect_geq(s.accepted, 2);
	close_and_check();
}

static uint64_t cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

Test(tcp_port, out_of_descriptors_parks_the_listener)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16015);
	open_port(&cfg);
	/* Client sockets made first: connecting needs no new descriptor. */
	int clients[3];
	for (int i = 0; i < 3; i++)
		clients[i] = socket(AF_INET, SOCK_STREAM, 0);
	int probe = dup(0);
	cr_assert_geq(probe, 0);
	close(probe);
	struct rlimit saved, tight;
	getrlimit(RLIMIT_NOFILE, &saved);
	tight = saved;
	tight.rlim_cur = (rlim_t)probe; /* every descriptor below is taken: accept() gets EMFILE */
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &tight), 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(16015)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(connect(clients[i], (struct sockaddr *)&to, sizeof(to)), 0, "%s", strerror(errno));
	WAIT_STAT(accept_errors, 1, 5000);
	/* A listener left in the epoll set would spin the I/O thread on a core. */
	int64_t wall0 = test_now_ms();
	uint64_t cpu0 = cpu_ms();
	test_sleep_ms(400);
	uint64_t cpu = cpu_ms() - cpu0, wall = (uint64_t)(test_now_ms() - wall0);
	cr_expect_lt(cpu * 2, wall, "%llu ms of CPU in %llu ms while out of descriptors", (unsigned long long)cpu,
		     (unsigned long long)wall);
	cr_expect_eq(stats_now().accepted, 0);
	/* Descriptors again: the waiting connections are taken and served. */
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &saved), 0);
	WAIT_STAT(accepted, 3, 5000);
	uint8_t frame[512], answer[512];
	size_t len = build_framed_1100(frame, sizeof(frame), 1500);
	cr_assert_eq(send(clients[0], frame, len, 0), (ssize_t)len);
	struct timeval tv = {.tv_sec = 5};
	setsockopt(clients[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	cr_expect_gt(recv(clients[0], answer, sizeof(answer), 0), 2, "no answer after the listener came back");
	for (int i = 0; i < 3; i++)
		close(clients[i]);
	close_and_check();
}

/* ---- configuration errors ---- */

Test(tcp_port_config, errors_are_reported)
{
	struct dgram_port p;
	char err[256];
	struct tcp_port_config cfg;

	tcp_port_config_defaults(&cfg);
	cr_expect_eq(tcp_port_open(&p, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "neither a listen address nor outbound endpoints"), "%s", err);

	listen_config(&cfg, 16013);
	cfg.queue_count = 0;
	cr_expect_eq(tcp_port_open(&p, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "queues"), "%s", err);

	listen_config(&cfg, 16013);
	cfg.listen_framing = FRAME_HEADER_ASCII4;
	cfg.max_message = 20000;
	cr_expect_eq(tcp_port_open(&p, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "ASCII"), "%s", err);

	struct tcp_endpoint_config twice[2] = {{"127.0.0.1", 16014, FRAME_HEADER_BINARY2},
					       {"127.0.0.1", 16014, FRAME_HEADER_BINARY2}};
	tcp_port_config_defaults(&cfg);
	cfg.outbound = twice;
	cfg.outbound_count = 2;
	cr_expect_eq(tcp_port_open(&p, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "listed twice"), "%s", err);

	/* The address is taken: a clear error, nothing leaked (ASan). */
	struct dgram_port first;
	listen_config(&cfg, 16013);
	cr_assert_eq(tcp_port_open(&first, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(tcp_port_open(&p, &cfg, err, sizeof(err)), -1);
	cr_expect(strstr(err, "cannot listen on TCP 127.0.0.1:16013"), "%s", err);
	first.ops->close(&first);

	struct tcp_port_stats s;
	struct dgram_port not_tcp = {0};
	cr_expect_eq(tcp_port_stats(&not_tcp, &s, NULL, 0, NULL), -1);
	cr_expect(no_leaks_now(), "a refused open leaked (LeakSanitizer report above)");
}

/* ---- idle links cannot lock acquirers out ---- */

static int connect_from(const char *source, uint16_t p)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in from = {.sin_family = AF_INET};
	inet_pton(AF_INET, source, &from.sin_addr);
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) != 0) {
		close(fd);
		return -1;
	}
	return connect_fd_to(fd, p);
}

static bool send_keepalive(int fd)
{
	static const uint8_t zero[2];
	return send(fd, zero, 2, MSG_NOSIGNAL) == 2;
}

Test(tcp_port, a_full_table_of_idle_links_gives_way_to_a_new_acquirer)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16010);
	cfg.max_inbound = 4;
	cfg.evict_idle_ms = 300;
	open_port(&cfg);
	/* Four links that only ever send keep-alives fill the table. */
	int idle[4];
	for (int i = 0; i < 4; i++) {
		cr_assert_geq(idle[i] = connect_to(16010), 0);
		cr_assert(send_keepalive(idle[i]));
	}
	WAIT_STAT(keepalives_in, 4, 5000);
	/* At once, nobody has been idle long enough: the newcomer is turned away... */
	int early = connect_to(16010);
	WAIT_STAT(rejected_full, 1, 5000);
	if (early >= 0)
		close(early);
	/* ... but keep-alives do not make a link busy: once the idlest has had no message for
	 * evict_idle_ms, it gives way and the newcomer is served. */
	int64_t deadline = test_now_ms() + 10000;
	bool served = false;
	for (unsigned attempt = 0; !served && test_now_ms() < deadline; attempt++) {
		for (int i = 0; i < 4; i++)
			send_keepalive(idle[i]);
		test_sleep_ms(100);
		int fd = connect_to(16010);
		served = fd >= 0 && round_trip(fd, 3000u + attempt);
		if (fd >= 0)
			close(fd);
	}
	cr_assert(served, "a new acquirer never got in");
	cr_expect_geq(stats_now().evicted_idle, 1);
	for (int i = 0; i < 4; i++)
		close(idle[i]);
	close_and_check();
}

Test(tcp_port, one_address_holds_only_its_share)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16012);
	cfg.max_inbound = 8;
	cfg.max_inbound_per_source = 2;
	cfg.evict_idle_ms = 60000;
	open_port(&cfg);
	int a[3];
	for (int i = 0; i < 3; i++)
		cr_assert_geq(a[i] = connect_from("127.0.0.2", 16012), 0);
	WAIT_STAT(rejected_per_source, 1, 5000);
	/* Another address still gets in, and is served. */
	int b = connect_from("127.0.0.3", 16012);
	cr_assert_geq(b, 0);
	cr_assert(round_trip(b, 4000));
	struct tcp_port_stats s = stats_now();
	cr_expect_eq(s.accepted, 3);
	cr_expect_eq(s.rejected_per_source, 1);
	cr_expect_eq(s.rejected_full, 0);
	for (int i = 0; i < 3; i++)
		close(a[i]);
	close(b);
	close_and_check();
}

Test(tcp_port, keepalives_alone_do_not_hold_a_link_forever)
{
	struct tcp_port_config cfg;
	listen_config(&cfg, 16014);
	cfg.quiet_timeout_ms = 400;
	open_port(&cfg);
	int fd = connect_to(16014);
	cr_assert_geq(fd, 0);
	cr_assert(round_trip(fd, 5000));
	/* Keep-alives every 100 ms keep the idle timeout away, not the quiet one. */
	int64_t deadline = test_now_ms() + 5000;
	while (stats_now().quiet_timeouts == 0 && test_now_ms() < deadline) {
		send_keepalive(fd);
		test_sleep_ms(100);
	}
	cr_assert_eq(stats_now().quiet_timeouts, 1);
	cr_expect_eq(stats_now().idle_timeouts, 0);
	close(fd);
	close_and_check();
}
