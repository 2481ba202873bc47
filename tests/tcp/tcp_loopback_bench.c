/*
 * Loopback measurement of the TCP port against a UDP port in the same run,
 * both polled by the same echo harness (one queue, one worker): client threads
 * keep a window of requests in flight per link and time each round trip.
 * Prints messages per second, round-trip percentiles, CPU per message and
 * the TCP/UDP ratio. Bounded: --messages per transport (default 100000) and
 * 30 s per transport at most.
 *
 *   tcp_loopback_bench [--links 4] [--window 16] [--messages 100000]
 */
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "echo_harness.h"
#include "framing.h"
#include "iso8583.h"
#include "socket_dgram_port.h"
#include "tcp_port.h"

#define TIME_CAP_NS 30000000000ull
#define MAX_WINDOW 256

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct client {
	bool tcp;
	uint16_t port;
	int window;
	unsigned messages;
	unsigned index;
	uint64_t *rtt_ns; /* one per message */
	unsigned done;
	uint64_t deadline;
};

static unsigned stan_of(const uint8_t *msg, size_t len)
{
	struct iso_msg m;
	struct iso_error err;
	uint64_t v;
	if (iso_decode(&iso_profile_ascii, msg, len, &m, &err) != ISO_OK || !iso_field_u64(&m, 11, &v))
		return UINT32_MAX;
	return (unsigned)v;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	int fd = socket(AF_INET, c->tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(c->port)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		perror("connect");
		close(fd);
		return NULL;
	}
	int one = 1;
	if (c->tcp)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	uint64_t sent_at[MAX_WINDOW];
	unsigned next = 0;
	uint8_t frame[512];
	uint8_t in[65536];
	size_t have = 0;
	/* STANs carry the client index in the top digits so that links never share one. */
	unsigned base = c->index * 100000u;
	while (c->done < c->messages && now_ns() < c->deadline) {
		while (next < c->messages && next - c->done < (unsigned)c->window) {
			size_t len = build_framed_1100(frame, sizeof(frame), base + next);
			sent_at[next % MAX_WINDOW] = now_ns();
			if (send(fd, frame, len, 0) != (ssize_t)len)
				goto out;
			next++;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 200) <= 0)
			continue; /* a lost UDP datagram: the window shrinks; the deadline ends the run */
		ssize_t n = recv(fd, in + have, sizeof(in) - have, 0);
		if (n <= 0)
			goto out;
		have += (size_t)n;
		uint64_t t = now_ns();
		size_t at = 0;
		const uint8_t *msg;
		size_t msg_len, consumed;
		while (frame_next(FRAME_HEADER_BINARY2, in + at, have - at, ISO_MAX_MESSAGE, &msg, &msg_len,
				  &consumed) == FRAME_OK) {
			at += consumed;
			unsigned s = stan_of(msg, msg_len);
			if (s == UINT32_MAX || s < base || s - base >= next)
				continue;
			c->rtt_ns[c->done++] = t - sent_at[(s - base) % MAX_WINDOW];
		}
		memmove(in, in + at, have - at);
		have -= at;
	}
out:
	close(fd);
	return NULL;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct result {
	double rate;
	uint64_t p50, p99, p999;
	double cpu_ns_per_msg;
	unsigned answered;
};

static struct result run(bool tcp, uint16_t port, int links, int window, unsigned messages)
{
	struct client clients[64];
	pthread_t threads[64];
	unsigned per_link = messages / (unsigned)links;
	uint64_t start = now_ns(), cpu0 = cpu_ns();
	for (int i = 0; i < links; i++) {
		clients[i] = (struct client){.tcp = tcp, .port = port, .window = window, .messages = per_link,
					     .index = (unsigned)i, .deadline = start + TIME_CAP_NS};
		clients[i].rtt_ns = calloc(per_link, sizeof(uint64_t));
		pthread_create(&threads[i], NULL, client_main, &clients[i]);
	}
	struct result r = {0};
	uint64_t *all = calloc(messages, sizeof(uint64_t));
	for (int i = 0; i < links; i++) {
		pthread_join(threads[i], NULL);
		memcpy(all + r.answered, clients[i].rtt_ns, clients[i].done * sizeof(uint64_t));
		r.answered += clients[i].done;
		free(clients[i].rtt_ns);
	}
	uint64_t elapsed = now_ns() - start, cpu = cpu_ns() - cpu0;
	qsort(all, r.answered, sizeof(uint64_t), compare_u64);
	if (r.answered) {
		r.p50 = all[r.answered / 2];
		r.p99 = all[(size_t)r.answered * 99 / 100];
		r.p999 = all[(size_t)r.answered * 999 / 1000];
		r.rate = r.answered / (elapsed / 1e9);
		r.cpu_ns_per_msg = (double)cpu / r.answered;
	}
	free(all);
	return r;
}

static void print(const char *name, const struct result *r)
{
	printf("%-4s answered %7u  %9.0f msg/s  rtt p50 %6.1f us  p99 %7.1f us  p99.9 %7.1f us  cpu %6.0f ns/msg\n",
	       name, r->answered, r->rate, r->p50 / 1e3, r->p99 / 1e3, r->p999 / 1e3, r->cpu_ns_per_msg);
}

int main(int argc, char **argv)
{
	int links = 4, window = 16;
	unsigned messages = 100000;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--links") == 0)
			links = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--window") == 0)
			window = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--messages") == 0)
			messages = (unsigned)atoi(argv[i + 1]);
	}
	if (links < 1 || links > 64 || window < 1 || window > MAX_WINDOW || messages < (unsigned)links ||
	    messages / (unsigned)links >= 100000u) {
		fprintf(stderr, "usage: %s [--links 1..64] [--window 1..256] [--messages N < links*100000]\n", argv[0]);
		return 2;
	}
	char err[256];
	struct dgram_port tcp, udp;
	struct tcp_port_config cfg;
	tcp_port_config_defaults(&cfg);
	cfg.listen_host = "127.0.0.1";
	cfg.listen_port = 16030;
	if (tcp_port_open(&tcp, &cfg, err, sizeof(err)) != 0 ||
	    socket_dgram_port_open(&udp, "127.0.0.1", 16031, 1, SOCKET_DGRAM_SHARED_PORT, 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "cannot open the ports: %s\n", err);
		return 1;
	}
	printf("%d links x window %d, %u messages per transport, 1 queue, 1 worker\n", links, window, messages);
	struct echo_harness h;
	echo_harness_start(&h, &udp);
	struct result u = run(false, 16031, links, window, messages);
	echo_harness_stop(&h);
	echo_harness_start(&h, &tcp);
	struct result t = run(true, 16030, links, window, messages);
	echo_harness_stop(&h);
	print("udp", &u);
	print("tcp", &t);
	if (u.rate > 0)
		printf("tcp/udp: rate %.2f, p50 %.2f, p99 %.2f, cpu per message %.2f\n", t.rate / u.rate,
		       (double)t.p50 / (double)u.p50, (double)t.p99 / (double)u.p99, t.cpu_ns_per_msg / u.cpu_ns_per_msg);
	struct tcp_port_stats s;
	if (tcp_port_stats(&tcp, &s, NULL, 0, NULL) == 0)
		printf("tcp port: frames in %llu out %llu, rx stalls %llu, tx ring full %llu\n",
		       (unsigned long long)s.frames_in, (unsigned long long)s.frames_out,
		       (unsigned long long)s.rx_stalls, (unsigned long long)s.tx_ring_full);
	tcp.ops->close(&tcp);
	udp.ops->close(&udp);
	return 0;
}
