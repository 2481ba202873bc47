/* A one-queue dgram_port over dataplane/udp_port.h, for joining with a TCP port in tests. */
#ifndef TCP_UDP_TEST_PORT_H
#define TCP_UDP_TEST_PORT_H

#include <stdint.h>

#include "dgram_port.h"

/* 0, or -errno. */
int udp_test_port_open(struct dgram_port *out, const char *host, uint16_t port);

#endif
