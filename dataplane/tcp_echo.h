/*
 * Link-level network management inside the TCP port: an 1804 echo request is
 * answered 1814 by the port itself (workers never see it). The answer echoes
 * DE 7, 11 and 24 as received and carries DE 39 = 800 (accepted).
 */
#ifndef TCP_ECHO_H
#define TCP_ECHO_H

#include <stddef.h>
#include <stdint.h>

#include "iso8583.h"

enum tcp_echo_result {
	TCP_ECHO_NOT_ECHO,  /* another message: the workers' business */
	TCP_ECHO_ANSWERED,  /* *answer_len bytes of 1814 (no frame header) are in out */
	TCP_ECHO_MALFORMED, /* an 1804 that does not decode, or whose answer cannot be built */
};

/* Looks at a bare message (no frame header) under profile p. */
enum tcp_echo_result tcp_echo_answer(const struct iso_profile *p, const uint8_t *msg, size_t len, uint8_t *out,
				     size_t capacity, size_t *answer_len);

#endif
