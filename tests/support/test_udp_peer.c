#include "test_udp_peer.h"

#include <arpa/inet.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

bool test_udp_peer_open(struct test_udp_peer *p, uint16_t port)
{
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (p->fd < 0)
		return false;
	/* Room for bursts of answers: a test that reads late must not lose datagrams to a small buffer. */
	int size = 4 << 20;
	setsockopt(p->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	struct sockaddr_in a = loopback(port);
	if (bind(p->fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(p->fd);
		p->fd = -1;
		return false;
	}
	socklen_t len = sizeof(p->local);
	getsockname(p->fd, (struct sockaddr *)&p->local, &len);
	return true;
}

void test_udp_peer_close(struct test_udp_peer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

bool test_udp_peer_send(struct test_udp_peer *p, uint16_t port, const void *data, size_t length)
{
	struct sockaddr_in a = loopback(port);
	return sendto(p->fd, data, length, 0, (struct sockaddr *)&a, sizeof(a)) == (ssize_t)length;
}

size_t test_udp_peer_receive(struct test_udp_peer *p, void *buf, size_t capacity, int timeout_ms,
			     struct sockaddr_in *from)
{
	struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
	if (poll(&pfd, 1, timeout_ms) <= 0)
		return 0;
	struct sockaddr_in ignored;
	socklen_t len = sizeof(ignored);
	ssize_t n = recvfrom(p->fd, buf, capacity, 0, (struct sockaddr *)(from ? from : &ignored), &len);
	return n > 0 ? (size_t)n : 0;
}
