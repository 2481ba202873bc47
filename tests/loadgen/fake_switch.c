#include "fake_switch.h"

#include <string.h>

#include "framing.h"
#include "iso8583.h"

static size_t encode_framed(const struct iso_msg *m, uint8_t *out, size_t capacity)
{
	struct iso_error e;
	size_t written = 0;
	if (iso_encode(&iso_profile_ascii, m, out + 2, capacity - 2, &written, &e) != ISO_OK)
		return 0;
	frame_write_header(FRAME_HEADER_BINARY2, written, out);
	return written + 2;
}

/* Appends the answer to msg (a decoded 1100 or 1420) to out; returns bytes added. */
static size_t answer(struct fake_switch *s, const struct iso_msg *request, uint8_t *out, size_t capacity, int *copies)
{
	struct iso_msg m = *request;
	uint64_t stan = 0, amount = 0;
	*copies = 1;
	if (!iso_field_u64(request, 11, &stan)) {
		s->malformed++;
		return 0;
	}
	if (request->mti == 1420 && stan % 3 == 0) {
		s->reversals++;
		s->reversals_ignored++;
		return 0;
	}
	if (request->mti == 1420 || request->mti == 1421) {
		if (request->mti == 1420)
			s->reversals++;
		else
			s->repeats++;
		m.mti = 1430;
		bool busy = request->mti == 1420 && stan % 3 == 1;
		if (busy)
			s->reversals_busy++;
		iso_set(&m, 39, busy ? "909" : "400", 3);
		return encode_framed(&m, out, capacity);
	}
	if (request->mti != 1100) {
		s->malformed++;
		return 0;
	}
	s->requests++;
	if (stan % 10 == 7) {
		s->dropped++;
		return 0;
	}
	m.mti = 1110;
	/* The answer echoes what protocol.md lists and drops the rest. */
	iso_clear(&m, 14);
	iso_clear(&m, 22);
	iso_clear(&m, 24);
	iso_clear(&m, 42);
	if (stan % 10 == 3) {
		s->declined++;
		iso_set(&m, 39, "116", 3);
	} else if (stan % 10 == 9) {
		s->issuer_timed_out++;
		iso_set(&m, 39, "911", 3);
	} else {
		s->approved++;
		iso_field_u64(request, 4, &amount);
		s->approved_amount += amount;
		iso_set(&m, 39, "000", 3);
		iso_set(&m, 38, "A1B2C3", 6);
		if (stan % 50 == 1) {
			s->duplicated++;
			*copies = 2;
		}
	}
	return encode_framed(&m, out, capacity);
}

/* The bad-input script: triggered by the STAN of the first request of a datagram. */
static void send_garbage_if_asked(struct fake_switch *s, const struct udp_datagram *request)
{
	const uint8_t *msg;
	size_t len, used;
	struct iso_msg m;
	struct iso_error e;
	uint64_t stan;
	if (frame_next(FRAME_HEADER_BINARY2, request->data, request->length, ISO_MAX_MESSAGE, &msg, &len, &used) !=
		    FRAME_OK ||
	    iso_decode(&iso_profile_ascii, msg, len, &m, &e) != ISO_OK || m.mti != 1100 ||
	    !iso_field_u64(&m, 11, &stan) || stan % 100 != 11)
		return;
	static const uint8_t not_a_frame[] = {0xff, 0xff, 'x'};
	static const uint8_t not_iso[] = {0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
	uint8_t stranger[1024];
	struct iso_msg answer = m;
	answer.mti = 1110;
	iso_set(&answer, 37, "999999999999", 12);
	iso_set(&answer, 39, "000", 3);
	size_t stranger_len = encode_framed(&answer, stranger, sizeof stranger);
	struct udp_datagram d[3] = {
		{.peer = request->peer, .data = (uint8_t *)not_a_frame, .length = sizeof not_a_frame},
		{.peer = request->peer, .data = (uint8_t *)not_iso, .length = sizeof not_iso},
		{.peer = request->peer, .data = stranger, .length = stranger_len},
	};
	if (udp_port_tx_burst(&s->port, d, 3) == 3) {
		s->garbage_datagrams++;
		s->garbage_frames++;
		s->strangers++;
	}
}

static void *fake_switch_main(void *arg)
{
	struct fake_switch *s = arg;
	static __thread uint8_t in[UDP_BURST][2048], out[UDP_BURST][4096];
	struct udp_datagram rx[UDP_BURST], tx[UDP_BURST];
	for (int i = 0; i < UDP_BURST; i++) {
		rx[i].data = in[i];
		rx[i].capacity = sizeof in[i];
		tx[i].data = out[i];
		tx[i].capacity = sizeof out[i];
	}
	while (!atomic_load(&s->stop)) {
		int got = udp_port_rx_burst(&s->port, rx, UDP_BURST);
		if (got <= 0) {
			udp_port_wait(&s->port, 1000);
			continue;
		}
		int n_tx = 0;
		for (int i = 0; i < got; i++) {
			const uint8_t *buf = rx[i].data;
			size_t left = rx[i].length;
			tx[n_tx].peer = rx[i].peer;
			tx[n_tx].length = 0;
			while (left > 0) {
				const uint8_t *msg;
				size_t len, used;
				if (frame_next(FRAME_HEADER_BINARY2, buf, left, ISO_MAX_MESSAGE, &msg, &len, &used) != FRAME_OK) {
					s->malformed++;
					break;
				}
				struct iso_msg m;
				struct iso_error e;
				if (iso_decode(&iso_profile_ascii, msg, len, &m, &e) != ISO_OK) {
					s->malformed++;
				} else {
					int copies;
					size_t room = sizeof out[0] - tx[n_tx].length;
					size_t k = answer(s, &m, tx[n_tx].data + tx[n_tx].length, room / 2, &copies);
					if (k && copies == 2)
						memcpy(tx[n_tx].data + tx[n_tx].length + k, tx[n_tx].data + tx[n_tx].length, k);
					tx[n_tx].length += k * (size_t)copies;
				}
				buf += used;
				left -= used;
			}
			if (tx[n_tx].length > 0)
				n_tx++;
		}
		if (n_tx)
			udp_port_tx_burst(&s->port, tx, n_tx);
		for (int i = 0; i < got; i++)
			send_garbage_if_asked(s, &rx[i]);
	}
	return NULL;
}

int fake_switch_start(struct fake_switch *s, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	int rc = udp_port_open(&s->port, "127.0.0.1", port, 4 << 20);
	if (rc != 0)
		return rc;
	atomic_init(&s->stop, false);
	rc = pthread_create(&s->thread, NULL, fake_switch_main, s);
	if (rc != 0) {
		udp_port_close(&s->port);
		return -rc;
	}
	return 0;
}

void fake_switch_stop(struct fake_switch *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	udp_port_close(&s->port);
}
