#include "bank_io.h"

#include <stdlib.h>
#include <string.h>

#include "datagram_frames.h"
#include "rules.h"
#include "salvage.h"
#include "tsc_clock.h"

static void answer_format_error(struct bank_io *io, struct bank_request *req)
{
	memcpy(req->action, ACTION_FORMAT_ERROR, 4);
	uint8_t frame[ISO_MAX_MESSAGE + 2];
	size_t n = bank_reply_encode(io->profile, req, frame, sizeof(frame));
	if (n == 0) {
		stat_add(&io->stats->tx_dropped, 1);
		return;
	}
	stat_add(&io->stats->malformed_answered, 1);
	stat_add(&io->stats->by_action[904], 1);
	reply_sender_add(io->sender, &req->peer, frame, n);
}

static void handle_message(struct bank_io *io, const struct sockaddr_in *peer, const uint8_t *msg, size_t len)
{
	struct iso_msg m;
	struct iso_error err;
	struct bank_request *req = &io->requests[io->pending];
	stat_add(&io->stats->received, 1);
	if (iso_decode(io->profile, msg, len, &m, &err) != ISO_OK) {
		stat_add(&io->stats->malformed, 1);
		/* Enough readable before the fault to answer with 904? */
		uint8_t scratch[ISO_MAX_MESSAGE];
		if (len <= sizeof(scratch) && iso_salvage_decode(io->profile, msg, len, &err, scratch, &m) &&
		    bank_request_salvage(&m, req)) {
			req->peer = *peer;
			answer_format_error(io, req);
		}
		return;
	}
	int bad_field;
	switch (bank_request_parse(&m, req, &bad_field)) {
	case PARSE_OK:
		break;
	case PARSE_REJECT:
		stat_add(&io->stats->malformed, 1);
		req->peer = *peer;
		answer_format_error(io, req);
		return;
	case PARSE_IGNORE:
		stat_add(&io->stats->ignored, 1);
		return;
	}
	if (fault_hit(&io->rng, io->drop_probability)) {
		stat_add(&io->stats->dropped_by_fault, 1);
		return;
	}
	req->peer = *peer;
	req->received_ns = io->received_ns;
	if (++io->pending == BANK_IO_BATCH)
		bank_io_flush(io);
}

void bank_io_datagram(struct bank_io *io, const struct sockaddr_in *peer, const uint8_t *data, size_t length)
{
	/* A datagram that does not split into whole frames is dropped whole (docs/protocol.md). */
	struct datagram_frames frames;
	if (!datagram_frames_open(&frames, data, length)) {
		stat_add(&io->stats->malformed, 1);
		return;
	}
	io->received_ns = tsc_clock_monotonic_ns(); /* the start of the answer budget (bank_core.h) */
	const uint8_t *msg;
	size_t msg_len;
	while (datagram_frames_next(&frames, &msg, &msg_len)) /* zero-length frames (keep-alives) skipped */
		handle_message(io, peer, msg, msg_len);
}

void bank_io_flush(struct bank_io *io)
{
	if (io->pending > 0) {
		group_commit_submit(io->writer, io->requests, io->pending);
		io->pending = 0;
	}
	reply_sender_flush(io->sender);
}

void bank_io_run(struct bank_io *io, volatile sig_atomic_t *stop)
{
	struct udp_datagram rx[UDP_BURST];
	uint8_t *buffers = malloc((size_t)UDP_BURST * UDP_DATAGRAM_MAX);
	if (!buffers)
		return;
	for (int i = 0; i < UDP_BURST; i++) {
		rx[i].data = buffers + (size_t)i * UDP_DATAGRAM_MAX;
		rx[i].capacity = UDP_DATAGRAM_MAX;
	}
	while (!*stop) {
		int n = udp_port_rx_burst(io->port, rx, UDP_BURST);
		if (n <= 0) {
			/* Idle: sleep in poll() until traffic, waking now and then to see *stop. */
			udp_port_wait(io->port, 100000);
			continue;
		}
		for (int i = 0; i < n; i++)
			bank_io_datagram(io, &rx[i].peer, rx[i].data, rx[i].length);
		bank_io_flush(io);
	}
	bank_io_flush(io);
	free(buffers);
}
