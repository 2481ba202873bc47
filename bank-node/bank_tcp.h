/*
 * The bank's TCP edge (docs/tcp.md): issuer links from switches (and any
 * ISO 8583 host) on the bank's tcp.listen. A second I/O thread polls the TCP
 * port with the same bank_io code as the UDP thread, so TCP requests get the
 * same checks and the same group-commit writer; peers are marked as TCP
 * (tcp_edge.h), so every sender puts their answers back on their link.
 *
 * TCP port queues: 0 this thread (requests in, 904 answers out), 1 the
 * group-commit writer's answers, 2 the fault-injection delay thread.
 */
#ifndef BANK_TCP_H
#define BANK_TCP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bank_stats.h"
#include "dgram_port.h"
#include "ecosystem_config.h"
#include "bank_mac.h"
#include "group_commit.h"
#include "iso8583.h"

#define BANK_TCP_QUEUE_IO 0
#define BANK_TCP_QUEUE_WRITER 1
#define BANK_TCP_QUEUE_DELAY 2

struct bank_tcp;

/* Opens the listener (no thread yet). listen_port >= 0 overrides the config's (0 picks one). */
struct bank_tcp *bank_tcp_open(const struct cfg_tcp *tcp, long listen_port, char *err, size_t err_size);
/* The TCP port, for the writer's and the delay thread's senders. */
struct dgram_port *bank_tcp_port(struct bank_tcp *t);
/* Starts the I/O thread: requests go to writer. Returns 0, or -1 with err. */
int bank_tcp_start(struct bank_tcp *t, struct group_commit *writer, struct bank_stats *stats, struct bank_mac *mac,
		   const struct iso_profile *profile, double drop_probability, uint64_t seed, char *err,
		   size_t err_size);
/* Stops the I/O thread (intake); the port stays open for the writer's last answers. */
void bank_tcp_stop(struct bank_tcp *t);
/* Prints the port's counters as one JSON line on stderr, closes the port, frees. NULL: nothing. */
void bank_tcp_close(struct bank_tcp *t);

#endif
