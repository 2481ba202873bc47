/*
 * What an ISO 8583:1993 message type indicator says about the message, for
 * agents deciding how to treat what they received.
 */
#ifndef ISO8583_MTI_H
#define ISO8583_MTI_H

#include <stdbool.h>
#include <stdint.h>

/* True for a request or an advice: both expect an answer. */
static inline bool iso_mti_is_request(uint16_t mti)
{
	/* Third digit 0 request, 2 advice (ISO 8583:1993 message function). */
	unsigned function = (mti / 10) % 10;
	return function == 0 || function == 2;
}

#endif
