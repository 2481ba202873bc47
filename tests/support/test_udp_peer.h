/*
 * A UDP peer on 127.0.0.1 for the tests: a cardholder or a fake bank that
 * sends framed ISO 8583 datagrams (built by the test) and receives the
 * datagrams sent to it, with a timeout.
 */
#ifndef TEST_UDP_PEER_H
#define TEST_UDP_PEER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct test_udp_peer {
	int fd;
	struct sockaddr_in local; /* where it is bound (the port the kernel chose for port 0) */
};

/* Binds 127.0.0.1:port (0: any free port). False (fd -1) when the port is taken or on error. */
bool test_udp_peer_open(struct test_udp_peer *p, uint16_t port);
void test_udp_peer_close(struct test_udp_peer *p);
/* Sends one datagram to 127.0.0.1:port; true when all of it was sent. */
bool test_udp_peer_send(struct test_udp_peer *p, uint16_t port, const void *data, size_t length);
/*
 * Waits up to timeout_ms (0: only what is already there) for one datagram;
 * returns its length, 0 on timeout. from (may be NULL) gets the sender.
 */
size_t test_udp_peer_receive(struct test_udp_peer *p, void *buf, size_t capacity, int timeout_ms,
			     struct sockaddr_in *from);

#endif
