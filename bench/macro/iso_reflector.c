/*
 * iso-reflector: the cheapest possible "network" for measuring the load
 * generator itself. Decodes every 1100 and answers 1110/000 (1420: 1430/400)
 * on the same datagram path, with no checks, routing or storage, so that a
 * sweep against it shows the generator's and the kernel path's own ceiling.
 *
 *   iso-reflector --port N [--host A] [--seconds S]
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framing.h"
#include "idle_wait.h"
#include "iso8583.h"
#include "tsc_clock.h"
#include "udp_port.h"

static atomic_bool stop_requested;

static void on_signal(int signo)
{
	(void)signo;
	atomic_store(&stop_requested, true);
}

static size_t answer(const uint8_t *msg, size_t len, uint8_t *out, size_t capacity, uint64_t *bad)
{
	struct iso_msg m;
	struct iso_error e;
	if (iso_decode(&iso_profile_ascii, msg, len, &m, &e) != ISO_OK || (m.mti != 1100 && m.mti != 1420) ||
	    capacity < 2) {
		(*bad)++;
		return 0;
	}
	if (m.mti == 1100) {
		m.mti = 1110;
		iso_clear(&m, 14);
		iso_clear(&m, 22);
		iso_clear(&m, 24);
		iso_clear(&m, 42);
		iso_set(&m, 38, "R00001", 6);
		iso_set(&m, 39, "000", 3);
	} else {
		m.mti = 1430;
		iso_set(&m, 39, "400", 3);
	}
	size_t written;
	if (iso_encode(&iso_profile_ascii, &m, out + 2, capacity - 2, &written, &e) != ISO_OK) {
		(*bad)++;
		return 0;
	}
	frame_write_header(FRAME_HEADER_BINARY2, written, out);
	return written + 2;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	long port = 0, seconds = 600;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--port") == 0)
			port = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--host") == 0)
			host = argv[i + 1];
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = strtol(argv[i + 1], NULL, 10);
	}
	if (port <= 0 || port > 65535 || seconds <= 0) {
		fprintf(stderr, "usage: iso-reflector --port N [--host A] [--seconds S (default 600)]\n");
		return 2;
	}
	struct udp_port p;
	int rc = udp_port_open(&p, host, (uint16_t)port, 8 << 20);
	if (rc != 0) {
		fprintf(stderr, "iso-reflector: %s:%ld: %s\n", host, port, strerror(-rc));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	static uint8_t in[UDP_BURST][2048], out[UDP_BURST][UDP_DATAGRAM_MAX < 8192 ? UDP_DATAGRAM_MAX : 8192];
	struct udp_datagram rx[UDP_BURST], tx[UDP_BURST];
	for (int i = 0; i < UDP_BURST; i++) {
		rx[i].data = in[i];
		rx[i].capacity = sizeof in[i];
		tx[i].data = out[i];
		tx[i].capacity = sizeof out[i];
	}
	uint64_t answered = 0, bad = 0, deadline = tsc_now_ns() + (uint64_t)seconds * 1000000000u;
	/* Idle like the agents: a short adaptive spin, then a sleep on the socket (idle_wait.h). */
	struct idle_wait idle;
	char why[256];
	if (idle_wait_init(&idle, why, sizeof why) != 0 || idle_wait_add_fd(&idle, p.fd, why, sizeof why) != 0)
		fprintf(stderr, "iso-reflector: naps when idle: %s\n", why);
	/* Bounded in time like every load loop here, and it sleeps when idle. */
	while (!atomic_load(&stop_requested) && tsc_now_ns() < deadline) {
		int got = udp_port_rx_burst(&p, rx, UDP_BURST);
		if (got <= 0) {
			idle_wait_idle(&idle, IDLE_WAIT_FOREVER, NULL, NULL);
			continue;
		}
		idle_wait_busy(&idle);
		int n = 0;
		for (int i = 0; i < got; i++) {
			const uint8_t *buf = rx[i].data;
			size_t left = rx[i].length, used, msg_len;
			const uint8_t *msg;
			tx[n].peer = rx[i].peer;
			tx[n].length = 0;
			while (left > 0 &&
			       frame_next(FRAME_HEADER_BINARY2, buf, left, ISO_MAX_MESSAGE, &msg, &msg_len, &used) == FRAME_OK) {
				size_t k = answer(msg, msg_len, tx[n].data + tx[n].length, tx[n].capacity - tx[n].length, &bad);
				tx[n].length += k;
				answered += k > 0;
				buf += used;
				left -= used;
			}
			if (tx[n].length)
				n++;
		}
		udp_port_tx_burst(&p, tx, n);
	}
	fprintf(stderr, "iso-reflector: %llu answered, %llu bad\n", (unsigned long long)answered,
		(unsigned long long)bad);
	idle_wait_destroy(&idle);
	udp_port_close(&p);
	return 0;
}
