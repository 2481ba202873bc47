/*
 * An I/O thread of the bank: receives datagrams in bursts, splits them into
 * frames, decodes and checks each message, and hands the requests to the
 * group-commit writer. Malformed input never reaches the writer: it is
 * counted, and answered with 904 when the MTI and DE 11, 37, 41 are readable.
 */
#ifndef BANK_IO_H
#define BANK_IO_H

#include <signal.h>
#include <stddef.h>

#include "bank_mac.h"
#include "bank_request.h"
#include "bank_stats.h"
#include "faults.h"
#include "group_commit.h"
#include "iso8583.h"
#include "reply_sender.h"
#include "udp_port.h"

#define BANK_IO_BATCH 256 /* requests handed to the writer at once */

struct bank_io {
	struct udp_port *port;
	struct group_commit *writer;
	struct bank_stats *stats;
	const struct iso_profile *profile;
	struct reply_sender *sender; /* this thread's own, for 904 and 916 answers */
	struct bank_mac *mac;        /* source and MAC checks; NULL: none (tests of the parts) */
	struct iso_mac_view mac_view; /* this thread's keyed contexts (bank_io_mac_init) */
	struct fault_rng rng;
	double drop_probability;
	/* filled by bank_io_datagram, handed to the writer by bank_io_flush */
	uint64_t received_ns; /* arrival of the datagram being handled */
	size_t pending;
	struct bank_request requests[BANK_IO_BATCH];
};

/* Gives io its source and MAC checks (before its thread runs). False if out of memory. */
bool bank_io_mac_init(struct bank_io *io, struct bank_mac *mac);
void bank_io_mac_destroy(struct bank_io *io);

/* Handles one datagram's frames; requests go to io->requests (flushed when full). */
void bank_io_datagram(struct bank_io *io, const struct sockaddr_in *peer, const uint8_t *data, size_t length);
/* Hands pending requests to the writer and sends pending 904 answers. */
void bank_io_flush(struct bank_io *io);
/* Receives until *stop is set; backs off in poll() when idle. */
void bank_io_run(struct bank_io *io, volatile sig_atomic_t *stop);

#endif
