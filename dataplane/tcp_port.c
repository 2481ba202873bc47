/*
 * The TCP port's face to the workers (rx_burst, tx_burst, wait, close), its
 * setup, and the stats hand-off. All socket work is the I/O thread's
 * (tcp_io.c); the two sides meet only in the per-queue rings and eventfds.
 */
#include "tcp_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mix64.h"
#include "tcp_port_internal.h"
#include "udp_port.h" /* endpoint_to_sockaddr */

#define TX_HEADER 2 /* the datagram view always uses 2-byte headers */

uint64_t tcp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void tcp_port_config_defaults(struct tcp_port_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen_framing = FRAME_HEADER_BINARY2;
	cfg->max_inbound = 256;
	cfg->max_inbound_per_source = 0;
	cfg->evict_idle_ms = 5000;
	cfg->quiet_timeout_ms = 0;
	cfg->reconnect_initial_ms = 100;
	cfg->reconnect_max_ms = 10000;
	cfg->connect_timeout_ms = 3000;
	cfg->queue_count = 1;
	cfg->max_message = ISO_MAX_MESSAGE;
	cfg->keepalive_interval_ms = 30000;
	cfg->idle_timeout_ms = 90000;
	cfg->ring_slots = 1024;
	cfg->tx_full_wait_ms = 20;
	cfg->output_buffer_bytes = 256 * 1024;
}

void tcp_io_wake(struct tcp_port_impl *t)
{
	uint64_t one = 1;
	ssize_t rc = write(t->io_wake_fd, &one, sizeof(one));
	(void)rc; /* EAGAIN: the counter is saturated, the thread wakes anyway */
}

/* ---- worker side ---- */

static int tcp_rx_burst(struct dgram_port *p, uint16_t q, struct udp_datagram *d, int n)
{
	struct tcp_port_impl *t = p->impl;
	if (q >= t->queue_count)
		return 0;
	struct tcp_queue *queue = &t->queues[q];
	int got = 0;
	while (got < n) {
		struct tcp_slot *s = tcp_ring_peek(&queue->rx);
		if (!s)
			break;
		d[got].peer = s->peer;
		d[got].rx_realtime_ns = s->rx_realtime_ns;
		if ((size_t)s->length + TX_HEADER > d[got].capacity) {
			d[got].length = 0;
			atomic_store_explicit(&queue->rx_truncated,
					      atomic_load_explicit(&queue->rx_truncated, memory_order_relaxed) + 1,
					      memory_order_relaxed);
		} else {
			frame_write_header(FRAME_HEADER_BINARY2, s->length, d[got].data);
			memcpy(d[got].data + TX_HEADER, s->data, s->length);
			d[got].length = s->length + TX_HEADER;
		}
		tcp_ring_release(&queue->rx);
		got++;
	}
	return got;
}

static void count_worker(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* Frames in a datagram (each with a 2-byte header), or -1 when it does not split into whole frames. */
static int count_frames(const struct udp_datagram *d, size_t max_message)
{
	int frames = 0;
	const uint8_t *msg;
	size_t msg_len, consumed;
	for (size_t at = 0; at < d->length; at += consumed) {
		if (frame_next(FRAME_HEADER_BINARY2, d->data + at, d->length - at, max_message, &msg, &msg_len,
			       &consumed) != FRAME_OK)
			return -1;
		if (msg_len > 0)
			frames++;
	}
	return frames;
}

/*
 * A full send ring means the I/O thread is behind (it also stops reading new
 * requests then, tcp_io.c): an answer waits for it, up to tx_full_wait_ms,
 * instead of being dropped; a TCP peer expects every answer on its link. On a
 * busy machine the I/O thread can be off its core for tens of milliseconds.
 */
#define TCP_TX_FULL_PAUSE_NS 20000

static bool wait_for_room(struct tcp_port_impl *t, struct tcp_ring *ring, uint32_t n)
{
	struct timespec pause = {0, TCP_TX_FULL_PAUSE_NS};
	long bound_ns = (long)t->cfg.tx_full_wait_ms * 1000000L;
	for (long waited = 0; waited < bound_ns; waited += TCP_TX_FULL_PAUSE_NS) {
		tcp_io_wake(t);
		nanosleep(&pause, NULL);
		if (tcp_ring_has_room(ring, n))
			return true;
	}
	return false;
}

static int tcp_tx_burst(struct dgram_port *p, uint16_t q, const struct udp_datagram *d, int n)
{
	struct tcp_port_impl *t = p->impl;
	if (q >= t->queue_count)
		return 0;
	struct tcp_queue *queue = &t->queues[q];
	int accepted = 0;
	bool published = false;
	for (; accepted < n; accepted++) {
		int frames = count_frames(&d[accepted], t->cfg.max_message);
		/* More frames than the ring holds could never go: refused for good, not "try again". */
		if (frames < 0 || (uint32_t)frames > tcp_ring_capacity(&queue->tx)) {
			/* The caller's bug, not the network's: counted and consumed, like a UDP send. */
			count_worker(&queue->tx_malformed);
			continue;
		}
		/* All frames of a datagram or none: the burst's accepted count stays a prefix. */
		if (!tcp_ring_has_room(&queue->tx, (uint32_t)frames) && !wait_for_room(t, &queue->tx, (uint32_t)frames)) {
			count_worker(&queue->tx_ring_full);
			break;
		}
		const uint8_t *msg;
		size_t msg_len, consumed;
		for (size_t at = 0; at < d[accepted].length; at += consumed) {
			frame_next(FRAME_HEADER_BINARY2, d[accepted].data + at, d[accepted].length - at,
				   t->cfg.max_message, &msg, &msg_len, &consumed);
			if (msg_len == 0)
				continue; /* keep-alives are the port's own business */
			struct tcp_slot *s = tcp_ring_claim(&queue->tx);
			s->peer = d[accepted].peer;
			s->length = (uint32_t)msg_len;
			memcpy(s->data, msg, msg_len);
			tcp_ring_publish(&queue->tx);
			published = true;
		}
	}
	if (published) {
		/* Pairs with the I/O thread's store of io_sleeping before its last look at the rings. */
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&t->io_sleeping, memory_order_relaxed))
			tcp_io_wake(t);
	}
	return accepted;
}

/*
 * Event-driven idling: the queue's eventfd, which the I/O thread writes after
 * feeding the rx ring while worker_waiting is set (notify_fed).
 */
static int tcp_wait_fds(struct dgram_port *p, uint16_t q, int *fds, int max)
{
	struct tcp_port_impl *t = p->impl;
	if (q >= t->queue_count || max < 1)
		return -1;
	fds[0] = t->queues[q].wake_fd;
	return 1;
}

static int tcp_wait_arm(struct dgram_port *p, uint16_t q)
{
	struct tcp_port_impl *t = p->impl;
	if (q >= t->queue_count)
		return -1;
	struct tcp_queue *queue = &t->queues[q];
	atomic_store_explicit(&queue->worker_waiting, 1, memory_order_seq_cst);
	/* Store then load: only a full fence keeps them in order (pairs with notify_fed's fence). */
	atomic_thread_fence(memory_order_seq_cst);
	return tcp_ring_looks_empty(&queue->rx) ? 0 : 1;
}

static void tcp_wait_disarm(struct dgram_port *p, uint16_t q)
{
	struct tcp_port_impl *t = p->impl;
	if (q >= t->queue_count)
		return;
	struct tcp_queue *queue = &t->queues[q];
	atomic_store_explicit(&queue->worker_waiting, 0, memory_order_relaxed);
	/* A system call only when a wake-up was written: most sleeps end on the other ports. The
	 * flag is set after the write, so a flag seen means a readable eventfd; a write whose flag
	 * is not seen yet leaves it readable until the next disarm: one wasted wake, none lost. */
	if (atomic_exchange_explicit(&queue->wake_written, 0, memory_order_acquire)) {
		uint64_t v;
		ssize_t rc = read(queue->wake_fd, &v, sizeof(v)); /* non-blocking */
		(void)rc;
	}
}

static void tcp_wait(struct dgram_port *p, uint16_t q, int timeout_us)
{
	struct tcp_port_impl *t = p->impl;
	if (q >= t->queue_count || timeout_us <= 0)
		return;
	if (tcp_wait_arm(p, q) == 0) {
		struct pollfd pfd = {.fd = t->queues[q].wake_fd, .events = POLLIN};
		struct timespec ts = {.tv_sec = timeout_us / 1000000, .tv_nsec = (long)(timeout_us % 1000000) * 1000};
		(void)ppoll(&pfd, 1, &ts, NULL);
	}
	tcp_wait_disarm(p, q);
}

/* ---- setup and teardown ---- */

static void free_impl(struct tcp_port_impl *t)
{
	if (t->queues) {
		for (uint16_t q = 0; q < t->queue_count; q++) {
			tcp_ring_destroy(&t->queues[q].rx);
			tcp_ring_destroy(&t->queues[q].tx);
			if (t->queues[q].wake_fd >= 0)
				close(t->queues[q].wake_fd);
		}
	}
	if (t->links) {
		for (uint32_t i = 0; i < t->link_total; i++) {
			if (t->links[i].fd >= 0)
				close(t->links[i].fd);
			free(t->links[i].in_buf);
			free(t->links[i].out);
		}
	}
	if (t->listen_fd >= 0)
		close(t->listen_fd);
	if (t->io_wake_fd >= 0)
		close(t->io_wake_fd);
	if (t->epoll_fd >= 0)
		close(t->epoll_fd);
	tcp_peer_map_destroy(&t->map);
	pthread_mutex_destroy(&t->stats_lock);
	pthread_mutex_destroy(&t->snap_lock);
	pthread_cond_destroy(&t->snap_done);
	free(t->queues);
	free(t->links);
	free(t->endpoints);
	free(t->free_inbound);
	free(t->dirty);
	free(t);
}

static void tcp_close(struct dgram_port *p)
{
	struct tcp_port_impl *t = p->impl;
	if (!t)
		return;
	if (t->thread_started) {
		atomic_store(&t->stop, 1);
		tcp_io_wake(t);
		pthread_join(t->thread, NULL);
	}
	free_impl(t);
	p->impl = NULL;
}

static const struct dgram_port_ops tcp_ops = {
	.rx_burst = tcp_rx_burst,
	.tx_burst = tcp_tx_burst,
	.wait = tcp_wait,
	.wait_fds = tcp_wait_fds,
	.wait_arm = tcp_wait_arm,
	.wait_disarm = tcp_wait_disarm,
	.close = tcp_close,
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return -1;
}

static int check_config(const struct tcp_port_config *cfg, char *err, size_t err_size)
{
	if (cfg->queue_count == 0 || cfg->queue_count > TCP_PORT_MAX_QUEUES)
		return fail(err, err_size, "%u queues asked; 1 to 64 are possible", cfg->queue_count);
	if (cfg->rx_queues > cfg->queue_count)
		return fail(err, err_size, "rx_queues %u is above queue_count %u", cfg->rx_queues, cfg->queue_count);
	if (!cfg->listen_host && cfg->outbound_count == 0)
		return fail(err, err_size, "neither a listen address nor outbound endpoints");
	if (cfg->outbound_count > TCP_PORT_MAX_ENDPOINTS)
		return fail(err, err_size, "%u outbound endpoints; at most 256", (unsigned)cfg->outbound_count);
	if (cfg->outbound_count > 0 && !cfg->outbound)
		return fail(err, err_size, "outbound_count %u without endpoints", (unsigned)cfg->outbound_count);
	if (cfg->max_message == 0 || cfg->max_message > 65535)
		return fail(err, err_size, "max_message %u: 1 to 65535 bytes", (unsigned)cfg->max_message);
	if (cfg->listen_framing == FRAME_HEADER_ASCII4 && cfg->max_message > 9999)
		return fail(err, err_size, "max_message %u does not fit a 4-digit ASCII header",
			    (unsigned)cfg->max_message);
	if (cfg->ring_slots < 2 || cfg->ring_slots > (1u << 20))
		return fail(err, err_size, "ring_slots %u: 2 to 1048576", cfg->ring_slots);
	if (cfg->tx_full_wait_ms > 60000)
		return fail(err, err_size, "tx_full_wait_ms %u: at most 60000", cfg->tx_full_wait_ms);
	if (cfg->output_buffer_bytes < cfg->max_message + 4)
		return fail(err, err_size, "output_buffer_bytes %u is below one message",
			    (unsigned)cfg->output_buffer_bytes);
	if (cfg->reconnect_initial_ms == 0 || cfg->reconnect_max_ms < cfg->reconnect_initial_ms)
		return fail(err, err_size, "reconnect: initial %u ms must be > 0 and <= the maximum",
			    cfg->reconnect_initial_ms);
	if (cfg->listen_host && cfg->max_inbound == 0)
		return fail(err, err_size, "max_inbound is 0 with a listener");
	if (cfg->max_inbound > (1u << 20))
		return fail(err, err_size, "max_inbound %u is too large", cfg->max_inbound);
	return 0;
}

static int open_listener(struct tcp_port_impl *t, struct sockaddr_in *local, char *err, size_t err_size)
{
	struct sockaddr_in addr;
	if (endpoint_to_sockaddr(t->cfg.listen_host, t->cfg.listen_port, &addr) != 0)
		return fail(err, err_size, "cannot resolve listen address %s:%u", t->cfg.listen_host,
			    t->cfg.listen_port);
	t->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->listen_fd < 0)
		return fail(err, err_size, "socket: %s", strerror(errno));
	int one = 1;
	setsockopt(t->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The kernel stamps arrivals only while some socket wants stamps, and turns that on
	 * through deferred work: the listener wanting them for the port's life keeps stamping
	 * live however the links come and go (each accepted link asks again, tcp_io.c). */
	if (t->cfg.rx_arrival_stamps)
		setsockopt(t->listen_fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (bind(t->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(t->listen_fd, 128) != 0)
		return fail(err, err_size, "cannot listen on TCP %s:%u: %s", t->cfg.listen_host, t->cfg.listen_port,
			    strerror(errno));
	socklen_t len = sizeof(*local);
	getsockname(t->listen_fd, (struct sockaddr *)local, &len);
	return 0;
}

static int setup_endpoints(struct tcp_port_impl *t, const struct tcp_endpoint_config *list, char *err,
			   size_t err_size)
{
	const struct tcp_port_config *cfg = &t->cfg;
	t->endpoint_count = (uint32_t)cfg->outbound_count;
	uint32_t per_endpoint = cfg->outbound_link_per_queue ? cfg->queue_count : 1;
	t->outbound_links = t->endpoint_count * per_endpoint;
	t->link_total = t->outbound_links + (cfg->listen_host ? cfg->max_inbound : 0);
	t->endpoints = calloc(t->endpoint_count ? t->endpoint_count : 1, sizeof(*t->endpoints));
	t->links = calloc(t->link_total ? t->link_total : 1, sizeof(*t->links));
	t->free_inbound = calloc(t->link_total ? t->link_total : 1, sizeof(uint32_t));
	t->dirty = calloc(t->link_total ? t->link_total : 1, sizeof(uint32_t));
	if (!t->endpoints || !t->links || !t->free_inbound || !t->dirty ||
	    !tcp_peer_map_init(&t->map, t->link_total + t->endpoint_count))
		return fail(err, err_size, "out of memory");
	for (uint32_t i = 0; i < t->link_total; i++)
		t->links[i].fd = -1;
	for (uint32_t e = 0; e < t->endpoint_count; e++) {
		const struct tcp_endpoint_config *ec = &list[e];
		struct tcp_endpoint *ep = &t->endpoints[e];
		if (!ec->host || ec->port == 0 || endpoint_to_sockaddr(ec->host, ec->port, &ep->addr) != 0)
			return fail(err, err_size, "outbound endpoint %s:%u cannot be resolved",
				    ec->host ? ec->host : "(null)", ec->port);
		if (ec->framing == FRAME_HEADER_ASCII4 && cfg->max_message > 9999)
			return fail(err, err_size, "outbound endpoint %s:%u: ASCII4 framing with max_message above 9999",
				    ec->host, ec->port);
		if (!tcp_peer_map_put(&t->map, tcp_peer_key(&ep->addr), TCP_MAP_ENDPOINT | e))
			return fail(err, err_size, "outbound endpoint %s:%u is listed twice", ec->host, ec->port);
		ep->framing = ec->framing;
		ep->first_link = e * per_endpoint;
		ep->link_count = per_endpoint;
		for (uint32_t k = 0; k < per_endpoint; k++) {
			struct tcp_link *l = &t->links[ep->first_link + k];
			l->in_use = true;
			l->outbound = true;
			l->framing = ec->framing;
			l->peer = ep->addr;
			l->queue = (uint16_t)(cfg->outbound_link_per_queue
						      ? k
						      : tcp_peer_hash(tcp_peer_key(&ep->addr)) % t->rx_queues);
			l->state = TCP_LINK_WAITING;
			l->next_attempt_ms = 0; /* at once */
			l->backoff_ms = cfg->reconnect_initial_ms;
		}
	}
	for (uint32_t i = t->link_total; i > t->outbound_links; i--)
		t->free_inbound[t->free_count++] = i - 1;
	return 0;
}

static int setup_queues(struct tcp_port_impl *t, char *err, size_t err_size)
{
	t->queue_count = t->cfg.queue_count;
	t->queues = calloc(t->queue_count, sizeof(*t->queues));
	if (!t->queues)
		return fail(err, err_size, "out of memory");
	for (uint16_t q = 0; q < t->queue_count; q++)
		t->queues[q].wake_fd = -1;
	t->slot_bytes = sizeof(struct tcp_slot) + t->cfg.max_message;
	for (uint16_t q = 0; q < t->queue_count; q++) {
		struct tcp_queue *queue = &t->queues[q];
		queue->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (queue->wake_fd < 0 || !tcp_ring_init(&queue->rx, t->cfg.ring_slots, t->slot_bytes) ||
		    !tcp_ring_init(&queue->tx, t->cfg.ring_slots, t->slot_bytes))
			return fail(err, err_size, "queue %u: out of memory or descriptors", q);
	}
	return 0;
}

int tcp_port_open(struct dgram_port *out, const struct tcp_port_config *cfg, char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (check_config(cfg, err, err_size) != 0)
		return -1;
	struct tcp_port_impl *t = calloc(1, sizeof(*t));
	if (!t)
		return fail(err, err_size, "out of memory");
	t->cfg = *cfg;
	t->cfg.outbound = NULL; /* the caller's array need not outlive the call */
	t->profile = cfg->profile ? cfg->profile : &iso_profile_ascii;
	t->rx_queues = cfg->rx_queues ? cfg->rx_queues : cfg->queue_count;
	t->epoll_fd = t->listen_fd = t->io_wake_fd = -1;
	pthread_mutex_init(&t->stats_lock, NULL);
	pthread_mutex_init(&t->snap_lock, NULL);
	pthread_cond_init(&t->snap_done, NULL);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	t->rng = mix64((uint64_t)now.tv_nsec ^ ((uint64_t)now.tv_sec << 32) ^ (uintptr_t)t) | 1;

	struct sockaddr_in local;
	memset(&local, 0, sizeof(local));
	int rc = setup_queues(t, err, err_size);
	if (rc == 0)
		rc = setup_endpoints(t, cfg->outbound, err, err_size);
	if (rc == 0 && cfg->listen_host)
		rc = open_listener(t, &local, err, err_size);
	if (rc == 0) {
		t->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
		t->io_wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (t->epoll_fd < 0 || t->io_wake_fd < 0)
			rc = fail(err, err_size, "epoll/eventfd: %s", strerror(errno));
	}
	if (rc == 0) {
		int e = pthread_create(&t->thread, NULL, tcp_io_main, t);
		if (e != 0)
			rc = fail(err, err_size, "cannot start the TCP I/O thread: %s", strerror(e));
		else
			t->thread_started = true;
	}
	if (rc != 0) {
		free_impl(t);
		return -1;
	}
	out->ops = &tcp_ops;
	out->impl = t;
	out->queue_count = t->queue_count;
	out->local = local;
	return 0;
}

/* ---- stats ---- */

int tcp_port_stats(struct dgram_port *p, struct tcp_port_stats *totals, struct tcp_link_stats *links,
		   size_t max_links, size_t *link_count)
{
	if (!tcp_port_is(p) || !totals)
		return -1;
	struct tcp_port_impl *t = p->impl;
	pthread_mutex_lock(&t->stats_lock);
	pthread_mutex_lock(&t->snap_lock);
	t->snap_totals = totals;
	t->snap_links = links;
	t->snap_max = links ? max_links : 0;
	t->snap_count = 0;
	atomic_store(&t->snap_requested, 1);
	tcp_io_wake(t);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 1;
	int rc = 0;
	while (atomic_load(&t->snap_requested) && rc == 0)
		rc = pthread_cond_timedwait(&t->snap_done, &t->snap_lock, &deadline);
	bool served = !atomic_load(&t->snap_requested);
	atomic_store(&t->snap_requested, 0);
	if (served && link_count)
		*link_count = t->snap_count;
	pthread_mutex_unlock(&t->snap_lock);
	pthread_mutex_unlock(&t->stats_lock);
	return served ? 0 : -1;
}

bool tcp_port_is(const struct dgram_port *p)
{
	return p && p->ops == &tcp_ops && p->impl;
}

size_t tcp_port_endpoints(const struct dgram_port *p, struct sockaddr_in *out, size_t max)
{
	if (!tcp_port_is(p))
		return 0;
	const struct tcp_port_impl *t = p->impl;
	for (size_t i = 0; i < t->endpoint_count && i < max; i++)
		out[i] = t->endpoints[i].addr;
	return t->endpoint_count;
}

bool tcp_port_rx_pending(struct dgram_port *p, uint16_t q)
{
	struct tcp_port_impl *t = p->impl;
	return q < t->queue_count && !tcp_ring_looks_empty(&t->queues[q].rx);
}
