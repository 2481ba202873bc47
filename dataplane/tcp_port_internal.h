/*
 * What the TCP port's worker side (tcp_port.c) and its I/O thread (tcp_io.c)
 * share. Not for users of the port: tcp_port.h is the interface.
 */
#ifndef TCP_PORT_INTERNAL_H
#define TCP_PORT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "framing.h"
#include "tcp_peer_map.h"
#include "tcp_port.h"
#include "tcp_ring.h"

/* A message between the I/O thread and a worker, in a ring slot (no frame header). */
struct tcp_slot {
	struct sockaddr_in peer;
	uint64_t rx_realtime_ns; /* arrival stamp (rx_arrival_stamps), else 0 */
	uint32_t length;
	uint8_t data[];
};

struct tcp_queue {
	struct tcp_ring rx; /* I/O thread -> worker */
	struct tcp_ring tx; /* worker -> I/O thread */
	int wake_fd;        /* eventfd the worker sleeps on in wait() */
	_Atomic int worker_waiting;
	_Atomic int wake_written; /* the I/O thread wrote wake_fd: the worker's disarm reads it */
	/* written by the queue's worker only */
	_Atomic uint64_t tx_ring_full, tx_malformed, rx_truncated;
};

struct tcp_endpoint {
	struct sockaddr_in addr;
	enum frame_header framing;
	uint32_t first_link; /* index in links */
	uint32_t link_count; /* 1, or queue_count with outbound_link_per_queue */
};

struct tcp_link {
	int fd; /* -1 when not connected */
	bool in_use;   /* inbound: slot taken; outbound: always */
	bool outbound;
	bool rx_paused; /* stopped reading: the queue's rx ring was full */
	bool want_out;  /* EPOLLOUT registered */
	bool dirty;     /* in the flush list */
	bool ever_connected;
	bool rx_stamped; /* inbound, SO_TIMESTAMPNS on: reads go through recvmsg */
	uint8_t state;  /* enum tcp_link_state */
	uint32_t generation; /* bumped at every (re)open: tells stale epoll events apart */
	enum frame_header framing;
	uint16_t queue;
	struct sockaddr_in peer;
	struct frame_reader reader;
	uint8_t *in_buf;
	size_t in_cap;
	uint8_t *out;
	size_t out_start, out_end;
	uint64_t last_rx_ms, last_tx_ms;
	uint64_t last_message_ms; /* last message or echo in (keep-alives do not count): eviction, quiet timeout */
	uint64_t connect_started_ms, next_attempt_ms;
	uint64_t rx_stamp_ns; /* kernel stamp of the last read (rx_arrival_stamps, inbound), else 0 */
	uint32_t backoff_ms;
	struct tcp_link_stats stats;
};

struct tcp_port_impl {
	struct tcp_port_config cfg;
	const struct iso_profile *profile;
	uint16_t queue_count;
	uint16_t rx_queues; /* inbound and shared outbound links spread over [0, rx_queues) */
	struct tcp_queue *queues;
	size_t slot_bytes; /* sizeof(struct tcp_slot) + max_message */

	struct tcp_endpoint *endpoints;
	uint32_t endpoint_count;
	struct tcp_link *links; /* outbound links first, then inbound slots */
	uint32_t outbound_links;
	uint32_t link_total;
	uint32_t *free_inbound; /* stack of free inbound link indices */
	uint32_t free_count;
	uint32_t *dirty; /* links with output to flush */
	uint32_t dirty_count;
	uint32_t paused_count;
	uint64_t fed_mask; /* queues given messages this pass (at most 64 queues) */
	struct tcp_peer_map map; /* inbound peer -> link index; endpoint -> TCP_MAP_ENDPOINT | index */

	int epoll_fd;
	int listen_fd;
	bool listen_parked; /* out of the epoll set after an accept error, until the next sweep */
	int io_wake_fd;
	_Atomic int io_sleeping;
	_Atomic int stop;
	pthread_t thread;
	bool thread_started;
	uint64_t rng;
	uint64_t next_sweep_ms;
	struct tcp_port_stats totals; /* I/O thread's own counters */

	/* stats snapshot hand-off */
	pthread_mutex_t stats_lock; /* one caller at a time */
	pthread_mutex_t snap_lock;
	pthread_cond_t snap_done;
	_Atomic int snap_requested;
	struct tcp_port_stats *snap_totals;
	struct tcp_link_stats *snap_links;
	size_t snap_max, snap_count;
};

#define TCP_MAP_ENDPOINT 0x80000000u

/* The I/O thread (tcp_io.c). */
void *tcp_io_main(void *arg);
/* Wakes the I/O thread if it sleeps (workers after publishing, close, stats). */
void tcp_io_wake(struct tcp_port_impl *t);

uint64_t tcp_now_ms(void);

#endif
