#include "tcp_echo.h"

#include <string.h>

/* The MTI read without decoding the message: most messages are not echoes. */
static int peek_mti(const struct iso_profile *p, const uint8_t *msg, size_t len)
{
	if (p->mti_encoding == ISO_ENC_BCD) {
		if (len < 2)
			return -1;
		unsigned d[4] = {msg[0] >> 4u, msg[0] & 15u, msg[1] >> 4u, msg[1] & 15u};
		for (int i = 0; i < 4; i++)
			if (d[i] > 9)
				return -1;
		return (int)(d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3]);
	}
	if (len < 4)
		return -1;
	int v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned d = (uint8_t)(msg[i] - '0');
		if (d > 9)
			return -1;
		v = v * 10 + (int)d;
	}
	return v;
}

enum tcp_echo_result tcp_echo_answer(const struct iso_profile *p, const uint8_t *msg, size_t len, uint8_t *out,
				     size_t capacity, size_t *answer_len)
{
	if (peek_mti(p, msg, len) != 1804)
		return TCP_ECHO_NOT_ECHO;
	struct iso_msg request;
	struct iso_error err;
	if (iso_decode(p, msg, len, &request, &err) != ISO_OK)
		return TCP_ECHO_MALFORMED;
	struct iso_msg answer;
	iso_msg_init(&answer, 1814);
	static const int echoed[] = {7, 11, 24};
	for (size_t i = 0; i < sizeof(echoed) / sizeof(echoed[0]); i++) {
		int f = echoed[i];
		if (iso_has(&request, f)) {
			answer.fields[f] = request.fields[f];
			answer.present[f >> 3] |= (uint8_t)(1u << (f & 7));
		}
	}
	iso_set_str(&answer, 39, "800");
	if (iso_encode(p, &answer, out, capacity, answer_len, &err) != ISO_OK)
		return TCP_ECHO_MALFORMED;
	return TCP_ECHO_ANSWERED;
}
