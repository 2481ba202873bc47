/*
 * Kernel UDP socket port: non-blocking, one recvmmsg/sendmmsg per burst.
 *
 * The socket carries SO_REUSEPORT so that a multi-queue socket backend can
 * bind one socket per worker to the same address and let the kernel spread
 * peers over them (dgram_port.h).
 */
#include "udp_port.h"

#include "arrival_stamp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Probing that the kernel stamps on arrival (udp_port_enable_rx_stamps): a pause between
 * send and read that a stamp taken at read time cannot hide, and a bound on the probes. */
#define STAMP_PROBE_PAUSE_NS 2000000L
#define STAMP_PROBE_FOR_NS 300000000u

int endpoint_to_sockaddr(const char *host, uint16_t port, struct sockaddr_in *out)
{
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons(port);
	if (host == NULL || inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

/*
 * Asks for `bytes` of socket buffer. The plain option is capped by
 * net.core.[rw]mem_max; the FORCE variant passes the cap when the process may
 * (CAP_NET_ADMIN), so try that first and settle for the capped size otherwise.
 */
static void set_buffer(int fd, int force_option, int option, int bytes)
{
	if (setsockopt(fd, SOL_SOCKET, force_option, &bytes, sizeof bytes) == 0)
		return;
	(void)setsockopt(fd, SOL_SOCKET, option, &bytes, sizeof bytes);
}

int udp_port_open(struct udp_port *p, const char *host, uint16_t port, int socket_buffer_bytes)
{
	p->fd = -1;
	struct sockaddr_in addr;
	if (endpoint_to_sockaddr(host, port, &addr) != 0)
		return -EINVAL;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
		goto fail;
	if (socket_buffer_bytes > 0) {
		set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF, socket_buffer_bytes);
		set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF, socket_buffer_bytes);
	}
	if (bind(fd, (const struct sockaddr *)&addr, sizeof addr) != 0)
		goto fail;
	socklen_t len = sizeof p->local;
	if (getsockname(fd, (struct sockaddr *)&p->local, &len) != 0)
		goto fail;
	p->fd = fd;
	p->rx_stamps = false;
	return 0;
fail:;
	int e = errno;
	close(fd);
	return -e;
}

static uint64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One probe through a loopback pair: true when it came stamped well before it was read. */
static bool probe_stamped_on_arrival(int tx, int rx, const struct sockaddr_in *to)
{
	if (sendto(tx, "p", 1, 0, (const struct sockaddr *)to, sizeof *to) != 1)
		return false;
	nanosleep(&(struct timespec){.tv_nsec = STAMP_PROBE_PAUSE_NS}, NULL);
	struct pollfd pfd = {.fd = rx, .events = POLLIN};
	if (poll(&pfd, 1, 10) != 1)
		return false;
	uint64_t read_at = now_ns(CLOCK_REALTIME); /* the clock the stamps are in */
	char byte;
	union arrival_stamp_control control;
	struct iovec iov = {.iov_base = &byte, .iov_len = 1};
	struct msghdr h = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
			   .msg_controllen = sizeof control.bytes};
	if (recvmsg(rx, &h, MSG_DONTWAIT) != 1)
		return false;
	uint64_t stamp = arrival_stamp_of(&h);
	return stamp != 0 && stamp + STAMP_PROBE_PAUSE_NS / 2 <= read_at;
}

/*
 * Arrival stamping is one switch for the whole kernel, turned on by deferred
 * work when the first socket asks (net_enable_timestamp); until that work has
 * run, datagrams come in unstamped and recvmsg stamps them when they are read,
 * which would make a late reader's first answers look as late as its read.
 * Probes a loopback pair until stamps are taken on arrival, for at most
 * STAMP_PROBE_FOR_NS: the caller's own socket keeps the switch on after.
 */
static void wait_until_stamping_is_live(void)
{
	int tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof to;
	int one = 1;
	if (tx >= 0 && rx >= 0 && bind(rx, (const struct sockaddr *)&to, sizeof to) == 0 &&
	    getsockname(rx, (struct sockaddr *)&to, &len) == 0 &&
	    setsockopt(rx, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) == 0) {
		uint64_t give_up = now_ns(CLOCK_MONOTONIC) + STAMP_PROBE_FOR_NS;
		while (!probe_stamped_on_arrival(tx, rx, &to) && now_ns(CLOCK_MONOTONIC) < give_up)
			;
	}
	if (tx >= 0)
		close(tx);
	if (rx >= 0)
		close(rx);
}

int udp_port_enable_rx_stamps(struct udp_port *p)
{
	int one = 1;
	if (setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one) != 0)
		return -errno;
	p->rx_stamps = true;
	wait_until_stamping_is_live();
	return 0;
}


void udp_port_close(struct udp_port *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

int udp_port_rx_burst(struct udp_port *p, struct udp_datagram *d, int n)
{
	if (n > UDP_BURST)
		n = UDP_BURST;
	if (n <= 0)
		return 0;
	struct mmsghdr msgs[UDP_BURST];
	struct iovec iov[UDP_BURST];
	union arrival_stamp_control stamps[UDP_BURST];
	memset(msgs, 0, sizeof msgs[0] * (size_t)n);
	for (int i = 0; i < n; i++) {
		iov[i].iov_base = d[i].data;
		iov[i].iov_len = d[i].capacity;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &d[i].peer;
		msgs[i].msg_hdr.msg_namelen = sizeof d[i].peer;
		if (p->rx_stamps) {
			msgs[i].msg_hdr.msg_control = stamps[i].bytes;
			msgs[i].msg_hdr.msg_controllen = sizeof stamps[i].bytes;
		}
	}
	int got;
	do
		got = recvmmsg(p->fd, msgs, (unsigned)n, MSG_DONTWAIT, NULL);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
	for (int i = 0; i < got; i++) {
		/*
		 * A datagram longer than the buffer arrives cut; hand it on
		 * empty so that the caller counts it as malformed instead of
		 * parsing a prefix that may happen to end on a frame boundary.
		 */
		d[i].length = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 0 : msgs[i].msg_len;
		d[i].rx_realtime_ns = p->rx_stamps ? arrival_stamp_of(&msgs[i].msg_hdr) : 0;
	}
	return got;
}

int udp_port_tx_burst(struct udp_port *p, const struct udp_datagram *d, int n)
{
	struct mmsghdr msgs[UDP_BURST];
	struct iovec iov[UDP_BURST];
	int sent = 0;
	while (sent < n) {
		int chunk = n - sent > UDP_BURST ? UDP_BURST : n - sent;
		memset(msgs, 0, sizeof msgs[0] * (size_t)chunk);
		for (int i = 0; i < chunk; i++) {
			const struct udp_datagram *g = &d[sent + i];
			iov[i].iov_base = g->data;
			iov[i].iov_len = g->length;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = (void *)&g->peer;
			msgs[i].msg_hdr.msg_namelen = sizeof g->peer;
		}
		int done = sendmmsg(p->fd, msgs, (unsigned)chunk, MSG_DONTWAIT);
		if (done < 0) {
			if (errno == EINTR)
				continue;
			/* Full buffer or a datagram the kernel refuses: d[sent..n) stay with the caller. */
			break;
		}
		sent += done;
		if (done == 0)
			break;
	}
	return sent;
}

void udp_port_wait(struct udp_port *p, int timeout_us)
{
	if (timeout_us < 0)
		timeout_us = 0;
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	struct timespec ts = {.tv_sec = timeout_us / 1000000, .tv_nsec = (long)(timeout_us % 1000000) * 1000};
	/* ppoll, not poll: idle back-off wants sub-millisecond waits. */
	(void)ppoll(&pfd, 1, &ts, NULL);
}
