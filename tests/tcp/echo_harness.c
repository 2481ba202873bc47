#include "echo_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "framing.h"
#include "idle_backoff.h"
#include "iso8583.h"
#include "test_clock.h"
#include "udp_port.h"

#define BUFFER_BYTES (ISO_MAX_MESSAGE + 2)

struct worker_arg {
	struct echo_harness *h;
	uint16_t queue;
};

static struct worker_arg args[HARNESS_MAX_QUEUES];

static size_t answer_1100(const struct iso_msg *req, uint8_t *out, size_t capacity)
{
	struct iso_msg a;
	iso_msg_init(&a, 1110);
	static const int echoed[] = {2, 3, 4, 7, 11, 12, 32, 37, 41, 49};
	for (size_t i = 0; i < sizeof(echoed) / sizeof(echoed[0]); i++) {
		int f = echoed[i];
		if (iso_has(req, f)) {
			a.fields[f] = req->fields[f];
			a.present[f >> 3] |= (uint8_t)(1u << (f & 7));
		}
	}
	iso_set_str(&a, 39, "000");
	size_t written;
	struct iso_error err;
	if (capacity < 2 || iso_encode(&iso_profile_ascii, &a, out + 2, capacity - 2, &written, &err) != ISO_OK)
		return 0;
	frame_write_header(FRAME_HEADER_BINARY2, written, out);
	return written + 2;
}

static void send_injection(struct echo_harness *h)
{
	pthread_mutex_lock(&h->inject_lock);
	if (h->inject_ready) {
		uint8_t buf[512];
		memcpy(buf, h->inject_frame, h->inject_length);
		struct udp_datagram d = {.peer = h->inject_peer, .data = buf, .length = h->inject_length,
					 .capacity = sizeof(buf)};
		h->inject_ready = false;
		atomic_store(&h->inject_accepted, dgram_tx_burst(h->port, 0, &d, 1));
	}
	pthread_mutex_unlock(&h->inject_lock);
}

static void *worker_main(void *p)
{
	struct worker_arg *arg = p;
	struct echo_harness *h = arg->h;
	uint8_t *buffers = malloc((size_t)2 * UDP_BURST * BUFFER_BYTES);
	if (!buffers)
		return NULL;
	struct udp_datagram rx[UDP_BURST], tx[UDP_BURST];
	for (int i = 0; i < UDP_BURST; i++) {
		rx[i].data = buffers + (size_t)i * BUFFER_BYTES;
		rx[i].capacity = BUFFER_BYTES;
		tx[i].data = buffers + (size_t)(UDP_BURST + i) * BUFFER_BYTES;
		tx[i].capacity = BUFFER_BYTES;
	}
	struct idle_backoff backoff;
	idle_backoff_init(&backoff);
	while (!atomic_load(&h->stop)) {
		if (arg->queue == 0)
			send_injection(h);
		int n = dgram_rx_burst(h->port, arg->queue, rx, UDP_BURST);
		int out = 0;
		for (int i = 0; i < n; i++) {
			if (rx[i].length == 0) {
				atomic_fetch_add(&h->malformed, 1); /* cut by the port: did not fit */
				continue;
			}
			const uint8_t *msg;
			size_t msg_len, consumed;
			for (size_t at = 0; at < rx[i].length; at += consumed) {
				if (frame_next(FRAME_HEADER_BINARY2, rx[i].data + at, rx[i].length - at, ISO_MAX_MESSAGE,
					       &msg, &msg_len, &consumed) != FRAME_OK) {
					atomic_fetch_add(&h->malformed, 1);
					break;
				}
				struct iso_msg m;
				struct iso_error err;
				if (iso_decode(&iso_profile_ascii, msg, msg_len, &m, &err) != ISO_OK) {
					atomic_fetch_add(&h->malformed, 1);
					continue;
				}
				if (m.mti != 1100) {
					atomic_fetch_add(&h->other_messages, 1);
					continue;
				}
				size_t len = answer_1100(&m, tx[out].data, tx[out].capacity);
				if (len) {
					tx[out].peer = rx[i].peer;
					tx[out].length = len;
					out++;
					atomic_fetch_add(&h->answered, 1);
					atomic_fetch_add(&h->answered_by_queue[arg->queue], 1);
				}
			}
		}
		if (out > 0) {
			/* A full queue refuses the tail of a burst: let the port drain and retry, bounded
			 * in time (2 s), not in tries: dgram_wait returns at once while rx has messages,
			 * so a count of tries runs out in microseconds when the I/O thread is descheduled. */
			int sent = 0;
			for (int waited_us = 0; sent < out && waited_us <= 2000000; waited_us += 50) {
				if (waited_us > 0)
					nanosleep(&(struct timespec){.tv_nsec = 50000}, NULL);
				int n_sent = dgram_tx_burst(h->port, arg->queue, tx + sent, out - sent);
				sent += n_sent > 0 ? n_sent : 0;
			}
			if (sent < out)
				atomic_fetch_add(&h->tx_refused, (unsigned long)(out - sent));
		}
		if (n > 0) {
			idle_backoff_reset(&backoff);
			continue;
		}
		uint64_t ns = idle_backoff_next(&backoff);
		if (ns)
			dgram_wait(h->port, arg->queue, (int)(ns / 1000));
	}
	free(buffers);
	return NULL;
}

void echo_harness_start(struct echo_harness *h, struct dgram_port *port)
{
	memset(h, 0, sizeof(*h));
	h->port = port;
	h->queues = port->queue_count > HARNESS_MAX_QUEUES ? HARNESS_MAX_QUEUES : port->queue_count;
	pthread_mutex_init(&h->inject_lock, NULL);
	atomic_store(&h->inject_accepted, -1);
	for (uint16_t q = 0; q < h->queues; q++) {
		args[q].h = h;
		args[q].queue = q;
		pthread_create(&h->threads[q], NULL, worker_main, &args[q]);
	}
}

void echo_harness_stop(struct echo_harness *h)
{
	atomic_store(&h->stop, 1);
	for (uint16_t q = 0; q < h->queues; q++)
		pthread_join(h->threads[q], NULL);
	pthread_mutex_destroy(&h->inject_lock);
}

int echo_harness_inject(struct echo_harness *h, const struct sockaddr_in *peer, const uint8_t *frame, size_t length)
{
	if (length > sizeof(h->inject_frame))
		return -1;
	pthread_mutex_lock(&h->inject_lock);
	atomic_store(&h->inject_accepted, -1);
	h->inject_peer = *peer;
	memcpy(h->inject_frame, frame, length);
	h->inject_length = length;
	h->inject_ready = true;
	pthread_mutex_unlock(&h->inject_lock);
	for (int i = 0; i < 2000 && atomic_load(&h->inject_accepted) < 0; i++)
		test_sleep_ms(1);
	return atomic_load(&h->inject_accepted);
}

size_t build_framed_1100(uint8_t *out, size_t capacity, unsigned stan)
{
	char stan_text[7], rrn[13];
	snprintf(stan_text, sizeof(stan_text), "%06u", stan % 1000000u);
	snprintf(rrn, sizeof(rrn), "RRN%09u", stan % 1000000000u);
	struct iso_msg m;
	iso_msg_init(&m, 1100);
	iso_set_str(&m, 2, "5105100000000001");
	iso_set_str(&m, 3, "000000");
	iso_set_str(&m, 4, "000000001000");
	iso_set_str(&m, 7, "1125120000");
	iso_set_str(&m, 11, stan_text);
	iso_set_str(&m, 12, "261125120000");
	iso_set_str(&m, 24, "100");
	iso_set_str(&m, 32, "12345");
	iso_set_str(&m, 37, rrn);
	iso_set_str(&m, 41, "TERM0001");
	iso_set_str(&m, 49, "978");
	size_t written;
	struct iso_error err;
	if (capacity < 2 || iso_encode(&iso_profile_ascii, &m, out + 2, capacity - 2, &written, &err) != ISO_OK)
		return 0;
	frame_write_header(FRAME_HEADER_BINARY2, written, out);
	return written + 2;
}
