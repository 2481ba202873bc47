#include "bank_io.h"

#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "clock_source.h"
#include "datagram_frames.h"
#include "tcp_edge.h"
#include "rules.h"
#include "salvage.h"

bool bank_io_mac_init(struct bank_io *io, struct bank_mac *mac)
{
	io->mac = mac;
	return iso_mac_view_init(&io->mac_view, &mac->keys);
}

void bank_io_mac_destroy(struct bank_io *io)
{
	if (io->mac)
		iso_mac_view_destroy(&io->mac_view);
}

/* An answer the I/O thread gives itself (904, 916), without the writer. */
static void answer_at_once(struct bank_io *io, struct bank_request *req, const char *action, int code)
{
	memcpy(req->action, action, 4);
	uint8_t frame[ISO_MAX_MESSAGE + 2];
	size_t n = bank_reply_encode(io->profile, req, frame, sizeof(frame));
	n = n ? bank_mac_seal(io->mac ? &io->mac_view : NULL, io->profile, req->mac_link, frame, n) : 0;
	if (n == 0) {
		stat_add(&io->stats->tx_dropped, 1);
		return;
	}
	if (code == 904)
		stat_add(&io->stats->malformed_answered, 1);
	stat_add(&io->stats->by_action[code], 1);
	reply_sender_add(io->sender, &req->peer, frame, n);
}

static void answer_format_error(struct bank_io *io, struct bank_request *req)
{
	answer_at_once(io, req, ACTION_FORMAT_ERROR, 904);
}

static void handle_message(struct bank_io *io, const struct sockaddr_in *peer, const uint8_t *msg, size_t len)
{
	struct iso_msg m;
	struct iso_error err;
	struct bank_request *req = &io->requests[io->pending];
	stat_add(&io->stats->received, 1);
	if (io->mac && !bank_mac_source_known(io->mac, peer, tcp_edge_peer_is_tcp(peer))) {
		/* Not from a network: not even a 904 (a stranger learns nothing). */
		stat_add(&io->stats->source_refused, 1);
		return;
	}
	if (iso_decode(io->profile, msg, len, &m, &err) != ISO_OK) {
		stat_add(&io->stats->malformed, 1);
		/* Enough readable before the fault to answer with 904? */
		uint8_t scratch[ISO_MAX_MESSAGE];
		if (len <= sizeof(scratch) && iso_salvage_decode(io->profile, msg, len, &err, scratch, &m) &&
		    bank_request_salvage(&m, req)) {
			/* Unreadable, so unchecked: its 904 goes with the key of the network it came from, if any. */
			req->mac_link = 0;
			req->peer = *peer;
			answer_format_error(io, req);
		}
		return;
	}
	int link = 0;
	if (io->mac) {
		/* Only a network's address, and only with its link's MAC: nothing else reaches the ledger. */
		switch (bank_mac_admit(io->mac, &io->mac_view, peer, tcp_edge_peer_is_tcp(peer), &m, msg, len, &link)) {
		case BANK_ADMITTED:
			break;
		case BANK_SOURCE_REFUSED:
			stat_add(&io->stats->source_refused, 1);
			return;
		case BANK_MAC_REFUSED:
			stat_add(&io->stats->mac_refused, 1);
			/* A request hears 916 (when it can be matched); nothing else happens. */
			if (bank_request_salvage(&m, req)) {
				req->peer = *peer;
				req->mac_link = (int8_t)link;
				answer_at_once(io, req, ACTION_MAC_INCORRECT, 916);
			}
			return;
		}
	}
	int bad_field;
	enum bank_parse_result parsed = bank_request_parse(&m, req, &bad_field);
	req->mac_link = (int8_t)link; /* the answer leaves on the link the request came on */
	switch (parsed) {
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
	io->received_ns = clock_monotonic_ns(); /* the start of the answer budget (bank_core.h) */
	if (io->mac)
		iso_mac_view_refresh(&io->mac_view); /* one atomic load unless the keys were reloaded */
	const uint8_t *msg;
	size_t msg_len;
	while (datagram_frames_next(&frames, &msg, &msg_len)) /* zero-length frames (keep-alives) skipped */
		handle_message(io, peer, msg, msg_len);
}

void bank_io_flush(struct bank_io *io)
{
	if (io->pending > 0) {
		/* Writer idle (a light load): commit and answer here, sparing its wake-up and ours. */
		if (!group_commit_run_inline(io->writer, io->requests, io->pending))
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
		if (bank_mac_reload_requested && io->mac) {
			/* SIGHUP: the MAC key file again; every thread picks the keys up at its next message. */
			bank_mac_reload_requested = 0;
			char err[512];
			if (iso_mac_keyring_reload(&io->mac->keys, err, sizeof(err)))
				fprintf(stderr, "bank-node: reloaded the MAC keys\n");
			else
				fprintf(stderr, "bank-node: MAC key reload failed, keeping the current keys: %s\n", err);
		}
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
