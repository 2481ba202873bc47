/*
 * TCP edge as a dgram_port (dgram_port.h): standard ISO 8583 hosts keep
 * long-lived TCP links to the switch or a bank node, and the workers see them
 * exactly like UDP datagrams, so a program gets a TCP edge by polling one more
 * dgram_port with the code it already has.
 *
 * Datagram view (the same contract as UDP, docs/protocol.md):
 *   rx  each received message arrives as one datagram holding one frame with a
 *       2-byte big-endian header, whatever the link's own framing; the peer is
 *       the connection's remote address (inbound) or the configured endpoint
 *       (outbound); rx_realtime_ns is its arrival stamp (rx_arrival_stamps) or 0. A message that does not fit the caller's buffer arrives
 *       with length 0 (as udp_port does), and is counted.
 *   tx  a datagram holds one or more frames with 2-byte headers, sent to the
 *       link whose peer is d.peer, re-framed in the link's own framing. An
 *       unknown or disconnected peer: the datagram counts as sent and its
 *       frames are dropped and counted, as a UDP send to a dead host would be.
 *       A full queue: tx_burst returns the prefix it took, like a DPDK burst.
 *
 * One I/O thread runs every socket (epoll, non-blocking, frame_reader
 * reassembly, a bounded output buffer per link) and trades whole messages
 * with the workers over per-queue SPSC rings of preallocated slots
 * (tcp_ring.h). The link level stays inside the port: zero-length keep-alive
 * frames, 1804 echo requests (answered 1814), idle timeouts, reconnects.
 * docs/tcp.md has the design and the meaning of every counter.
 */
#ifndef TCP_PORT_H
#define TCP_PORT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dgram_port.h"
#include "framing.h"
#include "iso8583.h"

#define TCP_PORT_MAX_QUEUES 64
#define TCP_PORT_MAX_ENDPOINTS 256

struct tcp_endpoint_config {
	const char *host; /* dotted IPv4 or a resolvable name */
	uint16_t port;
	enum frame_header framing;
};

struct tcp_port_config {
	/* Inbound: acquirers or cardholders connect here. NULL: no listener. Port 0 picks one
	 * (dgram_port.local then holds it). */
	const char *listen_host;
	uint16_t listen_port;
	enum frame_header listen_framing;
	uint32_t max_inbound; /* connections held at once; more are accepted and closed at once */
	/* Inbound links from one IP address at once (0: max_inbound). When a new connection
	 * finds the table (or its address's share) full, the link that has gone longest without
	 * a message (keep-alives do not count) gives way, if that is at least evict_idle_ms;
	 * otherwise the new connection is closed. So idle links cannot lock acquirers out. */
	uint32_t max_inbound_per_source;
	uint32_t evict_idle_ms;

	/* Outbound: hosts the port keeps a link to (bank hosts), reconnecting forever. */
	const struct tcp_endpoint_config *outbound;
	size_t outbound_count;
	/* false: one link per endpoint, its messages go to one queue chosen by hashing the
	 *        endpoint; any queue may send on it.
	 * true:  one link per endpoint and queue: queue q sends on its own link and receives
	 *        that link's messages (answers come back to the thread that sent the request,
	 *        as the load generator needs). */
	bool outbound_link_per_queue;
	uint32_t reconnect_initial_ms; /* first retry after a failure or a loss */
	uint32_t reconnect_max_ms;     /* the doubling stops here; each wait gets +-25% jitter */
	uint32_t connect_timeout_ms;   /* a connect still pending after this is abandoned */

	uint16_t queue_count; /* = worker count: each queue has one sending and one receiving thread */
	/* Inbound messages are spread over queues [0, rx_queues) only (0: all). For a program whose
	 * extra threads send but never poll (the bank's group-commit writer has its own tx queue). */
	uint16_t rx_queues;
	size_t max_message;   /* bytes; a larger announced length closes the link (counted) */
	const struct iso_profile *profile; /* to read and answer 1804 echoes; NULL: iso_profile_ascii */

	uint32_t keepalive_interval_ms; /* zero-length frame on a link silent this long; 0: never */
	uint32_t idle_timeout_ms;       /* a link that received nothing this long is closed; 0: never */
	uint32_t quiet_timeout_ms;      /* an inbound link without a message this long (keep-alives
					 * do not count) is closed; 0: never */

	uint32_t ring_slots;        /* per queue and direction */
	uint32_t tx_full_wait_ms;   /* a worker finding its send ring full waits this long for room
				     * (the I/O thread is behind) before the datagram counts as
				     * tx_ring_full and is not sent */
	size_t output_buffer_bytes; /* per link; a peer that lets it fill is disconnected */
	int socket_buffer_bytes;    /* SO_SNDBUF/SO_RCVBUF on links; 0: kernel default */
	/* Inbound links ask the kernel for arrival stamps (SO_TIMESTAMPNS): each message read from
	 * them carries, in rx_realtime_ns, the stamp of the newest segment the read that completed
	 * it consumed (CLOCK_REALTIME ns), so a message is never older than it says. Same recvmsg,
	 * no extra system call. Off: rx_realtime_ns is 0. Outbound links are never stamped. */
	bool rx_arrival_stamps;
};

/* Fills every field with its default (docs/tcp.md): no listener, no endpoints, 1 queue,
 * BINARY2 framing, ISO_MAX_MESSAGE, keep-alive 30 s, idle timeout 90 s, ... */
void tcp_port_config_defaults(struct tcp_port_config *cfg);

/*
 * Opens the listener, starts the I/O thread (which starts connecting to the endpoints)
 * and fills *out. Returns 0, or -1 with a reason in err. Close with out->ops->close(out).
 */
int tcp_port_open(struct dgram_port *out, const struct tcp_port_config *cfg, char *err, size_t err_size);

enum tcp_link_state {
	TCP_LINK_CONNECTED,
	TCP_LINK_CONNECTING,   /* outbound: connect() in progress */
	TCP_LINK_WAITING,      /* outbound: waiting for the next attempt */
};

struct tcp_link_stats {
	struct sockaddr_in peer; /* remote address (inbound) or the endpoint (outbound) */
	bool outbound;
	uint8_t state; /* enum tcp_link_state */
	uint16_t queue;
	uint64_t frames_in, frames_out; /* messages, keep-alives and echoes excluded */
	uint64_t bytes_in, bytes_out;
	uint64_t keepalives_in, keepalives_out;
	uint64_t echoes_answered;
	uint64_t connects; /* outbound: successful connects of this link */
	uint64_t connect_failures;
	uint64_t output_buffered; /* bytes waiting in the output buffer now */
};

struct tcp_port_stats {
	uint64_t accepted;            /* inbound connections taken */
	uint64_t rejected_full;       /* inbound connections closed at once: max_inbound reached */
	uint64_t rejected_per_source; /* ... max_inbound_per_source reached for their address */
	uint64_t evicted_idle;        /* inbound links closed to make room: longest without a message */
	uint64_t quiet_timeouts;      /* inbound links closed: no message for quiet_timeout_ms */
	uint64_t rx_paused_tx_backlog; /* times inbound reading paused: a send ring was half full */
	uint64_t accept_errors;       /* accept() failed (out of descriptors): listener paused 20 ms */
	uint64_t closed;              /* links closed, any reason, either side */
	uint64_t closed_by_peer;      /* the peer closed or reset the link */
	uint64_t closed_mid_frame;    /* ... with part of a frame received */
	uint64_t idle_timeouts;       /* closed: nothing received for idle_timeout_ms */
	uint64_t oversize;            /* closed: announced length above max_message */
	uint64_t bad_header;          /* closed: ASCII4 header with a non-digit */
	uint64_t slow_peer_disconnects; /* closed: output buffer full */
	uint64_t connect_attempts, connects, connect_failures;
	uint64_t reconnects;          /* successful connects after the first one of a link */
	uint64_t frames_in, frames_out;
	uint64_t bytes_in, bytes_out;
	uint64_t keepalives_in, keepalives_out;
	uint64_t echoes_answered;
	uint64_t echoes_malformed;    /* 1804 that did not decode: dropped */
	uint64_t dropped_unknown_peer;   /* worker frames to a peer without a link */
	uint64_t dropped_not_connected;  /* worker frames to an endpoint whose link is down */
	uint64_t closed_with_output;     /* links closed with bytes still unsent (lost with them) */
	uint64_t tx_malformed;        /* worker datagrams that do not split into frames, or hold
				       * more frames than the ring (consumed and dropped) */
	uint64_t tx_ring_full;        /* worker datagrams refused: the queue's ring stayed full
				       * (TCP_TX_FULL_WAIT_US) */
	uint64_t rx_truncated;        /* messages longer than the worker's buffer (length 0) */
	uint64_t rx_stalls;           /* times a link stopped reading: its queue's ring was full */
	uint64_t links_now;           /* links in the table now (connected or not) */
	uint64_t connected_now;
};

/*
 * A consistent snapshot taken by the I/O thread: totals into *totals, and up to
 * max_links links into links (may be NULL); *link_count (may be NULL) gets how many
 * links exist. Waits at most about a second for the I/O thread; returns 0, or -1 if
 * the port is not a TCP port or its thread did not answer.
 */
int tcp_port_stats(struct dgram_port *p, struct tcp_port_stats *totals, struct tcp_link_stats *links,
		   size_t max_links, size_t *link_count);

/* The outbound endpoints' addresses (fixed at open, safe from any thread); returns their count. */
size_t tcp_port_endpoints(const struct dgram_port *p, struct sockaddr_in *out, size_t max);
/* True when queue q has messages waiting (a hint for composite ports' wait()). */
bool tcp_port_rx_pending(struct dgram_port *p, uint16_t q);
/* True when p is a TCP port. */
bool tcp_port_is(const struct dgram_port *p);

#endif
