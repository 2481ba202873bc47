/*
 * Kernel UDP socket port: the dataplane backend for hosts without DPDK.
 * Non-blocking, batched with recvmmsg/sendmmsg so that one system call moves
 * up to a burst of datagrams, like an rx/tx burst on a DPDK queue.
 */
#ifndef UDP_PORT_H
#define UDP_PORT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define UDP_BURST 32
#define UDP_DATAGRAM_MAX 65507

struct udp_datagram {
	struct sockaddr_in peer;
	uint8_t *data;
	size_t length; /* bytes in data (rx: received; tx: to send) */
	size_t capacity;
	/* rx on a port with udp_port_enable_rx_stamps: when the kernel took the datagram in
	 * (CLOCK_REALTIME ns; 0 if it gave none). Other ports and backends leave it unset. */
	uint64_t rx_realtime_ns;
};

struct udp_port {
	int fd;
	struct sockaddr_in local;
	bool rx_stamps; /* SO_TIMESTAMPNS on: rx fills rx_realtime_ns */
};

/* Binds host:port (port 0 picks one; local then holds it). Returns 0 or -errno.
 * The socket has SO_REUSEPORT (one socket per queue on one address, as dgram_port.h
 * describes); socket_buffer_bytes > 0 sets SO_RCVBUF and SO_SNDBUF (forced past the
 * sysctl cap when the process may). */
int udp_port_open(struct udp_port *p, const char *host, uint16_t port, int socket_buffer_bytes);
void udp_port_close(struct udp_port *p);
/* Asks the kernel to stamp each datagram on arrival (SO_TIMESTAMPNS), so that a reader
 * that wakes late still knows when its answers came. Returns 0 or -errno. The kernel turns
 * stamping on through deferred work when no socket had it yet, and stamps at read time
 * until then: this call probes a loopback pair until stamps are taken on arrival (a few
 * ms at start, never more than 0.3 s), so that the first
 * answers are stamped right too. */
int udp_port_enable_rx_stamps(struct udp_port *p);

/* Receives up to n (at most UDP_BURST) datagrams without blocking; returns how many (0 if
 * none), -errno on error. A datagram longer than its buffer's capacity arrives with length 0,
 * for the caller to count as malformed. */
int udp_port_rx_burst(struct udp_port *p, struct udp_datagram *d, int n);
/* Sends n datagrams; returns how many left (the rest are dropped by the caller and counted).
 * Like a DPDK tx burst the count is a prefix: d[0..returned) went out, d[returned..n) did
 * not (socket buffer full, or the kernel refused d[returned]). */
int udp_port_tx_burst(struct udp_port *p, const struct udp_datagram *d, int n);
/* Waits up to timeout_us for the socket to become readable (idle back-off). */
void udp_port_wait(struct udp_port *p, int timeout_us);

int endpoint_to_sockaddr(const char *host, uint16_t port, struct sockaddr_in *out);

#endif
