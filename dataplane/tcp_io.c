/*
 * The TCP port's I/O thread: every socket of the port lives here. One epoll
 * set holds the listener, the links and an eventfd the workers (and close and
 * stats) ring. Each pass moves workers' messages from the tx rings into the
 * links' output buffers, writes what the kernel takes, reads what arrived,
 * reassembles frames and hands whole messages to the queues' rx rings; every
 * SWEEP_INTERVAL_MS it also runs the timers (reconnects, connect timeouts,
 * keep-alives, idle timeouts).
 *
 * Nothing here blocks: a peer that does not read fills its own bounded output
 * buffer and is disconnected; a worker that does not poll fills its own rx
 * ring, and its links stop being read (TCP pushes back on their senders)
 * until it catches up, while every other link carries on.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "arrival_stamp.h"
#include "tcp_backoff.h"
#include "tcp_echo.h"
#include "tcp_port_internal.h"

#define EV_LISTEN UINT64_MAX
#define EV_WAKE (UINT64_MAX - 1)
#define SWEEP_INTERVAL_MS 20
#define TX_DRAIN_PER_QUEUE 256 /* per pass: one busy queue cannot starve the sockets */
#define ACCEPTS_PER_EVENT 64
#define MAX_EVENTS 64
#define CLOSE_LINGER_MS 200 /* how long close() keeps trying to hand out buffered output */
#define READ_SLACK 16384    /* reader room beyond one frame: merged frames in one recv */
#define ECHO_ANSWER_MAX 256 /* an 1814 is four short fields */

static uint32_t link_index(const struct tcp_port_impl *t, const struct tcp_link *l)
{
	return (uint32_t)(l - t->links);
}

static uint64_t event_tag(const struct tcp_port_impl *t, const struct tcp_link *l)
{
	/* The generation tells a stale event of a closed link from one of the link now in its slot. */
	return ((uint64_t)l->generation << 32) | link_index(t, l);
}

static void set_events(struct tcp_port_impl *t, struct tcp_link *l, int op)
{
	struct epoll_event ev = {.events = 0, .data.u64 = event_tag(t, l)};
	if (l->state == TCP_LINK_CONNECTING) {
		ev.events = EPOLLOUT;
	} else {
		if (!l->rx_paused)
			ev.events |= EPOLLIN;
		if (l->want_out)
			ev.events |= EPOLLOUT;
	}
	(void)epoll_ctl(t->epoll_fd, op, l->fd, &ev);
}

static uint64_t next_random(struct tcp_port_impl *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

/* The next attempt after backoff_ms +-25%, and the backoff doubles up to the cap. */
static void schedule_retry(struct tcp_port_impl *t, struct tcp_link *l, uint64_t now)
{
	l->state = TCP_LINK_WAITING;
	l->next_attempt_ms = now + tcp_backoff_wait_ms(l->backoff_ms, next_random(t));
	l->backoff_ms = tcp_backoff_next_ms(l->backoff_ms, t->cfg.reconnect_max_ms);
}

static void tune_socket(const struct tcp_port_impl *t, int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (t->cfg.socket_buffer_bytes > 0) {
		int bytes = t->cfg.socket_buffer_bytes;
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
	}
}

/* Buffers are allocated the first time a link slot is used and kept until the port closes. */
static bool ensure_buffers(struct tcp_port_impl *t, struct tcp_link *l)
{
	if (!l->in_buf) {
		l->in_cap = 4 + t->cfg.max_message + READ_SLACK;
		l->in_buf = malloc(l->in_cap);
	}
	if (!l->out)
		l->out = malloc(t->cfg.output_buffer_bytes);
	return l->in_buf && l->out;
}

static void start_link_io(struct tcp_port_impl *t, struct tcp_link *l, uint64_t now)
{
	frame_reader_init(&l->reader, l->framing, t->cfg.max_message, l->in_buf, l->in_cap);
	l->out_start = l->out_end = 0;
	l->rx_paused = false;
	l->want_out = false;
	l->state = TCP_LINK_CONNECTED;
	l->last_rx_ms = l->last_tx_ms = l->last_message_ms = now;
	t->totals.connected_now++;
}

static void close_link(struct tcp_port_impl *t, struct tcp_link *l, uint64_t now)
{
	if (l->fd >= 0) {
		if (l->state == TCP_LINK_CONNECTED) {
			t->totals.closed++;
			t->totals.connected_now--;
			if (l->out_end > l->out_start)
				t->totals.closed_with_output++;
		}
		close(l->fd); /* leaves the epoll set with it */
		l->fd = -1;
	}
	if (l->rx_paused) {
		l->rx_paused = false;
		t->paused_count--;
	}
	l->out_start = l->out_end = 0;
	l->generation++;
	if (l->outbound) {
		schedule_retry(t, l, now);
		return;
	}
	tcp_peer_map_remove(&t->map, tcp_peer_key(&l->peer));
	l->in_use = false;
	memset(&l->stats, 0, sizeof(l->stats));
	t->free_inbound[t->free_count++] = link_index(t, l);
}

/* ---- output ---- */

static void mark_dirty(struct tcp_port_impl *t, struct tcp_link *l)
{
	if (!l->dirty) {
		l->dirty = true;
		t->dirty[t->dirty_count++] = link_index(t, l);
	}
}

/* Appends one frame in the link's framing; false when the link was closed for it (slow peer). */
static bool queue_frame(struct tcp_port_impl *t, struct tcp_link *l, const uint8_t *msg, size_t len, uint64_t now)
{
	size_t cap = t->cfg.output_buffer_bytes;
	size_t need = frame_header_size(l->framing) + len;
	size_t used = l->out_end - l->out_start;
	if (cap - used < need) {
		/* The peer stopped reading long enough to fill everything: it would hold the workers'
		 * answers hostage, so it goes. */
		t->totals.slow_peer_disconnects++;
		close_link(t, l, now);
		return false;
	}
	if (cap - l->out_end < need) {
		memmove(l->out, l->out + l->out_start, used);
		l->out_start = 0;
		l->out_end = used;
	}
	size_t h = frame_write_header(l->framing, len, l->out + l->out_end);
	if (h == 0)
		return true; /* cannot be framed (checked at open; never happens) */
	if (len)
		memcpy(l->out + l->out_end + h, msg, len);
	l->out_end += h + len;
	l->last_tx_ms = now;
	mark_dirty(t, l);
	return true;
}

static void flush_link(struct tcp_port_impl *t, struct tcp_link *l, uint64_t now)
{
	while (l->out_start < l->out_end) {
		ssize_t n = send(l->fd, l->out + l->out_start, l->out_end - l->out_start, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			l->out_start += (size_t)n;
			l->stats.bytes_out += (uint64_t)n;
			t->totals.bytes_out += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		t->totals.closed_by_peer++;
		close_link(t, l, now);
		return;
	}
	bool pending = l->out_start < l->out_end;
	if (!pending)
		l->out_start = l->out_end = 0;
	if (pending != l->want_out) {
		l->want_out = pending;
		set_events(t, l, EPOLL_CTL_MOD);
	}
}

static void flush_dirty(struct tcp_port_impl *t, uint64_t now)
{
	for (uint32_t i = 0; i < t->dirty_count; i++) {
		struct tcp_link *l = &t->links[t->dirty[i]];
		l->dirty = false;
		if (l->fd >= 0 && l->state == TCP_LINK_CONNECTED)
			flush_link(t, l, now);
	}
	t->dirty_count = 0;
}

/* ---- workers' messages out ---- */

static struct tcp_link *route(struct tcp_port_impl *t, uint16_t q, const struct sockaddr_in *peer)
{
	uint32_t v = tcp_peer_map_get(&t->map, tcp_peer_key(peer));
	if (v == TCP_PEER_MAP_NONE) {
		t->totals.dropped_unknown_peer++;
		return NULL;
	}
	if (!(v & TCP_MAP_ENDPOINT))
		return &t->links[v];
	const struct tcp_endpoint *ep = &t->endpoints[v & ~TCP_MAP_ENDPOINT];
	struct tcp_link *l = &t->links[ep->first_link + (ep->link_count > 1 ? q % ep->link_count : 0)];
	if (l->state != TCP_LINK_CONNECTED) {
		t->totals.dropped_not_connected++;
		return NULL;
	}
	return l;
}

static unsigned drain_tx(struct tcp_port_impl *t, uint64_t now)
{
	unsigned moved = 0;
	for (uint16_t q = 0; q < t->queue_count; q++) {
		struct tcp_ring *ring = &t->queues[q].tx;
		for (int i = 0; i < TX_DRAIN_PER_QUEUE; i++) {
			const struct tcp_slot *s = tcp_ring_peek(ring);
			if (!s)
				break;
			struct tcp_link *l = route(t, q, &s->peer);
			if (l && queue_frame(t, l, s->data, s->length, now)) {
				l->stats.frames_out++;
				t->totals.frames_out++;
			}
			tcp_ring_release(ring);
			moved++;
		}
	}
	return moved;
}

/* ---- messages in ---- */

static void pause_link(struct tcp_port_impl *t, struct tcp_link *l)
{
	l->rx_paused = true;
	t->paused_count++;
	t->totals.rx_stalls++;
	set_events(t, l, EPOLL_CTL_MOD);
}

/*
 * Back-pressure: every request read from an acquirer's link is owed an answer
 * through a send ring (worker -> I/O thread). When a ring is half full the I/O
 * thread is behind on output, so it stops reading new requests from inbound
 * links until the rings are down to a quarter: the answers it owes then always
 * find room (tcp_port.c waits, bounded, rather than dropping one). Outbound
 * links (answers from banks) keep being read: they settle what is owed.
 */
static bool tx_backlogged(struct tcp_port_impl *t, uint32_t divisor)
{
	for (uint16_t q = 0; q < t->queue_count; q++) {
		struct tcp_ring *tx = &t->queues[q].tx;
		if (tcp_ring_used_hint(tx) > tcp_ring_capacity(tx) / divisor)
			return true;
	}
	return false;
}

/* Hands every whole frame in the reader on; false when the link was closed. */
static bool deliver_frames(struct tcp_port_impl *t, struct tcp_link *l, uint64_t now)
{
	struct tcp_queue *queue = &t->queues[l->queue];
	for (;;) {
		if (tcp_ring_free(&queue->rx) == 0) {
			/* The worker is behind: stop reading this link; its bytes wait in the kernel. */
			pause_link(t, l);
			return true;
		}
		if (!l->outbound && tx_backlogged(t, 2)) {
			t->totals.rx_paused_tx_backlog++;
			pause_link(t, l);
			return true;
		}
		const uint8_t *msg;
		size_t len;
		enum frame_status st = frame_reader_next(&l->reader, &msg, &len);
		if (st == FRAME_NEED_MORE)
			return true;
		if (st != FRAME_OK) {
			if (st == FRAME_BAD_HEADER)
				t->totals.bad_header++;
			else
				t->totals.oversize++;
			close_link(t, l, now);
			return false;
		}
		if (len == 0) {
			l->stats.keepalives_in++;
			t->totals.keepalives_in++;
			continue;
		}
		l->last_message_ms = now; /* a message or an echo: the link is in use */
		uint8_t answer[ECHO_ANSWER_MAX];
		size_t answer_len;
		switch (tcp_echo_answer(t->profile, msg, len, answer, sizeof(answer), &answer_len)) {
		case TCP_ECHO_ANSWERED:
			if (!queue_frame(t, l, answer, answer_len, now))
				return false;
			l->stats.echoes_answered++;
			t->totals.echoes_answered++;
			continue;
		case TCP_ECHO_MALFORMED:
			t->totals.echoes_malformed++;
			continue;
		case TCP_ECHO_NOT_ECHO:
			break;
		}
		struct tcp_slot *s = tcp_ring_claim(&queue->rx);
		s->peer = l->peer;
		s->rx_realtime_ns = l->rx_stamp_ns;
		s->length = (uint32_t)len;
		memcpy(s->data, msg, len);
		tcp_ring_publish(&queue->rx);
		t->fed_mask |= 1ull << l->queue;
		l->stats.frames_in++;
		t->totals.frames_in++;
	}
}

/*
 * recv, or with arrival stamps the same read through recvmsg: the kernel hands
 * the stamp of the newest segment it consumed (tcp_recvmsg), so every frame
 * this read completes arrived no later than that. Without a stamp (stamping
 * not live yet) the link keeps 0: its messages are never judged by age.
 */
static ssize_t receive(struct tcp_link *l, uint8_t *space, size_t available)
{
	if (!l->rx_stamped)
		return recv(l->fd, space, available, MSG_DONTWAIT);
	struct iovec iov = {.iov_base = space, .iov_len = available};
	union arrival_stamp_control control;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
			     .msg_controllen = sizeof(control.bytes)};
	ssize_t n = recvmsg(l->fd, &msg, MSG_DONTWAIT);
	if (n <= 0)
		return n;
	l->rx_stamp_ns = arrival_stamp_of(&msg);
	return n;
}

static void read_link(struct tcp_port_impl *t, struct tcp_link *l, uint64_t now)
{
	size_t available;
	uint8_t *space = frame_reader_space(&l->reader, &available);
	ssize_t n = receive(l, space, available);
	if (n > 0) {
		frame_reader_commit(&l->reader, (size_t)n);
		l->stats.bytes_in += (uint64_t)n;
		t->totals.bytes_in += (uint64_t)n;
		l->last_rx_ms = now;
		deliver_frames(t, l, now);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	/* Orderly close (0) or reset: either way the peer is gone. */
	t->totals.closed_by_peer++;
	if (l->reader.end > l->reader.start)
		t->totals.closed_mid_frame++;
	close_link(t, l, now);
}

static void resume_paused(struct tcp_port_impl *t, uint64_t now)
{
	if (t->paused_count == 0)
		return;
	bool backlogged = tx_backlogged(t, 4);
	for (uint32_t i = 0; i < t->link_total && t->paused_count > 0; i++) {
		struct tcp_link *l = &t->links[i];
		if (!l->rx_paused || tcp_ring_free(&t->queues[l->queue].rx) == 0 || (!l->outbound && backlogged))
			continue;
		l->rx_paused = false;
		t->paused_count--;
		if (deliver_frames(t, l, now) && !l->rx_paused)
			set_events(t, l, EPOLL_CTL_MOD);
	}
}

/* Wakes the workers that sleep in wait() and were just given messages. */
static void notify_fed(struct tcp_port_impl *t)
{
	if (!t->fed_mask)
		return;
	/* Pairs with the worker's store of worker_waiting before its last look at the ring. */
	atomic_thread_fence(memory_order_seq_cst);
	for (uint16_t q = 0; q < t->queue_count; q++) {
		if (!(t->fed_mask & (1ull << q)))
			continue;
		if (atomic_load_explicit(&t->queues[q].worker_waiting, memory_order_relaxed)) {
			uint64_t one = 1;
			ssize_t rc = write(t->queues[q].wake_fd, &one, sizeof(one));
			(void)rc;
			/* After the write: a worker that sees the flag finds the eventfd readable. */
			atomic_store_explicit(&t->queues[q].wake_written, 1, memory_order_release);
		}
	}
	t->fed_mask = 0;
}

/* ---- connections ---- */

/*
 * Room for a new inbound connection from addr: a free slot within the
 * address's share, or the link that has gone longest without a message (in
 * the address's share when that is what is full, else anywhere) closed for
 * it, when that link has been without one for evict_idle_ms. False: no room.
 */
static bool make_room(struct tcp_port_impl *t, const struct sockaddr_in *addr, uint64_t now)
{
	uint32_t per_source = t->cfg.max_inbound_per_source ? t->cfg.max_inbound_per_source : t->cfg.max_inbound;
	uint32_t same = 0;
	struct tcp_link *idlest_same = NULL, *idlest = NULL;
	for (uint32_t i = t->outbound_links; i < t->link_total; i++) {
		struct tcp_link *l = &t->links[i];
		if (!l->in_use || l->fd < 0)
			continue;
		bool mine = l->peer.sin_addr.s_addr == addr->sin_addr.s_addr;
		same += mine;
		if (!idlest || l->last_message_ms < idlest->last_message_ms)
			idlest = l;
		if (mine && (!idlest_same || l->last_message_ms < idlest_same->last_message_ms))
			idlest_same = l;
	}
	struct tcp_link *victim;
	if (same >= per_source)
		victim = idlest_same;
	else if (t->free_count == 0)
		victim = idlest;
	else
		return true;
	if (!victim || now - victim->last_message_ms < t->cfg.evict_idle_ms) {
		if (t->free_count == 0)
			t->totals.rejected_full++;
		else
			t->totals.rejected_per_source++;
		return false;
	}
	t->totals.evicted_idle++;
	close_link(t, victim, now);
	return true;
}

static void accept_all(struct tcp_port_impl *t, uint64_t now)
{
	for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		struct sockaddr_in addr;
		socklen_t len = sizeof(addr);
		int fd = accept4(t->listen_fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED)
				return;
			/* Out of descriptors or memory: the listener stays readable, so leave it out of the
			 * epoll set until the next sweep instead of spinning on it. */
			t->totals.accept_errors++;
			if (epoll_ctl(t->epoll_fd, EPOLL_CTL_DEL, t->listen_fd, NULL) == 0)
				t->listen_parked = true;
			return;
		}
		if (!make_room(t, &addr, now)) {
			close(fd);
			continue;
		}
		struct tcp_link *l = &t->links[t->free_inbound[t->free_count - 1]];
		if (!ensure_buffers(t, l) || !tcp_peer_map_put(&t->map, tcp_peer_key(&addr), link_index(t, l))) {
			t->totals.rejected_full++;
			close(fd);
			continue;
		}
		t->free_count--;
		tune_socket(t, fd);
		int on = 1;
		l->rx_stamped = t->cfg.rx_arrival_stamps &&
				setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) == 0;
		l->rx_stamp_ns = 0;
		memset(&l->stats, 0, sizeof(l->stats));
		l->fd = fd;
		l->in_use = true;
		l->outbound = false;
		l->framing = t->cfg.listen_framing;
		l->peer = addr;
		l->queue = (uint16_t)(tcp_peer_hash(tcp_peer_key(&addr)) % t->rx_queues);
		l->generation++;
		start_link_io(t, l, now);
		set_events(t, l, EPOLL_CTL_ADD);
		t->totals.accepted++;
	}
}

static void connect_failed(struct tcp_port_impl *t, struct tcp_link *l, uint64_t now)
{
	if (l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
	}
	l->generation++;
	l->stats.connect_failures++;
	t->totals.connect_failures++;
	schedule_retry(t, l, now);
}

static void connected(struct tcp_port_impl *t, struct tcp_link *l, uint64_t now)
{
	if (!ensure_buffers(t, l)) {
		connect_failed(t, l, now);
		return;
	}
	l->stats.connects++;
	t->totals.connects++;
	if (l->ever_connected)
		t->totals.reconnects++;
	l->ever_connected = true;
	l->backoff_ms = t->cfg.reconnect_initial_ms;
	start_link_io(t, l, now);
	set_events(t, l, EPOLL_CTL_MOD);
}

static void start_connect(struct tcp_port_impl *t, struct tcp_link *l, uint64_t now)
{
	t->totals.connect_attempts++;
	l->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->fd < 0) {
		connect_failed(t, l, now);
		return;
	}
	tune_socket(t, l->fd);
	l->generation++;
	l->state = TCP_LINK_CONNECTING;
	l->connect_started_ms = now;
	int rc = connect(l->fd, (const struct sockaddr *)&l->peer, sizeof(l->peer));
	if (rc != 0 && errno != EINPROGRESS) {
		connect_failed(t, l, now);
		return;
	}
	set_events(t, l, EPOLL_CTL_ADD);
	if (rc == 0)
		connected(t, l, now);
}

static void finish_connect(struct tcp_port_impl *t, struct tcp_link *l, uint64_t now)
{
	int error = 0;
	socklen_t len = sizeof(error);
	if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0)
		connect_failed(t, l, now);
	else
		connected(t, l, now);
}

/* ---- timers ---- */

static void sweep(struct tcp_port_impl *t, uint64_t now)
{
	if (t->listen_parked) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_LISTEN};
		if (epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, t->listen_fd, &ev) == 0)
			t->listen_parked = false;
	}
	for (uint32_t i = 0; i < t->link_total; i++) {
		struct tcp_link *l = &t->links[i];
		if (!l->in_use)
			continue;
		switch (l->state) {
		case TCP_LINK_WAITING:
			if (now >= l->next_attempt_ms)
				start_connect(t, l, now);
			break;
		case TCP_LINK_CONNECTING:
			if (t->cfg.connect_timeout_ms && now - l->connect_started_ms >= t->cfg.connect_timeout_ms)
				connect_failed(t, l, now);
			break;
		case TCP_LINK_CONNECTED:
			if (t->cfg.idle_timeout_ms && now - l->last_rx_ms >= t->cfg.idle_timeout_ms) {
				t->totals.idle_timeouts++;
				close_link(t, l, now);
				break;
			}
			/* Keep-alives alone do not hold an acquirer's slot forever. */
			if (!l->outbound && t->cfg.quiet_timeout_ms && now - l->last_message_ms >= t->cfg.quiet_timeout_ms) {
				t->totals.quiet_timeouts++;
				close_link(t, l, now);
				break;
			}
			if (t->cfg.keepalive_interval_ms && now - l->last_tx_ms >= t->cfg.keepalive_interval_ms &&
			    queue_frame(t, l, NULL, 0, now)) {
				l->stats.keepalives_out++;
				t->totals.keepalives_out++;
			}
			break;
		default:
			break;
		}
	}
}

/* ---- stats ---- */

static void serve_snapshot(struct tcp_port_impl *t)
{
	if (!atomic_load_explicit(&t->snap_requested, memory_order_acquire))
		return;
	pthread_mutex_lock(&t->snap_lock);
	if (atomic_load(&t->snap_requested)) {
		struct tcp_port_stats *s = t->snap_totals;
		*s = t->totals;
		s->links_now = 0;
		for (uint16_t q = 0; q < t->queue_count; q++) {
			s->tx_ring_full += atomic_load_explicit(&t->queues[q].tx_ring_full, memory_order_relaxed);
			s->tx_malformed += atomic_load_explicit(&t->queues[q].tx_malformed, memory_order_relaxed);
			s->rx_truncated += atomic_load_explicit(&t->queues[q].rx_truncated, memory_order_relaxed);
		}
		size_t count = 0;
		for (uint32_t i = 0; i < t->link_total; i++) {
			struct tcp_link *l = &t->links[i];
			if (!l->in_use)
				continue;
			s->links_now++;
			if (count < t->snap_max) {
				struct tcp_link_stats *ls = &t->snap_links[count];
				*ls = l->stats;
				ls->peer = l->peer;
				ls->outbound = l->outbound;
				ls->state = l->state;
				ls->queue = l->queue;
				ls->output_buffered = l->out_end - l->out_start;
			}
			count++;
		}
		t->snap_count = count;
		atomic_store(&t->snap_requested, 0);
		pthread_cond_broadcast(&t->snap_done);
	}
	pthread_mutex_unlock(&t->snap_lock);
}

/* ---- the loop ---- */

static bool tx_rings_look_empty(struct tcp_port_impl *t)
{
	for (uint16_t q = 0; q < t->queue_count; q++)
		if (!tcp_ring_looks_empty(&t->queues[q].tx))
			return false;
	return true;
}

static void handle_event(struct tcp_port_impl *t, const struct epoll_event *ev, uint64_t now)
{
	if (ev->data.u64 == EV_WAKE) {
		uint64_t v;
		ssize_t rc = read(t->io_wake_fd, &v, sizeof(v));
		(void)rc;
		return;
	}
	if (ev->data.u64 == EV_LISTEN) {
		accept_all(t, now);
		return;
	}
	uint32_t index = (uint32_t)ev->data.u64;
	if (index >= t->link_total)
		return;
	struct tcp_link *l = &t->links[index];
	if (l->fd < 0 || l->generation != (uint32_t)(ev->data.u64 >> 32))
		return; /* closed earlier in this batch */
	if (l->state == TCP_LINK_CONNECTING) {
		finish_connect(t, l, now);
		return;
	}
	if (l->state != TCP_LINK_CONNECTED)
		return;
	if (ev->events & EPOLLOUT) {
		flush_link(t, l, now);
		if (l->fd < 0)
			return;
	}
	if (ev->events & (EPOLLERR | EPOLLHUP) && l->rx_paused) {
		/* A paused link is not read, so its error would fire forever. */
		t->totals.closed_by_peer++;
		close_link(t, l, now);
		return;
	}
	if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		read_link(t, l, now);
}

/* close(): one last hand-out of the workers' messages and the buffered output, bounded in time. */
static void drain_on_close(struct tcp_port_impl *t)
{
	uint64_t now = tcp_now_ms();
	drain_tx(t, now);
	flush_dirty(t, now);
	uint64_t deadline = now + CLOSE_LINGER_MS;
	for (;;) {
		bool pending = false;
		for (uint32_t i = 0; i < t->link_total; i++) {
			struct tcp_link *l = &t->links[i];
			if (l->fd >= 0 && l->state == TCP_LINK_CONNECTED && l->out_end > l->out_start) {
				flush_link(t, l, now);
				pending |= l->fd >= 0 && l->out_end > l->out_start;
			}
		}
		now = tcp_now_ms();
		if (!pending || now >= deadline)
			break;
		struct epoll_event evs[MAX_EVENTS];
		(void)epoll_wait(t->epoll_fd, evs, MAX_EVENTS, 10);
	}
	for (uint32_t i = 0; i < t->link_total; i++) {
		struct tcp_link *l = &t->links[i];
		if (l->fd >= 0)
			close_link(t, l, now);
	}
}

void *tcp_io_main(void *arg)
{
	struct tcp_port_impl *t = arg;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = EV_WAKE};
	epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, t->io_wake_fd, &ev);
	if (t->listen_fd >= 0) {
		ev.data.u64 = EV_LISTEN;
		epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, t->listen_fd, &ev);
	}
	t->next_sweep_ms = 0;
	struct epoll_event events[MAX_EVENTS];
	while (!atomic_load_explicit(&t->stop, memory_order_acquire)) {
		uint64_t now = tcp_now_ms();
		unsigned work = drain_tx(t, now);
		flush_dirty(t, now);
		resume_paused(t, now);
		if (now >= t->next_sweep_ms) {
			sweep(t, now);
			flush_dirty(t, now);
			t->next_sweep_ms = now + SWEEP_INTERVAL_MS;
		}
		notify_fed(t);
		serve_snapshot(t);

		int timeout = 0;
		if (!work) {
			timeout = (int)(t->next_sweep_ms > now ? t->next_sweep_ms - now : 0);
			if (t->paused_count > 0 && timeout > 1)
				timeout = 1; /* a stalled worker frees ring slots without telling us */
			atomic_store_explicit(&t->io_sleeping, 1, memory_order_seq_cst);
			atomic_thread_fence(memory_order_seq_cst);
			if (!tx_rings_look_empty(t) || atomic_load(&t->snap_requested) || atomic_load(&t->stop))
				timeout = 0;
		}
		int n = epoll_wait(t->epoll_fd, events, MAX_EVENTS, timeout);
		atomic_store_explicit(&t->io_sleeping, 0, memory_order_relaxed);
		now = tcp_now_ms();
		for (int i = 0; i < n; i++)
			handle_event(t, &events[i], now);
		flush_dirty(t, now);
		notify_fed(t);
	}
	drain_on_close(t);
	return NULL;
}
