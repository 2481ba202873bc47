/*
 * The kernel's arrival stamp of a received message (SO_TIMESTAMPNS, CLOCK_REALTIME):
 * the control buffer recvmsg/recvmmsg fills, and the reading of it. Shared by the
 * UDP port (each datagram's stamp) and the TCP port (the newest segment a read took).
 */
#ifndef ARRIVAL_STAMP_H
#define ARRIVAL_STAMP_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Room for one SCM_TIMESTAMPNS message, aligned as a cmsghdr must be. */
union arrival_stamp_control {
	char bytes[CMSG_SPACE(sizeof(struct timespec))];
	struct cmsghdr align;
};

/* The stamp in h's control data, in ns; 0 when it carries none. */
static inline uint64_t arrival_stamp_of(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof ts);
			return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		}
	return 0;
}

#endif
